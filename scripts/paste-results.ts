/**
 * Pastes the generated result tables into the docs. Every block
 *
 *   <!-- results/curve.md -->
 *   ...
 *   <!-- end results/curve.md -->
 *
 * in README.md and docs/*.md is replaced by the current text of the file it names, so a table in the docs is
 * always a script's output, never a hand edit.
 *
 *   npx tsx scripts/paste-results.ts            rewrite the stale blocks, name them
 *   npx tsx scripts/paste-results.ts --check    change nothing; exit 1 when a block is stale
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/minnow.js';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

const BLOCK = /<!-- (results\/[\w.-]+\.md) -->\n([\s\S]*?)<!-- end \1 -->/g;

const docsDir = join(ROOT, 'docs');
const docs = [
  join(ROOT, 'README.md'),
  ...(existsSync(docsDir) ? readdirSync(docsDir).filter((f) => f.endsWith('.md')) : []).map((f) =>
    join(docsDir, f),
  ),
];

let stale = 0;
let failed = false;
for (const doc of docs) {
  const text = readFileSync(doc, 'utf8');
  const pasted = text.replace(BLOCK, (block, name: string, body: string) => {
    const source = join(ROOT, name);
    if (!existsSync(source)) {
      console.error(`${relative(ROOT, doc)}: block names ${name}, which does not exist`);
      failed = true;
      return block;
    }
    const fresh = `${readFileSync(source, 'utf8').trim()}\n`;
    if (fresh === body) return block;
    stale++;
    console.log(`${relative(ROOT, doc)}: ${name} ${values.check ? 'is stale' : 'pasted'}`);
    return `<!-- ${name} -->\n${fresh}<!-- end ${name} -->`;
  });
  if (!values.check && pasted !== text) writeFileSync(doc, pasted);
}
if (failed) process.exit(2);
if (values.check && stale > 0) process.exit(1);
if (stale === 0) console.log('every pasted table is up to date');

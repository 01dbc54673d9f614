/**
 * Runs every reader fuzz target (the same ones `npm test` runs with a few cases each) with many cases:
 * CSV/TSV/JSONL, GLUE TSV, safetensors, WordPiece, the token cache, config.json, CLI flags (every command,
 * fit and teach included), triples files and the knowledge graph, taught examples, and the server (request
 * bodies, headers, methods, paths). Unlike the tests it does not stop
 * at the first failure: it counts every crash (an exception other than a one-line UserError, or a broken
 * invariant) and times the cases, then shrinks the first crash of each target to a small input. Prints a
 * table and writes bench/out/fuzz.json; exits 1 if anything crashed.
 *
 * Run: npx tsx bench/fuzz.ts [--runs 2000] [--seed 42] [--only tabular]
 *   --runs   cases per target (scaled by the target's weight; default 2000)
 *   --seed   fast-check seed (default: random; printed, to replay a crash)
 *   --only   run the targets whose name contains this text
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARGS_FUZZ } from '../src/cli/args.fuzz.js';
import { CORPUS_FUZZ } from '../src/data/corpus.fuzz.js';
import { GLUE_FUZZ } from '../src/data/glue.fuzz.js';
import { TABULAR_FUZZ } from '../src/data/tabular.fuzz.js';
import { KNOWLEDGE_FUZZ } from '../src/knowledge/triples.fuzz.js';
import { CONFIG_FUZZ } from '../src/model/config.fuzz.js';
import { SAFETENSORS_FUZZ } from '../src/runtime/safetensors.fuzz.js';
import { SERVER_FUZZ } from '../src/serve/server.fuzz.js';
import { WORDPIECE_FUZZ } from '../src/text/wordpiece.fuzz.js';
import { TEACH_FUZZ } from '../src/train/teach.fuzz.js';
import { type FuzzReport, runFuzz, type SomeFuzzTarget, targetRuns } from '../src/util/fuzzing.js';

function arg(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(arg('--runs') ?? 2000);
const seed = Number(arg('--seed') ?? Math.floor(Math.random() * 2 ** 31));
const only = arg('--only');
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer`);

const targets: SomeFuzzTarget[] = [
  ...TABULAR_FUZZ,
  ...GLUE_FUZZ,
  ...SAFETENSORS_FUZZ,
  ...WORDPIECE_FUZZ,
  ...CORPUS_FUZZ,
  ...CONFIG_FUZZ,
  ...ARGS_FUZZ,
  ...KNOWLEDGE_FUZZ,
  ...TEACH_FUZZ,
  ...SERVER_FUZZ,
].filter((t) => only === undefined || t.name.includes(only));

const reports: FuzzReport[] = [];
const nameWidth = Math.max(8, ...targets.map((t) => t.name.length));
const row = (cells: string[]) =>
  `${cells[0].padEnd(nameWidth)}  ${cells
    .slice(1)
    .map((c) => c.padStart(8))
    .join('  ')}`;
console.log(`fuzz: ${targets.length} targets, ${runs} cases each (scaled by weight), seed ${seed}`);
console.log(row(['property', 'cases', 'crashes', 'seconds', 'slowest']));
for (const t of targets) {
  const r = await runFuzz(t, targetRuns(t.weight, runs), seed);
  reports.push(r);
  console.log(
    row([r.name, String(r.cases), String(r.crashes), r.seconds.toFixed(2), `${r.slowestMs.toFixed(0)} ms`]),
  );
}
const total = {
  cases: reports.reduce((a, r) => a + r.cases, 0),
  crashes: reports.reduce((a, r) => a + r.crashes, 0),
  seconds: reports.reduce((a, r) => a + r.seconds, 0),
};
console.log(row(['total', String(total.cases), String(total.crashes), total.seconds.toFixed(2), '']));
for (const r of reports) {
  if (r.firstCrash) {
    console.log(`\n${r.name}: ${r.crashes} crashes; first: ${r.firstCrash.message}`);
    console.log(`  shrunk input: ${r.firstCrash.counterexample}`);
  }
}

const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');
fs.mkdirSync(outDir, { recursive: true });
const outFile = path.join(outDir, 'fuzz.json');
fs.writeFileSync(
  outFile,
  `${JSON.stringify({ date: new Date().toISOString(), runs, seed, node: process.version, total, targets: reports }, null, 2)}\n`,
);
console.log(`\nwrote ${path.relative(process.cwd(), outFile)}`);
if (total.crashes > 0) process.exitCode = 1;

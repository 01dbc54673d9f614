/** Helpers shared by the experiment scripts: run the `minnow` CLI as a child process, read JSON. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** GLUE task name -> folder under ../shared/data/glue. */
export const GLUE_DIR: Record<string, string> = {
  sst2: 'SST-2',
  cola: 'CoLA',
  mrpc: 'MRPC',
  stsb: 'STS-B',
  rte: 'RTE',
  wnli: 'WNLI',
};

/** SST-2's first training sentences used by the experiment scripts (dev whole): a run of minutes, not hours. */
export const SST2_TRAIN = 20_000;

/**
 * The GLUE folder of `task` under SHARED/data/glue; for SST-2 a copy under RUNS/data/SST-2 cut to its
 * first SST2_TRAIN training sentences (written once).
 */
export function glueData(shared: string, runs: string, task: string): string {
  const src = join(shared, 'data', 'glue', GLUE_DIR[task]);
  if (task !== 'sst2') return src;
  const dir = join(runs, 'data', 'SST-2');
  if (!existsSync(join(dir, 'dev.tsv'))) {
    mkdirSync(dir, { recursive: true });
    const lines = readFileSync(join(src, 'train.tsv'), 'utf8').split('\n');
    writeFileSync(join(dir, 'train.tsv'), `${lines.slice(0, SST2_TRAIN + 1).join('\n')}\n`);
    copyFileSync(join(src, 'dev.tsv'), join(dir, 'dev.tsv'));
  }
  return dir;
}

/** Runs `node CLI args...`, streaming its stderr (progress), and returns its stdout. Throws on failure. */
export function runMinnow(
  args: string[],
  /** MINNOW_CLI: another build (e.g. a private one that a rebuild of dist/ does not change mid-run). */
  cli = process.env.MINNOW_CLI ?? join(ROOT, 'dist', 'cli', 'main.js'),
): string {
  process.stderr.write(`$ minnow ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`minnow ${args[0]} failed with status ${r.status}`);
  return r.stdout;
}

/**
 * A JSON.stringify replacer for result records: paths under the repository become relative to it
 * (`runs/...`), and paths under `shared` relative to the repository too (`../shared/...`), so a record
 * names no machine's folders (scripts/check-paths.ts checks it).
 */
export function portablePaths(shared: string): (key: string, value: unknown) => unknown {
  const sharedDir = resolve(shared);
  const sharedRel = relative(ROOT, sharedDir) || '.';
  return (_key, value) =>
    typeof value === 'string' ? value.replaceAll(`${ROOT}/`, '').replaceAll(sharedDir, sharedRel) : value;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** One table cell for a task's metrics, as the GLUE leaderboard shows them (percent). */
export function metricCell(task: string, m: Record<string, number>): string {
  const f = (v: number | undefined) => (typeof v === 'number' ? (100 * v).toFixed(1) : '-');
  if (task === 'mrpc') return `${f(m.f1)}/${f(m.accuracy)}`;
  if (task === 'stsb') return `${f(m.pearson)}/${f(m.spearman)}`;
  if (task === 'cola') return f(m.mcc);
  return f(m.accuracy);
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

interface ExportResult {
  variants: { variant: string; bytes: number; gzipBytes: number; score?: number; drop?: number }[];
}

/**
 * `minnow export --check TASK` of a fine-tuned model into DIR-export (skipped when DIR-export.json holds its
 * result): the int8 file minnow ships for it (the compact file for hash models, whose table is computed at
 * load; the portable file for table and low-rank models) and its fp32 twin, with their bytes and dev scores.
 */
export function exportChecked(
  minnow: (args: string[]) => string,
  dir: string,
  task: string,
  data: string,
  threads: string,
): { file: string; bytes: number; gzip: number; int8: number; fp32: number } {
  const file = `${dir}-export.json`;
  if (!existsSync(file))
    writeFileSync(
      file,
      minnow([
        'export',
        '--model',
        dir,
        '--out',
        `${dir}-export`,
        '--check',
        task,
        '--data',
        data,
        '--max-drop',
        '100', // record every drop; the gate is not the question here
        '--threads',
        threads,
        '--json',
      ]),
    );
  const ex = readJson<ExportResult>(file);
  const shipped =
    ex.variants.find((x) => x.variant === 'compact_quantized') ??
    ex.variants.find((x) => x.variant === 'portable_quantized')!;
  const fp32 = ex.variants.find(
    (x) => x.variant === (shipped.variant === 'compact_quantized' ? 'compact' : 'portable'),
  )!;
  return {
    file: shipped.variant,
    bytes: shipped.bytes,
    gzip: shipped.gzipBytes,
    int8: shipped.score!,
    fp32: fp32.score!,
  };
}

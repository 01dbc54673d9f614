/**
 * A fine-tuning recipe search: every combination of a small grid (learning rate, batch size, epochs, ...)
 * fine-tuned with one seed, each run in its own directory, the best picked by dev score and copied to the
 * output. Every run is recorded (search.json), and a run whose result exists is not repeated, so an
 * interrupted search continues where it stopped.
 *
 * Picking the best of a grid on the dev set and reporting its dev score is optimistic: the score chose the
 * recipe. Tables should show a fixed recipe beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DataSource } from '../data/task.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';
import { type FinetuneConfig, type FinetuneResult, finetune } from './finetune.js';
import { REMOTE_CODE_FILES } from '../model/hf-remote.js';

/** The grid's keys and the FinetuneConfig field each sets. */
const KEYS = {
  lr: 'lr',
  batch: 'batchSize',
  epochs: 'epochs',
  warmup: 'warmup',
  dropout: 'dropout',
  'weight-decay': 'weightDecay',
} as const satisfies Record<string, keyof FinetuneConfig>;
type Key = keyof typeof KEYS;

const INTEGER: ReadonlySet<Key> = new Set(['batch', 'epochs']);

/** One point of the grid: values by key, in the grid's key order. */
export type Recipe = Partial<Record<Key, number>>;

/**
 * `lr=1e-4,3e-4,1e-3 batch=16,32 epochs=3,5` (space-separated keys, comma-separated values) as the list of
 * every combination, the last key varying fastest. Keys: lr, batch, epochs, warmup, dropout, weight-decay.
 */
export function parseGrid(spec: string, flag = '--search'): Recipe[] {
  const parts = spec.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0)
    throw new UserError(`${flag}: empty; e.g. "lr=1e-4,3e-4,1e-3 batch=16,32 epochs=3,5"`);
  const axes: [Key, number[]][] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = part.slice(0, Math.max(eq, 0)) as Key;
    if (eq < 0 || !Object.hasOwn(KEYS, key))
      throw new UserError(
        `${flag}: "${part}" should be KEY=V1,V2,... with KEY one of ${Object.keys(KEYS).join(', ')}`,
      );
    if (axes.some(([k]) => k === key)) throw new UserError(`${flag}: ${key} given twice`);
    const values = part
      .slice(eq + 1)
      .split(',')
      .map((v) => {
        const x = Number(v);
        const ok =
          v.trim() !== '' &&
          Number.isFinite(x) &&
          (INTEGER.has(key) ? Number.isInteger(x) && x >= 1 : key === 'lr' ? x > 0 : x >= 0 && x < 1);
        if (!ok)
          throw new UserError(
            `${flag}: ${key}=${v}: ${INTEGER.has(key) ? 'a whole number >= 1' : key === 'lr' ? 'a number > 0' : 'a number in [0, 1)'}`,
          );
        return x;
      });
    if (new Set(values).size !== values.length) throw new UserError(`${flag}: ${key} repeats a value`);
    axes.push([key, values]);
  }
  let grid: Recipe[] = [{}];
  for (const [key, values] of axes) grid = grid.flatMap((r) => values.map((v) => ({ ...r, [key]: v })));
  if (grid.length > 64) throw new UserError(`${flag}: ${grid.length} runs; at most 64`);
  return grid;
}

/** A recipe as a directory name and a label: `lr1e-3_batch16_epochs3`. */
export function recipeName(r: Recipe): string {
  return Object.entries(r)
    .map(([k, v]) => `${k}${v}`)
    .join('_');
}

export interface SearchRun {
  recipe: Recipe;
  dir: string;
  score: number;
  metrics: FinetuneResult['metrics'];
  /** Whether this run's result was read from an earlier, interrupted search. */
  reused: boolean;
}

export interface SearchResult {
  runs: SearchRun[];
  best: SearchRun;
  /** The recipe fields every run shared (the base the grid varies). */
  base: Omit<FinetuneConfig, 'out'>;
}

const RUN_KEY_FILE = 'search_run.json';

/** What decides a search run besides its recipe: the model, the data and the shared settings. */
function runKey(
  modelDir: string,
  src: DataSource,
  dev: DataSource | undefined,
  shared: Omit<FinetuneConfig, 'out'>,
): Record<string, unknown> {
  const { resume: _, ...settings } = shared;
  const abs = (d: DataSource) => ({ ...d, data: resolve(d.data) });
  return JSON.parse(
    JSON.stringify({ model: resolve(modelDir), data: abs(src), dev: dev ? abs(dev) : null, ...settings }),
  ) as Record<string, unknown>;
}

/** An earlier run in OUT/search/NAME made with another model, data or settings is refused, naming the first difference. */
function checkRunKey(file: string, key: Record<string, unknown>, out: string): void {
  let was: Record<string, unknown> | undefined;
  try {
    was = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    was = undefined;
  }
  const dir = dirname(file);
  if (was === undefined)
    throw new UserError(
      `--out ${out}: ${dir} holds a run this search cannot tell the settings of; choose a new --out or remove ${dir}`,
    );
  for (const k of Object.keys(key)) {
    const [a, b] = [JSON.stringify(was[k]), JSON.stringify(key[k])];
    if (a !== b)
      throw new UserError(
        `--out ${out}: ${dir} was made with another ${k} (${a} there, ${b} now); choose a new --out or remove it`,
      );
  }
}

/**
 * Fine-tune `modelDir` once per recipe into OUT/search/NAME, pick the best dev score, copy its model files
 * to OUT, and write OUT/search.json. The seed is the base config's, the same for every run.
 */
export async function searchFinetune(
  modelDir: string,
  src: DataSource,
  dev: DataSource | undefined,
  base: FinetuneConfig,
  grid: Recipe[],
): Promise<SearchResult> {
  const runs: SearchRun[] = [];
  const { out, ...shared } = base;
  for (const [i, recipe] of grid.entries()) {
    const dir = join(out, 'search', recipeName(recipe));
    const done = join(dir, 'eval_results.json');
    let res: FinetuneResult;
    // A run is reused only if it was made with this model, data and settings (search_run.json says).
    const key = runKey(modelDir, src, dev, shared);
    if (existsSync(dir)) checkRunKey(join(dir, RUN_KEY_FILE), key, out);
    const reused = existsSync(done);
    if (reused) res = JSON.parse(readFileSync(done, 'utf8')) as FinetuneResult;
    else {
      ensureDir(dir);
      writeFileAtomic(join(dir, RUN_KEY_FILE), `${JSON.stringify(key, null, 2)}\n`);
      info(`search ${i + 1}/${grid.length}: ${recipeName(recipe)}`);
      const c: FinetuneConfig = { ...base, out: dir, resume: existsSync(join(dir, 'checkpoints')) };
      for (const [k, v] of Object.entries(recipe))
        (c as unknown as Record<string, number>)[KEYS[k as Key]] = v;
      res = await finetune(modelDir, src, dev, c);
    }
    if (res.devSource === 'none')
      throw new UserError('--search: needs dev data to pick by (a --dev file, or --dev-fraction above 0)');
    runs.push({ recipe, dir, score: res.score, metrics: res.metrics, reused });
  }
  const best = runs.reduce((a, b) => (b.score > a.score ? b : a));
  const files = ['config.json', 'model.safetensors', 'vocab.txt', 'knowledge.kg', 'eval_results.json'];
  for (const f of [...files, ...REMOTE_CODE_FILES])
    if (existsSync(join(best.dir, f))) writeFileAtomic(join(out, f), readFileSync(join(best.dir, f)));
  const result: SearchResult = { runs, best, base: shared };
  writeFileAtomic(
    join(out, 'search.json'),
    `${JSON.stringify({ ...result, note: 'best picked by dev score: its dev score is optimistic' }, null, 2)}\n`,
  );
  return result;
}

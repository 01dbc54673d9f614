/**
 * `minnow fit`'s data, checked before anything is written: training rows that exist and hold two classes
 * or more (or numbers, for regression), and dev data to pick the winner by (the dev file, GLUE's dev
 * split, or a seeded held-out fraction of the user's rows; the same split every stage uses, as finetune's
 * and baseline's own devSplit makes it from the same seed).
 */
import { join } from 'node:path';
import { type DataSource, readTask, type TaskData } from '../data/task.js';
import { headFor, type TaskHead } from '../infer/task-head.js';
import { type DevSource, devSplit } from '../train/finetune.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

export interface FitData {
  task: string;
  head: TaskHead;
  /** The training file read (GLUE: the train split's file). */
  file: string;
  train: TaskData;
  dev: TaskData;
  devSource: DevSource;
}

/** Read and check the data of a fit; a one-line UserError for data no stage could learn or be picked on. */
export function readFitData(
  src: DataSource,
  dev: DataSource | undefined,
  c: { devFraction: number; seed: number },
): FitData {
  const all = readTask(src, 'train');
  if (all.examples.length === 0) throw new UserError(`fit: ${all.file}: no training examples`);
  const head = headFor(all);
  if (!head.regression) {
    const seen = new Set(all.examples.map((e) => e.label));
    if (seen.size < 2)
      throw new UserError(
        `fit: ${all.file}: every training row has the label ${JSON.stringify(all.labels![all.examples[0].label])}; a classifier needs two classes or more`,
      );
  }
  const { train, devData, devSource } = devSplit(all, src, dev, head, c);
  if (devSource === 'none' || devData.examples.length === 0)
    throw new UserError(
      `fit: no dev data to pick the model by (${devSource === 'none' ? (src.textColumn ? `--dev-fraction ${c.devFraction} and no --dev file` : 'the dev split is empty') : `${devData.file}: no rows`})`,
    );
  return { task: all.task, head, file: all.file, train, dev: devData, devSource };
}

/** The share of the training rows the most frequent class holds, from which fit also weighs the classes. */
export const IMBALANCED_SHARE = 0.6;

/** Whether one class holds IMBALANCED_SHARE of the training rows or more (never for regression). */
export function imbalanced(d: Pick<FitData, 'head' | 'train'>): boolean {
  if (d.head.regression || d.train.examples.length === 0) return false;
  const count = new Map<number, number>();
  for (const e of d.train.examples) count.set(e.label, (count.get(e.label) ?? 0) + 1);
  return Math.max(...count.values()) >= IMBALANCED_SHARE * d.train.examples.length;
}

/** Whether the data are text pairs (entailment, paraphrase, similarity). */
export function hasPairs(d: Pick<FitData, 'train' | 'dev'>): boolean {
  return [d.train, d.dev].some((t) => t.examples.some((e) => e.pair !== undefined));
}

/**
 * Where a stage reads the dev rows as a data source: GLUE's dev split, the --dev file, or the held-out rows
 * written out to the stage's directory.
 */
export function devDataSource(ctx: {
  dir: string;
  src: DataSource;
  dev: DataSource | undefined;
  data: FitData;
}): DataSource {
  if (!ctx.src.textColumn) return ctx.src;
  if (ctx.dev) return ctx.dev;
  const file = join(ctx.dir, 'dev-held-out.jsonl');
  writeFileAtomic(file, heldOutJsonl(ctx.data));
  return {
    task: ctx.src.task,
    data: file,
    textColumn: 'text',
    textPairColumn: hasPairs(ctx.data) ? 'pair' : undefined,
    labelColumn: 'label',
    regression: ctx.src.regression,
  };
}

/** The held-out dev rows as JSONL: text, pair, and the label as the data file has it. */
export function heldOutJsonl(d: FitData): string {
  const labels = d.dev.labels;
  return d.dev.examples
    .map((e) =>
      JSON.stringify({
        text: e.text,
        ...(e.pair !== undefined ? { pair: e.pair } : {}),
        label: labels ? labels[e.label] : e.label,
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * A task's examples as read from a GLUE folder or the user's CSV/TSV/JSONL file, its dev split or a
 * seeded held-out part, and the class names. Encoding and batching are in batch.ts.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { glueTask, readGlue } from './glue.js';
import { type Example, readTabular } from './tabular.js';

/** Where examples come from: a GLUE task folder/file, or the user's table with named columns. */
export interface DataSource {
  task: string; // a GLUE task name, or any name for custom data
  data: string; // GLUE: task folder or file; custom: a CSV/TSV/JSONL file
  textColumn?: string; // custom data
  textPairColumn?: string;
  labelColumn?: string;
  regression?: boolean; // custom data with float labels
  labels?: string[]; // custom class names in index order (default: sorted distinct labels of train)
  skipBadRows?: boolean;
}

export interface TaskData {
  task: string;
  examples: Example[];
  labels: string[] | null; // class names; null = regression
  file: string;
}

/**
 * A digest of examples (text, pair and label, in order): training runs record their training split's, so
 * a --resume on a file edited in place, with the same number of rows, is refused rather than mixed in.
 */
export function examplesDigest(examples: readonly Example[]): string {
  const h = createHash('sha256');
  for (const e of examples) h.update(`${e.text}\u0000${e.pair ?? ''}\u0000${e.label}\n`);
  return h.digest('hex').slice(0, 16);
}

export function isGlue(task: string): boolean {
  try {
    glueTask(task);
    return true;
  } catch {
    return false;
  }
}

/** Read one split. For custom data `split` picks nothing: `data` is the file. */
export function readTask(src: DataSource, split: 'train' | 'dev' | 'test' = 'train'): TaskData {
  const onBadRow = src.skipBadRows ? 'skip' : 'throw';
  if (!src.textColumn) {
    const spec = glueTask(src.task); // unknown task names fail here, listing the valid ones
    if (src.regression && spec.labels !== null)
      throw new UserError(
        `--regression: ${spec.title} is a classification task; --regression is for your own data (with --text-column)`,
      );
    const d = readGlue(spec.name, src.data, { split, onBadRow });
    if (d.skipped.length)
      info(
        `${d.file}: skipped ${d.skipped.length} bad rows (first: line ${d.skipped[0].line}: ${d.skipped[0].reason})`,
      );
    return { task: spec.name, examples: d.examples, labels: d.labels ? [...d.labels] : null, file: d.file };
  }
  const d = readTabular(src.data, {
    textColumn: src.textColumn,
    textPairColumn: src.textPairColumn,
    labelColumn: src.labelColumn,
    regression: src.regression,
    labels: src.labels,
    onBadRow,
  });
  if (d.skipped.length)
    info(
      `${d.file}: skipped ${d.skipped.length} bad rows (first: line ${d.skipped[0].line}: ${d.skipped[0].reason})`,
    );
  return { task: src.task, examples: d.examples, labels: d.labels, file: d.file };
}

/**
 * Hold out a seeded fraction of the examples as dev data (for the user's own data when no dev file is
 * given): at least one example on each side when there are two or more.
 */
export function holdOut(data: TaskData, fraction: number, seed: number): { train: TaskData; dev: TaskData } {
  const n = data.examples.length;
  const k = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  const order = new Rng(deriveSeed(seed, 'HOLD')).shuffle(Array.from({ length: n }, (_, i) => i));
  const devIdx = new Set(order.slice(0, k));
  return {
    train: { ...data, examples: data.examples.filter((_, i) => !devIdx.has(i)) },
    dev: { ...data, examples: data.examples.filter((_, i) => devIdx.has(i)) },
  };
}

/** Readable names of the GLUE classes whose files use 0/1 (in the files' order). */
const GLUE_CLASS_NAMES: Partial<Record<string, readonly string[]>> = {
  cola: ['unacceptable', 'acceptable'],
  sst2: ['negative', 'positive'],
  mrpc: ['not_equivalent', 'equivalent'],
  qqp: ['not_duplicate', 'duplicate'],
  wnli: ['not_entailment', 'entailment'],
};

/** The names a task's classes are shown by: GLUE's readable names, or the labels as they are in the data. */
export function classNames(task: string, labels: readonly string[]): string[] {
  const names = isGlue(task) ? GLUE_CLASS_NAMES[glueTask(task).name] : undefined;
  return names && names.length === labels.length ? [...names] : [...labels];
}

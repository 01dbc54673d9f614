/**
 * Fine-tuning and evaluation of a classification or regression head on GLUE tasks or the user's own
 * CSV/TSV/JSONL data: tokenised pairs, dynamic padding per batch, seeded per-epoch shuffles (batches are
 * a pure function of the step, so --resume is bit-exact), the official metrics on the dev split.
 */
import { join } from 'node:path';
import { GLUE_TASKS, glueTask, type MetricName, readGlue } from '../data/glue.js';
import { type Example, readTabular } from '../data/tabular.js';
import { taskMetrics, taskScore, type TaskMetrics } from '../eval/glue-score.js';
import { accuracy, f1, pearson, spearman } from '../eval/metrics.js';
import type { Graph } from '../graph/graph.js';
import { mse, softmaxCrossEntropy } from '../graph/losses.js';
import * as o from '../graph/ops.js';
import { bertInputs, classifier, encoder } from '../model/bert.js';
import { Dropout } from '../runtime/dropout.js';
import { type Weights } from '../runtime/weights.js';
import { loadModel, type Model, saveModel } from '../model/io.js';
import type { Tensor } from '../runtime/session.js';
import type { BertTokenizer } from '../text/wordpiece.js';
import { DEFAULT_ADAMW } from '../runtime/optim.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { type Batch, runTraining } from './loop.js';
import { TrainStep } from './step.js';
import { Forward } from '../runtime/forward.js';

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

/** Metrics of a task: GLUE's official ones, or accuracy (+F1 for two classes) / Pearson+Spearman. */
export function metricsFor(
  task: string,
  labels: string[] | null,
  preds: number[],
  gold: number[],
): TaskMetrics {
  if (isGlue(task)) return taskMetrics(task, preds, gold);
  if (labels === null) return { pearson: pearson(preds, gold), spearman: spearman(preds, gold) };
  const m: TaskMetrics = { accuracy: accuracy(preds, gold) };
  if (labels.length === 2) m.f1 = f1(preds, gold);
  return m;
}

export function metricNames(task: string, labels: string[] | null): MetricName[] {
  if (isGlue(task)) return [...GLUE_TASKS[glueTask(task).name].metrics];
  return labels === null ? ['pearson', 'spearman'] : labels.length === 2 ? ['accuracy', 'f1'] : ['accuracy'];
}

export interface Encoded {
  ids: Int32Array;
  types: Int32Array;
  label: number;
}

export function encodeAll(tok: BertTokenizer, examples: Example[], maxLength: number): Encoded[] {
  return examples.map((e) => {
    const enc = tok.encode(e.text, e.pair, { maxLength });
    return { ids: Int32Array.from(enc.ids), types: Int32Array.from(enc.typeIds), label: e.label };
  });
}

/** A padded batch of the given examples (padded to the longest one). */
export function padBatch(items: Encoded[], regression: boolean, padId: number): Batch {
  const B = items.length;
  const T = Math.max(...items.map((x) => x.ids.length));
  const ids = new BigInt64Array(B * T).fill(BigInt(padId));
  const types = new BigInt64Array(B * T);
  const pos = new BigInt64Array(B * T);
  const mask = new BigInt64Array(B * T);
  let tokens = 0;
  items.forEach((x, b) => {
    for (let t = 0; t < T; t++) pos[b * T + t] = BigInt(t);
    for (let t = 0; t < x.ids.length; t++) {
      ids[b * T + t] = BigInt(x.ids[t]);
      types[b * T + t] = BigInt(x.types[t]);
      mask[b * T + t] = 1n;
    }
    tokens += x.ids.length;
  });
  const labels = regression
    ? Float32Array.from(items.map((x) => x.label))
    : BigInt64Array.from(items.map((x) => BigInt(x.label)));
  return {
    feeds: { input_ids: ids, token_type_ids: types, position_ids: pos, attention_mask: mask, labels },
    sizes: { B, T },
    tokens,
  };
}

/** Logits (B, numLabels); loss is cross-entropy, or MSE on the single output for regression. */
function headGraph(m: Model, numLabels: number, regression: boolean) {
  return (g: Graph, w: Weights, drop: Dropout) => {
    const logits = classifier(w, m.config, encoder(w, m.config, bertInputs(g), drop), numLabels, drop);
    const labels = g.input('labels', regression ? 'float32' : 'int64', ['B']);
    const loss = regression ? mse(o.reshape(logits, ['B']), labels) : softmaxCrossEntropy(logits, labels);
    return { loss, logits };
  };
}

/** The inference graph of a classifier or regressor: `logits` (B, numLabels), no dropout. */
export function classifierForward(m: Model, numLabels: number, threads: number): Promise<Forward> {
  return Forward.create(
    (g, w) => ({
      logits: classifier(
        w,
        m.config,
        encoder(w, m.config, bertInputs(g), new Dropout(false)),
        numLabels,
        new Dropout(false),
      ),
    }),
    m.store,
    { threads },
  );
}

/** The task's reported metrics (see metricNames) picked from an evaluation's values. */
export function reportedMetrics(train: TaskData, values: Record<string, number>): TaskMetrics {
  return Object.fromEntries(metricNames(train.task, train.labels).map((k) => [k, values[k]])) as TaskMetrics;
}

/** Predictions over encoded examples: logits per example. */
export async function predictLogits(
  m: Model,
  items: Encoded[],
  numLabels: number,
  batchSize: number,
  threads: number,
): Promise<Float32Array[]> {
  const fwd = await classifierForward(m, numLabels, threads);
  const out: Float32Array[] = [];
  // Sort by length so padding is small; restore the order at the end.
  const order = items.map((_, i) => i).sort((a, b) => items[a].ids.length - items[b].ids.length);
  const byIndex = new Array<Float32Array>(items.length);
  for (let i = 0; i < order.length; i += batchSize) {
    const idx = order.slice(i, i + batchSize);
    const b = padBatch(
      idx.map((k) => items[k]),
      true,
      0,
    );
    const { labels: _, ...feeds } = b.feeds;
    const r = await fwd.run(feeds, b.sizes);
    const data = (r.logits as Tensor).data as Float32Array;
    idx.forEach((k, j) => {
      byIndex[k] = data.slice(j * numLabels, (j + 1) * numLabels);
    });
  }
  await fwd.release();
  out.push(...byIndex);
  return out;
}

export function decide(logits: Float32Array, regression: boolean): number {
  if (regression) return logits[0];
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Batches of example indices, reshuffled every epoch from (seed, epoch): `indicesOf(k)` is a pure
 * function of the global step k, which is what makes --resume bit-exact.
 */
export function epochBatches(n: number, batchSize: number, seed: number) {
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const orders = new Map<number, number[]>();
  const orderOf = (epoch: number) => {
    let ord = orders.get(epoch);
    if (!ord) {
      ord = new Rng((seed * 7919 + epoch) >>> 0).shuffle(Array.from({ length: n }, (_, i) => i));
      orders.set(epoch, ord);
    }
    return ord;
  };
  const indicesOf = (k: number) => {
    const i = (k % stepsPerEpoch) * batchSize;
    return orderOf(Math.floor(k / stepsPerEpoch)).slice(i, i + batchSize);
  };
  return { stepsPerEpoch, indicesOf };
}

/** Metrics of `model` on encoded dev examples, plus the task score in percent. */
export async function evaluateOn(
  model: Model,
  task: TaskData,
  items: Encoded[],
  numLabels: number,
  threads: number,
): Promise<Record<string, number>> {
  const regression = task.labels === null;
  const logits = await predictLogits(model, items, numLabels, 128, threads);
  const metrics = metricsFor(
    task.task,
    task.labels,
    logits.map((l) => decide(l, regression)),
    items.map((x) => x.label),
  );
  return { ...(metrics as Record<string, number>), score: taskScore(metrics) };
}

export interface FinetuneConfig {
  out: string;
  epochs: number;
  batchSize: number;
  lr: number;
  warmup: number; // fraction of updates
  weightDecay: number;
  clipNorm: number;
  maxLength: number;
  dropout?: number; // override the model's dropout
  seed: number;
  threads: number;
  resume: boolean;
  checkpointEvery: number;
}

export interface FinetuneResult {
  task: string;
  metrics: TaskMetrics;
  score: number;
  perEpoch: Record<string, number>[];
  tokensPerSecond: number;
  trainExamples: number;
  devExamples: number;
}

/** Fine-tune `modelDir` on `src` (train split) and evaluate on its dev split (or `dev` source). */
export async function finetune(
  modelDir: string,
  src: DataSource,
  dev: DataSource | undefined,
  c: FinetuneConfig,
): Promise<FinetuneResult> {
  const train = readTask(src, 'train');
  const devData = dev ? readTask(dev, 'dev') : readTask(src, 'dev');
  const regression = train.labels === null;
  const numLabels = regression ? 1 : train.labels!.length;
  if (train.examples.length === 0) throw new UserError(`${train.file}: no training examples`);
  const m = loadModel(modelDir, { numLabels, rng: new Rng(c.seed) });
  if (c.dropout !== undefined) {
    m.config.hidden_dropout_prob = c.dropout;
    m.config.attention_probs_dropout_prob = c.dropout;
  }
  m.config.num_labels = numLabels;
  m.config.problem_type = regression ? 'regression' : 'single_label_classification';
  if (train.labels) m.config.id2label = Object.fromEntries(train.labels.map((l, i) => [String(i), l]));
  m.config.finetuning_task = train.task;
  const maxLength = Math.min(c.maxLength, m.config.max_position_embeddings);
  const items = encodeAll(m.tokenizer, train.examples, maxLength);
  const devItems = encodeAll(m.tokenizer, devData.examples, maxLength);
  const { stepsPerEpoch, indicesOf } = epochBatches(items.length, c.batchSize, c.seed);
  const updates = stepsPerEpoch * c.epochs;
  info(
    `finetune ${train.task}: ${items.length} train / ${devItems.length} dev examples, ${c.epochs} epochs x ${stepsPerEpoch} steps`,
  );
  const evaluate = () => evaluateOn(m, train, devItems, numLabels, c.threads);
  const step = await TrainStep.create(headGraph(m, numLabels, regression), m.store, {
    seed: c.seed,
    threads: c.threads,
  });
  ensureDir(c.out);
  writeFileAtomic(
    join(c.out, 'finetune_config.json'),
    `${JSON.stringify({ ...c, src, dev, model: modelDir }, null, 2)}\n`,
  );
  const result = await runTraining({
    label: `finetune ${train.task}`,
    out: c.out,
    step,
    store: m.store,
    optim: { ...DEFAULT_ADAMW, lr: c.lr, weightDecay: c.weightDecay, clipNorm: c.clipNorm },
    schedule: { warmupSteps: Math.round(c.warmup * updates), totalSteps: updates, decay: 'linear' },
    accumulation: 1,
    batch: (k) =>
      padBatch(
        indicesOf(k).map((j) => items[j]),
        regression,
        m.tokenizer.padId,
      ),
    evaluate: devItems.length ? evaluate : undefined,
    evalEvery: stepsPerEpoch,
    checkpointEvery: c.checkpointEvery,
    resume: c.resume,
  });
  await step.release();
  saveModel(c.out, m);
  const last = result.evals[result.evals.length - 1] ?? {};
  const metrics = reportedMetrics(train, last);
  const res: FinetuneResult = {
    task: train.task,
    metrics,
    score: last.score ?? Number.NaN,
    perEpoch: result.evals,
    tokensPerSecond: result.tokensPerSecond,
    trainExamples: items.length,
    devExamples: devItems.length,
  };
  writeFileAtomic(join(c.out, 'eval_results.json'), `${JSON.stringify(res, null, 2)}\n`);
  return res;
}

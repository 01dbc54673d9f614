/** A model's metrics on a task's encoded examples: inference (predict.ts) scored by the task's metrics. */
import { join } from 'node:path';
import { type DataSource, type TaskData } from '../data/task.js';
import { type Encoded } from '../data/batch.js';
import { type TaskMetrics, taskScore } from '../eval/glue-score.js';
import { metricsFor } from '../eval/task-metrics.js';
import type { Model } from '../model/io.js';
import { UserError } from '../util/errors.js';
import { firstNonFinite, nonFiniteMessage } from './finite-logits.js';
import { loadClassifier, type LoadOptions, readHeadConfig } from './load.js';
import { predictLogits } from './predict.js';
import { type Classifier, classifierInput, decide } from './runtime.js';
import { readTaskFor, taskHead } from './task-head.js';

/** Metrics of `model` on encoded dev examples, plus the task score in percent. */
export async function evaluateOn(
  model: Model,
  task: TaskData,
  items: Encoded[],
  numLabels: number,
  threads: number,
): Promise<Record<string, number>> {
  const logits = await predictLogits(model, items, numLabels, 128, threads);
  return scoreLogits(
    task,
    logits,
    items.map((x) => x.label),
  );
}

/** The task's metrics and score (in percent) of one logit row per example against the gold labels. */
export function scoreLogits(
  task: TaskData,
  logits: ArrayLike<number>[],
  gold: number[],
): Record<string, number> {
  const regression = task.labels === null;
  const metrics = metricsFor(
    task.task,
    task.labels,
    logits.map((l) => decide(l, regression)),
    gold,
  );
  return { ...(metrics as Record<string, number>), score: taskScore(metrics) };
}

/** A runtime Classifier's metrics on task data read in its classes, and the seconds its runs took. */
export async function scoreClassifier(
  clf: Classifier,
  data: TaskData,
  regression: boolean,
  batchSize: number,
): Promise<{ metrics: TaskMetrics; score: number; seconds: number }> {
  const inputs = data.examples.map(classifierInput);
  const t0 = performance.now();
  const logits = await clf.logits(clf.encode(inputs), batchSize);
  const seconds = (performance.now() - t0) / 1000;
  const bad = firstNonFinite(logits);
  if (bad >= 0)
    throw new UserError(
      nonFiniteMessage('eval', logits[bad], `${data.file}:${data.examples[bad].line ?? bad + 1}`),
    );
  const metrics = metricsFor(
    data.task,
    data.labels,
    logits.map((l) => decide(l, regression)),
    data.examples.map((x) => x.label),
  );
  return { metrics, score: taskScore(metrics), seconds };
}

export interface ModelEvaluation {
  task: string;
  file: string;
  examples: number;
  metrics: TaskMetrics;
  score: number;
  examples_per_s: number;
}

/**
 * Evaluate a fine-tuned model directory or an exported folder on labelled data, through the deployable
 * runtime (the graph a deployment runs): config.json is read once to learn the head, the data is read in
 * the model's classes (a task the model was not fine-tuned on is refused), then the model is loaded once.
 */
export async function evaluateModel(
  dir: string,
  src: DataSource,
  split: 'train' | 'dev',
  o: Pick<LoadOptions, 'maxLength' | 'threads' | 'quantized' | 'ort'> & { batchSize: number },
): Promise<ModelEvaluation> {
  const head = taskHead(readHeadConfig(dir), join(dir, 'config.json'));
  const data = readTaskFor(head, src, split, dir);
  const clf = await loadClassifier(dir, {
    maxLength: o.maxLength,
    threads: o.threads,
    quantized: o.quantized,
    ort: o.ort,
  });
  const { metrics, seconds } = await scoreClassifier(clf, data, head.regression, o.batchSize);
  await clf.release();
  const items = data.examples;
  return {
    task: data.task,
    file: data.file,
    examples: items.length,
    metrics,
    score: taskScore(metrics),
    examples_per_s: items.length / Math.max(seconds, 1e-9),
  };
}

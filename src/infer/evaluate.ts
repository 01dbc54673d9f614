/** A model's metrics on a task's encoded examples: inference (predict.ts) scored by the task's metrics. */
import { join } from 'node:path';
import { type DataSource, type Encoded, encodeAll, type TaskData } from '../data/task.js';
import { type TaskMetrics, taskScore } from '../eval/glue-score.js';
import { metricsFor } from '../eval/task-metrics.js';
import { loadModel, type Model, readConfig } from '../model/io.js';
import { decide, predictLogits } from './predict.js';
import { readTaskFor, taskHead } from './task-head.js';

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

export interface ModelEvaluation {
  task: string;
  file: string;
  examples: number;
  metrics: TaskMetrics;
  score: number;
  examples_per_s: number;
}

/**
 * Evaluate a fine-tuned model directory on labelled data: config.json is read once to learn the head,
 * the data is read in the model's classes (a task the model was not fine-tuned on is refused), then the
 * weights are loaded once.
 */
export async function evaluateModel(
  dir: string,
  src: DataSource,
  split: 'train' | 'dev',
  o: { maxLength: number; batchSize: number; threads: number },
): Promise<ModelEvaluation> {
  const head = taskHead(readConfig(dir), join(dir, 'config.json'));
  const data = readTaskFor(head, src, split, dir);
  const m = loadModel(dir, { numLabels: head.numLabels });
  const items = encodeAll(
    m.tokenizer,
    data.examples,
    Math.min(o.maxLength, m.config.max_position_embeddings),
  );
  const t0 = performance.now();
  const logits = await predictLogits(m, items, head.numLabels, o.batchSize, o.threads);
  const seconds = (performance.now() - t0) / 1000;
  const metrics = metricsFor(
    data.task,
    data.labels,
    logits.map((l) => decide(l, head.regression)),
    items.map((x) => x.label),
  );
  return {
    task: data.task,
    file: data.file,
    examples: items.length,
    metrics,
    score: taskScore(metrics),
    examples_per_s: items.length / Math.max(seconds, 1e-9),
  };
}

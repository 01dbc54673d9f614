/** A model's metrics on a task's encoded examples: inference (predict.ts) scored by the task's metrics. */
import type { Encoded, TaskData } from '../data/task.js';
import { taskScore } from '../eval/glue-score.js';
import { metricsFor } from '../eval/task-metrics.js';
import type { Model } from '../model/io.js';
import { decide, predictLogits } from './predict.js';

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

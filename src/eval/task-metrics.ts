/** The metrics a task reports: GLUE's official ones, or accuracy (+F1) / Pearson and Spearman for the user's data. */
import { GLUE_TASKS, glueTask, type MetricName } from '../data/glue.js';
import { isGlue, type TaskData } from '../data/task.js';
import { taskMetrics, type TaskMetrics } from './glue-score.js';
import { accuracy, f1, pearson, spearman } from './metrics.js';

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

/** The task's reported metrics (see metricNames) picked from an evaluation's values. */
export function reportedMetrics(train: TaskData, values: Record<string, number>): TaskMetrics {
  return Object.fromEntries(metricNames(train.task, train.labels).map((k) => [k, values[k]])) as TaskMetrics;
}

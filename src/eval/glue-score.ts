/**
 * GLUE scoring (docs/methods.md §6.2). Per-task metrics (`taskMetrics`), the task score = mean of the task's
 * metrics in percent (`taskScore`), and `glueScore`:
 *   - leaderboard: unweighted mean over the 9 tasks CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE,
 *     WNLI, with MNLI counted once as the mean of matched and mismatched;
 *   - withoutWnli: the same over the 8 tasks without WNLI.
 * Both average only the tasks given and list which were present and which were missing, so a partial
 * result (no QQP/MNLI/QNLI here) is never mistaken for a full GLUE score.
 */
import { GLUE_TASKS, type GlueTaskName, glueTask, type MetricName } from '../data/glue.js';
import { UserError } from '../util/errors.js';
import { accuracy, f1, matthews, pearson, spearman } from './metrics.js';

/** Metric values as fractions (accuracy 0.85, not 85). */
export type TaskMetrics = Partial<Record<MetricName, number>>;

const METRICS: Record<MetricName, (p: readonly number[], y: readonly number[]) => number> = {
  accuracy,
  f1,
  mcc: matthews,
  pearson,
  spearman,
};

/**
 * The task's metrics: {mcc} for CoLA, {accuracy} for SST-2/MNLI/QNLI/RTE/WNLI, {f1, accuracy} for
 * MRPC/QQP, {pearson, spearman} for STS-B. Predictions are class indices, or scores for STS-B.
 */
export function taskMetrics(
  task: string,
  predictions: readonly number[],
  labels: readonly number[],
): TaskMetrics {
  const spec = glueTask(task);
  const out: TaskMetrics = {};
  for (const m of spec.metrics) out[m] = METRICS[m](predictions, labels);
  return out;
}

/** Task score in percent: 100 × the mean of the task's metric values. */
export function taskScore(metrics: TaskMetrics): number {
  const values = Object.values(metrics).filter((v): v is number => v !== undefined);
  if (values.length === 0) throw new RangeError('taskScore: no metrics');
  return (100 * values.reduce((a, b) => a + b, 0)) / values.length;
}

export interface ScoreSummary {
  /** Mean over the scored tasks present, in percent; NaN when none is present. */
  score: number;
  /** Tasks that contributed (mnli and mnli-mm listed separately). */
  tasks: GlueTaskName[];
  /** Tasks of this average that were not given. */
  missing: GlueTaskName[];
  /** True when nothing is missing. */
  complete: boolean;
}

export interface GlueScore {
  /** 9-task leaderboard-style mean, WNLI included, MNLI = mean of m and mm. */
  leaderboard: ScoreSummary;
  /** 8-task mean without WNLI. */
  withoutWnli: ScoreSummary;
  /** Each given task's score in percent. */
  perTask: Partial<Record<GlueTaskName, number>>;
}

/** The leaderboard's 9 scored tasks; MNLI is one task made of two evaluation sets. */
const GROUPS: GlueTaskName[][] = [
  ['cola'],
  ['sst2'],
  ['mrpc'],
  ['stsb'],
  ['qqp'],
  ['mnli', 'mnli-mm'],
  ['qnli'],
  ['rte'],
  ['wnli'],
];

/**
 * GLUE averages from per-task results keyed by task name (aliases such as "SST-2" accepted). A value is
 * either a task score in percent (e.g. 86.85 for MRPC F1 88.9 / acc 84.8) or a `TaskMetrics` object of
 * fractions as returned by `taskMetrics`.
 */
export function glueScore(results: Readonly<Record<string, number | TaskMetrics>>): GlueScore {
  const perTask: Partial<Record<GlueTaskName, number>> = {};
  for (const [name, value] of Object.entries(results)) {
    const task = glueTask(name).name;
    if (perTask[task] !== undefined)
      throw new UserError(`GLUE task ${GLUE_TASKS[task].title} given twice ("${name}")`);
    const score = typeof value === 'number' ? value : taskScore(value);
    if (!Number.isFinite(score))
      throw new UserError(`GLUE task ${GLUE_TASKS[task].title}: score is ${score}`);
    perTask[task] = score;
  }
  const summarize = (groups: GlueTaskName[][]): ScoreSummary => {
    const tasks: GlueTaskName[] = [];
    const missing: GlueTaskName[] = [];
    const groupScores: number[] = [];
    for (const group of groups) {
      const present: number[] = [];
      for (const t of group) {
        const s = perTask[t];
        if (s === undefined) missing.push(t);
        else {
          tasks.push(t);
          present.push(s);
        }
      }
      if (present.length > 0) groupScores.push(mean(present));
    }
    const score = groupScores.length === 0 ? Number.NaN : mean(groupScores);
    return { score, tasks, missing, complete: missing.length === 0 };
  };
  return {
    leaderboard: summarize(GROUPS),
    withoutWnli: summarize(GROUPS.filter((g) => g[0] !== 'wnli')),
    perTask,
  };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

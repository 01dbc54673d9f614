/**
 * The budget curve's fixed fine-tuning recipe: lr 2e-4, batch 32; SST-2 on its first SST2_TRAIN training
 * sentences for 2 epochs, CoLA, MRPC, STS-B and RTE for 4; once per fine-tuning seed, each run a `minnow
 * finetune` child process skipped when its eval_results.json exists. scripts/budget-curve.ts and
 * scripts/ship-models.ts both score models with it, so their GLUE averages stand on one scale.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { glueData, mean, readJson, SST2_TRAIN } from './minnow.js';

export const CURVE_EPOCHS: Record<string, number> = { sst2: 2, cola: 4, mrpc: 4, stsb: 4, rte: 4, wnli: 4 };
const LR = '2e-4';
const BATCH = '32';
/** The recipe in words, for the tables' headers. */
export const CURVE_RECIPE = `lr ${LR}, batch ${BATCH}; SST-2 on its first ${SST2_TRAIN.toLocaleString('en-US')} sentences, ${CURVE_EPOCHS.sst2} epochs; the other tasks ${CURVE_EPOCHS.cola}`;
/** Fine-tuning noise between seeds is about a point here (README): smaller differences are not called. */
export const NOISE = 1;

export interface CurveFinetuneOptions {
  runs: string; // fine-tuning runs go to RUNS/NAME-TASK (or NAME-TASK-sSEED)
  shared: string; // ../shared, for the GLUE data
  tasks: string[];
  seeds: string[]; // fine-tuning seeds; the scores are their mean
  seed: string; // the seed whose runs keep the plain NAME-TASK directory name
  threads: string;
  minnow: (args: string[]) => string;
}

export interface Scores {
  scores: Record<string, number>; // the mean over the fine-tuning seeds
  seed_scores: Record<string, number[]>; // each seed's, in seeds order
  metrics: Record<string, Record<string, number>>;
  glue_avg: number;
}

export function curveFinetuner(o: CurveFinetuneOptions) {
  /** A fine-tuning run's directory; the --seed run keeps the plain name that runs before seeds had. */
  const dir = (name: string, task: string, s: string) =>
    join(o.runs, s === o.seed ? `${name}-${task}` : `${name}-${task}-s${s}`);
  const done = (name: string, task: string, s: string) =>
    existsSync(join(dir(name, task, s), 'eval_results.json'));
  /** Whether every task and seed of NAME has been fine-tuned and evaluated. */
  const finished = (name: string) => o.tasks.every((t) => o.seeds.every((s) => done(name, t, s)));
  /** Whether any fine-tuning run of NAME has started. */
  const started = (name: string) => o.tasks.some((t) => o.seeds.some((s) => existsSync(dir(name, t, s))));

  /** Fine-tunes the model made by `from` (`--model DIR` or preset flags) on every task and seed. */
  function finetuned(from: string[], name: string): Scores {
    const scores: Record<string, number> = {};
    const seedScores: Record<string, number[]> = {};
    const metrics: Record<string, Record<string, number>> = {};
    for (const task of o.tasks) {
      const runsOfTask = o.seeds.map((s) => {
        const out = dir(name, task, s);
        if (!done(name, task, s))
          o.minnow([
            'finetune',
            ...from,
            '--task',
            task,
            '--data',
            glueData(o.shared, o.runs, task),
            '--out',
            out,
            '--epochs',
            String(CURVE_EPOCHS[task]),
            '--lr',
            LR,
            '--batch-size',
            BATCH,
            '--threads',
            o.threads,
            '--seed',
            s,
          ]);
        return readJson<{ metrics: Record<string, number>; score: number }>(join(out, 'eval_results.json'));
      });
      seedScores[task] = runsOfTask.map((r) => r.score);
      scores[task] = mean(seedScores[task]);
      const keys = Object.keys(runsOfTask[0].metrics);
      metrics[task] = Object.fromEntries(keys.map((k) => [k, mean(runsOfTask.map((r) => r.metrics[k]))]));
    }
    return { scores, seed_scores: seedScores, metrics, glue_avg: mean(o.tasks.map((t) => scores[t])) };
  }
  return { finetuned, finished, started };
}

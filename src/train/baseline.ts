/**
 * `minnow baseline`: the model a user tries first, inside minnow. Hashed word and character n-grams,
 * sublinear TF-IDF, L2 logistic regression (ridge regression for a regression task), its strength C
 * picked on dev data from a grid, each fit warm-started from the last. The result is a model directory
 * like the others: predict, eval, export (fp32 and int8 ONNX), serve and the page run it.
 */
import { join } from 'node:path';
import { type DataSource, readTask } from '../data/task.js';
import { reportedMetrics } from '../eval/task-metrics.js';
import { scoreLogits } from '../infer/evaluate.js';
import { headFor, setHead } from '../infer/task-head.js';
import type { BertConfig } from '../model/config.js';
import {
  DEFAULT_NGRAM,
  ngramBlocks,
  type NgramConfig,
  ngramFeatures,
  NGRAM_MODEL_TYPE,
} from '../ngram/features.js';
import { columnsOf, type NgramModelConfig, saveNgramModel } from '../ngram/io.js';
import {
  balancedWeights,
  DEFAULT_FIT,
  fitIdf,
  fitLinear,
  type LinearKind,
  linearScores,
  logitRows,
  tfidfRows,
} from '../ngram/linear.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { formatSeconds, info } from '../util/progress.js';
import { type DevSource, devSplit } from './finetune.js';

export interface BaselineConfig {
  out: string;
  ngram: NgramConfig;
  /** Regularisation strengths tried, picked on dev (without dev data: the middle one). */
  C: number[];
  maxIterations: number;
  devFraction: number;
  seed: number;
  /** Date.now() past which no further C is fitted (the first always is): fit's --budget. */
  deadline?: number;
  /** 'balanced': each class carries the same total weight in the loss (scikit-learn's class_weight). */
  classWeight: ClassWeight;
}

export type ClassWeight = 'none' | 'balanced';

/** Word 1-2-grams and character 2-5-grams in 2^18 buckets; C as scikit-learn users search it. */
export const DEFAULT_BASELINE: Readonly<Omit<BaselineConfig, 'out'>> = Object.freeze({
  ngram: { ...DEFAULT_NGRAM, char_ngrams: [2, 5] as [number, number] },
  C: [1, 3, 10, 30],
  maxIterations: DEFAULT_FIT.maxIterations,
  devFraction: 0.1,
  seed: 0,
  classWeight: 'none',
});

export interface BaselineResult {
  task: string;
  /** The metrics of the kept C on dev (empty without dev data). */
  metrics: Record<string, number | undefined>;
  score: number;
  C: number;
  /** Every C tried: its dev score and L-BFGS iterations. */
  path: { C: number; score: number; iterations: number }[];
  trainExamples: number;
  devExamples: number;
  devSource: DevSource;
  /** Mean features per training row. */
  featuresPerExample: number;
  seconds: number;
}

/** Fit the baseline on `src` (train split) and pick C on its dev data; the model is written to c.out. */
export function trainBaseline(
  src: DataSource,
  dev: DataSource | undefined,
  c: BaselineConfig,
): BaselineResult {
  const t0 = performance.now();
  if (c.C.length === 0 || c.C.some((x) => !(x > 0)))
    throw new UserError(`baseline: C values must be positive numbers, got ${c.C.join(', ') || 'none'}`);
  const all = readTask(src, 'train');
  if (all.examples.length === 0) throw new UserError(`${all.file}: no training examples`);
  const head = headFor(all);
  if (!head.regression && head.numLabels < 2)
    throw new UserError(
      `${all.file}: every training row has the label ${JSON.stringify(all.labels![0])}; a classifier needs two classes or more`,
    );
  if (head.regression && c.classWeight !== 'none')
    throw new UserError(`${all.file}: class weights are for classes; the labels are numbers (regression)`);
  const { train, devData, devSource } = devSplit(all, src, dev, head, c);
  const kind: LinearKind = head.regression
    ? { regression: true }
    : { regression: false, classes: head.numLabels };
  const K = columnsOf({
    num_labels: head.numLabels,
    problem_type: head.regression ? 'regression' : 'single_label_classification',
  });
  const features = (rows: typeof train.examples) => rows.map((e) => ngramFeatures(e.text, e.pair, c.ngram));
  const trainRows = features(train.examples);
  const devRows = features(devData.examples);
  const blocks = ngramBlocks(c.ngram); // words and characters normalised apart; pair features as they are
  const idf = fitIdf(trainRows, c.ngram.buckets, blocks.denseStart);
  const x = tfidfRows(trainRows, idf, blocks);
  const xDev = tfidfRows(devRows, idf, blocks);
  const y = train.examples.map((e) => e.label);
  const rowWeights = c.classWeight === 'balanced' ? balancedWeights(y, head.numLabels) : undefined;
  const gold = devData.examples.map((e) => e.label);
  const featuresPerExample = x.indices.length / Math.max(1, trainRows.length);
  info(
    `baseline ${train.task}: ${train.examples.length} train / ${devData.examples.length} dev (${devSource}) examples, ${featuresPerExample.toFixed(1)} n-gram features per example, ${c.ngram.buckets} buckets${rowWeights ? ', classes weighted to balance' : ''}`,
  );
  const grid = [...c.C].sort((a, b) => a - b);
  let init: { weight: Float32Array; bias: Float32Array } | undefined;
  let best:
    | { C: number; score: number; metrics: Record<string, number>; weight: Float32Array; bias: Float32Array }
    | undefined;
  const path: BaselineResult['path'] = [];
  const dropDevScore = devData.examples.length === 0;
  const fallback = grid[Math.floor((grid.length - 1) / 2)];
  for (const C of dropDevScore ? [fallback] : grid) {
    if (best && c.deadline !== undefined && Date.now() >= c.deadline) {
      info(`baseline ${train.task}: the time budget is spent: C ${C} and above not tried`);
      break;
    }
    const t = performance.now();
    const fit = fitLinear(x, y, c.ngram.buckets, kind, {
      C,
      maxIterations: c.maxIterations,
      tolerance: DEFAULT_FIT.tolerance,
      init,
      rowWeights,
    });
    init = fit;
    const metrics = dropDevScore
      ? { score: Number.NaN }
      : scoreLogits(train, logitRows(linearScores(xDev, fit.weight, fit.bias, K), kind), gold);
    path.push({ C, score: metrics.score, iterations: fit.iterations });
    info(
      `baseline ${train.task}: C ${C}: ${dropDevScore ? 'no dev data' : `dev score ${metrics.score.toFixed(2)}`} (${fit.iterations} iterations, ${formatSeconds((performance.now() - t) / 1000)})`,
    );
    if (!best || metrics.score > best.score) best = { C, score: metrics.score, metrics, ...fit };
  }
  const chosen = best!;
  const config: NgramModelConfig = {
    model_type: NGRAM_MODEL_TYPE,
    architectures: ['MinnowNgramClassifier'],
    ngram: c.ngram,
    num_labels: head.numLabels,
    problem_type: head.regression ? 'regression' : 'single_label_classification',
    minnow_baseline: {
      C: chosen.C,
      path,
      dev_source: devSource,
      train_examples: train.examples.length,
      ...(rowWeights ? { class_weight: c.classWeight } : {}),
    },
  };
  setHead(config as unknown as BertConfig, head);
  ensureDir(c.out);
  saveNgramModel(c.out, { config, weights: { weight: chosen.weight, bias: chosen.bias, idf } });
  const res: BaselineResult = {
    task: train.task,
    metrics: dropDevScore ? {} : reportedMetrics(train, chosen.metrics),
    score: chosen.score,
    C: chosen.C,
    path,
    trainExamples: train.examples.length,
    devExamples: devData.examples.length,
    devSource,
    featuresPerExample,
    seconds: (performance.now() - t0) / 1000,
  };
  writeFileAtomic(join(c.out, 'eval_results.json'), `${JSON.stringify(res, null, 2)}\n`);
  return res;
}

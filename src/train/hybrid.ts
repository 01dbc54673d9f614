/**
 * `minnow hybrid`: a fine-tuned transformer and a fitted n-gram baseline of the same task become one
 * classifier whose logits are the transformer's plus alpha times the baseline's (Wide & Deep, with the
 * wide part fitted first). A regressor's output is their weighted mean, (t + alpha b) / (1 + alpha), so it
 * stays on the labels' scale. The baseline's table and idf join the model as ngram.weight (scaled by alpha)
 * and ngram.idf (frozen); its bias joins the classifier's. The result is a model directory like any
 * other: predict, eval, export (int8), serve and further fine-tuning (both parts train) run it.
 *
 * alpha is given, or picked on dev data from a grid (the dev set it is then scored on: optimistic, like
 * any choice made on dev).
 */
import { join } from 'node:path';
import { encodeAll } from '../data/batch.js';
import { type DataSource } from '../data/task.js';
import { scoreLogits } from '../infer/evaluate.js';
import { predictLogits } from '../infer/predict.js';
import { readTaskFor, type TaskHead, taskHead } from '../infer/task-head.js';
import { loadModel, readConfig, saveModel } from '../model/io.js';
import { modelEncoder } from '../model/model.js';
import { ngramBlocks, ngramFeatures } from '../ngram/features.js';
import { hybridColumns } from '../ngram/graph.js';
import { columnsOf, loadNgramModel } from '../ngram/io.js';
import { type LinearKind, linearScores, logitRows, tfidfRows } from '../ngram/linear.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';

export interface HybridConfig {
  out: string;
  /** The baseline's weight; undefined: picked on `dev` from alphaGrid. */
  alpha?: number;
  alphaGrid: number[];
  maxLength: number;
  threads: number;
}

export const DEFAULT_HYBRID: Readonly<Omit<HybridConfig, 'out' | 'alpha'>> = Object.freeze({
  alphaGrid: [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 8, 16, 32],
  maxLength: 128,
  threads: 2,
});

export interface HybridResult {
  alpha: number;
  /** Dev score per alpha tried (alpha 0: the transformer alone); empty with a given alpha and no dev. */
  path: { alpha: number; score: number }[];
  /** The baseline alone on the same dev data. */
  baselineScore?: number;
  score?: number;
  devExamples: number;
}

function sameHead(a: TaskHead, b: TaskHead, who: string): void {
  const names = (h: TaskHead) => JSON.stringify(h.names);
  if (a.numLabels !== b.numLabels || a.regression !== b.regression || names(a) !== names(b))
    throw new UserError(
      `${who}: the transformer and the baseline have different heads (${a.regression ? 'regression' : names(a)} vs ${b.regression ? 'regression' : names(b)}); fit both on the same task`,
    );
  if (a.task && b.task && a.task !== b.task)
    throw new UserError(`${who}: the transformer was fine-tuned on ${a.task}, the baseline on ${b.task}`);
}

/**
 * The factors of the transformer's and the baseline's outputs in a hybrid of weight `alpha`: a classifier
 * adds alpha times the baseline's logits (their scale is free), a regressor takes the weighted mean.
 */
export function partScales(alpha: number, kind: LinearKind): [number, number] {
  return kind.regression ? [1 / (1 + alpha), alpha / (1 + alpha)] : [1, alpha];
}

/** Combine `transformerDir` and `baselineDir` into c.out (see the file comment). */
export async function combineHybrid(
  transformerDir: string,
  baselineDir: string,
  dev: DataSource | undefined,
  c: HybridConfig,
): Promise<HybridResult> {
  const tHead = taskHead(readConfig(transformerDir), join(transformerDir, 'config.json'));
  const b = loadNgramModel(baselineDir);
  sameHead(tHead, taskHead(b.config, join(baselineDir, 'config.json')), 'hybrid');
  const m = loadModel(transformerDir, { numLabels: tHead.numLabels });
  if (m.config.ngram) throw new UserError(`${transformerDir}: already a hybrid (config.json has ngram)`);
  if (m.config.knowledge)
    throw new UserError(`${transformerDir}: a K-BERT model cannot be combined with a baseline yet`);
  const K = hybridColumns(tHead.numLabels);
  if (columnsOf(b.config) !== K) throw new Error(`hybrid: ${columnsOf(b.config)} baseline columns for ${K}`);
  const kind: LinearKind = tHead.regression
    ? { regression: true }
    : { regression: false, classes: tHead.numLabels };

  // Dev logits of each part alone; a hybrid's logits are their sum with the baseline's scaled.
  const path: HybridResult['path'] = [];
  let alpha = c.alpha;
  let baselineScore: number | undefined;
  let score: number | undefined;
  let devExamples = 0;
  if (dev) {
    const data = readTaskFor(tHead, dev, 'dev', transformerDir);
    devExamples = data.examples.length;
    const maxLength = Math.min(c.maxLength, m.config.max_position_embeddings);
    const items = encodeAll(m.tokenizer, data.examples, maxLength, modelEncoder(m, maxLength));
    const t = await predictLogits(m, items, tHead.numLabels, 64, c.threads);
    const rows = data.examples.map((e) => ngramFeatures(e.text, e.pair, b.config.ngram));
    const n = logitRows(
      linearScores(
        tfidfRows(rows, b.weights.idf, ngramBlocks(b.config.ngram)),
        b.weights.weight,
        b.weights.bias,
        K,
      ),
      kind,
    );
    const gold = data.examples.map((e) => e.label);
    baselineScore = scoreLogits(data, n, gold).score;
    const mix = (a: number) => {
      const [ts, bs] = partScales(a, kind);
      return t.map((row, i) => row.map((v, k) => ts * v + bs * n[i][k]));
    };
    for (const a of c.alpha === undefined ? c.alphaGrid : [c.alpha]) {
      const s = scoreLogits(data, mix(a), gold).score;
      path.push({ alpha: a, score: s });
      info(`hybrid: alpha ${a}: dev score ${s.toFixed(2)}`);
    }
    const best = path.reduce((x, y) => (y.score > x.score ? y : x));
    alpha = best.alpha;
    score = best.score;
    info(
      `hybrid: transformer alone ${path.find((p) => p.alpha === 0)?.score.toFixed(2) ?? '-'}, baseline alone ${baselineScore.toFixed(2)}, hybrid ${score.toFixed(2)} at alpha ${alpha} (picked on this dev set)`,
    );
  } else if (alpha === undefined) throw new UserError('hybrid: give --alpha, or dev data to pick it on');

  // The baseline joins the model: its table (scaled) and idf as parameters, its bias in the head's.
  const [ts, bs] = partScales(alpha!, kind);
  m.config.ngram = b.config.ngram;
  const B = b.config.ngram.buckets;
  const weight = m.store.declare('ngram.weight', [B, K], 'zeros');
  weight.data.set(b.weights.weight.map((v) => bs * v));
  m.store.declare('ngram.idf', [B], 'ones', true).data.set(b.weights.idf);
  const head = m.store.get('classifier.weight').data;
  for (let j = 0; j < head.length; j++) head[j] *= ts;
  const bias = m.store.get('classifier.bias').data;
  const extra = logitRows(Float64Array.from(b.weights.bias), kind)[0];
  for (let k = 0; k < bias.length; k++) bias[k] = ts * bias[k] + bs * extra[k];
  ensureDir(c.out);
  (m.config as { minnow_hybrid?: unknown }).minnow_hybrid = {
    transformer: transformerDir,
    baseline: baselineDir,
    alpha,
    dev_path: path,
    baseline_dev_score: baselineScore,
  };
  saveModel(c.out, m);
  const res: HybridResult = { alpha: alpha!, path, baselineScore, score, devExamples };
  writeFileAtomic(join(c.out, 'hybrid_results.json'), `${JSON.stringify(res, null, 2)}\n`);
  return res;
}

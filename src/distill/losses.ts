/**
 * Distillation losses (methods.md 2-4), built from graph ops so autodiff derives their gradients.
 * Teacher tensors are graph inputs (constants for the student): no gradient flows into them.
 *
 * Shapes: logits (B, C); hidden / embedding outputs flat (N, H) with N = B*T; attention scores
 * (B, A, T, T) pre-softmax with the additive mask already added (as BERT computes them).
 */
import type { Value } from '../graph/graph.js';
import { cosineSimilarity, klDivWithTemperature, mse, softmaxCrossEntropy } from '../graph/losses.js';
import * as o from '../graph/ops.js';

/**
 * Hinton et al.: alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(labels, s).
 * Regression (one output): alpha * MSE(s, t) + (1 - alpha) * MSE(s, labels) - distilling on scores.
 */
export function hintonLoss(
  student: Value,
  teacher: Value,
  labels: Value,
  temperature: number,
  alpha: number,
  regression = false,
): { loss: Value; soft: Value; hard: Value } {
  const c = (v: number) => o.scalarLike(student, v);
  const soft = regression ? mse(student, teacher) : klDivWithTemperature(student, teacher, temperature);
  const hard = regression ? mse(o.reshape(student, [-1]), labels) : softmaxCrossEntropy(student, labels);
  return { loss: o.add(o.mul(c(alpha), soft), o.mul(c(1 - alpha), hard)), soft, hard };
}

/**
 * TinyBERT prediction-layer loss: soft cross-entropy -softmax(t/T) . log_softmax(s/T), mean over rows
 * (the paper's form; no T^2 factor, as in TinyBERT's code).
 */
export function softCrossEntropy(student: Value, teacher: Value, temperature: number): Value {
  const T = o.scalarLike(student, temperature);
  const p = o.softmax(o.div(teacher, T), -1);
  const logq = o.logSoftmax(o.div(student, T), -1);
  const rows = o.neg(o.reduceSum(o.mul(p, logq), [-1]));
  return o.reduceMean(rows, [0]);
}

/** (B, T) attention mask -> (N, 1) float token mask for flat (N, H) features. */
export function tokenMask(attentionMask: Value, dtype: 'float32' | 'float64' = 'float32'): Value {
  return o.unsqueeze(o.reshape(o.cast(attentionMask, dtype), [-1]), [-1]);
}

/**
 * TinyBERT hidden-state / embedding loss: MSE(h_s W + b, h_t) over non-padding tokens. `projection` is
 * the learned (H_t, H_s) weight and (H_t) bias when widths differ (TinyBERT's fit_dense), else null.
 */
export function hiddenMse(
  student: Value,
  teacher: Value,
  mask: Value,
  projection: { W: Value; b: Value } | null,
): Value {
  const s = projection ? o.gemm(student, projection.W, projection.b, { transB: true }) : student;
  return mse(s, teacher, mask);
}

/** DistilBERT cosine loss: mean over non-padding tokens of 1 - cos(h_s, h_t). Widths must match. */
export function cosineLoss(student: Value, teacher: Value, mask: Value): Value {
  const cos = cosineSimilarity(student, teacher, -1); // (N)
  const m = o.reshape(mask, [-1]);
  const count = o.max2(o.reduceSum(m, [0]), o.scalarLike(m, 1));
  return o.div(o.reduceSum(o.mul(o.sub(o.scalarLike(cos, 1), cos), m), [0]), count);
}

/**
 * TinyBERT attention loss: MSE between pre-softmax attention scores, over positions where both the query
 * and the key are real tokens (padded rows and columns excluded, unlike the reference code, which zeroes
 * only the masked key columns and still counts them). `averageHeads` compares head-averaged scores, for
 * teachers and students with different head counts (a deviation from TinyBERT).
 */
export function attentionMse(
  student: Value,
  teacher: Value,
  attentionMask: Value,
  averageHeads: boolean,
): Value {
  const s = averageHeads ? o.reduceMean(student, [1], true) : student;
  const t = averageHeads ? o.reduceMean(teacher, [1], true) : teacher;
  const m = o.cast(attentionMask, student.dtype); // (B, T)
  const pair = o.mul(o.unsqueeze(m, [1, 3]), o.unsqueeze(m, [1, 2])); // (B, 1, T, T)
  return mse(s, t, pair);
}

/**
 * Distillation losses (docs/methods.md §2-4), built from graph ops so autodiff derives their gradients.
 * Teacher tensors are graph inputs (constants for the student): no gradient flows into them.
 *
 * Shapes: logits (B, C); hidden / embedding outputs flat (N, H) with N = B*T; attention scores
 * (B, A, T, T) pre-softmax with the additive mask already added (as BERT computes them).
 */
import { sumRows } from '../graph/grad.js';
import type { Value } from '../graph/graph.js';
import { cosineSimilarity, mse } from '../graph/losses.js';
import * as o from '../graph/ops.js';

export { hintonLoss } from '../graph/losses.js'; // fine-tuning with soft targets uses it too

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

/**
 * The teacher side of DistilBERT's L_ce over a wide tied decoder: probabilities softmax(z / T) of the
 * logits z = h W^T + b (K, V), and each row's negative entropy sum_v p log p (K), which turns the
 * student's soft cross-entropy into a KL divergence for logging. The 1/T is folded into the Gemm.
 */
export function teacherSoftTargets(
  h: Value,
  W: Value,
  b: Value,
  temperature: number,
): { probs: Value; negEntropy: Value } {
  const inv = 1 / temperature;
  const logp = o.logSoftmax(o.gemm(h, W, b, { transB: true, alpha: inv, beta: inv }), -1); // (K, V)
  const probs = o.exp(logp);
  return { probs, negEntropy: o.reduceSum(o.mul(probs, logp), [-1]) };
}

/**
 * DistilBERT's two masked-LM terms (docs/methods.md §3.2) over one wide tied decoder, sharing one logits pass:
 *   z    = h W^T + b                                    (K, V): K distillation rows, V words
 *   ce   = T^2 * mean over the K rows of KL(p_t || softmax(z / T))
 *   mlm  = mean over rows whose label is not `ignoreIndex` of -log softmax(z)[label]
 *   loss = ceWeight * ce + mlmWeight * mlm
 * `teacherProbs` (K, V) are the teacher's softmax(z_t / T) (rows summing to 1) and `teacherNegEntropy`
 * (K) their sum_v p log p (teacherSoftTargets); both are constants. KL and soft cross-entropy differ
 * by the teacher's entropy only, so the gradient is DistilBERT's (KLDivLoss 'batchmean' times T^2).
 *
 * The backward is hand-written, as in linearCrossEntropy: with q1 = softmax(z), qT = softmax(z / T),
 * rm = mlmWeight * valid / count and rc = ceWeight * T / K (times dy),
 *   D  = rm * q1 + rc * (qT - p_t)                       (K, V), the only (K, V) tensor it writes
 *   dh = D W - rm * W[label],  db = 1^T D - scatter(rm at label),  dW = D^T h - scatter(rm * h at label),
 * three products with the decoder table for both terms (separate losses would take six and a second
 * logits pass). `ce` and `mlm` are returned for logging; only `loss` carries the gradient.
 */
export function distilMlmLoss(
  h: Value,
  W: Value,
  b: Value,
  labels: Value,
  teacherProbs: Value,
  teacherNegEntropy: Value,
  opts: { temperature: number; ceWeight: number; mlmWeight: number; ignoreIndex?: number },
): { loss: Value; ce: Value; mlm: Value; logits: Value } {
  const g = h.graph;
  const T = opts.temperature;
  const c = (v: number) => o.scalarLike(h, v);
  // Bias as an extra column, as in linearCrossEntropy.
  const rowsShape = o.slice(o.shapeOf(h), [0], [1], [0]); // [K]
  const ones = o.expand(c(1), o.concat([rowsShape, o.i64(g, [1])], 0), [h.shape[0], 1]);
  const logits = o.gemm(o.concat([h, ones], 1), o.concat([W, o.unsqueeze(b, [-1])], 1), null, {
    transB: true,
  }); // (K, V)
  // Hard labels (MLM).
  const q1 = o.softmax(logits, -1);
  const ignored = o.equal(labels, g.scalar(opts.ignoreIndex ?? -100, 'int64'));
  const safeFlat = o.where(ignored, g.scalar(0, 'int64'), labels); // (K)
  const safe = o.unsqueeze(safeFlat, [-1]); // (K, 1)
  const picked = o.squeeze(o.gatherElements(q1, safe, -1), [-1]);
  const logp = o.log(o.max2(picked, c(1e-30)));
  const valid = o.cast(o.not(ignored), h.dtype);
  const count = o.max2(o.reduceSum(valid, [0]), c(1));
  const mlm = o.neg(o.div(o.reduceSum(o.mul(logp, valid), [0]), count));
  // Soft targets (KL at temperature T).
  const logqT = o.logSoftmax(T === 1 ? logits : o.mul(logits, c(1 / T)), -1);
  const cross = o.reduceSum(o.mul(teacherProbs, logqT), [-1]); // (K)
  const rows = o.max2(o.squeeze(o.cast(rowsShape, h.dtype), [0]), c(1)); // K as a scalar
  const ce = o.mul(o.div(o.reduceSum(o.sub(teacherNegEntropy, cross), [0]), rows), c(T * T));
  const loss = o.add(o.mul(ce, c(opts.ceWeight)), o.mul(mlm, c(opts.mlmWeight)));
  loss.customGrad = {
    inputs: [h, W, b],
    fn: (dy) => {
      const rm = o.mul(o.mul(o.div(valid, count), dy), c(opts.mlmWeight)); // (K)
      const rmCol = o.unsqueeze(rm, [-1]); // (K, 1)
      const rc = o.mul(o.div(c(opts.ceWeight * T), rows), dy); // scalar
      const qT = T === 1 ? q1 : o.exp(logqT);
      const D = o.add(o.mul(q1, rmCol), o.mul(o.sub(qT, teacherProbs), rc)); // (K, V)
      const dh = o.sub(o.matmul(D, W), o.mul(o.gather(W, safeFlat), rmCol)); // (K, H)
      const colSum = sumRows(D); // 1^T D: (V)
      const db = o.scatterAddRows(colSum, safeFlat, o.neg(rm));
      const rh = o.mul(h, rmCol);
      const dW = o.scatterAddRows(o.gemm(D, h, null, { transA: true }), safeFlat, o.neg(rh)); // (V, H)
      return [dh, dW, db];
    },
  };
  return { loss, ce, mlm, logits };
}

/**
 * Loss builders from primitive ops (so their gradients come from the per-op rules in grad.ts).
 * Each returns a scalar. Distillation losses build on these (src/distill/).
 */
import type { Value } from './graph.js';
import * as o from './ops.js';

/**
 * Mean softmax cross-entropy of logits (N, C) against integer labels (N); rows whose label equals
 * `ignoreIndex` are excluded from both the sum and the count (an all-ignored batch gives 0).
 *
 * Forward: p = softmax(logits) (one pass), loss = -mean log p[label] (p floored at 1e-30).
 * Backward, hand-written: (p - onehot(label)) * valid / count * dy, i.e. two passes over (N, C). The
 * generic rules (LogSoftmax, GatherElements) need about six; for the 30,522-way MLM decoder that was a
 * third of the step.
 */
export function softmaxCrossEntropy(logits: Value, labels: Value, ignoreIndex = -100): Value {
  const g = logits.graph;
  const p = o.softmax(logits, -1); // (N, C)
  const ignored = o.equal(labels, g.scalar(ignoreIndex, 'int64'));
  const safe = o.unsqueeze(o.where(ignored, g.scalar(0, 'int64'), labels), [-1]); // (N, 1)
  const picked = o.squeeze(o.gatherElements(p, safe, -1), [-1]); // (N)
  const logp = o.log(o.max2(picked, o.scalarLike(logits, 1e-30)));
  const valid = o.cast(o.not(ignored), logits.dtype);
  const count = o.max2(o.reduceSum(valid, [0]), o.scalarLike(logits, 1));
  const loss = o.neg(o.div(o.reduceSum(o.mul(logp, valid), [0]), count));
  loss.customGrad = {
    inputs: [logits],
    fn: (dy) => {
      const rowScale = o.unsqueeze(o.mul(o.div(valid, count), dy), [-1]); // (N, 1)
      const scaled = o.mul(p, rowScale);
      const minus = o.expand(o.neg(rowScale), o.shapeOf(safe), safe.shape);
      return [o.scatterElements(scaled, safe, minus, 1, 'add')];
    },
  };
  return loss;
}

/**
 * Softmax cross-entropy of a linear layer's output, for very wide outputs (the 30,522-way MLM decoder):
 * logits = h W^T + b with h (M, H), W (V, H), b (V), labels (M) (`ignoreIndex` rows excluded).
 *
 * The hand-written backward never writes an (M, V) tensor: with p = softmax(logits), r = valid / count,
 *   dh = r * (p W - W[label]),  db = r^T p - scatter(r at label),  dW = p^T (r * h) - scatter(r * h at label)
 * (the scatters are race-free sums, ops.scatterAddRows),
 * so the only (M, V) work after the forward softmax is reading p inside three products.
 * Returns the loss and the logits (for accuracy).
 */
export function linearCrossEntropy(
  h: Value,
  W: Value,
  b: Value,
  labels: Value,
  ignoreIndex = -100,
): { loss: Value; logits: Value } {
  const g = h.graph;
  // The bias rides along as an extra column ([h, 1] [W, b]^T): a Gemm with a C input first broadcasts
  // C into the (M, V) output and reads it back, which measured slower than copying the table once.
  const ones = o.expand(
    o.scalarLike(h, 1),
    o.concat([o.slice(o.shapeOf(h), [0], [1], [0]), o.i64(g, [1])], 0),
    [h.shape[0], 1],
  );
  const logits = o.gemm(o.concat([h, ones], 1), o.concat([W, o.unsqueeze(b, [-1])], 1), null, {
    transB: true,
  }); // (M, V)
  const p = o.softmax(logits, -1);
  const ignored = o.equal(labels, g.scalar(ignoreIndex, 'int64'));
  const safeFlat = o.where(ignored, g.scalar(0, 'int64'), labels); // (M)
  const safe = o.unsqueeze(safeFlat, [-1]); // (M, 1)
  const picked = o.squeeze(o.gatherElements(p, safe, -1), [-1]);
  const logp = o.log(o.max2(picked, o.scalarLike(h, 1e-30)));
  const valid = o.cast(o.not(ignored), h.dtype);
  const count = o.max2(o.reduceSum(valid, [0]), o.scalarLike(h, 1));
  const loss = o.neg(o.div(o.reduceSum(o.mul(logp, valid), [0]), count));
  loss.customGrad = {
    inputs: [h, W, b],
    fn: (dy) => {
      const r = o.mul(o.div(valid, count), dy); // (M)
      const rCol = o.unsqueeze(r, [-1]); // (M, 1)
      const dh = o.mul(o.sub(o.matmul(p, W), o.gather(W, safeFlat)), rCol); // (M, H)
      const pSum = o.reshape(o.matmul(o.unsqueeze(r, [0]), p), [b.shape[0]]); // r^T p: (V)
      const db = o.scatterAddRows(pSum, safeFlat, o.neg(r));
      const rh = o.mul(h, rCol); // (M, H)
      const dW = o.scatterAddRows(o.gemm(p, rh, null, { transA: true }), safeFlat, o.neg(rh)); // (V, H)
      return [dh, dW, db];
    },
  };
  return { loss, logits };
}

/**
 * Binary cross-entropy on logits (ELECTRA's replaced-token detection): mean over the mask (or all elements) of
 * softplus(x) - x t, with softplus(x) = max(x, 0) + log(1 + exp(-|x|)) so that large |x| cannot overflow.
 * `targets` in [0, 1] (float), `mask` broadcastable to the logits (1 = counted).
 */
export function binaryCrossEntropyWithLogits(logits: Value, targets: Value, mask?: Value): Value {
  const x = logits;
  const softplus = o.add(o.relu(x), o.log(o.add(o.scalarLike(x, 1), o.exp(o.neg(o.abs(x))))));
  const per = o.sub(softplus, o.mul(x, o.cast(targets, x.dtype)));
  const all = [...Array(per.rank).keys()];
  if (!mask) return o.reduceMean(per, all);
  const m = o.cast(mask, x.dtype);
  const num = o.reduceSum(o.mul(per, m), all);
  const den = o.reduceSum(o.expand(m, o.shapeOf(per), per.shape), all);
  return o.div(num, o.max2(den, o.scalarLike(x, 1)));
}

/** Mean squared error over all elements (optionally weighted by a broadcastable mask, mean over the mask). */
export function mse(a: Value, b: Value, mask?: Value): Value {
  const d = o.sub(a, b);
  const sq = o.mul(d, d);
  const all = [...Array(sq.rank).keys()];
  if (!mask) return o.reduceMean(sq, all);
  const m = o.mul(o.cast(mask, a.dtype), o.scalarLike(a, 1));
  const num = o.reduceSum(o.mul(sq, m), all);
  const den = o.reduceSum(o.expand(m, o.shapeOf(sq), sq.shape), all);
  return o.div(num, o.max2(den, o.scalarLike(a, 1)));
}

/**
 * Cosine similarity along `axis`: <a, b> / sqrt((|a|^2 + eps)(|b|^2 + eps)). The eps inside the
 * square roots keeps the gradient finite at zero vectors (torch clamps the norms instead).
 */
export function cosineSimilarity(a: Value, b: Value, axis = -1, eps = 1e-8): Value {
  const dot = o.reduceSum(o.mul(a, b), [axis]);
  const na = o.add(o.reduceSum(o.mul(a, a), [axis]), o.scalarLike(a, eps));
  const nb = o.add(o.reduceSum(o.mul(b, b), [axis]), o.scalarLike(b, eps));
  return o.div(dot, o.sqrt(o.mul(na, nb)));
}

/**
 * Hinton's distillation loss: T^2 * KL(softmax(teacher/T) || softmax(student/T)), summed over the
 * classes and averaged over the rows (PyTorch KLDivLoss 'batchmean'). Teacher logits are constants.
 */
export function klDivWithTemperature(student: Value, teacher: Value, temperature: number): Value {
  const t = o.scalarLike(student, temperature);
  const logq = o.logSoftmax(o.div(student, t), -1);
  const logp = o.logSoftmax(o.div(teacher, t), -1);
  const p = o.exp(logp);
  const kl = o.reduceSum(o.mul(p, o.sub(logp, logq)), [-1]); // per row
  return o.mul(
    o.reduceMean(kl, [...Array(kl.rank).keys()]),
    o.scalarLike(student, temperature * temperature),
  );
}

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

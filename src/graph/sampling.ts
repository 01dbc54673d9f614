/**
 * Sampling inside a graph from uniforms fed in (seeded outside the graph, so a resumed run replays every
 * draw bit-exactly): the generator's replacements in ELECTRA-style pre-training. No gradient flows through
 * a sample.
 */
import type { Value } from './graph.js';
import * as o from './ops.js';

/**
 * One category per row of `logits` (M, V) by inverse CDF: with u (M) uniform in [0, 1), the first k whose
 * cumulative probability of softmax(logits / temperature) reaches u. Returns int64 (M). The (M, V)
 * cumulative sum lives only inside the run; nothing of size M x V is fed in or fetched.
 */
export function sampleCategorical(logits: Value, uniforms: Value, temperature = 1): Value {
  const scaled = temperature === 1 ? logits : o.mul(logits, o.scalarLike(logits, 1 / temperature));
  const cdf = o.cumsum(o.softmax(scaled, -1), 1); // (M, V)
  const below = o.cast(o.less(cdf, o.unsqueeze(o.cast(uniforms, logits.dtype), [1])), 'int64');
  const k = o.reduceSum(below, [1]); // categories whose cumulative probability is still below u
  const last = o.sub(o.reshape(o.slice(o.shapeOf(logits), [1], [2], [0]), []), o.i64(logits.graph, [1]));
  return o.min2(k, last); // u beyond the float sum of the probabilities: the last category
}

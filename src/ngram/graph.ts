/**
 * The bag-of-n-grams model as an ONNX graph: the same arithmetic as linear.ts, for onnxruntime in Node and
 * the browser.
 *
 *   inputs   ngram_ids int64 (B, N)    bucket ids of each row's features, padded with 0
 *            ngram_tf  float32 (B, N)  1 + ln(count), 0 on padding
 *   output   logits float32 (B, num_labels)
 *
 *   v = tf * idf[ids];  x = v / |v|;  z = sum_n x_n W[ids_n] + b      (B, K)
 *   two classes: logits = [-z/2, z/2]; otherwise logits = z
 *
 * int8: W is stored as int8 with one float32 scale per column and gathered as int8 (the rows a batch
 * uses are dequantised, not the table); idf as uint8 with one scale (its values lie in [1, 1 + ln n]).
 */
import { Graph, type Value } from '../graph/graph.js';
import { toOnnx } from '../graph/onnx.js';
import * as o from '../graph/ops.js';
import { NGRAM_IDS, NGRAM_TF, type NgramBlocks, ngramBlocks, type NgramConfig } from './features.js';
import type { LinearWeights } from './linear.js';

export interface NgramInputs {
  ids: Value; // int64 (B, N)
  tf: Value; // float32 (B, N)
}

/** The graph's inputs, declared on `g`. */
export function ngramInputs(g: Graph): NgramInputs {
  return { ids: g.input(NGRAM_IDS, 'int64', ['B', 'N']), tf: g.input(NGRAM_TF, 'float32', ['B', 'N']) };
}

/** Weights as graph constants: float32, or int8 W and uint8 idf read through DequantizeLinear. */
function constants(g: Graph, w: LinearWeights, K: number, int8: boolean) {
  const buckets = w.idf.length;
  const bias = g.constant(w.bias, 'float32', [K], 'ngram_bias');
  if (!int8)
    return {
      table: (ids: Value) => o.gather(g.constant(w.weight, 'float32', [buckets, K], 'ngram_weight'), ids),
      idf: (ids: Value) => o.gather(g.constant(w.idf, 'float32', [buckets], 'ngram_idf'), ids),
      bias,
    };
  const q = quantizeWeight(w.weight, K);
  const qw = g.constant(q.q, 'int8', [buckets, K], 'ngram_weight_int8');
  const sw = g.constant(q.scale, 'float32', [K], 'ngram_weight_scale');
  const qi = quantizeIdf(w.idf);
  const qidf = g.constant(qi.q, 'uint8', [buckets], 'ngram_idf_uint8');
  const sidf = g.scalar(qi.scale);
  return {
    table: (ids: Value) => o.dequantizeLinear(o.gather(qw, ids), sw, null, 2),
    idf: (ids: Value) => o.dequantizeLinear(o.gather(qidf, ids), sidf, null, 0),
    bias,
  };
}

/** W as int8 with one scale per column (float32, the value the graph stores). */
export function quantizeWeight(w: Float32Array, K: number): { q: Int8Array; scale: Float32Array } {
  const m = new Float32Array(K);
  for (let i = 0; i < w.length; i++) m[i % K] = Math.max(m[i % K], Math.abs(w[i]));
  const scale = Float32Array.from(m, (x) => Math.fround(x > 0 ? x / 127 : 1));
  const q = Int8Array.from(w, (x, i) => Math.max(-127, Math.min(127, Math.round(x / scale[i % K]))));
  return { q, scale };
}

/** idf as uint8 with one scale (float32, the value the graph stores). */
export function quantizeIdf(idf: Float32Array): { q: Uint8Array; scale: number } {
  let m = 0;
  for (const v of idf) m = Math.max(m, v);
  const scale = Math.fround(m > 0 ? m / 255 : 1);
  return { q: Uint8Array.from(idf, (v) => Math.min(255, Math.round(v / scale))), scale };
}

/**
 * v (B, N) L2-normalised along N, per block (features.ts ngramBlocks): ids below charStart and ids from it
 * on apart; ids from denseStart on (pair features) as they are.
 */
function normalised(v: Value, ids: Value, blocks: NgramBlocks): Value {
  const g = v.graph;
  const unit = (u: Value) => o.div(u, o.sqrt(o.max2(o.reduceSum(o.mul(u, u), [1], true), g.scalar(1e-30))));
  const from = (start: number, name: string) =>
    o.cast(o.less(g.constant([start - 1], 'int64', [], name), ids), 'float32');
  let dense: Value | undefined;
  if (blocks.denseStart !== null) {
    dense = o.mul(v, from(blocks.denseStart, 'ngram_dense_start'));
    v = o.sub(v, dense);
  }
  let x: Value;
  if (blocks.charStart === null) x = unit(v);
  else {
    const chars = o.mul(v, from(blocks.charStart, 'ngram_split'));
    x = o.add(unit(o.sub(v, chars)), unit(chars));
  }
  return dense ? o.add(x, dense) : x;
}

/** z (B, K) of the inputs: the linear part, before the two-class logits. */
export function ngramScores(
  g: Graph,
  x: NgramInputs,
  w: LinearWeights,
  K: number,
  int8: boolean,
  blocks: NgramBlocks,
): Value {
  const c = constants(g, w, K, int8);
  const xs = normalised(o.mul(x.tf, c.idf(x.ids)), x.ids, blocks); // (B, N)
  const rows = c.table(x.ids); // (B, N, K)
  return o.add(o.reduceSum(o.mul(o.unsqueeze(xs, [2]), rows), [1]), c.bias);
}

/** Logits from z: [-z/2, z/2] for two classes, z itself otherwise. */
export function classLogits(z: Value, numLabels: number, K: number): Value {
  if (numLabels === 2 && K === 1)
    return o.concat([o.mul(z, z.graph.scalar(-0.5)), o.mul(z, z.graph.scalar(0.5))], 1);
  return z;
}

/** Columns of a hybrid's n-gram table: one for two classes and for regression, one per class otherwise. */
export function hybridColumns(numLabels: number): number {
  return numLabels === 2 ? 1 : numLabels;
}

/**
 * A hybrid classifier's n-gram logits (B, numLabels), from its parameters as graph values (training: the
 * trainable table and the frozen idf; export: ngramConstant). No bias: the [CLS] head has one.
 */
export function hybridLogits(
  x: NgramInputs,
  p: { weight: Value; idf: Value },
  numLabels: number,
  ngram: NgramConfig,
): Value {
  const xs = normalised(o.mul(x.tf, o.gather(p.idf, x.ids)), x.ids, ngramBlocks(ngram));
  const rows = o.gather(p.weight, x.ids); // (B, N, K)
  const z = o.reduceSum(o.mul(o.unsqueeze(xs, [2]), rows), [1]);
  return classLogits(z, numLabels, hybridColumns(numLabels));
}

/** Whether a parameter belongs to the n-gram path (its export is ngramConstant's, not a dense layer's). */
export const isNgramParam = (name: string) => name.startsWith('ngram.');

/**
 * A hybrid's n-gram parameter as an export constant: ngram.weight as int8 with one scale per column,
 * ngram.idf as uint8 with one scale (both read through DequantizeLinear, which onnxruntime folds once at
 * load), or float32 without int8.
 */
export function ngramConstant(
  g: Graph,
  name: string,
  data: Float32Array,
  shape: number[],
  int8: boolean,
): Value {
  if (!int8) return g.constant(data, 'float32', shape, name);
  if (shape.length === 2) {
    const q = quantizeWeight(data, shape[1]);
    const qv = g.constant(q.q, 'int8', shape, `${name}_int8`);
    return o.dequantizeLinear(qv, g.constant(q.scale, 'float32', [shape[1]], `${name}_scale`), null, 1);
  }
  const q = quantizeIdf(data);
  return o.dequantizeLinear(g.constant(q.q, 'uint8', shape, `${name}_uint8`), g.scalar(q.scale), null, 0);
}

/** The whole model as ONNX bytes. */
export function ngramOnnx(
  w: LinearWeights,
  ngram: NgramConfig,
  numLabels: number,
  K: number,
  int8: boolean,
): Uint8Array {
  const g = new Graph('minnow-ngram');
  const z = ngramScores(g, ngramInputs(g), w, K, int8, ngramBlocks(ngram));
  g.output(classLogits(z, numLabels, K), 'logits');
  return toOnnx(g, { metadata: { producer: 'minnow', model: 'ngram' } });
}

/**
 * The deployable ONNX graph of a classifier, built by the same model file as training (bert.ts) in
 * inference mode (no dropout), with the weights baked in as initializers:
 *
 *   inputs   input_ids, attention_mask, token_type_ids   int64 (B, T)
 *            word_embeddings (V, H) float32         (compact: an embedding computed at load, hash models)
 *   output   logits (B, num_labels) float32
 *
 * Position ids are computed inside the graph (0..T-1 per row), so the inputs are exactly what
 * transformers.js and onnxruntime users feed a BERT classifier. A K-BERT model (config.knowledge) takes
 * its sentence trees instead: attention_mask is the (B, T, T) visible matrix and position_ids (B, T) the
 * soft positions, built by minnow's runtime. *Portable* bakes a hash model's V x H table
 * into the file like any embedding table; *compact* stores no table at all: the graph declares it as an
 * input, and minnow's runtime computes the EELBERT vectors from the vocabulary, as training does, and adds
 * them to the graph as a constant at load (onnx-initializer.ts): the same graph as portable, run.
 *
 * int8: every 2-D weight is stored as int8 with one scale per row (quantize.ts; tables' scales in float16),
 * except tables of at most SMALL_TABLE rows (token types), kept float32: a few hundred bytes, six fewer
 * nodes per run; and tables of at most NARROW_TABLE columns (a low-rank model's V x k codes), which take one
 * float32 scale per column: a float16 scale per row would add 2 bytes to every k bytes of codes (61 kB).
 * Which weights are tables is the model's word, by use: bert.ts and the embedding kinds declare lookup
 * tables with Weights.table and dense weights with Weights.get (a low-rank model's (V, k) codes are a table
 * under BERT's word-table name; its projection is dense).
 * Tables are gathered as int8 and scaled after the gather; dense weights run static (activations quantised
 * with fixed calibrated scales -> onnxruntime's MatMulIntegerToFloat, the bias its input; calibrate.ts),
 * weight-only (DequantizeLinear -> Gemm) or dynamic (activations quantised per row at run time ->
 * MatMulInteger). onnxruntime's quantize_dynamic quantises per tensor, which makes a text's scores depend
 * on its batch; none of these do.
 */
import { Graph, type Node, type Value } from '../graph/graph.js';
import { toOnnx } from '../graph/onnx.js';
import * as o from '../graph/ops.js';
import { type BertInputs, classifier, encoderCls } from '../model/bert.js';
import { hasDerivedWeight } from '../model/embeddings/registry.js';
import type { Model } from '../model/io.js';
import { Dropout } from '../runtime/dropout.js';
import type { Init, ParamStore } from '../runtime/params.js';
import { type TableOptions, Weights } from '../runtime/weights.js';
import { isNgramParam, ngramConstant, ngramInputs } from '../ngram/graph.js';
import { COMPACT_TABLE } from './runtime.js';
import { float16Bits, quantizeColumns, quantizeRows, rangeCodes, transposeInt8 } from './quantize.js';

export type Quantize = 'none' | 'int8';
/** How int8 dense weights run: dequantised to float32 in the graph, or integer products. */
export type Int8Scheme = 'weight-only' | 'dynamic' | 'static';

export interface ExportGraphOptions {
  compact: boolean;
  quantize: Quantize;
  scheme: Int8Scheme;
  /**
   * Static int8: the calibrated range [lo, hi] of each activation that meets int8 weights, in the order of
   * staticPoints (calibrate.ts); 'sizes': placeholders, for a file built only to count its bytes.
   */
  ranges?: readonly (readonly [number, number])[] | 'sizes';
}

/** A dense weight or embedding table stored as int8: the int8 constant and its scales (per row, or per column). */
interface Int8Weight {
  q: Value; // int8 (rows, cols)
  scale: Value; // float32 (rows), or (cols) when perColumn
  /** The same scales as float16, shaped (rows, 1) (embedding tables: half the bytes of a 30,522-row
   * table's scales; a gather gives the (N, 1) column that scales the gathered rows). */
  scale16?: Value;
  rows: number;
  cols: number;
  /** One scale per column (narrow tables): only a gather reads it (never a Gemm's integer path). */
  perColumn?: boolean;
}

/** Tables with at most this many columns (low-rank codes) are quantised per column. */
const NARROW_TABLE = 16;

/** Tables with at most this many rows stay float32 in int8 exports (token types: 2 rows). */
const SMALL_TABLE = 16;

/**
 * Parameters as graph constants; with int8, 2-D ones are stored quantised and read via DequantizeLinear.
 * The model says which weights are lookup tables (Weights.table) and which are dense (Weights.get).
 */
class BakedWeights extends Weights {
  readonly int8 = new Map<Value, Int8Weight>(); // the DequantizeLinear output -> its int8 parts
  private readonly baked = new Map<string, Value>();

  constructor(
    g: Graph,
    store: ParamStore,
    private readonly quantize: boolean,
    /** Dense weights that will meet uint8 activations (dynamic scheme) keep to 7 bits: see quantizeRows. */
    private readonly denseQmax = 127,
    /** Compact: the weight computed at load (derived: the hash table) is a graph input, not stored. */
    private readonly compact = false,
  ) {
    super(g, store);
  }

  override get(name: string, shape: number[], _init: Init): Value {
    return this.bake(name, shape, false);
  }

  override table(name: string, shape: number[], _init: Init, _o?: TableOptions): Value {
    return this.bake(name, shape, true);
  }

  /** A dense weight, or an embedding table (gathered, scaled after the gather). */
  private bake(name: string, shape: number[], table: boolean): Value {
    const hit = this.baked.get(name);
    if (hit) return hit;
    const p = this.store.get(name); // a name the model does not have is an error here
    let v: Value;
    if (this.compact && p.derived) v = this.g.input(COMPACT_TABLE, 'float32', shape);
    else if (isNgramParam(name)) v = ngramConstant(this.g, name, p.data, shape, this.quantize);
    else if (this.quantize && shape.length === 2 && !(table && shape[0] <= SMALL_TABLE)) {
      const [rows, cols] = shape;
      const perColumn = table && cols <= NARROW_TABLE;
      const { q, scale } = perColumn
        ? quantizeColumns(p.data, rows, cols)
        : quantizeRows(p.data, rows, cols, table ? 127 : this.denseQmax, table);
      const qv = this.g.constant(q, 'int8', shape, `${name}_int8`);
      const sv = this.g.constant(scale, 'float32', [scale.length], `${name}_scale`);
      const scale16 =
        table && !perColumn
          ? this.g.constant(Uint16Array.from(scale, float16Bits), 'float16', [rows, 1], `${name}_scale16`)
          : undefined;
      v = o.dequantizeLinear(qv, sv, null, perColumn ? 1 : 0);
      this.int8.set(v, { q: qv, scale: sv, scale16, rows, cols, perColumn });
    } else v = this.g.constant(p.data, 'float32', shape, name);
    this.baked.set(name, v);
    return v;
  }
}

/**
 * Replace `node` (one output) by the nodes `build` appends, keeping its output value and the topological
 * order; with `absorbed`, a node that alone read `node`'s output is removed too and the built nodes give
 * its output instead.
 */
function replaceNode(g: Graph, node: Node, build: () => Value, absorbed?: Node): void {
  const start = g.nodes.length;
  const last = build();
  const added = g.nodes.splice(start);
  const out = (absorbed ?? node).outputs[0];
  const final = last.node!;
  final.outputs[final.outputs.indexOf(last)] = out;
  out.node = final;
  if (absorbed) g.nodes.splice(g.nodes.indexOf(absorbed), 1);
  g.nodes.splice(g.nodes.indexOf(node), 1, ...added);
}

/** An int8 weight (out, in) transposed as MatMulInteger and MatMulIntegerToFloat take it: (in, out). */
function transposedInt8(g: Graph, weight: Int8Weight): Value {
  const q = g.constants.get(weight.q)!.data as Int8Array;
  return g.constant(
    transposeInt8(q, weight.rows, weight.cols),
    'int8',
    [weight.cols, weight.rows],
    `${weight.q.name}_t`,
  );
}

/** The Add of a constant (N) bias that is the only reader of `node`'s output (not a graph output), if any. */
function biasAddOf(g: Graph, node: Node): { node: Node; bias: Value } | undefined {
  const out = node.outputs[0];
  if (g.outputs.includes(out)) return undefined;
  const readers = g.nodes.filter((n) => n.inputs.includes(out));
  const add = readers[0];
  if (readers.length !== 1 || add.op !== 'Add' || add.inputs.length !== 2) return undefined;
  const other = add.inputs[0] === out ? add.inputs[1] : add.inputs[0];
  const bias = other ? constantOf(g, other) : undefined;
  if (!bias || bias.shape.length !== 1 || bias.shape[0] !== out.shape[1]) return undefined;
  return { node: add, bias };
}

/** `v` as one constant: itself, or the Concat of constants (key and value's stacked biases) joined once. */
function constantOf(g: Graph, v: Value): Value | undefined {
  if (g.constants.has(v)) return v;
  const n = v.node;
  if (!n || n.op !== 'Concat' || v.shape.length !== 1 || n.inputs.some((x) => !x || !g.constants.has(x)))
    return undefined;
  const parts = n.inputs.map((x) => g.constants.get(x!)!);
  if (parts.some((p) => !(p.data instanceof Float32Array))) return undefined;
  const joined = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p.data as Float32Array, at);
    at += p.data.length;
  }
  return g.constant(joined, 'float32', [joined.length], `${v.name}_joined`);
}

/**
 * The int8 parts behind a weight value: a quantised weight itself, or the row-wise Concat of quantised
 * weights (attention's stacked query/key/value), whose int8 rows and scales are concatenated once here.
 */
function int8Of(g: Graph, w: BakedWeights, v: Value): Int8Weight | undefined {
  const direct = w.int8.get(v);
  if (direct) return direct.perColumn ? undefined : direct;
  const n = v.node;
  if (!n || n.op !== 'Concat' || n.attrs.axis?.value !== 0) return undefined;
  const parts = n.inputs.map((x) => (x ? w.int8.get(x) : undefined));
  if (parts.some((p) => !p || p.perColumn)) return undefined;
  const ps = parts as Int8Weight[];
  const cols = ps[0].cols;
  if (ps.some((p) => p.cols !== cols)) return undefined;
  const rows = ps.reduce((a, p) => a + p.rows, 0);
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(rows);
  let r = 0;
  for (const p of ps) {
    q.set(g.constants.get(p.q)!.data as Int8Array, r * cols);
    scale.set(g.constants.get(p.scale)!.data as Float32Array, r);
    r += p.rows;
  }
  const joined: Int8Weight = {
    q: g.constant(q, 'int8', [rows, cols], `${v.name}_int8`),
    scale: g.constant(scale, 'float32', [rows], `${v.name}_scale`),
    rows,
    cols,
  };
  w.int8.set(v, joined);
  return joined;
}

/**
 * Gathers from an int8 table read the int8 rows and their scales and multiply after the gather, instead
 * of dequantising the whole table on every run; with `dynamic`, Gemms on int8 weights become
 * per-row quantisation -> MatMulInteger -> scale.
 */
function lowerInt8(
  g: Graph,
  w: BakedWeights,
  scheme: Int8Scheme,
  compact: boolean,
  given?: readonly (readonly [number, number])[] | 'sizes',
): void {
  // Static: each activation that meets int8 weights is quantised with the scale and zero point of its
  // calibrated range (per tensor, fixed), so a row's codes do not depend on the other rows either.
  const points = scheme === 'static' ? staticPoints(g, w) : [];
  const ranges = given === 'sizes' ? points.map((): [number, number] => [0, 1]) : given;
  if (scheme === 'static' && ranges?.length !== points.length)
    throw new Error(`static int8: ${ranges?.length ?? 0} calibrated ranges for ${points.length} activations`);
  const fixed = new Map<Value, { q: Value; s: Value; zp: Value }>();
  const fixedQuantized = (x: Value) => {
    let r = fixed.get(x);
    if (!r) {
      const { scale, zeroPoint } = rangeCodes(ranges![points.indexOf(x)]);
      const s = g.constant(new Float32Array([scale]), 'float32', [], `${x.name}_qscale`);
      const z = g.constant(new Uint8Array([zeroPoint]), 'uint8', [], `${x.name}_qzero`);
      r = { q: o.quantizeLinear(x, s, z), s, zp: z };
      fixed.set(x, r);
    }
    return r;
  };
  // Activations are quantised once per value, with one scale and offset per row (per token), not
  // onnxruntime's one per tensor: a row's codes, and so a text's scores, do not depend on the other texts
  // in its batch. Row x in [lo, hi] becomes q = round((x - lo) / s) in [0, 255], s = (hi - lo) / 255.
  const quantized = new Map<Value, { q: Value; s: Value; lo: Value }>();
  const eps = g.scalar(1e-30);
  const levels = g.scalar(255);
  const rowQuantized = (x: Value) => {
    let r = quantized.get(x);
    if (!r) {
      const lo = o.reduceMin(x, [1], true); // (N, 1)
      const s = o.div(o.max2(o.sub(o.reduceMax(x, [1], true), lo), eps), levels);
      r = { q: o.cast(o.round(o.div(o.sub(x, lo), s)), 'uint8'), s, lo };
      quantized.set(x, r);
    }
    return r;
  };
  for (const node of [...g.nodes]) {
    const src = node.inputs[0];
    // Compact files run only in minnow's runtime, whose onnxruntime session folds DequantizeLinear of a
    // constant into float32 at load (disable_quant_qdq): the position table's first T rows are then one
    // Slice of a float table. Other runtimes would dequantise the whole table on every run: portable
    // files slice the int8 rows and scale them.
    const folded = compact && node.op === 'Slice';
    const table =
      (node.op === 'Gather' || node.op === 'Slice') && src && !folded ? w.int8.get(src) : undefined;
    if (table) {
      // The same rows of the int8 table and of its scales: a gather by ids, or the first T rows.
      const pick = (from: Value): Value =>
        node.op === 'Gather'
          ? o.gather(from, node.inputs[1]!)
          : g.node(
              'Slice',
              [from, ...(node.inputs.slice(1) as Value[])],
              [{ dtype: from.dtype, shape: [node.outputs[0].shape[0], ...from.shape.slice(1)] }],
            )[0];
      replaceNode(g, node, () => {
        const rows = o.cast(pick(table.q), 'float32'); // (..., H)
        if (table.perColumn) return o.mul(rows, table.scale); // (..., k) x (k)
        const scales = table.scale16
          ? o.cast(pick(table.scale16), 'float32')
          : o.unsqueeze(pick(table.scale), [-1]);
        return o.mul(rows, scales);
      });
      continue;
    }
    const weight = node.op === 'Gemm' && node.inputs[1] ? int8Of(g, w, node.inputs[1]) : undefined;
    const plain =
      node.attrs.transB?.value === 1 && node.attrs.transA?.value === 0 && node.inputs.length === 2;
    if (weight && scheme === 'static' && plain) {
      const x = node.inputs[0]!;
      const qT = transposedInt8(g, weight);
      // A bias Add that alone reads the product joins the op (its bias input): one node fewer per run.
      const add = biasAddOf(g, node);
      replaceNode(
        g,
        node,
        () => {
          const { q, s, zp } = fixedQuantized(x);
          return o.matMulIntegerToFloat(q, qT, s, weight.scale, zp, add?.bias);
        },
        add?.node,
      );
      continue;
    }
    if (weight && scheme === 'dynamic' && plain) {
      const x = node.inputs[0]!;
      const qT = transposedInt8(g, weight);
      replaceNode(g, node, () => {
        const { q, s, lo } = rowQuantized(x);
        // x ~ s q + lo, so x . w = s (q . w) + lo sum_k w_k: one integer product and the weights' column
        // sums, a product of constants that onnxruntime folds at load (a ReduceSum over Cast it does not).
        const ones = g.constant(
          new Uint8Array(weight.cols).fill(1),
          'uint8',
          [1, weight.cols],
          `${weight.q.name}_ones`,
        );
        const sums = o.cast(o.matMulInteger(ones, qT, null, null), 'float32'); // (1, out)
        const acc = o.cast(o.matMulInteger(q, qT, null, null), 'float32'); // (N, out)
        return o.mul(o.add(o.mul(acc, s), o.mul(lo, sums)), weight.scale);
      });
    }
  }
}

/**
 * The activations static int8 quantises with calibrated ranges: the inputs of Gemms on int8 weights, each
 * once, in graph order (a weight-only graph and its static twin list the same ones).
 */
function staticPoints(g: Graph, w: BakedWeights): Value[] {
  const seen = new Set<Value>();
  for (const node of g.nodes) {
    if (node.op !== 'Gemm' || !node.inputs[1] || !node.inputs[0]) continue;
    const plain =
      node.attrs.transB?.value === 1 && node.attrs.transA?.value === 0 && node.inputs.length === 2;
    if (plain && int8Of(g, w, node.inputs[1])) seen.add(node.inputs[0]);
  }
  return [...seen];
}

/** The classifier's inference graph with every parameter baked in (see the file comment). */
export function classifierGraph(m: Model, numLabels: number, opts: ExportGraphOptions): Graph {
  const { g, w } = bakedGraph(m, numLabels, opts);
  if (opts.quantize === 'int8') lowerInt8(g, w, opts.scheme, opts.compact, opts.ranges);
  return g;
}

/** Graph outputs of the calibration graph: CALIBRATION_OUTPUT + k is static point k. */
export const CALIBRATION_OUTPUT = 'minnow_calibration_';

/**
 * The graph static int8 is calibrated on: the weight-only int8 graph with the static file's weights
 * (7-bit), whose activations that meet int8 weights (staticPoints) are also outputs, in order.
 */
export function calibrationOnnx(m: Model, numLabels: number): Uint8Array {
  const { g, w } = bakedGraph(m, numLabels, { compact: false, quantize: 'int8', scheme: 'static' });
  const points = staticPoints(g, w);
  lowerInt8(g, w, 'weight-only', false);
  points.forEach((v, k) => g.output(v, `${CALIBRATION_OUTPUT}${k}`));
  return toOnnx(g);
}

/** The graph with its weights baked in, before int8 lowering. */
function bakedGraph(m: Model, numLabels: number, opts: ExportGraphOptions): { g: Graph; w: BakedWeights } {
  const c = m.config;
  if (opts.compact && !hasDerivedWeight(c))
    throw new Error(
      'export: compact needs an embedding computed at load (a hash model; others store theirs)',
    );
  const g = new Graph('minnow_classifier');
  const w = new BakedWeights(
    g,
    m.store,
    opts.quantize === 'int8',
    opts.scheme === 'weight-only' ? 127 : 63,
    opts.compact,
  );
  const tree = !!c.knowledge; // K-BERT: a visible matrix and soft positions come in with the tokens
  const inputIds = g.input('input_ids', 'int64', ['B', 'T']);
  const attentionMask = g.input('attention_mask', 'int64', tree ? ['B', 'T', 'T'] : ['B', 'T']);
  const tokenTypeIds = g.input('token_type_ids', 'int64', ['B', 'T']);
  // Without a tree every row's positions are 0..T-1: the graph takes the table's first T rows.
  const positionIds = tree ? g.input('position_ids', 'int64', ['B', 'T']) : undefined;
  const x: BertInputs = { inputIds, tokenTypeIds, positionIds, attentionMask };
  const off = new Dropout(false);
  const ngram = c.ngram ? ngramInputs(g) : undefined; // a hybrid's bag-of-n-grams path
  g.output(classifier(w, c, encoderCls(w, c, x, off), numLabels, off, ngram), 'logits');
  return { g, w };
}

/** ONNX bytes of the classifier graph, with what minnow needs to run it recorded as metadata. */
export function classifierOnnx(m: Model, numLabels: number, opts: ExportGraphOptions): Uint8Array {
  const g = classifierGraph(m, numLabels, opts);
  return toOnnx(g, {
    docString: `minnow ${opts.compact ? 'compact' : 'portable'} classifier, ${opts.quantize === 'int8' ? `int8 (${opts.scheme})` : 'fp32'}`,
    metadata: {
      minnow_variant: opts.compact ? 'compact' : 'portable',
      minnow_quantize: opts.quantize === 'int8' ? `int8-${opts.scheme}` : 'none',
    },
  });
}

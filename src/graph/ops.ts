/**
 * Op builders with shape inference. Each builder appends one ONNX node (opset 18) and returns its
 * output values with dtype and (possibly symbolic) shape. Backward rules live in grad.ts, one per op.
 */
import {
  broadcastShapes,
  type Dim,
  type DType,
  dimEq,
  divDims,
  type Graph,
  isFloat,
  mulDims,
  numel,
  type Shape,
  type Value,
} from './graph.js';

const int = (value: number) => ({ kind: 'int' as const, value });
const flt = (value: number) => ({ kind: 'float' as const, value });
const str = (value: string) => ({ kind: 'string' as const, value });

export const ONNX_DTYPE_CODE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  uint16: 4,
  int8: 3,
  float16: 10,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};

function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

function sameDtype(op: string, ...xs: Value[]): DType {
  const d = xs[0].dtype;
  for (const x of xs) {
    if (x.dtype !== d) throw new Error(`${op}: dtype mismatch ${xs.map((v) => v.toString()).join(' vs ')}`);
  }
  return d;
}

export function i64(g: Graph, xs: number[]): Value {
  return g.constant(xs, 'int64', [xs.length], 'ints');
}

/** A scalar constant with x's dtype. */
export function scalarLike(x: Value, v: number): Value {
  return x.graph.scalar(v, x.dtype);
}

// ---------------------------------------------------------------- elementwise

function binary(op: string, a: Value, b: Value, outDtype?: DType): Value {
  const dtype = sameDtype(op, a, b);
  const shape = broadcastShapes(a.shape, b.shape, op);
  return a.graph.node(op, [a, b], [{ dtype: outDtype ?? dtype, shape }])[0];
}

export const add = (a: Value, b: Value) => binary('Add', a, b);
export const sub = (a: Value, b: Value) => binary('Sub', a, b);
export const mul = (a: Value, b: Value) => binary('Mul', a, b);
export const div = (a: Value, b: Value) => binary('Div', a, b);
export const pow = (a: Value, b: Value) => binary('Pow', a, b);
export const max2 = (a: Value, b: Value) => binary('Max', a, b);
export const min2 = (a: Value, b: Value) => binary('Min', a, b);
export const equal = (a: Value, b: Value) => binary('Equal', a, b, 'bool');
export const less = (a: Value, b: Value) => binary('Less', a, b, 'bool');
export const greater = (a: Value, b: Value) => binary('Greater', a, b, 'bool');

/** Elementwise sum of any number of tensors (with broadcasting) in one pass. */
export function sum(xs: Value[]): Value {
  if (xs.length === 1) return xs[0];
  const dtype = sameDtype('Sum', ...xs);
  const shape = xs.slice(1).reduce<Shape>((s, x) => broadcastShapes(s, x.shape, 'Sum'), xs[0].shape);
  return xs[0].graph.node('Sum', xs, [{ dtype, shape }])[0];
}

function unary(op: string, x: Value, attrs = {}): Value {
  return x.graph.node(op, [x], [{ dtype: x.dtype, shape: x.shape }], attrs)[0];
}

export const neg = (x: Value) => unary('Neg', x);
export const exp = (x: Value) => unary('Exp', x);
export const log = (x: Value) => unary('Log', x);
export const sqrt = (x: Value) => unary('Sqrt', x);
export const tanh = (x: Value) => unary('Tanh', x);
export const relu = (x: Value) => unary('Relu', x);
export const abs = (x: Value) => unary('Abs', x);
export const sign = (x: Value) => unary('Sign', x);
/** Round half to even (ONNX Round). */
export const round = (x: Value) => unary('Round', x);
export const identity = (x: Value) => unary('Identity', x);
export const not = (x: Value) => unary('Not', x);

/** The Gauss error function. float64 graphs get a composite (onnxruntime has no float64 Erf kernel). */
export function erf(x: Value): Value {
  if (x.dtype === 'float64') return erfComposite(x);
  return unary('Erf', x);
}

/**
 * erf from Exp/Mul/Add/Div/Abs/Sign only (Numerical Recipes erfc Chebyshev fit, |error| < 1.2e-7).
 * Used in float64 gradient-check graphs; its gradient comes from the primitive ops it is made of.
 */
function erfComposite(x: Value): Value {
  const g = x.graph;
  const c = (v: number) => g.scalar(v, x.dtype);
  const z = abs(x);
  const t = div(c(1), add(c(1), mul(c(0.5), z)));
  const coeffs = [
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
    -0.82215223, 0.17087277,
  ];
  let poly = c(coeffs[9]);
  for (let i = 8; i >= 0; i--) poly = add(c(coeffs[i]), mul(t, poly));
  const erfc = mul(t, exp(sub(poly, mul(z, z))));
  return mul(sign(x), sub(c(1), erfc));
}

/**
 * Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). float32 uses the ONNX Gelu op (opset 20), one fused
 * kernel; float64 check graphs build it from primitives.
 */
export function gelu(x: Value): Value {
  if (x.dtype === 'float32') return unary('Gelu', x, { approximate: str('none') });
  const c = (v: number) => scalarLike(x, v);
  return mul(mul(c(0.5), x), add(c(1), erf(mul(x, c(Math.SQRT1_2)))));
}

export function where(cond: Value, a: Value, b: Value): Value {
  if (cond.dtype !== 'bool') throw new Error(`Where: condition must be bool, got ${cond}`);
  const dtype = sameDtype('Where', a, b);
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, 'Where'), b.shape, 'Where');
  return a.graph.node('Where', [cond, a, b], [{ dtype, shape }])[0];
}

export function cast(x: Value, to: DType): Value {
  if (x.dtype === to) return x;
  return x.graph.node('Cast', [x], [{ dtype: to, shape: x.shape }], { to: int(ONNX_DTYPE_CODE[to]) })[0];
}

// ---------------------------------------------------------------- matrix products

/**
 * Batched matrix product with numpy semantics for the leading dims.
 * (..., m, k) @ (..., k, n) -> (..., m, n)
 */
export function matmul(a: Value, b: Value): Value {
  const dtype = sameDtype('MatMul', a, b);
  if (a.rank < 2 || b.rank < 2) throw new Error(`MatMul: operands must have rank >= 2: ${a}, ${b}`);
  const k1 = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2];
  if (!dimEq(k1, k2)) throw new Error(`MatMul: inner dims differ: ${a} @ ${b}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
  const shape = [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]];
  return a.graph.node('MatMul', [a, b], [{ dtype, shape }])[0];
}

/** Gemm: alpha * op(A) @ op(B) + beta * C, 2-D only. */
export function gemm(
  a: Value,
  b: Value,
  c: Value | null = null,
  opts: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {},
): Value {
  const dtype = sameDtype('Gemm', a, b);
  if (a.rank !== 2 || b.rank !== 2) throw new Error(`Gemm: operands must be 2-D: ${a}, ${b}`);
  const [m, k1] = opts.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = opts.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (!dimEq(k1, k2)) throw new Error(`Gemm: inner dims differ: ${a}, ${b}`);
  if (c) broadcastShapes([m, n], c.shape, 'Gemm');
  const attrs = {
    transA: int(opts.transA ? 1 : 0),
    transB: int(opts.transB ? 1 : 0),
    alpha: flt(opts.alpha ?? 1),
    beta: flt(opts.beta ?? 1),
  };
  return a.graph.node('Gemm', c ? [a, b, c] : [a, b], [{ dtype, shape: [m, n] }], attrs)[0];
}

// ---------------------------------------------------------------- shape ops

/**
 * Reshape to `target`. Symbolic target dims must either equal the input dim at the same position
 * (emitted as ONNX 0 = copy) or be the single dim inferred (emitted as -1).
 */
export function reshape(x: Value, target: Shape): Value {
  const g = x.graph;
  const spec: number[] = [];
  let inferAt = -1;
  target.forEach((d, i) => {
    if (typeof d === 'number' && d >= 0) spec.push(d);
    else if (d === -1 || typeof d === 'string') {
      if (typeof d === 'string' && i < x.rank && dimEq(d, x.shape[i])) spec.push(0);
      else {
        if (inferAt >= 0) throw new Error(`Reshape: cannot express [${target}] from ${x}`);
        inferAt = i;
        spec.push(-1);
      }
    } else throw new Error(`Reshape: bad target dim ${d}`);
  });
  const shape: Dim[] = target.map((d, i) => (spec[i] === 0 ? x.shape[i] : d));
  if (inferAt >= 0) {
    const known = mulDims(...shape.filter((_, i) => i !== inferAt));
    const inferred = divDims(numel(x.shape), known);
    if (inferred === undefined)
      throw new Error(`Reshape: cannot infer dim ${inferAt} of [${target}] from ${x}`);
    if (typeof target[inferAt] === 'string' && !dimEq(target[inferAt], inferred)) {
      throw new Error(`Reshape: [${target}] does not match ${x}`);
    }
    shape[inferAt] = inferred;
  } else if (!dimEq(numel(shape), numel(x.shape))) {
    throw new Error(`Reshape: [${target}] has a different size from ${x}`);
  }
  return g.node('Reshape', [x, i64(g, spec)], [{ dtype: x.dtype, shape }])[0];
}

/** Reshape to a shape computed at run time (an int64 tensor, e.g. from shapeOf). */
export function reshapeTo(x: Value, shape: Value, staticShape: Shape): Value {
  return x.graph.node('Reshape', [x, shape], [{ dtype: x.dtype, shape: staticShape }])[0];
}

export function transpose(x: Value, perm: number[]): Value {
  if (perm.length !== x.rank) throw new Error(`Transpose: perm [${perm}] for ${x}`);
  const shape = perm.map((p) => x.shape[p]);
  return x.graph.node('Transpose', [x], [{ dtype: x.dtype, shape }], {
    perm: { kind: 'ints', value: perm },
  })[0];
}

export function unsqueeze(x: Value, axes: number[]): Value {
  const rank = x.rank + axes.length;
  const norm = axes.map((a) => normAxis(a, rank, 'Unsqueeze')).sort((a, b) => a - b);
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]);
  return x.graph.node('Unsqueeze', [x, i64(x.graph, norm)], [{ dtype: x.dtype, shape }])[0];
}

export function squeeze(x: Value, axes: number[]): Value {
  const norm = axes.map((a) => normAxis(a, x.rank, 'Squeeze'));
  for (const a of norm) if (x.shape[a] !== 1) throw new Error(`Squeeze: axis ${a} of ${x} is not 1`);
  const shape = x.shape.filter((_, i) => !norm.includes(i));
  return x.graph.node('Squeeze', [x, i64(x.graph, norm)], [{ dtype: x.dtype, shape }])[0];
}

/** The run-time shape of x as an int64 vector. */
export function shapeOf(x: Value): Value {
  return x.graph.node('Shape', [x], [{ dtype: 'int64', shape: [x.rank] }])[0];
}

/** Broadcast x to a run-time shape. */
export function expand(x: Value, shape: Value, staticShape: Shape): Value {
  return x.graph.node('Expand', [x, shape], [{ dtype: x.dtype, shape: staticShape }])[0];
}

/** Zeros with the run-time shape of `like`. */
export function zerosLike(like: Value): Value {
  const g = like.graph;
  const zero = g.constant([0], like.dtype, [1], 'zero');
  return expand(
    g.node('Identity', [zero], [{ dtype: like.dtype, shape: [1] }])[0],
    shapeOf(like),
    like.shape,
  );
}

export function concat(xs: Value[], axis: number): Value {
  const dtype = sameDtype('Concat', ...xs);
  const a = normAxis(axis, xs[0].rank, 'Concat');
  const shape = [...xs[0].shape];
  for (const x of xs.slice(1)) {
    if (x.rank !== xs[0].rank) throw new Error(`Concat: rank mismatch ${xs[0]} vs ${x}`);
    x.shape.forEach((d, i) => {
      if (i !== a && !dimEq(d, shape[i])) throw new Error(`Concat: shape mismatch ${xs[0]} vs ${x}`);
    });
  }
  shape[a] = xs.map((x) => x.shape[a]).reduce((s: Dim, d) => addDims(s, d), 0);
  return xs[0].graph.node('Concat', xs, [{ dtype, shape }], { axis: int(a) })[0];
}

function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return `${a}+${b}`;
}

/** Split along an axis into pieces whose sizes come from a run-time int64 vector. */
export function split(x: Value, sizes: Value, axis: number, staticShapes: Shape[]): Value[] {
  const a = normAxis(axis, x.rank, 'Split');
  const outs = staticShapes.map((shape) => ({ dtype: x.dtype, shape }));
  return x.graph.node('Split', [x, sizes], outs, { axis: int(a) });
}

/** x[starts:ends] along `axes` (step 1). Ends are clamped like numpy; use a large number for "to the end". */
export function slice(x: Value, starts: number[], ends: number[], axes: number[]): Value {
  const g = x.graph;
  const norm = axes.map((a) => normAxis(a, x.rank, 'Slice'));
  const shape = [...x.shape];
  norm.forEach((a, i) => {
    const d = x.shape[a];
    if (typeof d === 'number') {
      const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
      shape[a] = Math.max(0, clamp(ends[i]) - clamp(starts[i]));
    } else if (starts[i] >= 0 && ends[i] >= 0 && ends[i] < 2 ** 31) {
      shape[a] = ends[i] - starts[i]; // assumes the symbolic dim is at least ends[i]
    } else if (starts[i] === 0 && ends[i] >= 2 ** 31) {
      shape[a] = d;
    } else {
      shape[a] = `${d}[${starts[i]}:${ends[i]}]`;
    }
  });
  return g.node('Slice', [x, i64(g, starts), i64(g, ends), i64(g, norm)], [{ dtype: x.dtype, shape }])[0];
}

/** The first `count` rows of x, count a run-time int64 vector [n] (named `dim` in the static shape). */
export function sliceRows(x: Value, count: Value, dim: string): Value {
  const g = x.graph;
  return g.node(
    'Slice',
    [x, i64(g, [0]), count, i64(g, [0])],
    [{ dtype: x.dtype, shape: [dim, ...x.shape.slice(1)] }],
  )[0];
}

/** Zero padding: pads = [begin_0, ..., begin_r, end_0, ..., end_r] as a run-time int64 vector. */
export function pad(x: Value, pads: Value, staticShape: Shape): Value {
  return x.graph.node('Pad', [x, pads], [{ dtype: x.dtype, shape: staticShape }], {
    mode: str('constant'),
  })[0];
}

// ---------------------------------------------------------------- gather / scatter

/** Rows of `data` picked by integer `indices` along axis 0: (V, H)[idx (B, T)] -> (B, T, H). */
export function gather(data: Value, indices: Value, axis = 0): Value {
  const a = normAxis(axis, data.rank, 'Gather');
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') throw new Error(`Gather: indices ${indices}`);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.node('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: int(a) })[0];
}

export function gatherElements(data: Value, indices: Value, axis: number): Value {
  const a = normAxis(axis, data.rank, 'GatherElements');
  if (indices.rank !== data.rank) throw new Error(`GatherElements: rank mismatch ${data} vs ${indices}`);
  return data.graph.node('GatherElements', [data, indices], [{ dtype: data.dtype, shape: indices.shape }], {
    axis: int(a),
  })[0];
}

export function scatterND(
  data: Value,
  indices: Value,
  updates: Value,
  reduction: 'none' | 'add' = 'none',
): Value {
  return data.graph.node('ScatterND', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], {
    reduction: str(reduction),
  })[0];
}

/**
 * `base` plus the rows of `updates` added at row `ids` (duplicates summed): the gradient of a row gather.
 *
 * Not ScatterND with reduction 'add': onnxruntime's CPU kernel splits the updates across threads and
 * loses additions when two threads hit the same row at once (microsoft/onnxruntime#18048; measured here:
 * position-embedding gradients off by up to 58% on 2 threads, varying run to run). Instead:
 *  - small tables (<= 64 rows): a one-hot product, onehot(ids)^T updates;
 *  - otherwise the rows are sorted by id (TopK), summed per id as differences of a float64 running sum
 *    taken at the ends of the runs of equal ids, and written with unique indices, which no thread
 *    shares. Deterministic, and exact to float32 rounding (the running sum is float64).
 * ids: (N) int64; updates: (N, ...rest); base: (V, ...rest).
 */
export function scatterAddRows(base: Value, ids: Value, updates: Value): Value {
  const g = base.graph;
  const V = base.shape[0];
  if (typeof V === 'number' && V <= 64) {
    const range = i64(
      g,
      Array.from({ length: V }, (_, i) => i),
    );
    const onehot = cast(equal(unsqueeze(ids, [-1]), range), updates.dtype); // (N, V)
    const flat = reshape(updates, [updates.shape[0], -1]); // (N, prod(rest))
    const sum = gemm(onehot, flat, null, { transA: true }); // (V, prod(rest))
    return add(base, reshapeTo(sum, shapeOf(base), base.shape));
  }
  const N = updates.shape[0];
  const [sortedIds, perm] = g.node(
    'TopK',
    [ids, shapeOf(ids)],
    [
      { dtype: 'int64', shape: [N] },
      { dtype: 'int64', shape: [N] },
    ],
    { axis: int(0), largest: int(0), sorted: int(1) },
  );
  const sorted = cast(gather(updates, perm), 'float64');
  const running = g.node('CumSum', [sorted, i64(g, [0])], [{ dtype: 'float64', shape: sorted.shape }])[0];
  // Row i ends a run when the next id differs (the last row compares with -1, so it always does).
  const next = g.node(
    'Pad',
    [slice(sortedIds, [1], [2 ** 62], [0]), i64(g, [0, 1]), g.scalar(-1, 'int64')],
    [{ dtype: 'int64', shape: [N] }],
    { mode: str('constant') },
  )[0];
  const isEnd = not(equal(sortedIds, next));
  const ends = reshape(g.node('NonZero', [isEnd], [{ dtype: 'int64', shape: [1, 'runs'] }])[0], ['runs']);
  const atEnd = gather(running, ends); // (runs, ...rest)
  const r = atEnd.rank;
  const pads = i64(g, [1, ...Array(2 * r - 1).fill(0)]);
  const previous = pad(slice(atEnd, [0], [-1], [0]), pads, atEnd.shape); // running sum at the run before
  const sums = sub(atEnd, previous); // per-run sums
  const rows = unsqueeze(gather(sortedIds, ends), [-1]); // (runs, 1), unique
  return scatterND(base, rows, cast(sums, base.dtype), 'add');
}

export function scatterElements(
  data: Value,
  indices: Value,
  updates: Value,
  axis: number,
  reduction: 'none' | 'add' = 'none',
): Value {
  return data.graph.node(
    'ScatterElements',
    [data, indices, updates],
    [{ dtype: data.dtype, shape: data.shape }],
    {
      axis: int(normAxis(axis, data.rank, 'ScatterElements')),
      reduction: str(reduction),
    },
  )[0];
}

// ---------------------------------------------------------------- reductions and normalisation

function reduce(op: string, x: Value, axes: number[], keepdims: boolean): Value {
  const norm = axes.map((a) => normAxis(a, x.rank, op)).sort((a, b) => a - b);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!norm.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  const g = x.graph;
  return g.node(op, [x, i64(g, norm)], [{ dtype: x.dtype, shape }], { keepdims: int(keepdims ? 1 : 0) })[0];
}

export const reduceSum = (x: Value, axes: number[], keepdims = false) =>
  reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Value, axes: number[], keepdims = false) =>
  reduce('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Value, axes: number[], keepdims = false) =>
  reduce('ReduceMax', x, axes, keepdims);
export const reduceMin = (x: Value, axes: number[], keepdims = false) =>
  reduce('ReduceMin', x, axes, keepdims);

/** Index of the maximum along an axis (int64, not differentiable). */
export function argMax(x: Value, axis = -1, keepdims = false): Value {
  const a = normAxis(axis, x.rank, 'ArgMax');
  const shape = keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  return x.graph.node('ArgMax', [x], [{ dtype: 'int64', shape }], {
    axis: int(a),
    keepdims: int(keepdims ? 1 : 0),
  })[0];
}

export function softmax(x: Value, axis = -1): Value {
  return unary('Softmax', x, { axis: int(normAxis(axis, x.rank, 'Softmax')) });
}

export function logSoftmax(x: Value, axis = -1): Value {
  return unary('LogSoftmax', x, { axis: int(normAxis(axis, x.rank, 'LogSoftmax')) });
}

/**
 * LayerNormalization over the last axis. float32 uses the ONNX op (its Mean and InvStdDev outputs
 * feed the backward rule); float64 builds it from primitives (onnxruntime has no float64 kernel).
 */
export function layerNorm(x: Value, gamma: Value, beta: Value, eps = 1e-12): Value {
  const dtype = sameDtype('LayerNormalization', x, gamma, beta);
  if (!isFloat(dtype)) throw new Error(`LayerNormalization: float input required, got ${x}`);
  if (dtype === 'float64') {
    const mean = reduceMean(x, [-1], true);
    const xc = sub(x, mean);
    const variance = reduceMean(mul(xc, xc), [-1], true);
    const inv = div(scalarLike(x, 1), sqrt(add(variance, scalarLike(x, eps))));
    return add(mul(mul(xc, inv), gamma), beta);
  }
  const stat = [...x.shape.slice(0, -1), 1];
  const [y] = x.graph.node(
    'LayerNormalization',
    [x, gamma, beta],
    [
      { dtype, shape: x.shape },
      { dtype, shape: stat },
      { dtype, shape: stat },
    ],
    { axis: int(-1), epsilon: flt(eps), stash_type: int(1) },
  );
  return y;
}

// ---------------------------------------------------------------- inference-only (export)

/** Running sum along `axis` (ONNX CumSum; inference graphs only: no backward rule). */
export function cumsum(x: Value, axis: number): Value {
  const a = normAxis(axis, x.rank, 'CumSum');
  const g = x.graph;
  return g.node('CumSum', [x, g.constant([a], 'int64', [], 'axis')], [{ dtype: x.dtype, shape: x.shape }])[0];
}

/**
 * int8 -> float32: (q - zeroPoint) * scale, per channel along `axis` when scale is a vector (ONNX
 * DequantizeLinear). Weight-only int8 export reads every quantised weight through this.
 */
export function dequantizeLinear(q: Value, scale: Value, zeroPoint: Value | null, axis = 0): Value {
  const a = normAxis(axis, q.rank, 'DequantizeLinear');
  return q.graph.node(
    'DequantizeLinear',
    zeroPoint ? [q, scale, zeroPoint] : [q, scale],
    [{ dtype: 'float32', shape: q.shape }],
    {
      axis: int(a),
    },
  )[0];
}

/** float32 -> uint8 with a run-time scale and zero point (ONNX DynamicQuantizeLinear). */
export function dynamicQuantizeLinear(x: Value): { q: Value; scale: Value; zeroPoint: Value } {
  const [q, scale, zeroPoint] = x.graph.node(
    'DynamicQuantizeLinear',
    [x],
    [
      { dtype: 'uint8', shape: x.shape },
      { dtype: 'float32', shape: [] },
      { dtype: 'uint8', shape: [] },
    ],
  );
  return { q, scale, zeroPoint };
}

/** float32 -> uint8 with a fixed scale and zero point, per tensor (ONNX QuantizeLinear: rounds half to even, saturates). */
export function quantizeLinear(x: Value, scale: Value, zeroPoint: Value): Value {
  return x.graph.node(
    'QuantizeLinear',
    [x, scale, zeroPoint],
    [{ dtype: zeroPoint.dtype, shape: x.shape }],
  )[0];
}

/**
 * (M, K) uint8 x (K, N) int8 -> float32 (a - aZeroPoint) . b x aScale x bScale[n] (+ bias[n]): onnxruntime's
 * MatMulIntegerToFloat (com.microsoft), what it fuses MatMulInteger -> Cast -> Mul into when the scales
 * are computed at run time. Only onnxruntime runs it (Node and the browser).
 */
export function matMulIntegerToFloat(
  a: Value,
  b: Value,
  aScale: Value,
  bScale: Value,
  aZeroPoint: Value,
  /** Added to each row (N): one node fewer than a separate Add. */
  bias?: Value,
): Value {
  if (a.rank !== 2 || b.rank !== 2)
    throw new Error(`MatMulIntegerToFloat: rank-2 inputs only, got ${a} and ${b}`);
  return a.graph.node(
    'MatMulIntegerToFloat',
    bias ? [a, b, aScale, bScale, aZeroPoint, null, bias] : [a, b, aScale, bScale, aZeroPoint],
    [{ dtype: 'float32', shape: [a.shape[0], b.shape[1]] }],
    {},
    'com.microsoft',
  )[0];
}

/** Integer matrix product (M, K) x (K, N) -> int32 (ONNX MatMulInteger). */
export function matMulInteger(a: Value, b: Value, aZeroPoint: Value | null, bZeroPoint: Value | null): Value {
  if (a.rank !== 2 || b.rank !== 2) throw new Error(`MatMulInteger: rank-2 inputs only, got ${a} and ${b}`);
  const inputs = bZeroPoint ? [a, b, aZeroPoint, bZeroPoint] : aZeroPoint ? [a, b, aZeroPoint] : [a, b];
  return a.graph.node('MatMulInteger', inputs, [{ dtype: 'int32', shape: [a.shape[0], b.shape[1]] }])[0];
}

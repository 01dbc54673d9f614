/**
 * Reverse-mode autodiff into ordinary ONNX ops. One backward rule per op, in one table (RULES);
 * `grad(loss, wrt)` walks the graph backwards and appends the backward nodes to the same graph.
 */
import { type Dim, dimEq, type Graph, isFloat, isStatic, type Node, type Value } from './graph.js';
import * as o from './ops.js';

/**
 * A backward rule: given the node and the gradients of its outputs (null when an output has none),
 * return the gradient of each input (null for inputs that need none; `need(i)` says which do).
 */
type Rule = (node: Node, dys: (Value | null)[], need: (i: number) => boolean) => (Value | null)[];

/** Sum dy over the axes along which x was broadcast, so the result has x's shape. */
export function unbroadcast(dy: Value, x: Value): Value {
  if (dy.rank === x.rank && dy.shape.every((d, i) => dimEq(d, x.shape[i]))) return dy;
  if (x.rank === 1 && dy.rank >= 2 && dimEq(x.shape[0], dy.shape[dy.rank - 1])) return sumRows(dy);
  const lead = dy.rank - x.rank;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (i < lead) axes.push(i);
    else if (x.shape[i - lead] === 1 && dy.shape[i] !== 1) axes.push(i);
  }
  let r = axes.length ? o.reduceSum(dy, axes, true) : dy;
  if (lead > 0) r = o.squeeze(r, [...Array(lead).keys()]);
  return r;
}

/**
 * Sum over all leading axes: (..., F) -> (F). A matrix-vector product ones(1, N) @ x (N, F): onnxruntime's
 * ReduceSum over axis 0 measured ~3x slower than this for bias and LayerNorm gradients.
 */
export const TUNING = { rowSumMatmul: true };
export function sumRows(x: Value): Value {
  if (!TUNING.rowSumMatmul) return o.reduceSum(x, [...Array(x.rank - 1).keys()]);
  const F = x.shape[x.rank - 1];
  const flat = x.rank === 2 ? x : o.reshape(x, [-1, F]);
  const g = x.graph;
  const n = o.slice(o.shapeOf(flat), [0], [1], [0]); // [N]
  const ones = o.expand(g.constant([1], x.dtype, [1, 1], 'one'), o.concat([o.i64(g, [1]), n], 0), [
    1,
    flat.shape[0],
  ]);
  return o.reshape(o.matmul(ones, flat), [F]);
}

const zeroLike = (x: Value) => o.scalarLike(x, 0);
const lastTwo = (x: Value) => [...Array(x.rank - 2).keys(), x.rank - 1, x.rank - 2];
const backShape = (dy: Value, x: Value) => o.reshapeTo(dy, o.shapeOf(x), x.shape);
const attrInt = (n: Node, k: string, d = 0) => (n.attrs[k] as { value: number } | undefined)?.value ?? d;
const attrFloat = attrInt;
const constInts = (v: Value | null): number[] => {
  const c = v?.graph.constants.get(v);
  if (!c) throw new Error(`grad: expected a constant int vector, got ${v}`);
  return Array.from(c.data as BigInt64Array, Number);
};

function matmulGrad(a: Value, b: Value, dy: Value, need: (i: number) => boolean): (Value | null)[] {
  const da = need(0) ? unbroadcast(o.matmul(dy, o.transpose(b, lastTwo(b))), a) : null;
  let db: Value | null = null;
  if (need(1)) {
    if (b.rank === 2 && a.rank > 2) {
      const k = a.shape[a.rank - 1];
      const n = b.shape[1];
      db = o.gemm(o.reshape(a, [-1, k]), o.reshape(dy, [-1, n]), null, { transA: true });
    } else {
      db = unbroadcast(o.matmul(o.transpose(a, lastTwo(a)), dy), b);
    }
  }
  return [da, db];
}

const RULES: Record<string, Rule> = {
  Add: ({ inputs: [a, b] }, [dy], need) => [
    need(0) ? unbroadcast(dy!, a!) : null,
    need(1) ? unbroadcast(dy!, b!) : null,
  ],
  Sub: ({ inputs: [a, b] }, [dy], need) => [
    need(0) ? unbroadcast(dy!, a!) : null,
    need(1) ? unbroadcast(o.neg(dy!), b!) : null,
  ],
  Mul: ({ inputs: [a, b] }, [dy], need) => [
    need(0) ? unbroadcast(o.mul(dy!, b!), a!) : null,
    need(1) ? unbroadcast(o.mul(dy!, a!), b!) : null,
  ],
  Div: ({ inputs: [a, b], outputs: [y] }, [dy], need) => [
    need(0) ? unbroadcast(o.div(dy!, b!), a!) : null,
    need(1) ? unbroadcast(o.neg(o.div(o.mul(dy!, y), b!)), b!) : null,
  ],
  Pow: ({ inputs: [a, b], outputs: [y] }, [dy], need) => [
    need(0) ? unbroadcast(o.mul(dy!, o.mul(b!, o.pow(a!, o.sub(b!, o.scalarLike(b!, 1))))), a!) : null,
    need(1) ? unbroadcast(o.mul(dy!, o.mul(y, o.log(a!))), b!) : null,
  ],
  Neg: (_, [dy]) => [o.neg(dy!)],
  Identity: (_, [dy]) => [dy],
  Exp: ({ outputs: [y] }, [dy]) => [o.mul(dy!, y)],
  Log: ({ inputs: [x] }, [dy]) => [o.div(dy!, x!)],
  Sqrt: ({ outputs: [y] }, [dy]) => [o.div(o.mul(dy!, o.scalarLike(y, 0.5)), y)],
  Tanh: ({ outputs: [y] }, [dy]) => [o.mul(dy!, o.sub(o.scalarLike(y, 1), o.mul(y, y)))],
  Relu: ({ inputs: [x] }, [dy]) => [o.where(o.greater(x!, zeroLike(x!)), dy!, zeroLike(dy!))],
  Abs: ({ inputs: [x] }, [dy]) => [o.mul(dy!, o.sign(x!))],
  Sign: () => [null],
  Round: () => [null],
  Erf: ({ inputs: [x] }, [dy]) => [
    o.mul(dy!, o.mul(o.scalarLike(x!, 2 / Math.sqrt(Math.PI)), o.exp(o.neg(o.mul(x!, x!))))),
  ],
  // d/dx GELU = Phi(x) + x phi(x) = (1 + erf(u) + x k exp(-u^2)) / 2 with u = x / sqrt 2, k = 2 / sqrt(2 pi).
  // Written to touch the (N, F) activations as few times as possible: 9 passes.
  Gelu: ({ inputs: [x] }, [dy]) => {
    const c = (v: number) => o.scalarLike(x!, v);
    const u = o.mul(x!, c(Math.SQRT1_2));
    const kexp = o.exp(o.sub(c(Math.log(2 / Math.sqrt(2 * Math.PI))), o.mul(u, u))); // k exp(-u^2)
    const twice = o.sum([c(1), o.erf(u), o.mul(x!, kexp)]); // 2 GELU'(x)
    return [o.mul(o.mul(dy!, twice), c(0.5))];
  },
  Where: ({ inputs: [c, a, b] }, [dy], need) => [
    null,
    need(1) ? unbroadcast(o.where(c!, dy!, zeroLike(dy!)), a!) : null,
    need(2) ? unbroadcast(o.where(c!, zeroLike(dy!), dy!), b!) : null,
  ],
  Cast: ({ inputs: [x] }, [dy]) => [isFloat(x!.dtype) ? o.cast(dy!, x!.dtype) : null],

  MatMul: ({ inputs: [a, b] }, [dy], need) => matmulGrad(a!, b!, dy!, need),
  Gemm: (n, [dy], need) => {
    const [a, b, c] = n.inputs as Value[];
    const tA = attrInt(n, 'transA') === 1;
    const tB = attrInt(n, 'transB') === 1;
    const alpha = attrFloat(n, 'alpha', 1);
    const beta = attrFloat(n, 'beta', 1);
    let da: Value | null = null;
    let db: Value | null = null;
    if (need(0))
      da = tA
        ? o.gemm(b, dy!, null, { transA: tB, transB: true, alpha })
        : o.gemm(dy!, b, null, { transB: !tB, alpha });
    if (need(1))
      db = tB
        ? o.gemm(dy!, a, null, { transA: true, transB: tA, alpha })
        : o.gemm(a, dy!, null, { transA: !tA, alpha });
    const dc = c && need(2) ? unbroadcast(beta === 1 ? dy! : o.mul(dy!, o.scalarLike(dy!, beta)), c) : null;
    return [da, db, dc];
  },

  Reshape: ({ inputs: [x] }, [dy]) => [backShape(dy!, x!), null],
  Unsqueeze: ({ inputs: [x] }, [dy]) => [backShape(dy!, x!), null],
  Squeeze: ({ inputs: [x] }, [dy]) => [backShape(dy!, x!), null],
  Transpose: (n, [dy]) => {
    const perm = (n.attrs.perm as { value: number[] }).value;
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [o.transpose(dy!, inv)];
  },
  Concat: (n, [dy], need) => {
    const axis = attrInt(n, 'axis');
    const xs = n.inputs as Value[];
    const dims = xs.map((x) => x.shape[axis]);
    const g = dy!.graph;
    const sizes = dims.every((d) => typeof d === 'number')
      ? o.i64(g, dims as number[])
      : o.concat(
          xs.map((x) => o.slice(o.shapeOf(x), [axis], [axis + 1], [0])),
          0,
        );
    const parts = o.split(
      dy!,
      sizes,
      axis,
      xs.map((x) => x.shape),
    );
    return parts.map((p, i) => (need(i) ? p : null));
  },
  Split: (n, dys) => {
    const axis = attrInt(n, 'axis');
    return [
      o.concat(
        dys.map((dy, i) => dy ?? o.zerosLike(n.outputs[i])),
        axis,
      ),
      null,
    ];
  },
  Slice: (n, [dy]) => {
    const [x, s, e, a] = n.inputs;
    const starts = constInts(s);
    const ends = constInts(e);
    const axes = constInts(a);
    const g = dy!.graph;
    const begin = new Array<number>(x!.rank).fill(0);
    const endFull = new Array<number>(x!.rank).fill(2 ** 62);
    axes.forEach((ax, i) => {
      if (starts[i] < 0 || ends[i] < 0)
        throw new Error(`grad Slice: negative starts/ends unsupported (${n.name})`);
      begin[ax] = starts[i];
      endFull[ax] = ends[i];
    });
    let endPads: Value;
    if (isStatic(x!.shape)) {
      const shape = x!.shape as number[];
      endPads = o.i64(
        g,
        shape.map((d, i) => d - Math.min(d, endFull[i])),
      );
    } else {
      const sh = o.shapeOf(x!);
      endPads = o.sub(sh, o.min2(o.i64(g, endFull), sh));
    }
    return [o.pad(dy!, o.concat([o.i64(g, begin), endPads], 0), x!.shape), null, null, null];
  },

  Gather: (n, [dy]) => {
    const [data, idx] = n.inputs as Value[];
    if (attrInt(n, 'axis') !== 0) throw new Error(`grad Gather: only axis 0 is differentiable (${n.name})`);
    // dy rows are (indices..., rest); flatten the index dims to one.
    const ids = o.reshape(o.cast(idx, 'int64'), [-1]);
    const rows = idx.rank === 1 ? dy! : o.reshape(dy!, [-1, ...data.shape.slice(1)]);
    return [o.scatterAddRows(o.zerosLike(data), ids, rows), null];
  },
  GatherElements: (n, [dy]) => {
    const [data, idx] = n.inputs as Value[];
    return [o.scatterElements(o.zerosLike(data), idx, dy!, attrInt(n, 'axis'), 'add'), null];
  },

  ReduceSum: (n, [dy]) => [reduceBack(n, dy!), null],
  ReduceMean: (n, [dy]) => {
    const [x] = n.inputs as Value[];
    const y = n.outputs[0];
    const back = reduceBack(n, dy!);
    const axes = constInts(n.inputs[1]);
    const dims = axes.map((a) => x.shape[a]);
    const count = dims.every((d) => typeof d === 'number')
      ? o.scalarLike(
          x,
          (dims as number[]).reduce((p, d) => p * d, 1),
        )
      : o.cast(o.div(size(x), size(y)), x.dtype);
    return [o.div(back, count), null];
  },
  ReduceMax: (n, [dy]) => {
    const [x] = n.inputs as Value[];
    const keep = attrInt(n, 'keepdims', 1) === 1;
    const axes = constInts(n.inputs[1]);
    const yk = keep ? n.outputs[0] : o.unsqueeze(n.outputs[0], axes);
    const dyk = keep ? dy! : o.unsqueeze(dy!, axes);
    const mask = o.cast(o.equal(x, yk), x.dtype);
    const ties = o.reduceSum(mask, axes, true);
    return [o.mul(o.div(mask, ties), dyk), null];
  },

  Softmax: ({ outputs: [y], attrs }, [dy]) => {
    const axis = (attrs.axis as { value: number }).value;
    return [o.mul(y, o.sub(dy!, o.reduceSum(o.mul(dy!, y), [axis], true)))];
  },
  LogSoftmax: ({ outputs: [y], attrs }, [dy]) => {
    const axis = (attrs.axis as { value: number }).value;
    return [o.sub(dy!, o.mul(o.exp(y), o.reduceSum(dy!, [axis], true)))];
  },
  LayerNormalization: (n, [dy], need) => {
    const [x, gamma] = n.inputs as Value[];
    const [, mean, invStd] = n.outputs;
    const lead = [...Array(x.rank - 1).keys()];
    const xhat = o.mul(o.sub(x, mean), invStd); // (..., H)
    const dgamma = need(1) ? (lead.length ? sumRows(o.mul(dy!, xhat)) : o.mul(dy!, xhat)) : null;
    const dbeta = need(2) ? (lead.length ? sumRows(dy!) : dy!) : null;
    let dx: Value | null = null;
    if (need(0)) {
      const dxhat = o.mul(dy!, gamma);
      const m1 = o.reduceMean(dxhat, [-1], true);
      const m2 = o.reduceMean(o.mul(dxhat, xhat), [-1], true);
      dx = o.mul(invStd, o.sub(o.sub(dxhat, m1), o.mul(xhat, m2)));
    }
    return [dx, dgamma, dbeta];
  },
};

function size(x: Value): Value {
  return x.graph.node('Size', [x], [{ dtype: 'int64', shape: [] }])[0];
}

/** Backward of a sum-like reduction: put the reduced axes back and broadcast to x's shape. */
function reduceBack(n: Node, dy: Value): Value {
  const [x] = n.inputs as Value[];
  const keep = attrInt(n, 'keepdims', 1) === 1;
  const g = keep ? dy : o.unsqueeze(dy, constInts(n.inputs[1]));
  return o.expand(g, o.shapeOf(x), x.shape);
}

/** Ops with a backward rule (the gradient-check tests iterate over this list). */
export const DIFFERENTIABLE_OPS = Object.keys(RULES);

/**
 * Gradients of a scalar `loss` with respect to each value in `wrt`, appended to loss's graph.
 * `seed` is the gradient of the loss (default 1). A value the loss does not depend on gets zeros.
 */
export function grad(loss: Value, wrt: Value[], seed?: Value): Value[] {
  const g: Graph = loss.graph;
  // Forward: which values depend on some wrt value (only their gradients are needed).
  const needs = new Set<Value>(wrt);
  const nodes = [...g.nodes]; // snapshot: backward nodes get appended to g.nodes
  for (const n of nodes) {
    if (n.inputs.some((x) => x && needs.has(x)))
      for (const y of n.outputs) if (isFloat(y.dtype)) needs.add(y);
  }
  const grads = new Map<Value, Value[]>();
  grads.set(loss, [seed ?? g.scalar(1, loss.dtype)]);
  const total = (v: Value): Value | null => {
    const gs = grads.get(v);
    if (!gs || gs.length === 0) return null;
    // One Sum pass over all contributions (a chain of Adds would write n - 1 intermediates).
    const sum = gs.length === 1 ? gs[0] : gs.length === 2 ? o.add(gs[0], gs[1]) : o.sum(gs);
    grads.set(v, [sum]);
    return sum;
  };
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (!n.outputs.some((y) => grads.has(y))) continue;
    if (!n.inputs.some((x) => x && needs.has(x))) continue;
    const custom = n.outputs.length === 1 ? n.outputs[0].customGrad : undefined;
    const rule = RULES[n.op];
    if (!rule && !custom) throw new Error(`grad: no backward rule for op ${n.op} (node ${n.name})`);
    const dys = n.outputs.map(total);
    const inputs = custom ? custom.inputs : n.inputs;
    const need = (i: number) => {
      const x = inputs[i];
      return !!x && needs.has(x);
    };
    const dxs = custom ? custom.fn(dys[0]!) : rule(n, dys, need);
    inputs.forEach((x, i) => {
      const dx = dxs[i];
      if (!x || !dx || !need(i)) return;
      if (!sameShape(dx.shape, x.shape)) {
        throw new Error(`grad: rule for ${n.op} gave [${dx.shape}] for input ${x} (node ${n.name})`);
      }
      const list = grads.get(x) ?? [];
      list.push(dx);
      grads.set(x, list);
    });
  }
  return wrt.map((w) => total(w) ?? o.zerosLike(w));
}

function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEq(d, b[i]) || typeof d !== typeof b[i]);
}

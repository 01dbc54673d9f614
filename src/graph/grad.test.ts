/**
 * Finite-difference gradient check for every op with a backward rule. float64 graphs where
 * onnxruntime has float64 kernels; Erf and LayerNormalization (no float64 kernels) are checked in
 * float32 with looser bounds and additionally against their float64 composites.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Session } from '../runtime/session.js';
import { Rng } from '../util/rng.js';
import { DIFFERENTIABLE_OPS, grad } from './grad.js';
import { type CheckInput, gradCheck } from '../runtime/gradcheck.js';
import { type DType, Graph, type Value } from './graph.js';
import * as o from './ops.js';
import {
  binaryCrossEntropyWithLogits,
  cosineSimilarity,
  klDivWithTemperature,
  linearCrossEntropy,
  mse,
  softmaxCrossEntropy,
} from './losses.js';

type Case = {
  build: (g: Graph, xs: Value[]) => Value;
  inputs: CheckInput[];
  f32?: boolean; // checked in float32 (no float64 kernel)
};

const F = 'float64' as const;
const inp = (name: string, shape: number[], data?: number[], dtype: DType = F): CheckInput => ({
  name,
  dtype,
  shape,
  data: data
    ? dtype === 'int64'
      ? BigInt64Array.from(data.map(BigInt))
      : Float64Array.from(data)
    : undefined,
});
const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
/** Values bounded away from 0 (for kinks and divisions). */
const away = (n: number, lo = 0.3) => range(n, (i) => (i % 2 ? 1 : -1) * (lo + ((i * 37) % 11) / 10));
const pos = (n: number) => range(n, (i) => 0.5 + ((i * 13) % 7) / 7);

const CASES: Record<string, Case[]> = {
  Add: [{ build: (_, [a, b]) => o.add(a, b), inputs: [inp('a', [2, 3, 4]), inp('b', [4])] }],
  Sub: [{ build: (_, [a, b]) => o.sub(a, b), inputs: [inp('a', [2, 3]), inp('b', [2, 1])] }],
  Mul: [{ build: (_, [a, b]) => o.mul(a, b), inputs: [inp('a', [2, 3, 4]), inp('b', [1, 3, 1])] }],
  Div: [{ build: (_, [a, b]) => o.div(a, b), inputs: [inp('a', [2, 3]), inp('b', [3], away(3, 0.5))] }],
  Pow: [{ build: (_, [a, b]) => o.pow(a, b), inputs: [inp('a', [2, 3], pos(6)), inp('b', [2, 3])] }],
  Neg: [{ build: (_, [x]) => o.neg(x), inputs: [inp('x', [3, 2])] }],
  Identity: [{ build: (_, [x]) => o.identity(x), inputs: [inp('x', [3])] }],
  Exp: [{ build: (_, [x]) => o.exp(x), inputs: [inp('x', [2, 3])] }],
  Log: [{ build: (_, [x]) => o.log(x), inputs: [inp('x', [2, 3], pos(6))] }],
  Sqrt: [{ build: (_, [x]) => o.sqrt(x), inputs: [inp('x', [2, 3], pos(6))] }],
  Tanh: [{ build: (_, [x]) => o.tanh(x), inputs: [inp('x', [2, 3])] }],
  Relu: [{ build: (_, [x]) => o.relu(x), inputs: [inp('x', [2, 4], away(8))] }],
  Abs: [{ build: (_, [x]) => o.abs(x), inputs: [inp('x', [2, 4], away(8))] }],
  Sign: [{ build: (_, [x]) => o.mul(o.sign(x), x), inputs: [inp('x', [2, 4], away(8))] }],
  // Round is flat between half-integers (gradient 0): values kept away from them.
  Round: [
    {
      build: (_, [x]) => o.mul(o.round(x), x),
      inputs: [inp('x', [2, 4], [-2.2, -1.3, -0.7, -0.2, 0.1, 0.8, 1.2, 2.9])],
    },
  ],
  Erf: [
    { build: (_, [x]) => o.erf(x), inputs: [inp('x', [2, 5], undefined, 'float32')], f32: true },
    { build: (_, [x]) => o.erf(x), inputs: [inp('x', [2, 5])] }, // float64 composite
  ],
  Gelu: [{ build: (_, [x]) => o.gelu(x), inputs: [inp('x', [3, 5], undefined, 'float32')], f32: true }],
  Where: [
    {
      build: (g, [a, b]) => o.where(o.greater(a, g.scalar(0, F)), a, b),
      inputs: [inp('a', [2, 3], away(6)), inp('b', [3])],
    },
  ],
  Cast: [
    {
      build: (_, [x]) => o.mul(o.cast(x, F), o.cast(x, F)),
      inputs: [inp('x', [4], undefined, 'float32')],
      f32: true,
    },
  ],
  MatMul: [
    { build: (_, [a, b]) => o.matmul(a, b), inputs: [inp('a', [2, 3, 4]), inp('b', [4, 5])] },
    { build: (_, [a, b]) => o.matmul(a, b), inputs: [inp('a', [2, 2, 3, 4]), inp('b', [2, 2, 4, 5])] },
    { build: (_, [a, b]) => o.matmul(a, b), inputs: [inp('a', [3, 4]), inp('b', [2, 4, 5])] },
  ],
  Gemm: [
    { build: (_, [a, b, c]) => o.gemm(a, b, c), inputs: [inp('a', [3, 4]), inp('b', [4, 2]), inp('c', [2])] },
    {
      build: (_, [a, b]) => o.gemm(a, b, null, { transA: true, alpha: 0.5 }),
      inputs: [inp('a', [4, 3]), inp('b', [4, 2])],
    },
    {
      build: (_, [a, b]) => o.gemm(a, b, null, { transB: true }),
      inputs: [inp('a', [3, 4]), inp('b', [2, 4])],
    },
    {
      build: (_, [a, b, c]) => o.gemm(a, b, c, { transA: true, transB: true, beta: 2 }),
      inputs: [inp('a', [4, 3]), inp('b', [2, 4]), inp('c', [3, 2])],
    },
  ],
  Reshape: [{ build: (_, [x]) => o.reshape(x, [-1, 4]), inputs: [inp('x', [2, 3, 4])] }],
  Unsqueeze: [{ build: (_, [x]) => o.unsqueeze(x, [1]), inputs: [inp('x', [2, 3])] }],
  Squeeze: [{ build: (_, [x]) => o.squeeze(x, [1]), inputs: [inp('x', [2, 1, 3])] }],
  Transpose: [{ build: (_, [x]) => o.transpose(x, [2, 0, 1]), inputs: [inp('x', [2, 3, 4])] }],
  Concat: [{ build: (_, [a, b]) => o.concat([a, b], 1), inputs: [inp('a', [2, 3]), inp('b', [2, 2])] }],
  Split: [
    {
      build: (g, [x]) => {
        const [a, b, c] = o.split(x, o.i64(g, [1, 3, 2]), 1, [
          [2, 1],
          [2, 3],
          [2, 2],
        ]);
        return o.concat([o.mul(a, a), b, o.exp(c)], 1);
      },
      inputs: [inp('x', [2, 6])],
    },
    {
      build: (g, [x]) =>
        o.split(x, o.i64(g, [2, 4]), 1, [
          [2, 2],
          [2, 4],
        ])[1],
      inputs: [inp('x', [2, 6])],
    },
  ],
  Slice: [{ build: (_, [x]) => o.slice(x, [1, 0], [3, 2], [0, 1]), inputs: [inp('x', [4, 5])] }],
  Gather: [
    {
      // a small table: the one-hot path of scatterAddRows
      build: (_, [d, i]) => o.gather(d, i),
      inputs: [inp('d', [5, 3]), inp('i', [2, 3], [0, 4, 4, 1, 0, 2], 'int64')],
    },
    {
      // a larger table: the sorted running-sum path (repeated, unsorted ids; unused rows)
      build: (_, [d, i]) => o.gather(d, i),
      inputs: [inp('d', [70, 2]), inp('i', [3, 4], [69, 3, 3, 0, 69, 12, 3, 40, 0, 68, 69, 5], 'int64')],
    },
  ],
  GatherElements: [
    {
      build: (_, [d, i]) => o.gatherElements(d, i, 1),
      inputs: [inp('d', [3, 4]), inp('i', [3, 2], [0, 3, 1, 1, 2, 0], 'int64')],
    },
  ],
  ReduceSum: [
    { build: (_, [x]) => o.reduceSum(x, [1]), inputs: [inp('x', [2, 3, 4])] },
    { build: (_, [x]) => o.reduceSum(x, [0, 2], true), inputs: [inp('x', [2, 3, 4])] },
  ],
  ReduceMean: [{ build: (_, [x]) => o.reduceMean(x, [-1], true), inputs: [inp('x', [2, 3, 4])] }],
  ReduceMax: [
    {
      build: (_, [x]) => o.reduceMax(x, [1]),
      inputs: [
        inp(
          'x',
          [2, 5],
          range(10, (i) => ((i * 7) % 10) / 3),
        ),
      ],
    },
  ],
  Softmax: [{ build: (_, [x]) => o.softmax(x, -1), inputs: [inp('x', [2, 3, 5])] }],
  LogSoftmax: [{ build: (_, [x]) => o.logSoftmax(x, -1), inputs: [inp('x', [3, 6])] }],
  LayerNormalization: [
    {
      build: (_, [x, ga, be]) => o.layerNorm(x, ga, be, 1e-5),
      inputs: [
        inp('x', [2, 3, 6], undefined, 'float32'),
        inp('gamma', [6], undefined, 'float32'),
        inp('beta', [6], undefined, 'float32'),
      ],
      f32: true,
    },
  ],
};

describe('gradient check, every op with a backward rule', () => {
  test('every differentiable op has a case', () => {
    const missing = DIFFERENTIABLE_OPS.filter((op) => !CASES[op]);
    assert.deepEqual(missing, [], `ops without a gradient check: ${missing.join(', ')}`);
  });

  for (const [op, cases] of Object.entries(CASES)) {
    cases.forEach((c, k) => {
      test(`${op} #${k}${c.f32 ? ' (float32)' : ''}`, async () => {
        const r = await gradCheck(c.build, c.inputs, c.f32 ? { eps: 1e-2, floor: 1e-3 } : {});
        const tol = c.f32 ? 2e-3 : 1e-6;
        assert.ok(r.checked > 0);
        assert.ok(r.maxRelErr < tol, `${op}: max relative error ${r.maxRelErr} > ${tol} at ${r.worst}`);
        if (!c.f32) assert.ok(r.maxAbsErr < 1e-7, `${op}: max abs error ${r.maxAbsErr}`);
      });
    });
  }
});

/** float32 production ops against their float64 composites: forward and gradients. */
async function runBoth(
  build: (x: Value, params: Value[]) => Value,
  shape: number[],
  extra: (g: Graph, d: DType) => Value[] = () => [],
) {
  const rng = new Rng(3);
  const n = shape.reduce((a, b) => a * b, 1);
  const x64 = Float64Array.from({ length: n }, () => rng.uniform() * 4 - 2);
  const res: Record<string, Float64Array[]> = {};
  for (const dtype of ['float32', 'float64'] as const) {
    const g = new Graph();
    const x = g.input('x', dtype, shape);
    const params = extra(g, dtype);
    const y = build(x, params);
    const r = g.constant(Float64Array.from({ length: n }, (_, i) => Math.sin(i)).map(Number), F, shape);
    const loss = o.reduceSum(o.mul(o.cast(y, F), r), [...Array(shape.length).keys()]);
    const gs = grad(loss, [x, ...params]);
    g.output(o.cast(y, F), 'y');
    gs.forEach((gr, i) => {
      g.output(o.cast(gr, F), `g${i}`);
    });
    const s = await Session.create(g, { threads: 1 });
    const feeds: Record<string, Float32Array | Float64Array> = {
      x: dtype === 'float32' ? Float32Array.from(x64) : x64,
    };
    const out = await s.run(feeds);
    res[dtype] = Object.keys(out).map((k) => out[k].data as Float64Array);
  }
  return res;
}

function maxRel(a: Float64Array, b: Float64Array): number {
  let m = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(scale, 1e-12));
  return m;
}

describe('hand-written gradients of composites', () => {
  test('softmaxCrossEntropy with ignored rows', async () => {
    const r = await gradCheck(
      (_, [x, l]) => softmaxCrossEntropy(x, l, -100),
      [inp('x', [4, 5]), inp('l', [4], [2, -100, 0, 4], 'int64')],
    );
    assert.ok(r.maxRelErr < 1e-6, `max relative error ${r.maxRelErr} at ${r.worst}`);
  });
  test('linearCrossEntropy (wide decoder) with ignored rows', async () => {
    const r = await gradCheck(
      (_, [h, W, b, l]) => linearCrossEntropy(h, W, b, l, -100).loss,
      [inp('h', [4, 3]), inp('W', [6, 3]), inp('b', [6]), inp('l', [4], [5, -100, 0, 5], 'int64')],
    );
    assert.ok(r.maxRelErr < 1e-6, `max relative error ${r.maxRelErr} at ${r.worst}`);
  });
  test('mse (plain and masked), cosineSimilarity, klDivWithTemperature', async () => {
    const cases: [string, Parameters<typeof gradCheck>[0], CheckInput[]][] = [
      ['mse', (_, [a, b]) => mse(a, b), [inp('a', [3, 4]), inp('b', [3, 4])]],
      [
        'mse masked',
        (g, [a, b]) => mse(a, b, g.constant([1, 0, 1], F, [3, 1])),
        [inp('a', [3, 4]), inp('b', [3, 4])],
      ],
      ['cosine', (_, [a, b]) => cosineSimilarity(a, b, -1), [inp('a', [3, 5]), inp('b', [3, 5])]],
      [
        'binary cross-entropy on logits, masked',
        (g, [x]) =>
          binaryCrossEntropyWithLogits(
            x,
            g.constant([1, 0, 0, 1, 1, 0], F, [2, 3]),
            g.constant([1, 1, 0, 1, 1, 1], F, [2, 3]),
          ),
        [inp('x', [2, 3], away(6))],
      ],
      [
        'kl T=2',
        (_, [s, t]) => klDivWithTemperature(s, t, 2),
        [inp('s', [3, 4]), { ...inp('t', [3, 4]), wrt: false }],
      ],
    ];
    for (const [name, build, inputs] of cases) {
      const r = await gradCheck(build, inputs);
      assert.ok(r.maxRelErr < 1e-6, `${name}: max relative error ${r.maxRelErr} at ${r.worst}`);
    }
  });
  test('binaryCrossEntropyWithLogits by hand, and finite at large logits', async () => {
    const g = new Graph();
    const x = g.input('x', F, [3]);
    const t = g.input('t', F, [3]);
    g.output(binaryCrossEntropyWithLogits(x, t), 'bce');
    const sess = await Session.create(g, { threads: 1 });
    const bce = async (a: number[], b: number[]) =>
      Number((await sess.run({ x: Float64Array.from(a), t: Float64Array.from(b) })).bce.data[0]);
    const ref = (a: number[], b: number[]) =>
      a.reduce(
        (s, xi, i) =>
          s - (b[i] * Math.log(1 / (1 + Math.exp(-xi))) + (1 - b[i]) * Math.log(1 - 1 / (1 + Math.exp(-xi)))),
        0,
      ) / a.length;
    for (const [a, b] of [
      [
        [0.3, -1.2, 2],
        [1, 0, 1],
      ],
      [
        [0, 0, 0],
        [0.5, 1, 0],
      ],
    ])
      assert.ok(Math.abs((await bce(a, b)) - ref(a, b)) < 1e-12);
    const big = await bce([1000, -1000, 1000], [0, 1, 1]);
    assert.ok(Math.abs(big - 2000 / 3) < 1e-9, `large logits: ${big}`);
  });
  test('klDivWithTemperature by hand: zero for equal logits, T^2 KL otherwise', async () => {
    const g = new Graph();
    const s = g.input('s', F, [1, 2]);
    const t = g.input('t', F, [1, 2]);
    g.output(klDivWithTemperature(s, t, 2), 'kl');
    const sess = await Session.create(g, { threads: 1 });
    const run = async (a: number[], b: number[]) =>
      Number((await sess.run({ s: Float64Array.from(a), t: Float64Array.from(b) })).kl.data[0]);
    assert.ok(Math.abs(await run([1, 2], [1, 2])) < 1e-15);
    // T=2: p = softmax([0, 2ln3]/2) = [1/4, 3/4], q = softmax([0, 0]) = [1/2, 1/2]; 4 * KL(p || q)
    const kl = 0.25 * Math.log(0.25 / 0.5) + 0.75 * Math.log(0.75 / 0.5);
    assert.ok(Math.abs((await run([0, 0], [0, 2 * Math.log(3)])) - 4 * kl) < 1e-12);
  });
  test('softmaxCrossEntropy value by hand', async () => {
    // logits [0, ln 3] -> p = [1/4, 3/4]; labels [1, 0] -> loss = -(ln 3/4 + ln 1/4) / 2
    const g = new Graph();
    const x = g.input('x', F, [2, 2]);
    const l = g.input('l', 'int64', [2]);
    g.output(softmaxCrossEntropy(x, l), 'loss');
    const s = await Session.create(g, { threads: 1 });
    const out = await s.run({
      x: Float64Array.from([0, Math.log(3), 0, Math.log(3)]),
      l: BigInt64Array.from([1n, 0n]),
    });
    assert.ok(Math.abs(Number(out.loss.data[0]) - -(Math.log(0.75) + Math.log(0.25)) / 2) < 1e-12);
  });
});

describe('float32 production graph vs float64 check graph', () => {
  test('GELU (Erf op vs composite erf)', async () => {
    const r = await runBoth((x) => o.gelu(x), [4, 16]);
    r.float32.forEach((a, i) => {
      assert.ok(maxRel(a, r.float64[i]) < 1e-6, `output ${i}: ${maxRel(a, r.float64[i])}`);
    });
  });
  test('LayerNormalization (ONNX op vs composite)', async () => {
    const r = await runBoth(
      (x, [gamma, beta]) => o.layerNorm(x, gamma, beta, 1e-5),
      [3, 8],
      (g, d) => [
        g.constant(
          Array.from({ length: 8 }, (_, i) => 1 + i / 10),
          d,
          [8],
          'gamma',
        ),
        g.constant(
          Array.from({ length: 8 }, (_, i) => i / 20),
          d,
          [8],
          'beta',
        ),
      ],
    );
    r.float32.forEach((a, i) => {
      assert.ok(maxRel(a, r.float64[i]) < 2e-6, `output ${i}: ${maxRel(a, r.float64[i])}`);
    });
  });
});

describe('symbolic dims', () => {
  test('one session serves several batch sizes, with gradients', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['B', 'T', 4]);
    const w = g.input('w', 'float32', [4, 3]);
    const h = o.matmul(x, w); // (B, T, 3)
    const first = o.slice(h, [0], [1], [1]); // (B, 1, 3)
    const both = o.concat([h, first], 1); // (B, T+1, 3)
    const loss = o.reduceMean(o.mul(both, both), [0, 1, 2]);
    const [gw, gx] = grad(loss, [w, x]);
    g.output(loss, 'loss');
    g.output(gw, 'gw');
    g.output(gx, 'gx');
    const s = await Session.create(g, { threads: 1 });
    for (const [B, T] of [
      [2, 3],
      [3, 5],
    ]) {
      const xs = Float32Array.from({ length: B * T * 4 }, (_, i) => Math.cos(i));
      const ws = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
      const out = await s.run({ x: xs, w: ws }, { B, T });
      assert.deepEqual(out.gx.shape, [B, T, 4]);
      assert.deepEqual(out.gw.shape, [4, 3]);
      // Reference in plain JS.
      let ref = 0;
      const gwRef = new Float64Array(12);
      const n = B * (T + 1) * 3;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t <= T; t++) {
          const tt = t === T ? 0 : t;
          const mult = 1;
          for (let j = 0; j < 3; j++) {
            let v = 0;
            for (let k = 0; k < 4; k++) v += xs[(b * T + tt) * 4 + k] * ws[k * 3 + j];
            ref += (mult * v * v) / n;
            for (let k = 0; k < 4; k++) gwRef[k * 3 + j] += (2 * v * xs[(b * T + tt) * 4 + k]) / n;
          }
        }
      }
      assert.ok(Math.abs(Number(out.loss.data[0]) - ref) < 1e-5 * Math.abs(ref));
      for (let i = 0; i < 12; i++) assert.ok(Math.abs(Number(out.gw.data[i]) - gwRef[i]) < 1e-4, `gw[${i}]`);
    }
  });
});

describe('row-gather gradient on 2 threads (scatterAddRows)', () => {
  // onnxruntime's ScatterND with reduction 'add' loses updates when threads hit the same row; the
  // gradient must equal a plain sum, and be the same every run.
  for (const V of [2, 512, 30522]) {
    test(`${V}-row table, 16,384 gathered rows with many repeats: exact sums, identical over runs`, async () => {
      const N = 16384;
      const H = 64;
      const rng = new Rng(V);
      const ids = BigInt64Array.from({ length: N }, () => BigInt(Math.floor(rng.uniform() ** 3 * V)));
      const dy = Float32Array.from({ length: N * H }, () => rng.normal());
      const g = new Graph();
      const table = g.input('table', 'float32', [V, H]);
      const idx = g.input('ids', 'int64', [N]);
      const up = g.input('dy', 'float32', [N, H]);
      const y = o.gather(table, idx);
      const [dTable] = grad(o.reduceSum(o.mul(y, up), [0, 1]), [table]);
      g.output(dTable, 'dTable');
      const s = await Session.create(g, { threads: 2 });
      const want = new Float64Array(V * H);
      for (let n = 0; n < N; n++) {
        const r = Number(ids[n]);
        for (let h = 0; h < H; h++) want[r * H + h] += dy[n * H + h];
      }
      let first: Float32Array | undefined;
      for (let run = 0; run < 4; run++) {
        const got = (await s.run({ table: new Float32Array(V * H), ids, dy })).dTable.data as Float32Array;
        if (first) assert.deepEqual(got, first, `run ${run} differs from run 0`);
        else first = got;
      }
      for (let i = 0; i < V * H; i++)
        assert.ok(
          Math.abs(first![i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])),
          `row ${Math.floor(i / H)}: ${first![i]} vs ${want[i]}`,
        );
      await s.release();
    });
  }
});

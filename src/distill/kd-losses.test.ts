/** Every distillation loss against finite differences (float64) and against values computed by hand. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CheckInput, gradCheck } from '../runtime/gradcheck.js';
import { Graph, type Value } from '../graph/graph.js';
import { Session } from '../runtime/session.js';
import { klDivWithTemperature, linearCrossEntropy } from '../graph/losses.js';
import * as o from '../graph/ops.js';
import { Rng } from '../util/rng.js';
import {
  attentionMse,
  cosineLoss,
  distilMlmLoss,
  hiddenMse,
  hintonLoss,
  softCrossEntropy,
  teacherSoftTargets,
  tokenMask,
} from './kd-losses.js';

const F = 'float64' as const;
const inp = (
  name: string,
  shape: number[],
  wrt = true,
  data?: number[],
  dtype: CheckInput['dtype'] = F,
): CheckInput => ({
  name,
  dtype,
  shape,
  wrt,
  data: data
    ? dtype === 'int64'
      ? BigInt64Array.from(data.map(BigInt))
      : Float64Array.from(data)
    : undefined,
});
const MASK = [1, 1, 1, 1, 1, 0]; // (B=2, T=3): the last token of the second sequence is padding

describe('distillation losses: gradient checks', () => {
  const cases: [string, (g: Graph, xs: Value[]) => Value, CheckInput[]][] = [
    [
      'hinton (classification)',
      (_, [s, t, l]) => hintonLoss(s, t, l, 2, 0.7).loss,
      [inp('s', [3, 4]), inp('t', [3, 4], false), inp('l', [3], false, [0, 3, 1], 'int64')],
    ],
    [
      'hinton (regression)',
      (_, [s, t, l]) => hintonLoss(s, t, l, 1, 0.5, true).loss,
      [inp('s', [3, 1]), inp('t', [3, 1], false), inp('l', [3], false)],
    ],
    [
      'soft cross-entropy',
      (_, [s, t]) => softCrossEntropy(s, t, 3),
      [inp('s', [3, 4]), inp('t', [3, 4], false)],
    ],
    [
      'hidden MSE with projection',
      (_, [s, t, W, b, m]) => hiddenMse(s, t, tokenMask(m, F), { W, b }),
      [
        inp('s', [6, 3]),
        inp('t', [6, 5], false),
        inp('W', [5, 3]),
        inp('b', [5]),
        inp('m', [2, 3], false, MASK, 'int64'),
      ],
    ],
    [
      'cosine',
      (_, [s, t, m]) => cosineLoss(s, t, tokenMask(m, F)),
      [inp('s', [6, 4]), inp('t', [6, 4], false), inp('m', [2, 3], false, MASK, 'int64')],
    ],
    [
      'attention MSE',
      (_, [s, t, m]) => attentionMse(s, t, m, false),
      [inp('s', [2, 2, 3, 3]), inp('t', [2, 2, 3, 3], false), inp('m', [2, 3], false, MASK, 'int64')],
    ],
    [
      'attention MSE, averaged heads',
      (_, [s, t, m]) => attentionMse(s, t, m, true),
      [inp('s', [2, 2, 3, 3]), inp('t', [2, 4, 3, 3], false), inp('m', [2, 3], false, MASK, 'int64')],
    ],
  ];
  for (const [name, build, inputs] of cases) {
    test(name, async () => {
      // Floor 1e-4: central differences in float64 carry ~1e-10 absolute noise on O(1) losses.
      const r = await gradCheck(build, inputs, { floor: 1e-4 });
      assert.ok(r.checked > 0);
      assert.ok(r.maxRelErr < 1e-6, `max relative error ${r.maxRelErr} at ${r.worst}`);
      assert.ok(r.maxAbsErr < 1e-8, `max abs error ${r.maxAbsErr}`);
    });
  }
});

async function evaluate(build: (g: Graph) => Value): Promise<number> {
  const g = new Graph();
  g.output(build(g), 'y');
  const s = await Session.create(g, { threads: 1 });
  return Number((await s.run({})).y.data[0]);
}

describe('distillation losses: values by hand', () => {
  test('attention MSE ignores padded queries and keys', async () => {
    // B=1, A=1, T=2, second token padded: only entry (0,0) counts. s=3, t=1 there -> (3-1)^2 = 4.
    const v = await evaluate((g) =>
      attentionMse(
        g.constant([3, 100, -7, 50], F, [1, 1, 2, 2]),
        g.constant([1, -100, 9, 0], F, [1, 1, 2, 2]),
        g.constant([1, 0], 'int64', [1, 2]),
        false,
      ),
    );
    assert.equal(v, 4);
  });
  test('hinton: alpha 0 is plain cross-entropy, alpha 1 is T^2 KL', async () => {
    const s = [0, Math.log(3)];
    const ce = -Math.log(0.75);
    const v0 = await evaluate(
      (g) =>
        hintonLoss(
          g.constant(s, F, [1, 2]),
          g.constant([0, 0], F, [1, 2]),
          g.constant([1], 'int64', [1]),
          2,
          0,
        ).loss,
    );
    assert.ok(Math.abs(v0 - ce) < 1e-12);
    // T = 1: teacher uniform, student [1/4, 3/4]: KL(p||q) = 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75)
    const kl = 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3);
    const v1 = await evaluate(
      (g) =>
        hintonLoss(
          g.constant(s, F, [1, 2]),
          g.constant([0, 0], F, [1, 2]),
          g.constant([1], 'int64', [1]),
          1,
          1,
        ).loss,
    );
    assert.ok(Math.abs(v1 - kl) < 1e-12);
  });
  test('cosine loss is 0 for parallel vectors and 1 for orthogonal ones (padding ignored)', async () => {
    const v = await evaluate((g) =>
      cosineLoss(
        g.constant([1, 0, 2, 0, 5, 5], F, [3, 2]),
        g.constant([3, 0, 0, 1, -1, 1], F, [3, 2]),
        tokenMask(g.constant([1, 1, 0], 'int64', [1, 3]), F),
      ),
    );
    assert.ok(Math.abs(v - 0.5) < 1e-7); // token 1: cos 1 -> 0, token 2: cos 0 -> 1, token 3 padded
  });
});

/** Teacher probabilities softmax(z / T) and their sum p log p per row, computed here in float64. */
function softTargets(z: number[][], T: number): { probs: number[]; negEntropy: number[] } {
  const probs: number[] = [];
  const negEntropy: number[] = [];
  for (const row of z) {
    const m = Math.max(...row.map((v) => v / T));
    const e = row.map((v) => Math.exp(v / T - m));
    const s = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / s);
    probs.push(...p);
    negEntropy.push(p.reduce((a, v) => a + v * Math.log(v), 0));
  }
  return { probs, negEntropy };
}

describe('DistilBERT vocabulary soft cross-entropy + MLM (distilMlmLoss)', () => {
  const K = 4;
  const H = 3;
  const V = 7;
  const rng = new Rng(11);
  const teacherZ = Array.from({ length: K }, () => Array.from({ length: V }, () => 3 * rng.normal()));
  const labels = [2, -100, 6, 2]; // row 1 is a distillation row without an MLM target; label 2 twice
  for (const T of [2, 1]) {
    test(`gradient check (T = ${T}, weights 5 / 2, an ignored row, a repeated label)`, async () => {
      const t = softTargets(teacherZ, T);
      const r = await gradCheck(
        (_, [h, W, b, l, p, ne]) =>
          distilMlmLoss(h, W, b, l, p, ne, { temperature: T, ceWeight: 5, mlmWeight: 2 }).loss,
        [
          inp('h', [K, H]),
          inp('W', [V, H]),
          inp('b', [V]),
          inp('l', [K], false, labels, 'int64'),
          inp('p', [K, V], false, t.probs),
          inp('ne', [K], false, t.negEntropy),
        ],
        { floor: 1e-4 },
      );
      assert.equal(r.checked, K * H + V * H + V);
      assert.ok(r.maxRelErr < 1e-6, `max relative error ${r.maxRelErr} at ${r.worst}`);
      assert.ok(r.maxAbsErr < 1e-8, `max abs error ${r.maxAbsErr}`);
    });
  }

  test('terms equal T^2 KL (klDivWithTemperature) and linearCrossEntropy; teacher side matches', async () => {
    const T = 2;
    const data = (n: number) => Array.from({ length: n }, () => rng.normal());
    const [hD, WD, bD, thD, tWD, tbD] = [
      data(K * H),
      data(V * H),
      data(V),
      data(K * 5),
      data(V * 5),
      data(V),
    ];
    const g = new Graph();
    const h = g.constant(hD, F, [K, H]);
    const W = g.constant(WD, F, [V, H]);
    const b = g.constant(bD, F, [V]);
    const l = g.constant(labels, 'int64', [K]);
    const th = g.constant(thD, F, [K, 5]);
    const tW = g.constant(tWD, F, [V, 5]);
    const tb = g.constant(tbD, F, [V]);
    const t = teacherSoftTargets(th, tW, tb, T);
    const r = distilMlmLoss(h, W, b, l, t.probs, t.negEntropy, { temperature: T, ceWeight: 5, mlmWeight: 2 });
    const sLogits = o.gemm(h, W, b, { transB: true });
    const tLogits = o.gemm(th, tW, tb, { transB: true });
    g.output(r.loss, 'loss');
    g.output(r.ce, 'ce');
    g.output(r.mlm, 'mlm');
    g.output(klDivWithTemperature(sLogits, tLogits, T), 'kl');
    g.output(linearCrossEntropy(h, W, b, l).loss, 'ce_hard');
    const s = await Session.create(g, { threads: 1 });
    const out = await s.run({});
    await s.release();
    const v = (k: string) => Number(out[k].data[0]);
    assert.ok(Math.abs(v('ce') - v('kl')) < 1e-12, `${v('ce')} vs ${v('kl')}`);
    assert.ok(Math.abs(v('mlm') - v('ce_hard')) < 1e-12, `${v('mlm')} vs ${v('ce_hard')}`);
    assert.ok(Math.abs(v('loss') - (5 * v('ce') + 2 * v('mlm'))) < 1e-12);
    assert.ok(v('ce') > 0.1, 'student and teacher disagree here');
  });
});

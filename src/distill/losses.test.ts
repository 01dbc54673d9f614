/** Every distillation loss against finite differences (float64) and against values computed by hand. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CheckInput, gradCheck } from '../graph/gradcheck.js';
import { Graph, type Value } from '../graph/graph.js';
import { Session } from '../runtime/session.js';
import { attentionMse, cosineLoss, hiddenMse, hintonLoss, softCrossEntropy, tokenMask } from './losses.js';

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

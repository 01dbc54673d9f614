import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NgramRow } from './features.js';
import {
  balancedWeights,
  DEFAULT_FIT,
  fitIdf,
  fitLinear,
  type LinearKind,
  linearScores,
  logitRows,
  tfidfRows,
} from './linear.js';

const row = (ids: number[], counts: number[]): NgramRow => ({
  ids: Int32Array.from(ids),
  tf: Float32Array.from(counts, (c) => 1 + Math.log(c)),
});

/** The objective fitLinear minimises, computed directly (for the optimality check). */
function objective(
  w: Float32Array,
  b: Float32Array,
  x: ReturnType<typeof tfidfRows>,
  y: number[],
  kind: LinearKind,
  C: number,
) {
  const K = b.length;
  const z = linearScores(x, w, b, K);
  let loss = 0;
  for (let i = 0; i < y.length; i++) {
    if (kind.regression) loss += 0.5 * (z[i] - y[i]) ** 2;
    else if (K === 1) loss += Math.log1p(Math.exp(z[i])) - y[i] * z[i];
    else {
      const zi = [...z.subarray(i * K, (i + 1) * K)];
      const m = Math.max(...zi);
      loss += m + Math.log(zi.reduce((s, v) => s + Math.exp(v - m), 0)) - zi[y[i]];
    }
  }
  return C * loss + 0.5 * w.reduce((s, v) => s + v * v, 0);
}

describe('TF-IDF rows', () => {
  test('smooth idf and L2-normalised rows, by hand', () => {
    const rows = [row([0, 1], [1, 2]), row([1], [1])];
    const idf = fitIdf(rows, 3);
    // n = 2: df 1 -> ln(3/2) + 1; df 2 -> ln(3/3) + 1 = 1; df 0 -> ln(3) + 1.
    assert.ok(Math.abs(idf[0] - (Math.log(1.5) + 1)) < 1e-6);
    assert.ok(Math.abs(idf[1] - 1) < 1e-6);
    assert.ok(Math.abs(idf[2] - (Math.log(3) + 1)) < 1e-6);
    const x = tfidfRows(rows, idf);
    const v0 = idf[0] * 1;
    const v1 = (1 + Math.log(2)) * 1;
    const n = Math.hypot(v0, v1);
    assert.ok(Math.abs(x.values[0] - v0 / n) < 1e-6);
    assert.ok(Math.abs(x.values[1] - v1 / n) < 1e-6);
    assert.ok(Math.abs(x.values[2] - 1) < 1e-6);
  });
});

describe('fitLinear', () => {
  // Two features that decide the class, one shared by all, and noise ids.
  const rows: NgramRow[] = [];
  const y: number[] = [];
  for (let i = 0; i < 40; i++) {
    const c = i % 2;
    rows.push(row([c, 2, 3 + (i % 5)], [1, 1, 1]));
    y.push(c);
  }
  const x = tfidfRows(rows, fitIdf(rows, 8));

  for (const [name, kind, labels] of [
    ['binary logistic', { regression: false, classes: 2 }, y],
    ['multinomial (3 classes)', { regression: false, classes: 3 }, y.map((c, i) => (i % 3 === 0 ? 2 : c))],
    ['ridge', { regression: true }, y.map((c) => 2 * c - 0.5)],
  ] as [string, LinearKind, number[]][]) {
    test(`${name}: gradient ~ 0 at the optimum, and no nearby point is lower`, () => {
      const K = kind.regression || kind.classes === 2 ? 1 : kind.classes;
      const r = fitLinear(x, labels, 8, kind, { ...DEFAULT_FIT, C: 3 });
      const f = objective(r.weight, r.bias, x, labels, kind, 3);
      for (let j = 0; j < r.weight.length; j++)
        for (const eps of [1e-3, -1e-3]) {
          const w = Float32Array.from(r.weight);
          w[j] += eps;
          assert.ok(objective(w, r.bias, x, labels, kind, 3) >= f - 1e-6, `weight ${j} ${eps}`);
        }
      for (let k = 0; k < K; k++) {
        const b = Float32Array.from(r.bias);
        b[k] += 1e-3;
        assert.ok(objective(r.weight, b, x, labels, kind, 3) >= f - 1e-6, `bias ${k}`);
      }
    });
  }

  test('separable classes are learned; a larger C fits them harder', () => {
    const kind: LinearKind = { regression: false, classes: 2 };
    const weak = fitLinear(x, y, 8, kind, { ...DEFAULT_FIT, C: 0.1 });
    const strong = fitLinear(x, y, 8, kind, { ...DEFAULT_FIT, C: 100 });
    const acc = (r: typeof weak) => {
      const z = linearScores(x, r.weight, r.bias, 1);
      return y.filter((c, i) => (z[i] > 0 ? 1 : 0) === c).length / y.length;
    };
    assert.equal(acc(strong), 1);
    assert.ok(Math.abs(strong.weight[1] - strong.weight[0]) > Math.abs(weak.weight[1] - weak.weight[0]));
    // Bucket 8 of 9: no row uses it, so it keeps weight 0.
    const wide = fitLinear(tfidfRows(rows, fitIdf(rows, 9)), y, 9, kind, { ...DEFAULT_FIT, C: 100 });
    assert.equal(wide.weight[8], 0);
    assert.notEqual(wide.weight[7], 0);
  });

  test('weights bit for bit as the row-at-a-time fit gave them (golden), on rows of every length', () => {
    // 203 rows (not a multiple of 4) of 0-12 ids, a word block and a character block. The hashes are of
    // the weights and bias that the fit which scattered each row's gradient in turn returned: the
    // column-wise, four-lines-at-a-time sums must add the same terms in the same order.
    let s = 12345;
    const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const rows: NgramRow[] = [];
    for (let i = 0; i < 203; i++) {
      const len = Math.floor(rnd() * 13);
      const ids = new Set<number>();
      while (ids.size < len) ids.add(Math.floor(rnd() * rnd() * 64));
      const sorted = Int32Array.from(ids).sort();
      rows.push({
        ids: sorted,
        tf: Float32Array.from(sorted, () => 1 + Math.log(1 + Math.floor(rnd() * 3))),
      });
    }
    const x = tfidfRows(rows, fitIdf(rows, 64), { charStart: 40, denseStart: null });
    const hash = (r: { weight: Float32Array; bias: Float32Array }) => {
      let h = 0x811c9dc5;
      for (const a of [r.weight, r.bias])
        for (const u of new Uint32Array(a.buffer, a.byteOffset, a.length))
          h = Math.imul(h ^ u, 0x01000193) >>> 0;
      return h.toString(16);
    };
    const out: string[] = [];
    for (const [kind, y] of [
      [
        { regression: false, classes: 2 },
        rows.map((r) => (r.ids.reduce((a, b) => a + (b % 7) - 3, 0) > 0 ? 1 : 0)),
      ],
      [{ regression: false, classes: 3 }, rows.map((r) => r.ids.length % 3)],
      [{ regression: true }, rows.map((r) => r.ids.length / 4 - 1)],
    ] as [LinearKind, number[]][]) {
      let init: { weight: Float32Array; bias: Float32Array } | undefined;
      for (const C of [1, 10]) {
        const r = fitLinear(x, y, 64, kind, { ...DEFAULT_FIT, C, init });
        init = r;
        out.push(`${hash(r)}/${r.iterations}`);
      }
    }
    assert.deepEqual(out, [
      'cfb950a3/12',
      'ada53763/23',
      '3ce5572a/27',
      '21d93d5/66',
      'd80a47c8/23',
      '4c5c32c/40',
    ]);
  });

  test('a row of weight 2 fits as that row twice (every kind); balanced weights by hand', () => {
    const idf = fitIdf(rows, 8);
    const twice = [...rows, ...rows.slice(0, 7)];
    const weights = rows.map((_, i) => (i < 7 ? 2 : 1));
    for (const [kind, labels] of [
      [{ regression: false, classes: 2 }, y],
      [{ regression: false, classes: 3 }, y.map((c, i) => (i % 3 === 0 ? 2 : c))],
      [{ regression: true }, y.map((c, i) => 2 * c - 0.5 + (i % 4) / 8)],
    ] as [LinearKind, number[]][]) {
      const o = { ...DEFAULT_FIT, C: 3, tolerance: 1e-8 };
      const weighted = fitLinear(tfidfRows(rows, idf), labels, 8, kind, { ...o, rowWeights: weights });
      const copied = fitLinear(tfidfRows(twice, idf), [...labels, ...labels.slice(0, 7)], 8, kind, o);
      const plain = fitLinear(tfidfRows(rows, idf), labels, 8, kind, o);
      const gap = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, j) => Math.abs(v - b[j])));
      assert.ok(
        gap(weighted.weight, copied.weight) < 1e-4,
        `${JSON.stringify(kind)}: ${gap(weighted.weight, copied.weight)}`,
      );
      assert.ok(gap(weighted.bias, copied.bias) < 1e-4);
      assert.ok(gap(weighted.weight, plain.weight) > 1e-3, 'the weights change the fit');
    }
    // 3 rows of class 0, 1 of class 1: n / (classes * count).
    assert.deepEqual([...balancedWeights([0, 0, 1, 0], 2)], [4 / 6, 4 / 6, 2, 4 / 6]);
  });

  test('two-class logits are [-z/2, z/2]: their softmax is sigmoid(z)', () => {
    const [l] = logitRows(Float64Array.of(1.5), { regression: false, classes: 2 });
    assert.deepEqual([...l], [-0.75, 0.75]);
  });
});

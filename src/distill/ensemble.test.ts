/** Ensemble soft targets against hand-computed means of softmaxes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensembleLogits } from './ensemble.js';

const softmax = (z: number[], t: number) => {
  const e = z.map((v) => Math.exp(v / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

test('softmax of the combined logits at T is the mean of the members softmaxes at T', () => {
  // Two examples, three labels, two teachers that disagree.
  const a = Float32Array.from([2, 0, -1, 0.5, 0.5, 3]);
  const b = Float32Array.from([-1, 1, 0, 4, -2, 0]);
  for (const t of [1, 2, 4]) {
    const out = ensembleLogits([a, b], 3, t, false);
    for (let r = 0; r < 2; r++) {
      const got = softmax(Array.from(out.subarray(3 * r, 3 * r + 3)), t);
      const pa = softmax(Array.from(a.subarray(3 * r, 3 * r + 3)), t);
      const pb = softmax(Array.from(b.subarray(3 * r, 3 * r + 3)), t);
      got.forEach((g, j) =>
        assert.ok(Math.abs(g - (pa[j] + pb[j]) / 2) < 1e-6, `T ${t} row ${r} label ${j}`),
      );
    }
  }
  // By hand, T = 1, example 1 of a two-label case: softmaxes (0.5, 0.5) and (e/(1+e), 1/(1+e)).
  const [x, y] = ensembleLogits([Float32Array.from([0, 0]), Float32Array.from([1, 0])], 2, 1, false);
  const q = Math.E / (1 + Math.E);
  assert.ok(Math.abs(Math.exp(x) - (0.5 + q) / 2) < 1e-6 && Math.abs(Math.exp(y) - (0.5 + 1 - q) / 2) < 1e-6);
});

test('one member gives back its own softmax; a certain member leaves no NaN or infinity', () => {
  const z = Float32Array.from([1, 2, 3]);
  const out = ensembleLogits([z], 3, 2, false);
  const [p, q] = [softmax(Array.from(out), 2), softmax(Array.from(z), 2)];
  p.forEach((v, j) => assert.ok(Math.abs(v - q[j]) < 1e-6));
  const sure = ensembleLogits(
    [Float32Array.from([1000, -1000]), Float32Array.from([900, -900])],
    2,
    1,
    false,
  );
  assert.ok(sure.every(Number.isFinite), String(sure));
});

test('regression: the mean prediction', () => {
  assert.deepEqual(
    Array.from(
      ensembleLogits(
        [Float32Array.from([1, 4]), Float32Array.from([3, 0]), Float32Array.from([2, 2])],
        1,
        2,
        true,
      ),
    ),
    [2, 2],
  );
  assert.throws(
    () => ensembleLogits([Float32Array.from([1, 2]), Float32Array.from([1])], 1, 1, true),
    /lengths 2, 1/,
  );
});

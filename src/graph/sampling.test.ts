/** In-graph categorical sampling: the inverse CDF of a JS reference, and the right frequencies. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../runtime/session.js';
import { Rng } from '../util/rng.js';
import { Graph } from './graph.js';
import { sampleCategorical } from './sampling.js';
import { inverseCdf } from './sampling.testkit.js';

async function sampler(temperature = 1) {
  const g = new Graph();
  const logits = g.input('logits', 'float32', ['M', 'V']);
  const u = g.input('u', 'float32', ['M']);
  g.output(sampleCategorical(logits, u, temperature), 'ids');
  const s = await Session.create(g, { threads: 1 });
  return async (l: Float32Array, us: Float32Array, V: number) =>
    Array.from(
      (await s.run({ logits: { data: l, shape: [us.length, V] }, u: { data: us, shape: [us.length] } })).ids
        .data as BigInt64Array,
      Number,
    );
}

test('sampleCategorical is the inverse CDF of the softmax, per row', async () => {
  const run = await sampler();
  const rng = new Rng(3);
  const M = 50;
  const V = 7;
  const l = Float32Array.from({ length: M * V }, () => rng.normal() * 2);
  const us = Float32Array.from({ length: M }, (_, i) => (i === 0 ? 0 : i === 1 ? 0.9999999 : rng.uniform()));
  const got = await run(l, us, V);
  got.forEach((k, i) => {
    const want = inverseCdf(Array.from(l.subarray(i * V, (i + 1) * V)), us[i]);
    // Float32 cumulative sums may put a u within ~1e-7 of a boundary on the other side: allow only that.
    if (k !== want) {
      const row = Array.from(l.subarray(i * V, (i + 1) * V));
      const cdfAt = (j: number) =>
        row.slice(0, j + 1).reduce((a, x) => a + Math.exp(x - Math.max(...row)), 0) /
        row.reduce((a, x) => a + Math.exp(x - Math.max(...row)), 0);
      assert.ok(Math.abs(cdfAt(Math.min(k, want)) - us[i]) < 1e-6, `row ${i}: ${k} vs ${want}`);
    }
  });
  assert.ok(got.every((k) => k >= 0 && k < V));
});

for (const temperature of [1, 3]) {
  test(`sampleCategorical draws each category at its probability in softmax(logits / ${temperature})`, async () => {
    const run = await sampler(temperature);
    const V = 4;
    const row = [0, 1, -1, 2];
    const N = 20000;
    const rng = new Rng(9);
    const l = Float32Array.from({ length: N * V }, (_, i) => row[i % V]);
    const us = Float32Array.from({ length: N }, () => rng.uniform());
    const counts = new Array(V).fill(0);
    for (const k of await run(l, us, V)) counts[k]++;
    const z = row.reduce((a, x) => a + Math.exp(x / temperature), 0);
    row.forEach((x, k) => {
      const p = Math.exp(x / temperature) / z;
      const sd = Math.sqrt((p * (1 - p)) / N);
      assert.ok(Math.abs(counts[k] / N - p) < 5 * sd, `category ${k}: ${counts[k] / N} vs ${p}`);
    });
  });
}

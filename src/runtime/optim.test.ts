import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../util/rng.js';
import { AdamW, type AdamWConfig, decays, GradAccumulator, globalNorm, lrFactor } from './optim.js';
import type { Param } from './params.js';

const cfg: AdamWConfig = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.1, clipNorm: 0.5 };

function params(seed: number): Param[] {
  const rng = new Rng(seed);
  const mk = (name: string, n: number): Param => ({
    name,
    shape: [n],
    init: 'normal',
    data: Float32Array.from({ length: n }, () => rng.normal()),
  });
  return [
    mk('bert.encoder.layer.0.output.dense.weight', 37),
    mk('bert.encoder.layer.0.output.dense.bias', 5),
    mk('bert.embeddings.LayerNorm.weight', 8),
  ];
}

describe('AdamW', () => {
  test('the SIMD optimizer and the JS reference agree step for step (clipping and decay active)', async () => {
    const a = params(1);
    const b = params(1);
    const js = new AdamW(a, cfg);
    const simd = await AdamW.create(b, cfg);
    const rng = new Rng(2);
    for (let s = 0; s < 10; s++) {
      const grads = a.map((p) => Float32Array.from({ length: p.data.length }, () => rng.normal()));
      const n1 = js.update(grads, cfg.lr, 0.5);
      const n2 = simd.update(grads, cfg.lr, 0.5);
      assert.ok(Math.abs(n1 - n2) < 1e-9 * n1, `norms ${n1} vs ${n2}`);
    }
    for (let k = 0; k < a.length; k++) {
      for (let i = 0; i < a[k].data.length; i++)
        assert.ok(Math.abs(a[k].data[i] - b[k].data[i]) < 1e-6, `${a[k].name}[${i}]`);
    }
  });

  test('one step by hand: bias-corrected first step moves each weight by lr * sign(g) (no decay on bias)', () => {
    const p: Param = { name: 'x.bias', shape: [2], init: 'zeros', data: Float32Array.from([1, -1]) };
    const opt = new AdamW([p], { ...cfg, clipNorm: 0 });
    opt.update([Float32Array.from([0.3, -2])], 0.1);
    // m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps) ~ lr * sign(g).
    assert.ok(Math.abs(p.data[0] - 0.9) < 1e-5);
    assert.ok(Math.abs(p.data[1] - -0.9) < 1e-5);
  });

  test('no weight decay on biases and LayerNorm', () => {
    assert.equal(decays('bert.encoder.layer.0.attention.self.query.weight'), true);
    assert.equal(decays('bert.encoder.layer.0.attention.self.query.bias'), false);
    assert.equal(decays('bert.embeddings.LayerNorm.weight'), false);
  });

  test('globalNorm is the L2 norm over all gradients', () => {
    assert.equal(globalNorm([Float32Array.from([3]), Float32Array.from([4])]), 5);
  });
});

describe('schedules', () => {
  test('linear warmup then linear / cosine decay', () => {
    const s = { warmupSteps: 4, totalSteps: 14, decay: 'linear' as const };
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => lrFactor(i, s)),
      [0.25, 0.5, 0.75, 1],
    );
    assert.equal(lrFactor(9, s), 0.5); // halfway through the 10 decay steps
    assert.equal(lrFactor(14, s), 0);
    assert.ok(Math.abs(lrFactor(9, { ...s, decay: 'cosine' }) - 0.5) < 1e-12);
    assert.equal(lrFactor(100, { ...s, decay: 'constant' }), 1);
  });
});

describe('GradAccumulator', () => {
  test('sums micro-batch gradients and resets', () => {
    const acc = new GradAccumulator();
    acc.add([Float32Array.from([1, 2])]);
    acc.add([Float32Array.from([3, 4])]);
    const { grads, count } = acc.take();
    assert.deepEqual([...grads[0]], [4, 6]);
    assert.equal(count, 2);
    assert.throws(() => acc.take());
  });
});

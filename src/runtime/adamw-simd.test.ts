/**
 * Tests for the WebAssembly SIMD AdamW kernel: bit-exact agreement with an f32 (Math.fround) JS reference,
 * closeness to the float64 JS formula and to `AdamW.update` from optim.ts, untouched memory outside the
 * arrays, sumsq against a float64 sum, and the arena / ownership / alignment errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../util/rng.js';
import { adamwWasmBytes, SimdAdamWKernel, WasmArena } from './adamw-simd.js';
import { AdamW, type AdamWConfig } from './optim.js';

const f = Math.fround;

interface Hyper {
  gscale: number;
  beta1: number;
  beta2: number;
  stepSize: number;
  invBc2: number;
  eps: number;
  decay: number;
}

/** Hyper-parameters of AdamW step `t` (1-based), derived as in optim.ts. */
function hyper(t: number, lr: number, gscale: number): Hyper {
  const beta1 = 0.9;
  const beta2 = 0.999;
  return {
    gscale,
    beta1,
    beta2,
    stepSize: lr / (1 - beta1 ** t),
    invBc2: 1 / Math.sqrt(1 - beta2 ** t),
    eps: 1e-6,
    decay: 1 - lr * 0.01,
  };
}

/** The kernel's formula with every operation rounded to float32 (what wasm f32 arithmetic does). */
function refF32(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: Hyper): void {
  const gs = f(h.gscale);
  const b1 = f(h.beta1);
  const b2 = f(h.beta2);
  const ob1 = f(1 - h.beta1);
  const ob2 = f(1 - h.beta2);
  const ss = f(h.stepSize);
  const ibc = f(h.invBc2);
  const eps = f(h.eps);
  const dec = f(1 - h.decay); // the kernel receives 1 - decay
  for (let i = 0; i < w.length; i++) {
    const gi = f(g[i] * gs);
    const mi = f(f(b1 * m[i]) + f(ob1 * gi));
    const vi = f(f(b2 * v[i]) + f(f(ob2 * gi) * gi));
    m[i] = mi;
    v[i] = vi;
    const den = f(f(f(Math.sqrt(vi)) * ibc) + eps);
    w[i] = f(w[i] - f(f(w[i] * dec) + f(f(ss * mi) / den)));
  }
}

/** The same formula in float64 arithmetic, rounded only when stored (the optim.ts loop). */
function refF64(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: Hyper): void {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] * h.gscale;
    const mi = h.beta1 * m[i] + (1 - h.beta1) * gi;
    const vi = h.beta2 * v[i] + (1 - h.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * h.decay - (h.stepSize * mi) / (Math.sqrt(vi) * h.invBc2 + h.eps);
  }
}

function randomNormal(rng: Rng, out: Float32Array, scale: number): void {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal() * scale;
}

function maxAbs(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i]));
  return s;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i] - b[i]));
  return s;
}

/** First index where the arrays differ bitwise (NaN-safe), or -1. */
function firstBitDiff(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

describe('adamw-simd module', () => {
  test('the hand-assembled binary validates', () => {
    assert.equal(WebAssembly.validate(adamwWasmBytes()), true);
  });
});

describe('SimdAdamWKernel.update', () => {
  for (const n of [0, 1, 3, 4, 5, 1000, 1000003]) {
    test(`n = ${n}: bit-exact vs f32 reference, close to float64 reference, nothing else touched`, async () => {
      const rng = new Rng(1234 + n);
      const guard = 8; // floats of sentinel between arrays
      const arena = WasmArena.create(WasmArena.floatsFor([guard, n, guard, n, guard, n, guard, n, guard]));
      // Fill all memory with a sentinel pattern; the kernel must only change w, m, v[0..n).
      const all = new Float32Array(arena.memory.buffer);
      all.fill(-123.25);
      const slots: Float32Array[] = [];
      const grab = (len: number) => {
        const a = arena.alloc(len);
        slots.push(a);
        return a;
      };
      grab(guard);
      const w = grab(n);
      grab(guard);
      const g = grab(n);
      grab(guard);
      const m = grab(n);
      grab(guard);
      const v = grab(n);
      grab(guard);
      randomNormal(rng, w, 0.02);
      m.fill(0);
      v.fill(0);
      const snapshot = Float32Array.from(all);

      const w32 = Float32Array.from(w);
      const m32 = Float32Array.from(m);
      const v32 = Float32Array.from(v);
      const w64 = Float32Array.from(w);
      const m64 = Float32Array.from(m);
      const v64 = Float32Array.from(v);
      const kernel = await SimdAdamWKernel.create(arena);
      const steps = n > 100000 ? 3 : 6;
      for (let t = 1; t <= steps; t++) {
        // Gradients with a wide dynamic range, including exact zeros.
        for (let i = 0; i < n; i++) g[i] = rng.uniform() < 0.05 ? 0 : rng.normal() * 10 ** (rng.int(6) - 4);
        const h = hyper(t, 1e-3, t % 2 === 0 ? 0.5 : 1);
        kernel.update(w, g, m, v, h.gscale, h.beta1, h.beta2, h.stepSize, h.invBc2, h.eps, h.decay);
        refF32(w32, g, m32, v32, h);
        refF64(w64, g, m64, v64, h);
      }
      assert.equal(firstBitDiff(w, w32), -1, 'w differs from the f32 reference');
      assert.equal(firstBitDiff(m, m32), -1, 'm differs from the f32 reference');
      assert.equal(firstBitDiff(v, v32), -1, 'v differs from the f32 reference');
      if (n > 0) {
        const scale = maxAbs(w64);
        assert.ok(
          maxAbsDiff(w, w64) <= 1e-6 * scale,
          `w vs float64: ${maxAbsDiff(w, w64)} (max |w| ${scale})`,
        );
        assert.ok(maxAbsDiff(m, m64) <= 1e-6 * maxAbs(m64), 'm vs float64');
        assert.ok(maxAbsDiff(v, v64) <= 1e-6 * maxAbs(v64), 'v vs float64');
      }
      // Everything outside w, m, v is unchanged (guards, padding, g, the rest of the page).
      const changed = new Set<number>();
      for (const a of [w, m, v]) for (let i = 0; i < a.length; i++) changed.add(a.byteOffset / 4 + i);
      for (let i = 0; i < all.length; i++) {
        if (changed.has(i)) continue;
        if (i >= g.byteOffset / 4 && i < g.byteOffset / 4 + n) continue; // g rewritten by the test itself
        if (all[i] !== snapshot[i]) assert.fail(`float ${i} outside w, m, v changed`);
      }
    });
  }

  test('weight decay close to 1 keeps its precision (decay is not rounded to f32)', async () => {
    // With zero gradients only the decay acts. fround(1 - 1e-6) is 1 - 1.0133e-6 and fround(1 - 1e-7) is
    // 1 - 1.19e-7: multiplying by the rounded factor would be 1.3% / 19% off in the decay itself. Compared
    // with the float64 JS loop (which rounds w to f32 after every step too).
    const n = 1024;
    for (const amount of [1e-6, 1e-7]) {
      const arena = WasmArena.create(WasmArena.floatsFor([n, n, n, n]));
      const w = arena.alloc(n);
      const g = arena.alloc(n);
      const m = arena.alloc(n);
      const v = arena.alloc(n);
      const rng = new Rng(5);
      for (let i = 0; i < n; i++) w[i] = 0.5 + rng.uniform();
      const w0 = Float32Array.from(w);
      const kernel = await SimdAdamWKernel.create(arena);
      const steps = 200;
      for (let t = 0; t < steps; t++) kernel.update(w, g, m, v, 1, 0.9, 0.999, 1e-4, 1, 1e-6, 1 - amount);
      const wJs = Float32Array.from(w0);
      for (let t = 0; t < steps; t++) for (let i = 0; i < n; i++) wJs[i] = wJs[i] * (1 - amount);
      let got = 0;
      let want = 0;
      for (let i = 0; i < n; i++) {
        got += w0[i] - w[i];
        want += w0[i] - wJs[i];
      }
      assert.ok(Math.abs(got - want) <= 1e-3 * want, `decay ${amount}: shrank by ${got}, expected ${want}`);
    }
  });

  test('matches AdamW.update from optim.ts (float64 loop) to float32 rounding', async () => {
    const n = 4099;
    const cfg: AdamWConfig = {
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-6,
      weightDecay: 0.01,
      clipNorm: 0,
    };
    const rng = new Rng(7);
    const arena = WasmArena.create(WasmArena.floatsFor([n, n, n, n]));
    const w = arena.alloc(n);
    const g = arena.alloc(n);
    const m = arena.alloc(n);
    const v = arena.alloc(n);
    randomNormal(rng, w, 0.02);
    const param = { name: 'encoder.weight', shape: [n], data: Float32Array.from(w), init: 'normal' as const };
    const opt = new AdamW([param], cfg);
    const kernel = await SimdAdamWKernel.create(arena);
    for (let t = 1; t <= 5; t++) {
      randomNormal(rng, g, 0.1);
      const scale = 0.25;
      opt.update([Float32Array.from(g)], cfg.lr, scale);
      kernel.update(
        w,
        g,
        m,
        v,
        scale,
        cfg.beta1,
        cfg.beta2,
        cfg.lr / (1 - cfg.beta1 ** t),
        1 / Math.sqrt(1 - cfg.beta2 ** t),
        cfg.eps,
        1 - cfg.lr * cfg.weightDecay,
      );
    }
    const scaleW = maxAbs(param.data);
    assert.ok(maxAbsDiff(w, param.data) <= 1e-6 * scaleW, `diff ${maxAbsDiff(w, param.data)}`);
    assert.ok(maxAbsDiff(m, opt.m.get(param.name)!) <= 1e-6 * maxAbs(m));
    assert.ok(maxAbsDiff(v, opt.v.get(param.name)!) <= 1e-6 * maxAbs(v));
  });
});

describe('SimdAdamWKernel.sumsq', () => {
  for (const n of [0, 1, 3, 4, 5, 1000, 1000003]) {
    test(`n = ${n}: float64 accuracy`, async () => {
      const rng = new Rng(99 + n);
      const arena = WasmArena.create(WasmArena.floatsFor([1, n, 1]));
      const before = arena.alloc(1);
      const g = arena.alloc(n);
      const after = arena.alloc(1);
      before[0] = 1e6; // must not be counted
      after[0] = 1e6;
      for (let i = 0; i < n; i++) g[i] = rng.normal() * 10 ** (rng.int(5) - 3);
      let ref = 0;
      for (let i = 0; i < n; i++) ref += g[i] * g[i];
      const kernel = await SimdAdamWKernel.create(arena);
      const got = kernel.sumsq(g);
      if (n === 0) assert.equal(got, 0);
      else assert.ok(Math.abs(got - ref) <= 1e-12 * ref, `sumsq ${got} vs ${ref}`);
    });
  }

  test('exact on small integers (tail and vector paths)', async () => {
    const arena = WasmArena.create(64);
    const g = arena.alloc(11);
    g.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const kernel = await SimdAdamWKernel.create(arena);
    assert.equal(kernel.sumsq(g), 506);
    assert.equal(kernel.sumsq(g.subarray(0, 8)), 204);
    assert.equal(kernel.sumsq(g.subarray(4, 7)), 25 + 36 + 49);
  });
});

describe('WasmArena and argument checks', () => {
  test('alloc is 16-byte aligned, zero-filled, and runs out of space with a clear error', () => {
    const arena = WasmArena.create(16);
    assert.equal(arena.capacityBytes, 65536); // one page
    const a = arena.alloc(5);
    const b = arena.alloc(1);
    const c = arena.alloc(0);
    const d = arena.alloc(3);
    for (const x of [a, b, c, d]) assert.equal(x.byteOffset % 16, 0);
    assert.deepEqual([a.byteOffset, b.byteOffset, c.byteOffset, d.byteOffset], [0, 32, 48, 48]);
    assert.ok(a.every((x) => x === 0));
    assert.equal(arena.usedBytes, 64);
    const rest = arena.alloc((65536 - 64) / 4);
    assert.equal(rest.length, 16368);
    assert.throws(() => arena.alloc(1), /out of space/);
    assert.throws(() => arena.alloc(-1), /bad length/);
    assert.throws(() => WasmArena.create(-1), /non-negative integer/);
  });

  test('create sizes the memory for the requested floats, and it cannot grow', () => {
    const arena = WasmArena.create(WasmArena.floatsFor([100000, 3, 5]));
    assert.equal(WasmArena.floatsFor([100000, 3, 5]), 100000 + 4 + 8);
    assert.equal(arena.capacityBytes, Math.ceil((100012 * 4) / 65536) * 65536);
    arena.alloc(100000);
    arena.alloc(3);
    arena.alloc(5);
    assert.throws(() => arena.memory.grow(1), RangeError);
  });

  test('update and sumsq reject foreign, misaligned and mismatched arrays', async () => {
    const arena = WasmArena.create(64);
    const other = WasmArena.create(64);
    const kernel = await SimdAdamWKernel.create(arena);
    const w = arena.alloc(8);
    const g = arena.alloc(8);
    const m = arena.alloc(8);
    const v = arena.alloc(8);
    const h = [1, 0.9, 0.999, 1e-3, 1, 1e-6, 1] as const;
    kernel.update(w, g, m, v, ...h);
    assert.throws(() => kernel.update(w, new Float32Array(8), m, v, ...h), /g is not a view into/);
    assert.throws(() => kernel.update(w, g, m, other.alloc(8), ...h), /v is not a view into/);
    assert.throws(() => kernel.sumsq(new Float32Array(4)), /g is not a view into/);
    const misaligned = new Float32Array(arena.memory.buffer, g.byteOffset + 4, 4);
    assert.throws(
      () => kernel.update(misaligned, g, m, v, ...h),
      /w starts at byte \d+, not 16-byte aligned/,
    );
    assert.throws(() => kernel.sumsq(misaligned), /not 16-byte aligned/);
    assert.throws(() => kernel.update(w, g, m, v.subarray(0, 4), ...h), /length mismatch/);
    assert.throws(
      () => kernel.update(w, g, new Float64Array(8) as unknown as Float32Array, v, ...h),
      /m is not a Float32Array/,
    );
  });
});

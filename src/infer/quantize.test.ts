/** int8 rows and float16 scales against hand-checkable cases and their error bounds. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../util/rng.js';
import {
  dequantizeRows,
  float16Bits,
  float16Value,
  quantizeColumns,
  quantizeRows,
  rangeCodes,
  transposeInt8,
} from './quantize.js';

describe('int8 quantisation', () => {
  test('a hand-computed row: scale max|w|/127, values rounded, zero rows kept at zero', () => {
    const w = Float32Array.from([1.27, -0.635, 0.01, 0, 0, 0]);
    const { q, scale } = quantizeRows(w, 2, 3);
    // The scale is float32(1.27 / 127) = 0.0099999998, so -0.635 / scale = -63.500001 rounds to -64.
    assert.deepEqual(Array.from(q), [127, -64, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(scale), [Math.fround(0.01), 1]);
  });

  test('every value is within half a step of its row scale; 7-bit rows stay in [-63, 63]', () => {
    const rng = new Rng(3);
    const rows = 20;
    const cols = 33;
    const w = Float32Array.from({ length: rows * cols }, () => rng.normal() * (1 + rng.uniform() * 10));
    for (const [qmax, half] of [
      [127, false],
      [63, false],
      [127, true],
    ] as const) {
      const x = quantizeRows(w, rows, cols, qmax, half);
      const back = dequantizeRows(x, cols);
      for (let i = 0; i < w.length; i++) {
        const s = x.scale[Math.floor(i / cols)];
        assert.ok(Math.abs(x.q[i]) <= qmax);
        assert.ok(Math.abs(back[i] - w[i]) <= s / 2 + 1e-6 * Math.abs(w[i]), `${qmax} ${half} [${i}]`);
      }
      if (half)
        for (const s of x.scale) assert.equal(float16Value(float16Bits(s)), s, 'scales are exact halves');
    }
  });

  test('a hand-computed narrow table, one scale per column: max|w[:, c]|/127, zero columns kept at zero', () => {
    const w = Float32Array.from([1.27, 0.5, 0, -0.635, -2.54, 0]);
    const { q, scale } = quantizeColumns(w, 2, 3);
    assert.deepEqual(Array.from(scale), [Math.fround(0.01), Math.fround(0.02), 1]);
    // 0.5 / float32(0.02) = 24.99999944 rounds to 25; -0.635 / float32(0.01) = -63.500001 to -64.
    assert.deepEqual(Array.from(q), [127, 25, 0, -64, -127, 0]);
  });

  test('per column: every value within half a step of its column scale', () => {
    const rng = new Rng(4);
    const [rows, cols] = [50, 4];
    const w = Float32Array.from({ length: rows * cols }, () => rng.normal() * (1 + rng.uniform() * 10));
    const x = quantizeColumns(w, rows, cols);
    assert.equal(x.scale.length, cols);
    for (let i = 0; i < w.length; i++) {
      assert.ok(Math.abs(x.q[i]) <= 127);
      const s = x.scale[i % cols];
      assert.ok(Math.abs(x.q[i] * s - w[i]) <= s / 2 + 1e-6 * Math.abs(w[i]), `[${i}]`);
    }
  });

  test('transposeInt8 of a 2 x 3 matrix', () => {
    assert.deepEqual(Array.from(transposeInt8(Int8Array.from([1, 2, 3, 4, 5, 6]), 2, 3)), [1, 4, 2, 5, 3, 6]);
  });

  test('float16: every finite half round-trips; rounding to nearest even; overflow and underflow', () => {
    for (let h = 0; h < 0x7c00; h++) {
      assert.equal(float16Bits(float16Value(h)), h);
      assert.equal(float16Bits(-float16Value(h)), h === 0 ? 0x8000 : h | 0x8000);
    }
    assert.equal(float16Bits(1 + 2 ** -11), 0x3c00); // halfway between 1 and the next half: to even
    assert.equal(float16Bits(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(float16Bits(70000), 0x7c00);
    assert.equal(float16Bits(1e-9), 0);
  });

  test('rangeCodes: a calibrated range to uint8 scale and zero point, 0 exact, by hand', () => {
    // [-1, 2.4]: 3.4 / 255 per step, zero at round(1 / (3.4 / 255)) = round(75) = 75.
    const a = rangeCodes([-1, 2.4]);
    assert.equal(a.scale, Math.fround(3.4 / 255));
    assert.equal(a.zeroPoint, 75);
    // Only positive (after GELU the least is about -0.17; a ReLU's 0): widened to hold 0, zero point 0.
    assert.deepEqual(rangeCodes([0.5, 5.1]), { scale: Math.fround(5.1 / 255), zeroPoint: 0 });
    // Only negative: zero point 255.
    assert.deepEqual(rangeCodes([-2.55, -1]), { scale: Math.fround(2.55 / 255), zeroPoint: 255 });
    // A constant zero activation: any scale, zero at 0.
    assert.deepEqual(rangeCodes([0, 0]), { scale: 1, zeroPoint: 0 });
    assert.throws(() => rangeCodes([Number.NaN, 1]), /not finite/);
  });
});

/**
 * int8 quantisation of weights, written in TypeScript (no Python at run time): symmetric, one scale per
 * row (per output channel of a dense layer stored (out, in), per token of an embedding table), zero point 0
 * (narrow code tables: one per column, quantizeColumns).
 * q = round(w / s) clamped to [-qmax, qmax] with s = max |w| / qmax over the row, so w ~ q * s.
 *
 * Two ways to run the result (measured in docs/deploy.md): weight-only, where DequantizeLinear turns the int8
 * weights back into float32 in the graph, and dynamic, where the activations are quantised at run time too
 * and the products are integer (MatMulInteger, as onnxruntime's Python `quantize_dynamic` writes, but with
 * one activation scale per row instead of per tensor: export-graph.ts), and static, where activations are
 * quantised with fixed scales calibrated on texts (rangeCodes, calibrate.ts).
 */

export interface QuantizedRows {
  q: Int8Array; // row-major, same shape as the weights
  scale: Float32Array; // one per row
}

/**
 * Quantise a (rows, cols) row-major matrix to int8, one scale per row, values in [-qmax, qmax]. Weights
 * that meet uint8 activations in MatMulInteger use qmax 63 (7 bits, onnxruntime's `reduce_range`): x64
 * CPUs without VNNI add pairs of uint8 x int8 products in int16, which saturates with 8-bit weights.
 */
export function quantizeRows(
  w: Float32Array,
  rows: number,
  cols: number,
  qmax = 127,
  /** Scales stored as float16 (large embedding tables): quantise against the rounded scale. */
  halfScales = false,
): QuantizedRows {
  if (w.length !== rows * cols) throw new Error(`quantizeRows: ${w.length} values for ${rows} x ${cols}`);
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    const off = r * cols;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[off + c]));
    // Math.fround: the scale the graph stores is float32, so quantise against that exact value.
    const s = halfScales
      ? float16Value(float16Bits(m > 0 ? m / qmax : 1))
      : Math.fround(m > 0 ? m / qmax : 1);
    scale[r] = s;
    for (let c = 0; c < cols; c++) q[off + c] = Math.max(-qmax, Math.min(qmax, Math.round(w[off + c] / s)));
  }
  return { q, scale };
}

/**
 * Quantise a (rows, cols) row-major matrix to int8 with one scale per column instead (narrow tables: a
 * low-rank model's V x k codes, where a scale per row would cost 2 bytes beside every k bytes of codes).
 */
export function quantizeColumns(w: Float32Array, rows: number, cols: number, qmax = 127): QuantizedRows {
  if (w.length !== rows * cols) throw new Error(`quantizeColumns: ${w.length} values for ${rows} x ${cols}`);
  const m = new Float32Array(cols);
  for (let i = 0; i < w.length; i++) m[i % cols] = Math.max(m[i % cols], Math.abs(w[i]));
  const scale = Float32Array.from(m, (x) => Math.fround(x > 0 ? x / qmax : 1));
  const q = new Int8Array(rows * cols);
  for (let i = 0; i < w.length; i++)
    q[i] = Math.max(-qmax, Math.min(qmax, Math.round(w[i] / scale[i % cols])));
  return { q, scale };
}

/** The float32 values int8 rows stand for (what DequantizeLinear computes). */
export function dequantizeRows(x: QuantizedRows, cols: number): Float32Array {
  const out = new Float32Array(x.q.length);
  for (let i = 0; i < out.length; i++) out[i] = x.q[i] * x.scale[Math.floor(i / cols)];
  return out;
}

/** The transpose of a row-major (rows, cols) int8 matrix, as MatMulInteger wants (K, N). */
export function transposeInt8(q: Int8Array, rows: number, cols: number): Int8Array {
  const t = new Int8Array(q.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = q[r * cols + c];
  return t;
}

/**
 * The uint8 scale and zero point of an activation's calibrated range [lo, hi] (static int8), widened to
 * hold 0 exactly (zero padding and ReLU zeros stay exact): x ~ scale (q - zeroPoint), q in [0, 255].
 */
export function rangeCodes([lo0, hi0]: readonly [number, number]): { scale: number; zeroPoint: number } {
  if (!Number.isFinite(lo0) || !Number.isFinite(hi0))
    throw new Error(`static int8: range [${lo0}, ${hi0}] is not finite`);
  const lo = Math.min(lo0, 0);
  const hi = Math.max(hi0, 0);
  const scale = Math.fround(hi > lo ? (hi - lo) / 255 : 1);
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

/** The IEEE half-precision bit pattern nearest to x (round to nearest even; overflow to infinity). */
export function float16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000; // subnormal: shift the implicit bit in
    const shift = 14 - e;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  return sign | h;
}

/** The value of a half-precision bit pattern. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Test support (not built into dist/): categorical sampling by inverse CDF, in plain JavaScript. */

/** The first category whose cumulative softmax(logits / temperature) probability reaches u (float64). */
export function inverseCdf(logits: ArrayLike<number>, u: number, temperature = 1): number {
  const l = Array.from(logits, (x) => x / temperature);
  const m = Math.max(...l);
  const e = l.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  let c = 0;
  for (let k = 0; k < l.length; k++) {
    c += e[k] / z;
    if (c >= u) return k;
  }
  return l.length - 1;
}

/** Dropout as graph nodes fed by per-step noise (see noise.ts), so resumed runs are bit-exact. */
import type { Value } from '../graph/graph.js';
import * as o from '../graph/ops.js';

/**
 * Dropout driven by an input: each site reads uniform uint16 noise (fed per step from NoiseSource),
 * drops where noise < p * 65536 and scales the rest by 1 / (1 - p'), p' = that threshold / 65536.
 */
export class Dropout {
  readonly sites: Value[] = [];
  constructor(readonly training: boolean) {}

  apply(x: Value, p: number): Value {
    if (!this.training || p <= 0) return x;
    const threshold = Math.round(p * 65536);
    const noise = x.graph.input(`dropout_noise_${this.sites.length}`, 'uint16', x.shape);
    this.sites.push(noise);
    // One float mask {0, 1/(1-p')} (2 passes), then one Mul forward and one Mul backward.
    const drop = o.less(noise, x.graph.scalar(threshold, 'uint16'));
    const mask = o.where(drop, o.scalarLike(x, 0), o.scalarLike(x, 65536 / (65536 - threshold)));
    return o.mul(x, mask);
  }
}

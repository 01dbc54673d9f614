/**
 * A linear model on hashed n-gram features: sublinear TF-IDF rows, L2-normalised, and L2-regularised
 * logistic regression (binary or multinomial) or ridge regression, fitted by L-BFGS. The objective is
 * scikit-learn's: C * sum of the examples' losses + 1/2 |W|^2 (the bias is not penalised).
 *
 *   x_i = v_i / |v_i|,  v_ij = tf_ij * idf_j,  idf_j = ln((1 + n) / (1 + df_j)) + 1   (smooth idf)
 *   (with word and character blocks, features.ts, each block of v_i is normalised on its own)
 *   z_i = W^T x_i + b                                   W: (buckets, K)
 *
 * K = 1 for two classes (logits [-z/2, z/2], whose softmax is sigmoid(z)) and for regression (z is the
 * value); K = classes otherwise. Pure computation, browser-safe.
 */
import type { NgramRow } from './features.js';

/** Rows of normalised feature values, compressed: row i is indices/values[start[i], start[i + 1]). */
export interface SparseRows {
  start: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export interface LinearWeights {
  /** (buckets, K) row-major. */
  weight: Float32Array;
  /** (K). */
  bias: Float32Array;
  /** (buckets). */
  idf: Float32Array;
}

export type LinearKind = { regression: true } | { regression: false; classes: number };

/** Columns of W: one for two classes or regression, one per class otherwise. */
export function outputColumns(kind: LinearKind): number {
  return kind.regression || kind.classes === 2 ? 1 : kind.classes;
}

/** Smooth IDF over training rows (a bucket no row has gets the largest value, like an unseen word). */
export function fitIdf(rows: readonly NgramRow[], buckets: number): Float32Array {
  const df = new Float64Array(buckets);
  for (const r of rows) for (const id of r.ids) df[id]++;
  const n = rows.length;
  return Float32Array.from(df, (d) => Math.log((1 + n) / (1 + d)) + 1);
}

/**
 * TF-IDF rows, L2-normalised (an empty row stays empty); with `split` (the first character-block row,
 * features.ts charBlockStart), the rows below it and the rows from it on are normalised apart.
 */
export function tfidfRows(
  rows: readonly NgramRow[],
  idf: Float32Array,
  split: number | null = null,
): SparseRows {
  const start = new Int32Array(rows.length + 1);
  for (let i = 0; i < rows.length; i++) start[i + 1] = start[i] + rows[i].ids.length;
  const indices = new Int32Array(start[rows.length]);
  const values = new Float32Array(start[rows.length]);
  for (let i = 0; i < rows.length; i++) {
    const { ids, tf } = rows[i];
    let sqWord = 0;
    let sqChar = 0;
    const isChar = (id: number) => split !== null && id >= split;
    for (let j = 0; j < ids.length; j++) {
      const v = tf[j] * idf[ids[j]];
      values[start[i] + j] = v;
      if (isChar(ids[j])) sqChar += v * v;
      else sqWord += v * v;
    }
    const invWord = sqWord > 0 ? 1 / Math.sqrt(sqWord) : 0;
    const invChar = sqChar > 0 ? 1 / Math.sqrt(sqChar) : 0;
    for (let j = 0; j < ids.length; j++) {
      indices[start[i] + j] = ids[j];
      values[start[i] + j] *= isChar(ids[j]) ? invChar : invWord;
    }
  }
  return { start, indices, values };
}

/** z = W^T x + b for every row: (rows, K). */
export function linearScores(
  x: SparseRows,
  w: Float32Array | Float64Array,
  b: ArrayLike<number>,
  K: number,
): Float64Array {
  const n = x.start.length - 1;
  const z = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    if (K === 1) {
      let s = b[0];
      for (let p = x.start[i]; p < x.start[i + 1]; p++) s += x.values[p] * w[x.indices[p]];
      z[i] = s;
      continue;
    }
    for (let k = 0; k < K; k++) z[i * K + k] = b[k];
    for (let p = x.start[i]; p < x.start[i + 1]; p++) {
      const v = x.values[p];
      const off = x.indices[p] * K;
      for (let k = 0; k < K; k++) z[i * K + k] += v * w[off + k];
    }
  }
  return z;
}

/** Logit rows as the classifier outputs them: [-z/2, z/2] for two classes, z otherwise. */
export function logitRows(z: Float64Array, kind: LinearKind): Float32Array[] {
  const K = outputColumns(kind);
  const n = z.length / K;
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    if (!kind.regression && kind.classes === 2) out.push(Float32Array.of(-z[i] / 2, z[i] / 2));
    else out.push(Float32Array.from(z.subarray(i * K, (i + 1) * K)));
  }
  return out;
}

/** The loss (C * sum of losses + |W|^2 / 2) and its gradient at theta = [W, b]. */
function objective(
  theta: Float64Array,
  grad: Float64Array,
  x: SparseRows,
  y: ArrayLike<number>,
  kind: LinearKind,
  C: number,
  D: number,
): number {
  const K = outputColumns(kind);
  const w = theta.subarray(0, D * K);
  const b = theta.subarray(D * K);
  const z = linearScores(x, w, b, K);
  const n = y.length;
  grad.fill(0);
  const gw = grad.subarray(0, D * K);
  const gb = grad.subarray(D * K);
  let loss = 0;
  const g = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    if (kind.regression) {
      const r = z[o] - y[i];
      loss += 0.5 * r * r;
      g[0] = r;
    } else if (K === 1) {
      // Logistic loss with y in {0, 1}: log(1 + e^z) - y z, stable for large |z|.
      const t = z[o];
      loss += (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))) - y[i] * t;
      g[0] = 1 / (1 + Math.exp(-t)) - y[i];
    } else {
      let m = -Infinity;
      for (let k = 0; k < K; k++) m = Math.max(m, z[o + k]);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(z[o + k] - m);
      const lse = m + Math.log(s);
      loss += lse - z[o + y[i]];
      for (let k = 0; k < K; k++) g[k] = Math.exp(z[o + k] - lse) - (k === y[i] ? 1 : 0);
    }
    for (let k = 0; k < K; k++) gb[k] += C * g[k];
    if (K === 1) {
      const g0 = C * g[0];
      for (let p = x.start[i]; p < x.start[i + 1]; p++) gw[x.indices[p]] += x.values[p] * g0;
    } else
      for (let p = x.start[i]; p < x.start[i + 1]; p++) {
        const v = C * x.values[p];
        const off = x.indices[p] * K;
        for (let k = 0; k < K; k++) gw[off + k] += v * g[k];
      }
  }
  let reg = 0;
  for (let j = 0; j < w.length; j++) {
    reg += w[j] * w[j];
    gw[j] += w[j];
  }
  return C * loss + 0.5 * reg;
}

export interface FitOptions {
  /** Inverse regularisation strength (scikit-learn's C). */
  C: number;
  maxIterations: number;
  /** Stop when the gradient's max-norm falls under this (scikit-learn's lbfgs `tol`). */
  tolerance: number;
  /** Start from these weights (warm start along a path of C). */
  init?: { weight: Float32Array; bias: Float32Array };
}

export const DEFAULT_FIT: Readonly<Omit<FitOptions, 'C' | 'init'>> = Object.freeze({
  maxIterations: 300,
  tolerance: 1e-4,
});

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/**
 * Fit W and b by L-BFGS (10 corrections, backtracking Armijo line search). `y` holds class indices, or
 * values for regression. Returns the weights and the iterations run.
 */
export function fitLinear(
  x: SparseRows,
  y: ArrayLike<number>,
  buckets: number,
  kind: LinearKind,
  o: FitOptions,
): { weight: Float32Array; bias: Float32Array; iterations: number } {
  // Buckets no training row uses keep weight 0 (their gradient is the penalty alone): fit the others only.
  const K = outputColumns(kind);
  const used = new Int32Array(buckets).fill(-1);
  const ids: number[] = [];
  for (const b of x.indices) if (used[b] < 0) used[b] = ids.push(b) - 1;
  const compact: SparseRows = { ...x, indices: Int32Array.from(x.indices, (b) => used[b]) };
  let init = o.init;
  if (init) {
    const w = new Float32Array(ids.length * K);
    ids.forEach((b, j) => w.set(init!.weight.subarray(b * K, (b + 1) * K), j * K));
    init = { weight: w, bias: init.bias };
  }
  const r = fitCompact(compact, y, ids.length, kind, { ...o, init });
  const weight = new Float32Array(buckets * K);
  ids.forEach((b, j) => weight.set(r.weight.subarray(j * K, (j + 1) * K), b * K));
  return { ...r, weight };
}

function fitCompact(
  x: SparseRows,
  y: ArrayLike<number>,
  buckets: number,
  kind: LinearKind,
  o: FitOptions,
): { weight: Float32Array; bias: Float32Array; iterations: number } {
  const K = outputColumns(kind);
  const P = buckets * K + K;
  const theta = new Float64Array(P);
  if (o.init) {
    theta.set(o.init.weight);
    theta.set(o.init.bias, buckets * K);
  } else if (kind.regression) {
    let mean = 0;
    for (let i = 0; i < y.length; i++) mean += y[i] / y.length;
    theta[buckets * K] = mean; // start at the mean value: the bias is not penalised
  }
  const grad = new Float64Array(P);
  let f = objective(theta, grad, x, y, kind, o.C, buckets);
  const m = 10;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const maxAbs = (v: Float64Array) => {
    let a = 0;
    for (let i = 0; i < v.length; i++) a = Math.max(a, Math.abs(v[i]));
    return a;
  };
  let it = 0;
  const next = new Float64Array(P);
  const nextGrad = new Float64Array(P);
  for (; it < o.maxIterations && maxAbs(grad) > o.tolerance; it++) {
    // Two-loop recursion: d = -H grad.
    const d = new Float64Array(P);
    for (let i = 0; i < P; i++) d[i] = -grad[i];
    const alpha: number[] = [];
    for (let j = S.length - 1; j >= 0; j--) {
      alpha[j] = rho[j] * dot(S[j], d);
      for (let i = 0; i < P; i++) d[i] -= alpha[j] * Y[j][i];
    }
    if (S.length) {
      const k = S.length - 1;
      const gamma = dot(S[k], Y[k]) / dot(Y[k], Y[k]);
      for (let i = 0; i < P; i++) d[i] *= gamma;
    } else {
      const s = 1 / Math.max(1, Math.sqrt(dot(grad, grad)));
      for (let i = 0; i < P; i++) d[i] *= s;
    }
    for (let j = 0; j < S.length; j++) {
      const beta = rho[j] * dot(Y[j], d);
      for (let i = 0; i < P; i++) d[i] += S[j][i] * (alpha[j] - beta);
    }
    let slope = dot(grad, d);
    if (slope >= 0) {
      // Not a descent direction (curvature lost): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < P; i++) d[i] = -grad[i];
      slope = -dot(grad, grad);
    }
    let step = 1;
    let fNext = Number.NaN;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < P; i++) next[i] = theta[i] + step * d[i];
      fNext = objective(next, nextGrad, x, y, kind, o.C, buckets);
      if (fNext <= f + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(fNext <= f)) break; // no decrease found: at the precision floor
    const s = new Float64Array(P);
    const yv = new Float64Array(P);
    for (let i = 0; i < P; i++) {
      s[i] = next[i] - theta[i];
      yv[i] = nextGrad[i] - grad[i];
    }
    const sy = dot(s, yv);
    if (sy > 1e-12) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const converged = Math.abs(f - fNext) <= 1e-9 * Math.max(1, Math.abs(f));
    theta.set(next);
    grad.set(nextGrad);
    f = fNext;
    if (converged) {
      it++;
      break;
    }
  }
  return {
    weight: Float32Array.from(theta.subarray(0, buckets * K)),
    bias: Float32Array.from(theta.subarray(buckets * K)),
    iterations: it,
  };
}

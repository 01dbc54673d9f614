/**
 * A linear model on hashed n-gram features: sublinear TF-IDF rows, L2-normalised, and L2-regularised
 * logistic regression (binary or multinomial) or ridge regression, fitted by L-BFGS. The objective is
 * scikit-learn's: C * sum of the examples' losses + 1/2 |W|^2 (the bias is not penalised).
 *
 *   x_i = v_i / |v_i|,  v_ij = tf_ij * idf_j,  idf_j = ln((1 + n) / (1 + df_j)) + 1   (smooth idf)
 *   (with word and character blocks, features.ts, each block of v_i is normalised on its own; the dense
 *   block of pair features has idf 1 and no norm: x_ij = tf_ij)
 *   z_i = W^T x_i + b                                   W: (buckets, K)
 *
 * K = 1 for two classes (logits [-z/2, z/2], whose softmax is sigmoid(z)) and for regression (z is the
 * value); K = classes otherwise. Pure computation, browser-safe.
 */
import type { NgramBlocks, NgramRow } from './features.js';

/** One hashed block, no dense block (the blocks of a model with words or characters only). */
export const ONE_BLOCK: Readonly<NgramBlocks> = Object.freeze({ charStart: null, denseStart: null });

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

/**
 * Smooth IDF over training rows (a bucket no row has gets the largest value, like an unseen word); 1 for
 * the rows from `denseStart` on (pair features are read as they are).
 */
export function fitIdf(
  rows: readonly NgramRow[],
  buckets: number,
  denseStart: number | null = null,
): Float32Array {
  const df = new Float64Array(buckets);
  for (const r of rows) for (const id of r.ids) df[id]++;
  const n = rows.length;
  return Float32Array.from(df, (d, j) =>
    denseStart !== null && j >= denseStart ? 1 : Math.log((1 + n) / (1 + d)) + 1,
  );
}

/**
 * TF-IDF rows, L2-normalised (an empty row stays empty); with `blocks.charStart` (features.ts ngramBlocks),
 * the rows below it and the rows from it on are normalised apart; rows from `blocks.denseStart` on are
 * tf * idf, not normalised.
 */
export function tfidfRows(
  rows: readonly NgramRow[],
  idf: Float32Array,
  blocks: NgramBlocks = ONE_BLOCK,
): SparseRows {
  const split = blocks.charStart;
  const dense = blocks.denseStart ?? Infinity;
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
      if (ids[j] >= dense) continue;
      if (isChar(ids[j])) sqChar += v * v;
      else sqWord += v * v;
    }
    const invWord = sqWord > 0 ? 1 / Math.sqrt(sqWord) : 0;
    const invChar = sqChar > 0 ? 1 / Math.sqrt(sqChar) : 0;
    for (let j = 0; j < ids.length; j++) {
      indices[start[i] + j] = ids[j];
      if (ids[j] < dense) values[start[i] + j] *= isChar(ids[j]) ? invChar : invWord;
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

/** Compressed sparse lines (rows, or columns): line i is index/value[start[i], start[i + 1]). */
interface Lines {
  start: Int32Array;
  index: Int32Array;
  value: Float32Array;
}

/** The columns of rows over D columns, each column's entries in increasing row order. */
function transpose(x: SparseRows, D: number): Lines {
  const { start, indices, values } = x;
  const n = start.length - 1;
  const nnz = indices.length;
  const colStart = new Int32Array(D + 1);
  for (let p = 0; p < nnz; p++) colStart[indices[p] + 1]++;
  for (let j = 0; j < D; j++) colStart[j + 1] += colStart[j];
  const fill = colStart.slice(0, D);
  const rows = new Int32Array(nnz);
  const value = new Float32Array(nnz);
  for (let i = 0; i < n; i++)
    for (let p = start[i], end = start[i + 1]; p < end; p++) {
      const q = fill[indices[p]]++;
      rows[q] = i;
      value[q] = values[p];
    }
  return { start: colStart, index: rows, value };
}

/**
 * Sparse lines laid out for their dot products with a dense vector, four at a time: the lines sorted by
 * length and taken in fours, a four's entries interleaved up to its shortest line's length, then each
 * line's remaining entries. The four sums run side by side (one alone waits on each addition), and each
 * adds its terms in its line's order, so the sums are the same as one line at a time.
 */
interface Lanes {
  /** Four lines per group (-1: none). */
  lines: Int32Array;
  /** Group g's entries are index/value[offset[g], offset[g + 1]). */
  offset: Int32Array;
  /** Group g's interleaved length (its shortest line's). */
  common: Int32Array;
  /** Four per group: each line's entries after the interleaved ones. */
  tail: Int32Array;
  index: Int32Array;
  value: Float32Array;
}

function lanes(l: Lines): Lanes {
  const m = l.start.length - 1;
  const len = (i: number) => (i < 0 ? 0 : l.start[i + 1] - l.start[i]);
  const groups = Math.ceil(m / 4);
  const order = new Int32Array(groups * 4).fill(-1); // the padding lines (empty) first
  const sorted = Array.from({ length: m }, (_, i) => i).sort((a, b) => len(a) - len(b) || a - b);
  order.set(sorted, groups * 4 - m);
  const offset = new Int32Array(groups + 1);
  const common = new Int32Array(groups);
  const tail = new Int32Array(groups * 4);
  const index = new Int32Array(l.index.length);
  const value = new Float32Array(l.index.length);
  let o = 0;
  for (let g = 0; g < groups; g++) {
    offset[g] = o;
    const L = Math.min(
      len(order[4 * g]),
      len(order[4 * g + 1]),
      len(order[4 * g + 2]),
      len(order[4 * g + 3]),
    );
    common[g] = L;
    for (let q = 0; q < L; q++)
      for (let k = 0; k < 4; k++) {
        const p = l.start[order[4 * g + k]] + q;
        index[o] = l.index[p];
        value[o++] = l.value[p];
      }
    for (let k = 0; k < 4; k++) {
      const line = order[4 * g + k];
      tail[4 * g + k] = len(line) - L;
      if (line < 0) continue;
      for (let p = l.start[line] + L; p < l.start[line + 1]; p++) {
        index[o] = l.index[p];
        value[o++] = l.value[p];
      }
    }
  }
  offset[groups] = o;
  return { lines: order, offset, common, tail, index, value };
}

/** out[line] = init + sum of the line's value * v[index], the terms added in the line's order. */
function laneDots(a: Lanes, v: Float64Array, init: number, out: Float64Array): void {
  const { lines, offset, common, tail, index, value } = a;
  for (let g = 0; g < common.length; g++) {
    let o = offset[g];
    let s0 = init;
    let s1 = init;
    let s2 = init;
    let s3 = init;
    for (let q = common[g]; q > 0; q--, o += 4) {
      s0 += value[o] * v[index[o]];
      s1 += value[o + 1] * v[index[o + 1]];
      s2 += value[o + 2] * v[index[o + 2]];
      s3 += value[o + 3] * v[index[o + 3]];
    }
    for (let e = o + tail[4 * g]; o < e; o++) s0 += value[o] * v[index[o]];
    for (let e = o + tail[4 * g + 1]; o < e; o++) s1 += value[o] * v[index[o]];
    for (let e = o + tail[4 * g + 2]; o < e; o++) s2 += value[o] * v[index[o]];
    for (let e = o + tail[4 * g + 3]; o < e; o++) s3 += value[o] * v[index[o]];
    const l0 = lines[4 * g];
    if (l0 >= 0) out[l0] = s0;
    const l1 = lines[4 * g + 1];
    if (l1 >= 0) out[l1] = s1;
    const l2 = lines[4 * g + 2];
    if (l2 >= 0) out[l2] = s2;
    const l3 = lines[4 * g + 3];
    if (l3 >= 0) out[l3] = s3;
  }
}

/**
 * The training rows as fitCompact reads them: for one output column, the rows (for z = X w) and the
 * columns (for the gradient X^T g, each column's entries in increasing row order, the order in which a pass
 * over the rows would add them up) as Lanes; for several, the rows and columns as they are.
 */
type Layout = { K: 1; rows: Lanes; cols: Lanes } | { K: number; x: SparseRows; cols: Lines };

function layout(x: SparseRows, D: number, K: number): Layout {
  const cols = transpose(x, D);
  if (K !== 1) return { K, x, cols };
  return { K: 1, rows: lanes({ start: x.start, index: x.indices, value: x.values }), cols: lanes(cols) };
}

interface Problem {
  layout: Layout;
  y: Float64Array;
  kind: LinearKind;
  /** Rows. */
  n: number;
  /** Columns (buckets) of x. */
  D: number;
  /** (n, K): for K = 1 the scores z, then C * d loss_i / d z_i; for K > 1 d loss_i / d z_i. */
  g: Float64Array;
  /** Each row's weight on its loss (undefined: 1 each). */
  w?: Float64Array;
}

/**
 * The loss (C * sum of losses + |W|^2 / 2) and its gradient at theta = [W, b]. Every sum adds its terms in
 * the same order as one pass over the rows that scatters each row's gradient into W's rows.
 */
function objective(theta: Float64Array, grad: Float64Array, pr: Problem, C: number): number {
  const { y, n, D, g, w: rowW } = pr;
  const lay = pr.layout;
  const K = lay.K;
  const WK = D * K;
  let loss = 0;
  if ('rows' in lay) {
    const regression = pr.kind.regression;
    laneDots(lay.rows, theta, theta[WK], g);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const t = g[i];
      const yi = y[i];
      const wi = rowW ? rowW[i] : 1;
      let gi: number;
      if (regression) {
        const r = t - yi;
        loss += wi * 0.5 * r * r;
        gi = r;
      } else {
        // Logistic loss with y in {0, 1}: log(1 + e^z) - y z, stable for large |z|.
        loss += wi * ((t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))) - yi * t);
        gi = 1 / (1 + Math.exp(-t)) - yi;
      }
      const gc = C * wi * gi;
      gb += gc;
      g[i] = gc;
    }
    grad[WK] = gb;
    laneDots(lay.cols, g, 0, grad);
    let reg = 0;
    for (let j = 0; j < D; j++) {
      const w = theta[j];
      reg += w * w;
      grad[j] += w;
    }
    return C * loss + 0.5 * reg;
  }
  const { start, indices, values } = lay.x;
  const z = new Float64Array(K);
  const gb = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) z[k] = theta[WK + k];
    for (let p = start[i], end = start[i + 1]; p < end; p++) {
      const v = values[p];
      const off = indices[p] * K;
      for (let k = 0; k < K; k++) z[k] += v * theta[off + k];
    }
    const yi = y[i];
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, z[k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(z[k] - m);
    const lse = m + Math.log(s);
    const wi = rowW ? rowW[i] : 1;
    loss += wi * (lse - z[yi]);
    const o = i * K;
    for (let k = 0; k < K; k++) {
      const gk = wi * (Math.exp(z[k] - lse) - (k === yi ? 1 : 0));
      g[o + k] = gk;
      gb[k] += C * gk;
    }
  }
  for (let k = 0; k < K; k++) grad[WK + k] = gb[k];
  const { start: colStart, index: colRows, value: colValues } = lay.cols;
  const a = z; // reused: column j's K sums
  let reg = 0;
  for (let j = 0; j < D; j++) {
    a.fill(0);
    for (let q = colStart[j], end = colStart[j + 1]; q < end; q++) {
      const v = C * colValues[q];
      const r = colRows[q] * K;
      for (let k = 0; k < K; k++) a[k] += v * g[r + k];
    }
    const off = j * K;
    for (let k = 0; k < K; k++) {
      const w = theta[off + k];
      reg += w * w;
      grad[off + k] = a[k] + w;
    }
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
  /** Each training row's weight on its loss (default 1 each): balancedWeights for class weighting. */
  rowWeights?: ArrayLike<number>;
}

/**
 * scikit-learn's class_weight="balanced": row i weighs n / (classes * rows of its class), so every class
 * carries the same total weight in the loss. A linear model fitted so leans less toward the majority class,
 * which the Matthews correlation and F1 reward on imbalanced data.
 */
export function balancedWeights(y: ArrayLike<number>, classes: number): Float64Array {
  const count = new Float64Array(classes);
  for (let i = 0; i < y.length; i++) count[y[i]]++;
  const w = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) w[i] = y.length / (classes * count[y[i]]);
  return w;
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

/** The buckets training rows use, and the rows with those renumbered 0.. in order of first use. */
interface Compacted {
  buckets: number;
  /** Bucket of each compact column. */
  ids: Int32Array;
  x: SparseRows;
  /** The layout for fitCompact, by its K. */
  layout?: Layout;
}

// fitLinear along a path of C sees the same rows each time: compact and lay them out once (rows are not
// changed once made).
const compacted = new WeakMap<SparseRows, Compacted>();

function compactRows(x: SparseRows, buckets: number): Compacted {
  const cached = compacted.get(x);
  if (cached && cached.buckets === buckets) return cached;
  const used = new Int32Array(buckets).fill(-1);
  const ids: number[] = [];
  const nnz = x.indices.length;
  const indices = new Int32Array(nnz);
  for (let p = 0; p < nnz; p++) {
    const b = x.indices[p];
    let j = used[b];
    if (j < 0) j = used[b] = ids.push(b) - 1;
    indices[p] = j;
  }
  const c: Compacted = { buckets, ids: Int32Array.from(ids), x: { ...x, indices } };
  compacted.set(x, c);
  return c;
}

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
  const c = compactRows(x, buckets);
  const ids = c.ids;
  if (c.layout?.K !== K) c.layout = layout(c.x, ids.length, K);
  let init = o.init;
  if (init) {
    const w = new Float32Array(ids.length * K);
    for (let j = 0; j < ids.length; j++)
      for (let k = 0; k < K; k++) w[j * K + k] = init.weight[ids[j] * K + k];
    init = { weight: w, bias: init.bias };
  }
  const r = fitCompact(c.layout, y, ids.length, kind, { ...o, init });
  const weight = new Float32Array(buckets * K);
  for (let j = 0; j < ids.length; j++)
    for (let k = 0; k < K; k++) weight[ids[j] * K + k] = r.weight[j * K + k];
  return { ...r, weight };
}

function fitCompact(
  lay: Layout,
  y: ArrayLike<number>,
  buckets: number,
  kind: LinearKind,
  o: FitOptions,
): { weight: Float32Array; bias: Float32Array; iterations: number } {
  const K = outputColumns(kind);
  const P = buckets * K + K;
  let theta = new Float64Array(P);
  if (o.init) {
    theta.set(o.init.weight);
    theta.set(o.init.bias, buckets * K);
  } else if (kind.regression) {
    let mean = 0;
    for (let i = 0; i < y.length; i++) mean += y[i] / y.length;
    theta[buckets * K] = mean; // start at the mean value: the bias is not penalised
  }
  const n = y.length;
  const pr: Problem = {
    layout: lay,
    y: Float64Array.from(y),
    kind,
    n,
    D: buckets,
    g: new Float64Array(n * K),
    ...(o.rowWeights ? { w: Float64Array.from(o.rowWeights) } : {}),
  };
  let grad = new Float64Array(P);
  let f = objective(theta, grad, pr, o.C);
  const m = 10;
  // The last m steps s and gradient changes y, with s.y and y.y (all kept while s.y > 1e-12).
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const sys: number[] = [];
  const yy: number[] = [];
  const maxAbs = (v: Float64Array) => {
    let a = 0;
    for (let i = 0; i < v.length; i++) a = Math.max(a, Math.abs(v[i]));
    return a;
  };
  let it = 0;
  let next = new Float64Array(P);
  let nextGrad = new Float64Array(P);
  const d = new Float64Array(P);
  const alpha = new Float64Array(m + 1);
  let spare: [Float64Array, Float64Array] | undefined; // a dropped pair's buffers, reused
  for (; it < o.maxIterations && maxAbs(grad) > o.tolerance; it++) {
    // Two-loop recursion: d = -H grad.
    for (let i = 0; i < P; i++) d[i] = -grad[i];
    for (let j = S.length - 1; j >= 0; j--) {
      const a = (alpha[j] = rho[j] * dot(S[j], d));
      const Yj = Y[j];
      for (let i = 0; i < P; i++) d[i] -= a * Yj[i];
    }
    if (S.length) {
      const k = S.length - 1;
      const gamma = sys[k] / yy[k];
      for (let i = 0; i < P; i++) d[i] *= gamma;
    } else {
      const s = 1 / Math.max(1, Math.sqrt(dot(grad, grad)));
      for (let i = 0; i < P; i++) d[i] *= s;
    }
    for (let j = 0; j < S.length; j++) {
      const beta = rho[j] * dot(Y[j], d);
      const c = alpha[j] - beta;
      const Sj = S[j];
      for (let i = 0; i < P; i++) d[i] += Sj[i] * c;
    }
    let slope = dot(grad, d);
    if (slope >= 0) {
      // Not a descent direction (curvature lost): restart from steepest descent.
      S.length = Y.length = rho.length = sys.length = yy.length = 0;
      for (let i = 0; i < P; i++) d[i] = -grad[i];
      slope = -dot(grad, grad);
    }
    let step = 1;
    let fNext = Number.NaN;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < P; i++) next[i] = theta[i] + step * d[i];
      fNext = objective(next, nextGrad, pr, o.C);
      if (fNext <= f + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(fNext <= f)) break; // no decrease found: at the precision floor
    const [s, yv] = spare ?? [new Float64Array(P), new Float64Array(P)];
    spare = undefined;
    let sy = 0;
    let yy2 = 0;
    for (let i = 0; i < P; i++) {
      const si = next[i] - theta[i];
      const yi = nextGrad[i] - grad[i];
      s[i] = si;
      yv[i] = yi;
      sy += si * yi;
      yy2 += yi * yi;
    }
    if (sy > 1e-12) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      sys.push(sy);
      yy.push(yy2);
      if (S.length > m) {
        spare = [S.shift()!, Y.shift()!];
        rho.shift();
        sys.shift();
        yy.shift();
      }
    } else spare = [s, yv];
    const converged = Math.abs(f - fNext) <= 1e-9 * Math.max(1, Math.abs(f));
    [theta, next] = [next, theta];
    [grad, nextGrad] = [nextGrad, grad];
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

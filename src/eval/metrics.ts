/**
 * Evaluation metrics as pure functions on number arrays, matching scikit-learn / SciPy:
 * accuracy, binary F1 (positive class 1), Matthews correlation (multi-class formula of sklearn),
 * Pearson and Spearman (average ranks for ties) correlations. Values are fractions, not percent.
 *
 * All throw a RangeError on empty input, on arrays of different lengths, or on NaN/infinite values
 * (e.g. the NaN labels of an unlabelled test file).
 */

function check(predictions: readonly number[], labels: readonly number[], what: string): void {
  if (predictions.length !== labels.length) {
    throw new RangeError(`${what}: ${predictions.length} predictions but ${labels.length} labels`);
  }
  if (predictions.length === 0) throw new RangeError(`${what}: no examples`);
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isFinite(predictions[i]) || !Number.isFinite(labels[i])) {
      throw new RangeError(`${what}: value at index ${i} is not a finite number`);
    }
  }
}

/** Fraction of predictions equal to their label. */
export function accuracy(predictions: readonly number[], labels: readonly number[]): number {
  check(predictions, labels, 'accuracy');
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}

/**
 * Binary F1 with positive class 1: 2·TP / (2·TP + FP + FN), which is the harmonic mean of precision and
 * recall. 0 when there are no positives at all (sklearn's zero_division default). Values must be 0 or 1.
 */
export function f1(predictions: readonly number[], labels: readonly number[]): number {
  check(predictions, labels, 'f1');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = predictions[i];
    const y = labels[i];
    if ((p !== 0 && p !== 1) || (y !== 0 && y !== 1))
      throw new RangeError(`f1: value at index ${i} is not 0 or 1`);
    if (p === 1 && y === 1) tp++;
    else if (p === 1) fp++;
    else if (y === 1) fn++;
  }
  const denominator = 2 * tp + fp + fn;
  return denominator === 0 ? 0 : (2 * tp) / denominator;
}

/**
 * Matthews correlation coefficient, sklearn's general (multi-class) formula on the confusion matrix C:
 *   c = trace(C), s = n, t_k = true count of class k, p_k = predicted count of class k,
 *   MCC = (c·s − Σ t_k·p_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)),
 * which for two classes equals (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)).
 * 0 when the denominator is 0 (e.g. a constant prediction), as sklearn returns.
 */
export function matthews(predictions: readonly number[], labels: readonly number[]): number {
  check(predictions, labels, 'matthews');
  const n = labels.length;
  const trueCount = new Map<number, number>();
  const predCount = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < n; i++) {
    trueCount.set(labels[i], (trueCount.get(labels[i]) ?? 0) + 1);
    predCount.set(predictions[i], (predCount.get(predictions[i]) ?? 0) + 1);
    if (predictions[i] === labels[i]) correct++;
  }
  let tp = 0; // Σ t_k·p_k
  for (const [k, t] of trueCount) tp += t * (predCount.get(k) ?? 0);
  let pp = 0;
  for (const p of predCount.values()) pp += p * p;
  let tt = 0;
  for (const t of trueCount.values()) tt += t * t;
  const covYtYp = correct * n - tp;
  const covYpYp = n * n - pp;
  const covYtYt = n * n - tt;
  if (covYpYp === 0 || covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

/** Pearson correlation. NaN when either array is constant (as SciPy, which also warns). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  check(x, y, 'pearson');
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/** 1-based ranks, ties given the average of the ranks they span (SciPy's rankdata 'average'). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // positions i..j hold ranks i+1..j+1
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Spearman rank correlation: Pearson of the average ranks. NaN when either array is constant. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  check(x, y, 'spearman');
  return pearson(averageRanks(x), averageRanks(y));
}

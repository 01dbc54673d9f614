/** Metrics against hand-computed values (the arithmetic is in the comments). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accuracy, averageRanks, f1, matthews, pearson, spearman } from './metrics.js';

const close = (actual: number, expected: number, eps = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);

test('accuracy: 3 of 4 correct = 0.75', () => {
  assert.equal(accuracy([0, 1, 2, 1], [0, 1, 1, 1]), 0.75);
  assert.equal(accuracy([2], [2]), 1);
});

test('f1: TP=2 FP=1 FN=1 gives 2*2/(2*2+1+1) = 2/3', () => {
  // labels 1 1 0 0 1, predictions 1 0 1 0 1: TP at 0 and 4, FN at 1, FP at 2, TN at 3.
  // precision = 2/3, recall = 2/3, F1 = 2/3.
  close(f1([1, 0, 1, 0, 1], [1, 1, 0, 0, 1]), 2 / 3);
});

test('f1: no positives predicted gives 0; no positives at all gives 0 (sklearn zero_division)', () => {
  // TP = 0, FN = 2: F1 = 0 / (0 + 0 + 2) = 0.
  assert.equal(f1([0, 0, 0], [1, 0, 1]), 0);
  // TP = FP = FN = 0: denominator 0, sklearn returns 0.
  assert.equal(f1([0, 0], [0, 0]), 0);
  // All correct positives: 2*2/(2*2) = 1.
  assert.equal(f1([1, 1, 0], [1, 1, 0]), 1);
});

test('f1 rejects non-binary values', () => {
  assert.throws(() => f1([2, 0], [1, 0]), /not 0 or 1/);
});

test('matthews: 2x2 confusion matrix TP=3 TN=2 FP=1 FN=1 gives 5/12', () => {
  // labels 1 1 1 1 0 0 0, predictions 1 1 1 0 1 0 0.
  // (TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (6 - 1) / sqrt(4*4*3*3) = 5/12.
  close(matthews([1, 1, 1, 0, 1, 0, 0], [1, 1, 1, 1, 0, 0, 0]), 5 / 12);
});

test('matthews: perfect = 1, inverted = -1', () => {
  assert.equal(matthews([0, 1, 0, 1], [0, 1, 0, 1]), 1);
  // TP=TN=0, FP=FN=2: (0 - 4) / sqrt(2*2*2*2) = -1.
  assert.equal(matthews([1, 0, 1, 0], [0, 1, 0, 1]), -1);
});

test('matthews: constant prediction gives 0 (denominator 0, like sklearn)', () => {
  assert.equal(matthews([1, 1, 1, 1], [0, 1, 0, 1]), 0);
  assert.equal(matthews([0, 0], [0, 0]), 0);
});

test('matthews: 3 classes by the general formula', () => {
  // labels 0 0 1 1 2 2, predictions 0 1 1 1 2 0.
  // correct c = 4 (indices 0, 2, 3, 4), s = 6; true counts t = (2, 2, 2); predicted counts p = (2, 3, 1).
  // numerator = c*s - sum t_k p_k = 24 - (4 + 6 + 2) = 12
  // s^2 - sum p^2 = 36 - (4 + 9 + 1) = 22;  s^2 - sum t^2 = 36 - 12 = 24
  // MCC = 12 / sqrt(22 * 24) = 12 / sqrt(528) ≈ 0.52223
  close(matthews([0, 1, 1, 1, 2, 0], [0, 0, 1, 1, 2, 2]), 12 / Math.sqrt(528));
});

test('pearson: perfectly linear sets give +1 and -1', () => {
  // y = 2x + 1 and y = -3x + 7.
  close(pearson([1, 2, 3, 4], [3, 5, 7, 9]), 1);
  close(pearson([1, 2, 3, 4], [4, 1, -2, -5]), -1);
});

test('pearson: hand-computed 0.5', () => {
  // x = 1 2 3, y = 1 3 2; means 2 and 2; dx = -1 0 1, dy = -1 1 0.
  // sum dx*dy = 1, sum dx^2 = 2, sum dy^2 = 2: r = 1 / sqrt(4) = 0.5.
  close(pearson([1, 2, 3], [1, 3, 2]), 0.5);
});

test('pearson: constant input gives NaN (as SciPy)', () => {
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
});

test('averageRanks: ties get the mean of their ranks', () => {
  // sorted: 5 (rank 1), 10 (rank 2), 20 20 20 (ranks 3, 4, 5 -> 4 each).
  assert.deepEqual(averageRanks([10, 20, 20, 20, 5]), [2, 4, 4, 4, 1]);
});

test('spearman with ties: sqrt(0.9)', () => {
  // x = 1 2 2 3 -> ranks 1 2.5 2.5 4; y = 1 3 2 4 -> ranks 1 3 2 4; both rank means 2.5.
  // dx = -1.5 0 0 1.5, dy = -1.5 0.5 -0.5 1.5
  // sum dx*dy = 2.25 + 0 + 0 + 2.25 = 4.5; sum dx^2 = 4.5; sum dy^2 = 2.25 + 0.25 + 0.25 + 2.25 = 5
  // rho = 4.5 / sqrt(4.5 * 5) = sqrt(4.5 / 5) = sqrt(0.9) ≈ 0.948683
  close(spearman([1, 2, 2, 3], [1, 3, 2, 4]), Math.sqrt(0.9));
});

test('spearman: any monotone relation gives 1', () => {
  close(spearman([1, 2, 3, 4], [1, 4, 9, 16]), 1);
});

test('metrics throw on empty input, length mismatch and NaN', () => {
  for (const metric of [accuracy, f1, matthews, pearson, spearman]) {
    assert.throws(() => metric([], []), /no examples/);
    assert.throws(() => metric([1, 0], [1]), /2 predictions but 1 labels/);
    assert.throws(() => metric([1, 0], [Number.NaN, 1]), /index 0 is not a finite number/);
  }
});

/** GLUE score: reproduces the docs/methods.md §6.2/§6.3 checks and partial-result bookkeeping. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../util/errors.js';
import { glueScore, taskMetrics, taskScore } from './glue-score.js';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);

test('BERT-base test values give the leaderboard 78.3', () => {
  // (52.1 + 93.5 + (88.9+84.8)/2 + (87.1+85.8)/2 + (71.2+89.2)/2 + (84.6+83.4)/2 + 90.5 + 66.4 + 65.1) / 9
  // = (52.1 + 93.5 + 86.85 + 86.45 + 80.2 + 84.0 + 90.5 + 66.4 + 65.1) / 9 = 705.1 / 9 = 78.344...
  const r = glueScore({
    CoLA: 52.1,
    'SST-2': 93.5,
    MRPC: { f1: 0.889, accuracy: 0.848 },
    'STS-B': { pearson: 0.871, spearman: 0.858 },
    QQP: { f1: 0.712, accuracy: 0.892 },
    'MNLI-m': 84.6,
    'MNLI-mm': 83.4,
    QNLI: 90.5,
    RTE: 66.4,
    WNLI: 65.1,
  });
  close(r.leaderboard.score, 705.1 / 9);
  assert.equal(r.leaderboard.score.toFixed(1), '78.3');
  assert.equal(r.leaderboard.complete, true);
  assert.deepEqual(r.leaderboard.missing, []);
  assert.equal(r.leaderboard.tasks.length, 10); // mnli and mnli-mm listed separately
  // Without WNLI: (705.1 - 65.1) / 8 = 640 / 8 = 80.0
  close(r.withoutWnli.score, 80);
  assert.equal(r.withoutWnli.tasks.includes('wnli'), false);
  close(r.perTask.mrpc!, 86.85);
});

test("BERT-Tiny's row gives ~64.1 (published 64.2)", () => {
  // (0 + 83.2 + 76.1 + 73.95 + 72.8 + 70.25 + 81.5 + 57.2 + 62.3) / 9 = 577.3 / 9 = 64.144...
  const r = glueScore({
    cola: 0,
    sst2: 83.2,
    mrpc: (81.1 + 71.1) / 2,
    stsb: (74.3 + 73.6) / 2,
    qqp: (62.2 + 83.4) / 2,
    mnli: 70.2,
    'mnli-mm': 70.3,
    qnli: 81.5,
    rte: 57.2,
    wnli: 62.3,
  });
  close(r.leaderboard.score, 577.3 / 9);
  assert.equal(r.leaderboard.score.toFixed(1), '64.1');
});

test('partial results: mean of the tasks present, missing tasks listed', () => {
  const r = glueScore({ cola: 10, sst2: 80, mrpc: 70, stsb: 60, rte: 50, wnli: 56 });
  assert.deepEqual(r.leaderboard.tasks, ['cola', 'sst2', 'mrpc', 'stsb', 'rte', 'wnli']);
  assert.deepEqual(r.leaderboard.missing, ['qqp', 'mnli', 'mnli-mm', 'qnli']);
  assert.equal(r.leaderboard.complete, false);
  // (10 + 80 + 70 + 60 + 50 + 56) / 6 = 326 / 6
  close(r.leaderboard.score, 326 / 6);
  // (10 + 80 + 70 + 60 + 50) / 5 = 54
  close(r.withoutWnli.score, 54);
  assert.deepEqual(r.withoutWnli.missing, ['qqp', 'mnli', 'mnli-mm', 'qnli']);
});

test('MNLI counts once: mean of m and mm, or matched alone when mm is missing', () => {
  // MNLI = (80 + 70) / 2 = 75; score = (75 + 90) / 2 = 82.5
  close(glueScore({ mnli: 80, 'mnli-mm': 70, sst2: 90 }).leaderboard.score, 82.5);
  const r = glueScore({ mnli: 80, sst2: 90 });
  close(r.leaderboard.score, 85);
  assert.ok(r.leaderboard.missing.includes('mnli-mm'));
});

test('no tasks gives NaN; bad names and duplicates are UserErrors', () => {
  const r = glueScore({});
  assert.ok(Number.isNaN(r.leaderboard.score));
  assert.equal(r.leaderboard.missing.length, 10);
  assert.throws(
    () => glueScore({ squad: 1 }),
    (e: unknown) => e instanceof UserError && /valid: cola, sst2/.test(e.message),
  );
  assert.throws(() => glueScore({ sst2: 1, 'SST-2': 2 }), /given twice/);
  assert.throws(() => glueScore({ stsb: Number.NaN }), /STS-B: score is NaN/);
});

test('taskMetrics picks each task metric set', () => {
  // MRPC: predictions 1 0 1 0 1 vs labels 1 1 0 0 1 -> F1 = 2/3 (TP=2, FP=1, FN=1), accuracy = 3/5.
  const mrpc = taskMetrics('MRPC', [1, 0, 1, 0, 1], [1, 1, 0, 0, 1]);
  assert.deepEqual(Object.keys(mrpc).sort(), ['accuracy', 'f1']);
  close(mrpc.f1!, 2 / 3);
  close(mrpc.accuracy!, 0.6);
  // task score = 100 * (2/3 + 0.6) / 2 = 63.33...
  close(taskScore(mrpc), (100 * (2 / 3 + 0.6)) / 2);

  const stsb = taskMetrics('stsb', [1, 2, 3], [1, 3, 2]);
  assert.deepEqual(Object.keys(stsb).sort(), ['pearson', 'spearman']);
  close(stsb.pearson!, 0.5); // see metrics.test.ts
  assert.deepEqual(taskMetrics('cola', [1, 1, 0], [1, 1, 0]), { mcc: 1 });
  assert.deepEqual(taskMetrics('mnli-mm', [0, 1, 2, 2], [0, 1, 2, 1]), { accuracy: 0.75 });
  assert.deepEqual(taskMetrics('qqp', [1, 0], [1, 0]), { f1: 1, accuracy: 1 });
});

test('taskScore is the mean of the metrics in percent', () => {
  close(taskScore({ pearson: 0.5, spearman: 0.7 }), 60);
  close(taskScore({ mcc: 0.25 }), 25);
  assert.throws(() => taskScore({}), /no metrics/);
});

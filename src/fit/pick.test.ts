/** The pick: best dev score within --max-bytes, ties to the smaller file, and the sentence that says so. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { pick } from './pick.js';
import type { StageResult } from './stage.js';

function result(
  stage: string,
  score: number,
  bytes: number,
  kind: 'ngram' | 'transformer' | 'hybrid',
): StageResult {
  return {
    stage,
    score,
    candidate: { model: 'model', kind, int8: { variant: 'portable_quantized', file: 'f.onnx', bytes } },
    note: '',
    seconds: 1,
    cpuSeconds: 1,
    finishedAt: '2026-01-01T00:00:00.000Z',
  };
}

const baseline = (score: number, bytes = 400_000) => result('baseline', score, bytes, 'ngram');
const tiny = (score: number, bytes = 300_000) => result('finetune-tiny', score, bytes, 'transformer');

describe('pick', () => {
  test('the best dev score wins; the baseline winning is said plainly', () => {
    const p = pick([baseline(74.66), tiny(63.19)], 500_000);
    assert.equal(p.winner.stage, 'baseline');
    assert.equal(p.message, 'the n-gram baseline beats the tiny transformers on this data: shipping it');
    const q = pick([baseline(74.66), tiny(80.1)], 500_000);
    assert.equal(q.winner.stage, 'finetune-tiny');
    assert.equal(q.baseline?.stage, 'baseline');
    assert.match(q.message, /^finetune-tiny beats the n-gram baseline \(dev 80\.10 against 74\.66\)/);
  });

  test('a hybrid counts as a transformer; tying the baseline with a smaller file, it ships and says so', () => {
    const p = pick([baseline(80, 499_999), result('hybrid-tiny', 80, 497_000, 'hybrid')], 500_000);
    assert.equal(p.winner.stage, 'hybrid-tiny');
    assert.equal(p.message, 'hybrid-tiny ties the n-gram baseline (dev 80.00) and is smaller: shipping it');
    const q = pick([baseline(80), result('hybrid-tiny', 70, 300_000, 'hybrid')], 500_000);
    assert.equal(q.message, 'the n-gram baseline beats the tiny transformers on this data: shipping it');
  });

  test('a candidate over --max-bytes is never picked, however good', () => {
    const p = pick([baseline(70), tiny(90, 600_000)], 500_000);
    assert.equal(p.winner.stage, 'baseline');
    assert.match(p.message, /no tiny transformer was fine-tuned/);
  });

  test('a tie goes to the smaller file', () => {
    assert.equal(pick([baseline(75, 400_000), tiny(75, 300_000)], 500_000).winner.stage, 'finetune-tiny');
    const p = pick([tiny(75, 450_000), baseline(75, 400_000)], 500_000);
    assert.equal(p.winner.stage, 'baseline');
    assert.match(p.message, /ties the best tiny transformer on this data and is smaller/);
  });

  test('stages without a candidate (export) and unscored ones are ignored', () => {
    const exported: StageResult = { ...baseline(99), stage: 'export', candidate: undefined };
    const unscored = { ...tiny(0), score: Number.NaN };
    assert.equal(pick([exported, unscored, baseline(60)], 500_000).winner.stage, 'baseline');
  });

  test('nothing within the limit is one clear error', () => {
    assert.throws(
      () => pick([tiny(80, 600_000)], 500_000),
      (e) =>
        e instanceof UserError &&
        /no candidate .* within --max-bytes 500000 \(smallest: 600000 bytes\)/.test(e.message),
    );
  });
});

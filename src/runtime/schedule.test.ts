/** The one learning-rate schedule: warmup steps from the fraction, then each decay kind. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DECAYS, lrFactor, lrSchedule } from './schedule.js';

describe('lrSchedule', () => {
  test('warmup is the rounded fraction of the updates', () => {
    assert.deepEqual(lrSchedule(100, 0.1, 'linear'), { warmupSteps: 10, totalSteps: 100, decay: 'linear' });
    assert.equal(lrSchedule(9, 0.05, 'cosine').warmupSteps, 0); // 0.45 rounds to 0: no warmup
    assert.equal(lrSchedule(10, 0.05, 'cosine').warmupSteps, 1); // 0.5 rounds up
    assert.equal(lrSchedule(7, 0, 'constant').warmupSteps, 0);
  });

  test('after warmup each decay kind: linear and cosine reach 0 at the end, constant stays at the peak', () => {
    const at = (decay: (typeof DECAYS)[number]) => {
      const s = lrSchedule(12, 1 / 6, decay); // 2 warmup steps, 10 decay steps
      return [0, 1, 2, 7, 12].map((i) => lrFactor(i, s));
    };
    assert.deepEqual(at('linear'), [0.5, 1, 1, 0.5, 0]);
    assert.deepEqual(at('constant'), [0.5, 1, 1, 1, 1]);
    const cos = at('cosine');
    assert.deepEqual(cos.slice(0, 3), [0.5, 1, 1]);
    assert.ok(Math.abs(cos[3] - 0.5) < 1e-12 && Math.abs(cos[4]) < 1e-12, String(cos));
    assert.deepEqual([...DECAYS], ['linear', 'cosine', 'constant']);
  });
});

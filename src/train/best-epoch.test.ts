/** The best evaluation's weights: kept on disk when a new best appears, restored, early stopping, resume. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ParamStore } from '../runtime/params.js';
import { writeSafetensors } from '../runtime/safetensors-file.js';
import { UserError } from '../util/errors.js';
import { BEST_FILE, BestWeights, beats } from './best-epoch.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-best-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function store(): ParamStore {
  const s = new ParamStore();
  s.declare('w', [3], 'zeros');
  return s;
}
const set = (s: ParamStore, x: number) => s.get('w').data.fill(x);
const value = (s: ParamStore) => [...s.get('w').data];
const ev = (score: number) => ({ accuracy: score / 100, score });
const stopping = { patience: 2, evalEvery: 10, notBefore: 0 };

describe('BestWeights', () => {
  test('a higher score beats; a tie keeps the earlier; any score beats NaN, NaN beats nothing', () => {
    assert.ok(beats(50, undefined));
    assert.ok(beats(51, 50));
    assert.ok(!beats(50, 50));
    assert.ok(!beats(49, 50));
    assert.ok(beats(0, Number.NaN));
    assert.ok(!beats(Number.NaN, 0));
    assert.ok(!beats(Number.NaN, Number.NaN));
  });

  test("keeps the best evaluation's weights, restores them, and stops after `patience` evaluations without one", () => {
    const dir = join(tmp, 'run');
    const s = store();
    const b = new BestWeights(dir, s, stopping);
    b.start(0, []);
    const scores = [60, 70, 65, 70];
    const stops = scores.map((score, i) => {
      const update = 10 * (i + 1);
      set(s, update);
      const stop = b.shouldStop(update, ev(score));
      b.offer(update, ev(score));
      return stop;
    });
    assert.deepEqual(stops, [false, false, false, true]); // 65, then 70 (a tie): 2 without a better one
    assert.deepEqual(b.best, { update: 20, metrics: ev(70) });
    assert.deepEqual(b.read(), { update: 20, metrics: ev(70) });
    b.restore(40);
    assert.deepEqual(value(s), [20, 20, 20]);
    const never = new BestWeights(join(tmp, 'never'), s, { ...stopping, patience: 0 });
    never.start(0, []);
    never.offer(10, ev(80));
    assert.ok(!never.shouldStop(1000, ev(1)));
    // Not before `notBefore`: a degenerate first epoch scoring best does not end the run early.
    const late = new BestWeights(join(tmp, 'late'), s, { ...stopping, notBefore: 50 });
    late.start(0, []);
    late.offer(10, ev(58));
    assert.deepEqual(
      [30, 40, 50].map((u) => late.shouldStop(u, ev(25))),
      [false, false, true],
    );
  });

  test('resume: the copy a killed run left is kept; one from past the checkpoint is not; the evaluation at the checkpoint is offered again', () => {
    const dir = join(tmp, 'resume');
    const s = store();
    const b = new BestWeights(dir, s, stopping);
    b.start(0, []);
    set(s, 10);
    b.offer(10, ev(60));
    // Killed after the checkpoint at 20 was written, before the copy of its better weights.
    set(s, 20); // the checkpoint's weights, loaded by the resume
    const again = new BestWeights(dir, s, stopping);
    again.start(20, [
      { update: 10, ...ev(60) },
      { update: 20, ...ev(70) },
    ]);
    assert.deepEqual(again.best, { update: 20, metrics: { update: 20, ...ev(70) } });
    assert.equal(again.read()?.update, 20);
    // Killed later, at 30 not better: the copy from 20 stays the best.
    set(s, 30);
    const later = new BestWeights(dir, s, stopping);
    later.start(30, [{ update: 30, ...ev(65) }]);
    assert.equal(later.best?.update, 20);
    later.restore(30);
    assert.deepEqual(value(s), [20, 20, 20]);
    // A copy from past the checkpoint (checkpoints removed by hand) is not this run's best.
    const back = new BestWeights(dir, s, stopping);
    back.start(10, []);
    assert.equal(back.best, undefined);
    // A new run drops an earlier run's copy.
    new BestWeights(dir, s, stopping).start(0, []);
    assert.equal(existsSync(join(dir, BEST_FILE)), false);
  });

  test('a copy without its record is refused in one line naming it', () => {
    const dir = join(tmp, 'broken');
    mkdirSync(dir, { recursive: true });
    const s = store();
    writeSafetensors(join(dir, BEST_FILE), s.toTensors(), { format: 'pt' });
    const b = new BestWeights(dir, s, stopping);
    assert.throws(
      () => b.start(30, []),
      (e: Error) =>
        e instanceof UserError &&
        /best\.safetensors: metadata "update" and "metrics" missing/.test(e.message),
    );
  });
});

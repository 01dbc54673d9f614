import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TokenRow } from '../data/batch.js';
import { Batcher, type BatcherOptions, QueueFull } from './batcher.js';

const row = (n: number): TokenRow => ({ ids: new Array<number>(n).fill(1) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A batcher whose model run answers each row with its length, and holds each run `runMs` milliseconds. */
function fixture(o: Partial<BatcherOptions>, runMs = 0) {
  const batches: number[][] = [];
  const b = new Batcher(
    async (rows) => {
      batches.push(rows.map((r) => r.ids.length));
      if (runMs) await sleep(runMs);
      return rows.map((r) => Float32Array.of(r.ids.length));
    },
    { maxBatchTokens: 8192, maxWaitMs: 0, maxQueue: 1024, ...o },
  );
  return { b, batches };
}

describe('Batcher', () => {
  test('waiting 0 ms: a lone input runs at once; inputs that arrive during a run form the next batch', async () => {
    const { b, batches } = fixture({ maxWaitMs: 0 }, 30);
    const first = b.submit([row(1)]);
    await sleep(5); // the first run has started
    const later = [b.submit([row(2)]), b.submit([row(3), row(4)])];
    const answers = await Promise.all([first, ...later]);
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
    assert.deepEqual(
      answers.map((a) => a.map((l) => l[0])),
      [[1], [2], [3, 4]],
      'each request gets its own rows back, in order',
    );
  });

  test('an input that waited its maxWaitMs behind a run starts when the run ends, without a second wait', async () => {
    const { b, batches } = fixture({ maxWaitMs: 100 }, 150);
    const t0 = performance.now();
    const first = b.submit([row(1)]); // waits 100 ms for company, then runs 150 ms
    await sleep(120);
    const second = b.submit([row(2)]); // arrives during the run: has waited 130 ms when it ends
    await first;
    const ranAt = performance.now() - t0;
    await second;
    assert.deepEqual(batches, [[1], [2]]);
    // Started at once when the first run ended (about 250 ms in), not 100 ms after it.
    const end = performance.now() - t0;
    assert.ok(end < ranAt + 150 + 50, `second run ended ${end} ms in, the first ${ranAt} ms in`);
  });

  test('inputs arriving within maxWaitMs of an idle model share one run', async () => {
    const { b, batches } = fixture({ maxWaitMs: 60 });
    const a = b.submit([row(1)]);
    await sleep(5);
    const c = b.submit([row(2)]);
    await Promise.all([a, c]);
    assert.deepEqual(batches, [[1, 2]]);
  });

  test('a full batch runs without waiting, and a batch stops at maxBatchTokens', async () => {
    const { b, batches } = fixture({ maxWaitMs: 10_000, maxBatchTokens: 8 });
    const t0 = performance.now();
    await Promise.all([b.submit([row(4)]), b.submit([row(4)])]); // 2 x 4 padded tokens: full
    assert.ok(performance.now() - t0 < 5_000, 'did not wait out maxWaitMs');
    const split = fixture({ maxWaitMs: 20, maxBatchTokens: 8 });
    await Promise.all([split.b.submit([row(4)]), split.b.submit([row(4)]), split.b.submit([row(4)])]);
    assert.deepEqual(batches, [[4, 4]]);
    assert.deepEqual(split.batches, [[4, 4], [4]]);
  });

  test('a full queue refuses at once; a failed run rejects the requests in it', async () => {
    const failing = new Batcher(
      async () => {
        throw new Error('model failure');
      },
      { maxBatchTokens: 8192, maxWaitMs: 0, maxQueue: 2 },
    );
    await assert.rejects(failing.submit([row(1), row(1), row(1)]), QueueFull);
    await assert.rejects(failing.submit([row(1)]), /model failure/);
    await failing.drained();
  });
});

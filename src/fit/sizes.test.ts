/** Int8 bytes measured, not assumed: the baseline's buckets sized to a limit, the shipped models' files. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TaskHead } from '../infer/task-head.js';
import { UserError } from '../util/errors.js';
import { DEFAULT_FIT } from './config.js';
import {
  baselineBuckets,
  hybridBuckets,
  hybridFits,
  MIN_BUCKETS,
  MIN_HYBRID_BUCKETS,
  ngramInt8Bytes,
  transformerInt8,
} from './sizes.js';
import { shippedModel } from './stages.js';

const head = (numLabels: number): TaskHead => ({
  numLabels,
  regression: false,
  values: Array.from({ length: numLabels }, (_, i) => String(i)),
  names: Array.from({ length: numLabels }, (_, i) => `c${i}`),
  task: 'own',
  pairs: false,
});
const regression: TaskHead = { ...head(1), regression: true, values: null, names: null };

describe('baselineBuckets', () => {
  test('the most buckets whose int8 file fits: one more would not', () => {
    for (const [h, limit] of [
      [head(2), 500_000],
      [head(3), 100_000],
      [regression, 123_457],
    ] as const) {
      const b = baselineBuckets(limit, h, 1 << 20);
      assert.ok(ngramInt8Bytes(b, h) <= limit, `${b} buckets fit ${limit}`);
      assert.ok(ngramInt8Bytes(b + 1, h) > limit, `${b + 1} buckets do not fit ${limit}`);
    }
  });

  test('the file grows by an int8 weight per class column and a uint8 idf per bucket', () => {
    // Give or take a few bytes of protobuf lengths (varints grow at powers of 128).
    const growth = (h: TaskHead) => ngramInt8Bytes(20_000, h) - ngramInt8Bytes(10_000, h);
    assert.ok(Math.abs(growth(head(2)) - 2 * 10_000) <= 16, `${growth(head(2))}`);
    assert.ok(Math.abs(growth(head(3)) - 4 * 10_000) <= 16, `${growth(head(3))}`);
  });

  test('never above the baseline default, and a limit below the smallest model is refused', () => {
    assert.equal(baselineBuckets(10_000_000, head(2), 1 << 18), 1 << 18);
    assert.throws(
      () => baselineBuckets(1000, head(2), 1 << 18),
      (e) =>
        e instanceof UserError &&
        /--max-bytes 1000: smaller than the smallest model fit makes/.test(e.message),
    );
    assert.equal(baselineBuckets(ngramInt8Bytes(MIN_BUCKETS, head(2)), head(2), 1 << 18), MIN_BUCKETS);
  });
});

describe('transformerInt8', () => {
  test("the shipped models' smallest int8 files: compact, uno-eelbert's under eelbert-tiny's", () => {
    const all = 512; // every position the shipped models have
    const uno = transformerInt8(shippedModel(DEFAULT_FIT, 'uno-eelbert'), head(2), all);
    const tiny = transformerInt8(shippedModel(DEFAULT_FIT, 'eelbert-tiny'), head(2), all);
    assert.equal(uno.variant, 'compact_quantized');
    assert.equal(uno.file, 'onnx/model_compact_quantized.onnx');
    // One layer against two of the same width: the second layer's int8 weights (~200 kB) apart.
    assert.ok(uno.bytes > 200_000 && uno.bytes < tiny.bytes, `${uno.bytes} < ${tiny.bytes}`);
    // More classes: a wider head (128 int8 weights and a float bias more per class).
    assert.ok(transformerInt8(shippedModel(DEFAULT_FIT, 'uno-eelbert'), head(3), all).bytes > uno.bytes);
  });

  test('128 positions instead of 512: 384 rows of 128 int8 values and their scales fewer', () => {
    const tiny = (p: number) => transformerInt8(shippedModel(DEFAULT_FIT, 'eelbert-tiny'), head(2), p).bytes;
    const saved = tiny(512) - tiny(128);
    assert.ok(saved >= 384 * 128 && saved < 384 * 128 + 384 * 8, `${saved} bytes`);
    assert.ok(tiny(DEFAULT_FIT.maxPositions) < 500_000, 'eelbert-tiny fits 500 kB');
  });
});

describe('hybridBuckets', () => {
  test('K + 1 bytes a bucket (a weight per column, a uint8 idf) in what the transformer and 4,096 bytes of graph leave', () => {
    assert.equal(hybridBuckets(500_000, 395_904, head(2)), 50_000);
    assert.equal(hybridBuckets(500_000, 395_904, head(3)), 25_000);
    assert.equal(hybridBuckets(500_000, 395_904, regression), 50_000);
    // eelbert-tiny's 467,721 bytes at 500 kB: the 14,091 buckets results/fit.md reports.
    assert.equal(hybridBuckets(500_000, 467_721, head(2)), 14_091);
  });

  test('no room, or too little to be worth a path, is no hybrid (never a negative count)', () => {
    assert.equal(hybridBuckets(500_000, 499_000, head(2)), 0);
    assert.equal(hybridBuckets(500_000, 600_000, head(2)), 0);
    const edge = 500_000 - 4096 - MIN_HYBRID_BUCKETS * 2;
    assert.ok(hybridFits(500_000, edge, head(2)));
    assert.ok(!hybridFits(500_000, edge + 1, head(2)));
  });
});

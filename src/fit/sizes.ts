/**
 * The bytes of a candidate's int8 model file, measured rather than assumed: a transformer's from its
 * export built in memory (with the task's head; the smallest int8 variant: compact for hash models, read
 * by minnow's runtime), an n-gram model's from its ONNX graph, whose size depends only on the number of
 * hash buckets and classes (the int8 weights and uint8 idf are stored dense).
 */
import { buildExport, DEFAULT_EXPORT, deployableSizes } from '../infer/export-folder.js';
import type { ExportVariant } from '../infer/runtime.js';
import type { TaskHead } from '../infer/task-head.js';
import { loadModel } from '../model/io.js';
import { type Model, withPositions } from '../model/model.js';
import { ngramOnnx } from '../ngram/graph.js';
import { columnsOf } from '../ngram/io.js';
import { DEFAULT_BASELINE } from '../train/baseline.js';
import { UserError } from '../util/errors.js';
import { formatBytes } from '../util/progress.js';

export interface Int8Size {
  variant: ExportVariant;
  /** The file in the export folder, e.g. onnx/model_compact_quantized.onnx. */
  file: string;
  bytes: number;
}

/** The smallest int8 model file `minnow export` writes for the model in `dir` with `head`. */
export function transformerInt8(dir: string, head: TaskHead, maxPositions: number): Int8Size {
  return modelInt8(loadModel(dir, { numLabels: head.numLabels }), head, maxPositions);
}

/** The same for a model in memory (e.g. one not yet trained: the bytes depend on its shapes only). */
export function modelInt8(model: Model, head: TaskHead, maxPositions: number): Int8Size {
  const m = withPositions(model, maxPositions);
  const sizes = deployableSizes(
    buildExport(m, head, { quantize: 'int8', scheme: DEFAULT_EXPORT.scheme, ranges: 'sizes' }),
  );
  const int8 = sizes.filter((s) => s.variant.endsWith('_quantized')).sort((a, b) => a.bytes - b.bytes)[0];
  return { variant: int8.variant, file: int8.file, bytes: int8.bytes };
}

const columns = (head: TaskHead) =>
  columnsOf({
    num_labels: head.numLabels,
    problem_type: head.regression ? 'regression' : 'single_label_classification',
  });

/** Bytes of an n-gram model's int8 ONNX file with `buckets` rows, for `head`. */
export function ngramInt8Bytes(buckets: number, head: TaskHead): number {
  const K = columns(head);
  const zero = {
    weight: new Float32Array(buckets * K),
    bias: new Float32Array(K),
    idf: new Float32Array(buckets),
  };
  return ngramOnnx(zero, { ...DEFAULT_BASELINE.ngram, buckets }, head.numLabels, K, true).length;
}

/** The fewest buckets fit gives the baseline: below this, hash collisions swamp the features. */
export const MIN_BUCKETS = 1024;

/** The bytes a hybrid's n-gram path takes besides its buckets: its graph nodes and scales. */
const HYBRID_PATH_OVERHEAD = 4096;

/**
 * The buckets of a hybrid's n-gram path in the bytes a transformer's int8 file of `int8Bytes` leaves under
 * `maxBytes`: K + 1 bytes a bucket in int8 (a weight per column, a uint8 idf). 0 where there is no room.
 */
export function hybridBuckets(maxBytes: number, int8Bytes: number, head: TaskHead): number {
  return Math.max(0, Math.floor((maxBytes - int8Bytes - HYBRID_PATH_OVERHEAD) / (columns(head) + 1)));
}

/** The fewest buckets a hybrid's n-gram path is worth adding with: fewer collide too much. */
export const MIN_HYBRID_BUCKETS = 8192;

/** Whether a transformer whose int8 file is `int8Bytes` leaves room under `maxBytes` for a hybrid's n-gram path. */
export function hybridFits(maxBytes: number, int8Bytes: number, head: TaskHead): boolean {
  return hybridBuckets(maxBytes, int8Bytes, head) >= MIN_HYBRID_BUCKETS;
}

/**
 * The most hash buckets, up to `most`, whose int8 file fits `maxBytes` (the file grows by K + 1 bytes a
 * bucket: an int8 weight per class column and a uint8 idf). A limit too small for MIN_BUCKETS is refused.
 */
export function baselineBuckets(maxBytes: number, head: TaskHead, most: number): number {
  const perBucket = columns(head) + 1;
  const small = ngramInt8Bytes(MIN_BUCKETS, head);
  if (small > maxBytes)
    throw new UserError(
      `fit: --max-bytes ${maxBytes}: smaller than the smallest model fit makes (an n-gram model of ${MIN_BUCKETS} buckets: ${formatBytes(small)})`,
    );
  let b = Math.min(most, MIN_BUCKETS + Math.floor((maxBytes - small) / perBucket));
  // Protobuf length fields grow by a byte at powers of 128: step down until it fits.
  while (b > MIN_BUCKETS && ngramInt8Bytes(b, head) > maxBytes) b--;
  return b;
}

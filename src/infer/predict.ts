/**
 * In-memory inference on a loaded model's parameters (no export): the forward graph of a classifier or
 * regressor (no dropout, no autodiff) and logits over encoded examples. Fine-tuning and distillation
 * score their dev sets with it between epochs; deployments use runtime.ts on an exported graph.
 */
import { lengthBatches, type Encoded, padBatch, paddedLength } from '../data/batch.js';
import { bertInputs, classifier, encoderCls } from '../model/bert.js';
import type { Model } from '../model/io.js';
import { Dropout } from '../runtime/dropout.js';
import { Forward } from '../runtime/forward.js';
import type { Tensor } from '../runtime/session.js';

/** The inference graph of a classifier or regressor: `logits` (B, numLabels), no dropout. */
export function classifierForward(m: Model, numLabels: number, threads: number): Promise<Forward> {
  return Forward.create(
    (g, w) => {
      const x = bertInputs(g, !!m.config.knowledge, !!m.config.ngram);
      const off = new Dropout(false);
      return { logits: classifier(w, m.config, encoderCls(w, m.config, x, off), numLabels, off, x.ngram) };
    },
    m.store,
    { threads },
  );
}

/** Predictions over encoded examples: logits per example. */
export async function predictLogits(
  m: Model,
  items: Encoded[],
  numLabels: number,
  batchSize: number,
  threads: number,
): Promise<Float32Array[]> {
  const fwd = await classifierForward(m, numLabels, threads);
  const byIndex = new Array<Float32Array>(items.length);
  const cap = m.config.max_position_embeddings;
  for (const idx of lengthBatches(items, batchSize, cap)) {
    const first = items[idx[0]];
    const b = padBatch(
      idx.map((k) => items[k]),
      true,
      0,
      { T: paddedLength(first.ids.length, cap), N: paddedLength(first.ngrams?.ids.length ?? 0) },
    );
    const { labels: _, ...feeds } = b.feeds;
    const r = await fwd.run(feeds, b.sizes);
    const data = (r.logits as Tensor).data as Float32Array;
    idx.forEach((k, j) => {
      byIndex[k] = data.slice(j * numLabels, (j + 1) * numLabels);
    });
  }
  await fwd.release();
  return byIndex; // not spread into another array: 200k rows overflow the call stack
}

/** Logit rows (one per example, `width` wide) stacked into one row-major (examples x width) array. */
export function stackRows(rows: readonly Float32Array[], width: number): Float32Array {
  const all = new Float32Array(rows.length * width);
  rows.forEach((r, i) => all.set(r, i * width));
  return all;
}

/**
 * Calibration for static int8 (export-graph.ts): the range of each activation that meets int8 weights,
 * measured on texts like the ones the model will read. The calibration graph (calibrationOnnx) runs
 * through the runtime, so its texts are encoded as deployment encodes them; padding positions are left
 * out of the ranges (their values are never read).
 *
 * The range is the minimum and maximum seen (onnxruntime's MinMax calibrator): an activation outside it
 * at run time saturates to the range's end.
 */
import type { Model } from '../model/io.js';
import type { KnowledgeGraph } from '../knowledge/graph.js';
import { CALIBRATION_OUTPUT, calibrationOnnx } from './export-graph.js';
import { nodeOrt } from './load.js';
import { Classifier, type ClassifierInput, type ExportedConfig } from './runtime.js';

export interface CalibrationOptions {
  threads: number;
  maxLength: number;
  knowledge?: KnowledgeGraph;
}

/** [lo, hi] of each static point of `m`'s classifier over `texts`, in staticPoints order. */
export async function calibrateRanges(
  m: Model,
  config: ExportedConfig,
  texts: readonly ClassifierInput[],
  o: CalibrationOptions,
): Promise<[number, number][]> {
  if (texts.length === 0) throw new Error('static int8: no texts to calibrate on');
  const numLabels = config.num_labels ?? 1;
  const clf = await Classifier.create(config, m.tokenizer.vocabulary, calibrationOnnx(m, numLabels), {
    ort: nodeOrt,
    knowledge: o.knowledge,
    variant: 'portable',
    threads: o.threads,
    maxLength: o.maxLength,
  });
  const ranges: [number, number][] = [];
  try {
    const rows = clf.encode(texts);
    await clf.eachRun(rows, 32, (outputs, idx) => {
      for (const [name, t] of Object.entries(outputs)) {
        if (!name.startsWith(CALIBRATION_OUTPUT)) continue;
        const k = Number(name.slice(CALIBRATION_OUTPUT.length));
        const data = t.data as Float32Array;
        const [n, width] = t.dims;
        // Token rows (B x T of them) or one row per example (the [CLS] head).
        const T = n === idx.length ? 1 : n / idx.length;
        const r = (ranges[k] ??= [Infinity, -Infinity]);
        for (let j = 0; j < idx.length; j++) {
          const real = T === 1 ? 1 : Math.min(T, rows[idx[j]].ids.length);
          for (let i = j * T * width; i < (j * T + real) * width; i++) {
            const v = data[i];
            if (v < r[0]) r[0] = v;
            if (v > r[1]) r[1] = v;
          }
        }
      }
    });
  } finally {
    await clf.release();
  }
  for (const [k, r] of ranges.entries())
    if (!r || !Number.isFinite(r[0]) || !Number.isFinite(r[1]))
      throw new Error(`static int8: activation ${k} had no finite values on the calibration texts`);
  return ranges;
}

/**
 * Personalising a fine-tuned classifier on a handful of labelled sentences: a few steps of fine-tuning with
 * minnow's training graphs (forward, autodiff backward, dropout, AdamW) on any onnxruntime backend. The
 * browser page runs it on onnxruntime-web, so the user's examples never leave the page; Node runs the same
 * steps, which is how the page's losses are checked. Browser-safe.
 */
import { encodeAll, epochBatches, padBatch } from '../data/batch.js';
import { type Model, modelEncoder } from '../model/model.js';
import { AdamW, DEFAULT_ADAMW } from '../runtime/optim.js';
import type { OrtBackend } from '../runtime/session.js';
import { UserError } from '../util/errors.js';
import { headGraph } from './head-graph.js';
import { TrainStep } from './step.js';

export interface TeachExample {
  text: string;
  pair?: string;
  /** Class index (id2label order), or the target value of a regression head. */
  label: number;
}

export interface TeachConfig {
  steps: number;
  lr: number; // constant: a few steps leave no room for warmup and decay
  batchSize: number;
  /** 'head': only the pooler and the classifier train; 'model': every stored parameter. */
  part: 'head' | 'model';
  seed: number; // batch order and dropout
  maxLength: number;
}

export const DEFAULT_TEACH: Readonly<TeachConfig> = Object.freeze({
  steps: 10,
  lr: 1e-3,
  batchSize: 8,
  part: 'model',
  seed: 0,
  maxLength: 128,
});

const isHeadParam = (name: string) => name.startsWith('classifier.') || name.startsWith('bert.pooler.');

export interface TeachRun {
  /** onnxruntime module (default onnxruntime-node). */
  backend?: OrtBackend;
  threads?: number;
  /** Called after every step with its 0-based index and loss. */
  onStep?: (step: number, loss: number) => void;
}

/** Train `m` in place on `examples` for `c.steps` steps; returns the loss of every step. */
export async function teach(
  m: Model,
  examples: readonly TeachExample[],
  c: TeachConfig,
  run: TeachRun = {},
): Promise<number[]> {
  const numLabels = m.config.num_labels;
  if (!numLabels) throw new UserError('teach: the model has no task head (num_labels); fine-tune it first');
  if (examples.length === 0) throw new UserError('teach: no examples');
  const regression = m.config.problem_type === 'regression';
  for (const [i, e] of examples.entries()) {
    const ok = regression
      ? Number.isFinite(e.label)
      : Number.isInteger(e.label) && e.label >= 0 && e.label < numLabels;
    if (!ok)
      throw new UserError(
        `teach: example ${i + 1}: label ${e.label} is not ${regression ? 'a number' : `a class 0..${numLabels - 1}`}`,
      );
  }
  const maxLength = Math.min(c.maxLength, m.config.max_position_embeddings);
  const items = encodeAll(
    m.tokenizer,
    examples.map((e, i) => ({ ...e, line: i + 1 })),
    maxLength,
    modelEncoder(m, maxLength),
    m.config.ngram,
  );
  const { indicesOf } = epochBatches(items.length, Math.min(c.batchSize, items.length), c.seed);
  // Freezing is read when the step is compiled: only the trained part gets gradients.
  const frozen = m.store.params.map((p) => p.frozen);
  if (c.part === 'head') for (const p of m.store.params) p.frozen ||= !isHeadParam(p.name);
  let step: TrainStep;
  try {
    step = await TrainStep.create(headGraph(m.config, numLabels, regression), m.store, {
      seed: c.seed,
      threads: run.threads ?? 1,
      backend: run.backend,
    });
  } finally {
    m.store.params.forEach((p, i) => {
      p.frozen = frozen[i];
    });
  }
  const optim = new AdamW(step.params, { ...DEFAULT_ADAMW, lr: c.lr });
  const losses: number[] = [];
  try {
    for (let k = 0; k < c.steps; k++) {
      const b = padBatch(
        indicesOf(k).map((j) => items[j]),
        regression,
        m.tokenizer.padId,
      );
      const r = await step.run(b.feeds, b.sizes, k);
      if (!Number.isFinite(r.loss))
        throw new UserError(`teach: step ${k + 1}: the loss is ${r.loss} (lower the learning rate)`);
      optim.update(r.grads, c.lr);
      losses.push(r.loss);
      run.onStep?.(k, r.loss);
    }
  } finally {
    await step.release();
  }
  return losses;
}

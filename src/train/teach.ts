/**
 * Teaching a fine-tuned classifier a handful of labelled sentences without breaking what it knew: a few
 * steps with minnow's training graphs (forward, autodiff backward, AdamW) on any onnxruntime backend. The
 * browser page runs it on onnxruntime-web, so the user's examples never leave the page; `minnow teach`
 * runs the same code on onnxruntime-node.
 *
 * Plain fine-tuning on five sentences moves every other answer too (catastrophic forgetting). Each step
 * here minimises
 *
 *   loss = CE(taught rows) + anchorWeight * KL(original || now, on anchor rows) + pull * |w - w0|^2
 *
 * - Learning without Forgetting (Li & Hoiem 2016): anchor texts (a list shipped beside the model, or lines
 *   the user classified) keep the original model's probabilities, computed once before the first step.
 * - L2-SP (Li, Grandvalet & Davoine 2018): the trained weights are pulled toward their starting values,
 *   not toward zero (AdamW's decay is off by default for that reason).
 * - A smaller trainable part ('top': the classifier, pooler and last layer) when that keeps more.
 * - It stops as soon as every taught example is right by `margin`, checked with the model as it
 *   predicts (no dropout) before each step, and rolls back a run whose loss turns non-finite, jumps
 *   above `divergence` times its first value, or ends higher than it began: the model is then unchanged
 *   and the result says why.
 *
 * `PLAIN_TEACH` is the earlier behaviour (10 steps of plain fine-tuning of the whole model), kept for
 * comparison (scripts/teach-forgetting.ts). Browser-safe.
 */
import { encodeAll, epochBatches, padBatch, type Encoded } from '../data/batch.js';
import type { Graph } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { bertInputs, classifier, encoder } from '../model/bert.js';
import type { BertConfig } from '../model/config.js';
import { type Model, modelEncoder } from '../model/model.js';
import { Dropout } from '../runtime/dropout.js';
import { Forward } from '../runtime/forward.js';
import { AdamW, DEFAULT_ADAMW } from '../runtime/optim.js';
import type { Param } from '../runtime/params.js';
import type { OrtBackend } from '../runtime/session.js';
import type { Weights } from '../runtime/weights.js';
import { parseDecimal } from '../util/decimal.js';
import { UserError } from '../util/errors.js';
import { deriveSeed } from '../util/rng.js';
import { type BuildStep, TrainStep } from './step.js';

export interface TeachExample {
  text: string;
  pair?: string;
  /** Class index (id2label order), or the target value of a regression head. */
  label: number;
}

/** What trains: the pooler and classifier; those and the last encoder layer; or every stored parameter. */
export type TeachPart = 'head' | 'top' | 'model';

export interface TeachConfig {
  steps: number; // the most steps; fewer when the taught examples are right first (stopWhenRight)
  lr: number; // constant: a few steps leave no room for warmup and decay
  batchSize: number; // taught examples per step (all of them when there are fewer)
  part: TeachPart;
  seed: number; // batch order (and dropout noise when on)
  maxLength: number;
  dropout: boolean; // the model's dropout while teaching (off: each step sees the model as it predicts)
  anchorWeight: number; // LwF: weight of the KL term toward the original predictions on anchors (0: off)
  anchorBatch: number; // anchor texts per step
  pull: number; // L2-SP: weight of the squared distance of the trained weights to their start (0: off)
  weightDecay: number; // AdamW's decoupled decay toward zero
  stopWhenRight: boolean; // stop when every taught example is right by `margin`
  margin: number; // the taught class's probability above every other (regression: the largest error)
  divergence: number; // roll back when a step's loss exceeds this times the first step's (Infinity: never)
}

export const DEFAULT_TEACH: Readonly<TeachConfig> = Object.freeze({
  steps: 100,
  lr: 1e-3,
  batchSize: 32,
  part: 'model',
  seed: 0,
  maxLength: 128,
  dropout: false,
  anchorWeight: 30,
  anchorBatch: 32,
  pull: 0.1,
  weightDecay: 0,
  stopWhenRight: true,
  margin: 0.2,
  divergence: 10,
});

/** The earlier defaults: 10 steps of plain fine-tuning, whole model, dropout, no anchors, no pull. */
export const PLAIN_TEACH: Readonly<TeachConfig> = Object.freeze({
  ...DEFAULT_TEACH,
  steps: 10,
  batchSize: 8,
  dropout: true,
  anchorWeight: 0,
  pull: 0,
  weightDecay: DEFAULT_ADAMW.weightDecay,
  stopWhenRight: false,
  divergence: Number.POSITIVE_INFINITY,
});

export interface TeachRun {
  /** onnxruntime module (default onnxruntime-node). */
  backend?: OrtBackend;
  threads?: number;
  /** Texts whose current predictions the run keeps (LwF); no labels needed. */
  anchors?: readonly string[];
  /** Called after every step with its 0-based index and loss. */
  onStep?: (step: number, loss: number) => void;
}

export interface TeachResult {
  /**
   * 'right': every taught example is right by the margin (possibly before any step); 'steps': the step
   * budget ran out first; 'diverged': the run was rolled back and the model is as it was.
   */
  status: 'right' | 'steps' | 'diverged';
  /** One line for the user: what happened, and what to do on divergence. */
  message: string;
  /** Loss of every step taken (the whole objective; its KL term is 0 at the first step). */
  losses: number[];
  /** Optimiser updates applied (0 after a roll-back). */
  updates: number;
  /** Distinct taught examples and anchors that went into the updates. */
  taughtSeen: number;
  anchorsSeen: number;
}

/**
 * Taught examples written one per line as `label | sentence` (or `label<TAB>sentence`): a label is a class
 * name (any case) or index, a number for a regression head; blank lines are skipped. Errors name `source`
 * (a file, or nothing on the page) and the line.
 */
export function parseTeachExamples(
  text: string,
  head: { id2label?: Record<string | number, string>; problem_type?: string },
  source = '',
): TeachExample[] {
  const names = Object.values(head.id2label ?? {});
  const regression = head.problem_type === 'regression';
  const at = (i: number) => `${source ? `${source}: ` : ''}line ${i + 1}`;
  const out: TeachExample[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    const cut = [line.indexOf('|'), line.indexOf('\t')].filter((k) => k >= 0);
    const bar = cut.length ? Math.min(...cut) : -1;
    const label = line.slice(0, Math.max(bar, 0)).trim();
    const sentence = line.slice(bar + 1).trim();
    if (bar < 0 || !label || !sentence)
      throw new UserError(
        `${at(i)}: write "label | sentence" (${regression ? 'a number' : `labels: ${names.join(', ')}`})`,
      );
    let k = regression
      ? parseDecimal(label)
      : names.findIndex((n) => n.toLowerCase() === label.toLowerCase());
    if (!regression && k < 0 && /^\d+$/.test(label) && Number(label) < names.length) k = Number(label);
    if (regression ? !Number.isFinite(k) : k < 0)
      throw new UserError(
        `${at(i)}: unknown label "${label}" (${regression ? 'a number' : `one of ${names.join(', ')}`})`,
      );
    out.push({ text: sentence, label: k });
  }
  if (out.length === 0)
    throw new UserError(`${source ? `${source}: ` : ''}no examples: write one "label | sentence" per line`);
  return out;
}

const isHeadParam = (name: string) => name.startsWith('classifier.') || name.startsWith('bert.pooler.');

/** Whether `part` trains the parameter `name` of a model with `layers` encoder layers. */
export function trains(part: TeachPart, name: string, layers: number): boolean {
  if (part === 'model') return true;
  if (isHeadParam(name)) return true;
  return part === 'top' && name.startsWith(`bert.encoder.layer.${layers - 1}.`);
}

/**
 * The step graph: logits (B, C) against per-row soft targets (B, C) (a one-hot row for a taught example,
 * the original model's probabilities for an anchor), or target values (B) for regression, each row's loss
 * weighted by `row_weights` (B) and summed. Outputs the logits.
 */
export function teachGraph(c: BertConfig, numLabels: number, regression: boolean): BuildStep {
  return (g: Graph, w: Weights, drop: Dropout) => {
    const x = bertInputs(g, !!c.knowledge, !!c.ngram);
    const logits = classifier(w, c, encoder(w, c, x, drop), numLabels, drop, x.ngram);
    const weights = g.input('row_weights', 'float32', ['B']);
    let rows;
    if (regression) {
      const diff = o.sub(o.reshape(logits, ['B']), g.input('targets', 'float32', ['B']));
      rows = o.mul(diff, diff);
    } else {
      const targets = g.input('targets', 'float32', ['B', numLabels]);
      rows = o.neg(o.reduceSum(o.mul(targets, o.logSoftmax(logits, -1)), [-1]));
    }
    return { loss: o.reduceSum(o.mul(rows, weights), [0]), outputs: { logits } };
  };
}

function forwardGraph(c: BertConfig, numLabels: number) {
  return (g: Graph, w: Weights) => {
    const x = bertInputs(g, !!c.knowledge, !!c.ngram);
    const off = new Dropout(false);
    return { logits: classifier(w, c, encoder(w, c, x, off), numLabels, off, x.ngram) };
  };
}

const softmax = (z: ArrayLike<number>): number[] => {
  const m = Math.max(...Array.from(z));
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** Feeds of a batch without its labels. */
function batchFeeds(items: Encoded[], padId: number) {
  const b = padBatch(items, true, padId);
  const { labels: _, ...feeds } = b.feeds;
  return { feeds, sizes: b.sizes };
}

/**
 * Teach `m` (in place) the `examples`, holding its other answers (see the file's header). Throws a
 * UserError on bad examples; a diverging run is rolled back and reported in the result, not thrown.
 */
export async function teach(
  m: Model,
  examples: readonly TeachExample[],
  c: TeachConfig,
  run: TeachRun = {},
): Promise<TeachResult> {
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
  const encode = (xs: readonly { text: string; pair?: string; label: number }[]) =>
    encodeAll(
      m.tokenizer,
      xs.map((e, i) => ({ ...e, line: i + 1 })),
      maxLength,
      modelEncoder(m, maxLength),
      m.config.ngram,
    );
  const taught = encode(examples);
  const anchorTexts = c.anchorWeight > 0 ? (run.anchors ?? []).filter((t) => t.trim() !== '') : [];
  const anchors = encode(anchorTexts.map((text) => ({ text, label: 0 })));
  const padId = m.tokenizer.padId;
  const threads = run.threads ?? 1;
  const width = regression ? 1 : numLabels;

  const fwd = await Forward.create(forwardGraph(m.config, numLabels), m.store, {
    threads,
    backend: run.backend,
  });
  const logitsOf = async (items: Encoded[]): Promise<Float32Array> => {
    const out = new Float32Array(items.length * numLabels);
    for (let i = 0; i < items.length; i += 64) {
      const { feeds, sizes } = batchFeeds(items.slice(i, i + 64), padId);
      out.set((await fwd.run(feeds, sizes)).logits.data as Float32Array, i * numLabels);
    }
    return out;
  };
  /** The taught examples' mean loss under the model as it predicts, and whether each is right by the margin. */
  const check = async (): Promise<{ loss: number; right: boolean }> => {
    const z = await logitsOf(taught);
    let loss = 0;
    let right = true;
    taught.forEach((e, i) => {
      const row = z.subarray(i * numLabels, (i + 1) * numLabels);
      if (regression) {
        const err = Math.abs(row[0] - e.label);
        loss += err * err;
        right &&= err <= c.margin;
      } else {
        const p = softmax(row);
        loss -= Math.log(Math.max(p[e.label], 1e-30));
        right &&= p.every((q, k) => k === e.label || p[e.label] - q >= c.margin);
      }
    });
    return { loss: loss / taught.length, right };
  };

  // The original model's answers on the anchors: the LwF targets (probabilities, or values), and their entropy.
  const anchorTargets: number[][] = [];
  const anchorEntropy: number[] = [];
  if (anchors.length) {
    const z = await logitsOf(anchors);
    for (let i = 0; i < anchors.length; i++) {
      const row = Array.from(z.subarray(i * numLabels, (i + 1) * numLabels));
      const t = regression ? row.slice(0, 1) : softmax(row);
      anchorTargets.push(t);
      anchorEntropy.push(regression ? 0 : -t.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0));
    }
  }

  // Freezing is read when the step is compiled: only the trained part gets gradients.
  const layers = m.config.num_hidden_layers;
  const frozen = m.store.params.map((p) => p.frozen);
  for (const p of m.store.params) p.frozen ||= !trains(c.part, p.name, layers);
  let step: TrainStep;
  try {
    step = await TrainStep.create(teachGraph(m.config, numLabels, regression), m.store, {
      seed: c.seed,
      threads,
      backend: run.backend,
      training: c.dropout,
    });
  } catch (e) {
    await fwd.release();
    throw e;
  } finally {
    m.store.params.forEach((p, i) => {
      p.frozen = frozen[i];
    });
  }
  const start = new Map<Param, Float32Array>(step.params.map((p) => [p, Float32Array.from(p.data)]));
  const optim = new AdamW(step.params, { ...DEFAULT_ADAMW, lr: c.lr, weightDecay: c.weightDecay });
  const taughtBatches = epochBatches(taught.length, Math.min(c.batchSize, taught.length), c.seed);
  const anchorBatches = anchors.length
    ? epochBatches(anchors.length, Math.min(c.anchorBatch, anchors.length), deriveSeed(c.seed, 'ANCH', 0))
    : undefined;
  const seenTaught = new Set<number>();
  const seenAnchors = new Set<number>();
  const losses: number[] = [];
  let updates = 0;
  let diverged = '';
  const initial = await check();
  let last = initial;
  try {
    for (let k = 0; k < c.steps && !(c.stopWhenRight && last.right); k++) {
      const ti = taughtBatches.indicesOf(k);
      const ai = anchorBatches?.indicesOf(k) ?? [];
      const { feeds, sizes } = batchFeeds([...ti.map((j) => taught[j]), ...ai.map((j) => anchors[j])], padId);
      const targets = new Float32Array(sizes.B * width);
      const weights = new Float32Array(sizes.B);
      ti.forEach((j, r) => {
        if (regression) targets[r] = taught[j].label;
        else targets[r * width + taught[j].label] = 1;
        weights[r] = 1 / ti.length;
      });
      let entropy = 0;
      ai.forEach((j, a) => {
        const r = ti.length + a;
        targets.set(anchorTargets[j], r * width);
        weights[r] = c.anchorWeight / ai.length;
        entropy += (c.anchorWeight * anchorEntropy[j]) / ai.length;
      });
      const shape = regression ? [sizes.B] : [sizes.B, width];
      const r = await step.run(
        { ...feeds, targets: { data: targets, shape }, row_weights: { data: weights, shape: [sizes.B] } },
        sizes,
        k,
      );
      // L2-SP: pull * |w - w0|^2 in the loss, 2 * pull * (w - w0) in the gradient.
      let distance = 0;
      if (c.pull > 0)
        step.params.forEach((p, i) => {
          const w0 = start.get(p)!;
          const gr = r.grads[i];
          for (let x = 0; x < p.data.length; x++) {
            const d = p.data[x] - w0[x];
            distance += d * d;
            gr[x] += 2 * c.pull * d;
          }
        });
      // Soft cross-entropy minus the targets' entropy is the KL divergence: 0 at the first step.
      const loss = r.loss - entropy + c.pull * distance;
      losses.push(loss);
      run.onStep?.(k, loss);
      if (!Number.isFinite(loss)) {
        diverged = `the loss is ${loss} at step ${k + 1}`;
        break;
      }
      if (k > 0 && loss > c.divergence * losses[0]) {
        diverged = `the loss rose from ${losses[0].toFixed(4)} to ${loss.toFixed(4)} at step ${k + 1}`;
        break;
      }
      optim.update(r.grads, c.lr);
      updates++;
      ti.forEach((j) => seenTaught.add(j));
      ai.forEach((j) => seenAnchors.add(j));
      last = await check();
    }
    if (!diverged && !Number.isFinite(last.loss)) diverged = `the taught examples' loss is ${last.loss}`;
    else if (!diverged && Number.isFinite(c.divergence) && updates > 0 && last.loss > initial.loss)
      diverged = `the taught examples' loss rose from ${initial.loss.toFixed(4)} to ${last.loss.toFixed(4)}`;
  } finally {
    await step.release();
    await fwd.release();
  }
  const trained = `${updates} step${updates === 1 ? '' : 's'} of lr ${c.lr}`;
  if (diverged) {
    for (const [p, w0] of start) p.data.set(w0);
    return {
      status: 'diverged',
      message: `teaching diverged (${diverged}): rolled back, the model is unchanged; lower the learning rate (${c.lr})`,
      losses,
      updates: 0,
      taughtSeen: 0,
      anchorsSeen: 0,
    };
  }
  const result = { losses, updates, taughtSeen: seenTaught.size, anchorsSeen: seenAnchors.size };
  if (last.right)
    return {
      status: 'right',
      message:
        updates === 0
          ? 'every taught example is already right: nothing to teach'
          : `every taught example is right after ${trained}`,
      ...result,
    };
  return {
    status: 'steps',
    message: `${trained}: not every taught example is right yet${c.stopWhenRight ? ' (more steps or a higher learning rate may get there)' : ''}`,
    ...result,
  };
}

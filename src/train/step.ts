/**
 * A compiled training step: the forward graph, its backward graph from autodiff, and one
 * onnxruntime session that maps (parameters, batch, dropout noise) to (loss, gradients, outputs).
 * Knows nothing about how a gradient is derived or what the model is.
 */

import { grad } from '../graph/grad.js';
import { Graph, type NumericArray, resolveShape, type Value } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { Dropout } from '../runtime/dropout.js';
import { NoiseSource } from '../runtime/noise.js';
import type { Param, ParamStore } from '../runtime/params.js';
import { Session, type SessionOptions, type Tensor } from '../runtime/session.js';
import { Weights } from '../runtime/weights.js';

export interface StepGraph {
  loss: Value;
  /** Extra named outputs to fetch each step (e.g. logits for metrics, separate loss terms). */
  outputs?: Record<string, Value>;
}

export type BuildStep = (g: Graph, w: Weights, drop: Dropout) => StepGraph;

export interface StepResult {
  loss: number;
  grads: Float32Array[]; // aligned with TrainStep.params
  outputs: Record<string, Tensor>;
}

export class TrainStep {
  private constructor(
    private readonly session: Session,
    /** Trainable parameters that receive gradients, in output order. */
    readonly params: Param[],
    private readonly fed: Param[],
    private readonly noiseSites: Value[],
    private readonly noise: NoiseSource,
    private readonly outputNames: string[],
    readonly graph: Graph,
  ) {}

  static async create(
    build: BuildStep,
    store: ParamStore,
    opts: SessionOptions & { seed: number; training?: boolean },
  ): Promise<TrainStep> {
    const g = new Graph('train_step');
    const w = new Weights(g, store);
    const drop = new Dropout(opts.training ?? true);
    const { loss, outputs = {} } = build(g, w, drop);
    const entries = w.entries();
    const trainable = entries.filter(([name]) => !store.get(name).frozen);
    const grads = grad(
      loss,
      trainable.map(([, v]) => v),
    );
    g.output(loss, 'loss');
    const names = Object.keys(outputs);
    for (const k of names) g.output(o.identity(outputs[k]), k);
    trainable.forEach(([name], i) => {
      g.output(o.identity(grads[i]), `grad:${name}`);
    });
    const session = await Session.create(g, opts);
    return new TrainStep(
      session,
      trainable.map(([name]) => store.get(name)),
      entries.map(([name]) => store.get(name)),
      drop.sites,
      new NoiseSource(opts.seed),
      names,
      g,
    );
  }

  /**
   * Run one step on a batch. `sizes` binds the symbolic dims (B, T); `step` selects the dropout
   * noise, so the same (seed, step) always gives the same masks.
   */
  async run(
    batch: Record<string, Tensor | NumericArray>,
    sizes: Record<string, number>,
    step: number,
  ): Promise<StepResult> {
    const feeds: Record<string, Tensor | NumericArray> = { ...batch };
    for (const p of this.fed) feeds[p.name] = { data: p.data, shape: p.shape };
    if (this.noiseSites.length) {
      const shapes = this.noiseSites.map((v) => resolveShape(v.shape, sizes));
      const draws = await this.noise.draw(
        step,
        shapes.map((s) => s.reduce((a, b) => a * b, 1)),
      );
      this.noiseSites.forEach((v, i) => {
        feeds[v.name] = { data: draws[i], shape: shapes[i] };
      });
    }
    const out = await this.session.run(feeds, sizes);
    const outputs: Record<string, Tensor> = {};
    for (const k of this.outputNames) outputs[k] = out[k];
    return {
      loss: Number(out.loss.data[0]),
      grads: this.params.map((p) => out[`grad:${p.name}`].data as Float32Array),
      outputs,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

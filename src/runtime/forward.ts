/** A forward-only session of a model (evaluation, prediction, export checks): no autodiff, no training code. */
import { Graph, type NumericArray, type Value } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import type { Param, ParamStore } from './params.js';
import { Session, type SessionOptions, type Tensor } from './session.js';
import { Weights } from './weights.js';

/** A forward-only session of a model (evaluation, prediction): parameters are fed, nothing is derived. */
export class Forward {
  private constructor(
    private readonly session: Session,
    private readonly fed: Param[],
    readonly graph: Graph,
  ) {}

  static async create(
    build: (g: Graph, w: Weights) => Record<string, Value>,
    store: ParamStore,
    opts: SessionOptions = {},
  ): Promise<Forward> {
    const g = new Graph('forward');
    const w = new Weights(g, store);
    const outputs = build(g, w);
    for (const [k, v] of Object.entries(outputs)) g.output(o.identity(v), k);
    const session = await Session.create(g, opts);
    return new Forward(
      session,
      w.entries().map(([name]) => store.get(name)),
      g,
    );
  }

  async run(
    batch: Record<string, Tensor | NumericArray>,
    sizes: Record<string, number>,
  ): Promise<Record<string, Tensor>> {
    const feeds: Record<string, Tensor | NumericArray> = { ...batch };
    for (const p of this.fed) feeds[p.name] = { data: p.data, shape: p.shape };
    return this.session.run(feeds, sizes);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

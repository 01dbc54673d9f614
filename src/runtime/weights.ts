/** Graph inputs bound to the parameters of a store, by name: how a model graph reads its weights. */
import type { DType, Graph, Value } from '../graph/graph.js';
import type { Init, ParamStore } from './params.js';

/** How a lookup table is declared: trained, frozen, or derived (computed at load, never stored). */
export interface TableOptions {
  frozen?: boolean;
  derived?: boolean;
}

/**
 * Binds parameters of the store to graph inputs of the same name. `dtype` float64 builds the
 * gradient-check twin of a model (the store still holds float32 values).
 */
export class Weights {
  private readonly bound = new Map<string, Value>();
  constructor(
    readonly g: Graph,
    readonly store: ParamStore,
    readonly dtype: DType = 'float32',
  ) {}

  get(name: string, shape: number[], init: Init, frozen = false, derived = false): Value {
    const v = this.bound.get(name);
    if (v) return v;
    this.store.declare(name, shape, init, frozen, derived);
    const input = this.g.input(name, this.dtype, shape);
    this.bound.set(name, input);
    return input;
  }

  /**
   * A lookup table (embeddings): its rows are gathered by id, never multiplied. The model marks each
   * weight by its use, table here and dense through `get`; an export stores the two differently
   * (infer/export-graph.ts). Here both are graph inputs.
   */
  table(name: string, shape: number[], init: Init, o: TableOptions = {}): Value {
    return this.get(name, shape, init, o.frozen, o.derived);
  }

  /** The (param name, graph value) pairs used by this graph. */
  entries(): [string, Value][] {
    return [...this.bound.entries()];
  }
}

/**
 * The named parameter store: one Float32Array per parameter, Hugging Face BERT names
 * (`bert.encoder.layer.0.attention.self.query.weight`, ...). Saved as safetensors.
 */
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { readSafetensors, type SafeTensor, writeSafetensors } from './safetensors.js';

export type Init = 'normal' | 'zeros' | 'ones';

export interface Param {
  name: string;
  shape: number[];
  data: Float32Array;
  init: Init;
  /** Frozen parameters are fed to the graph but never updated (no gradient is computed). */
  frozen?: boolean;
  /** Derived parameters are computed at load time (EELBERT's hash table) and never saved. */
  derived?: boolean;
}

export class ParamStore {
  private readonly byName = new Map<string, Param>();

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get params(): Param[] {
    return [...this.byName.values()];
  }

  get trainable(): Param[] {
    return this.params.filter((p) => !p.frozen);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): Param {
    const p = this.byName.get(name);
    if (!p) throw new Error(`params: no parameter "${name}"`);
    return p;
  }

  /** Declare a parameter (zeros until `initialize` or `load`). Declaring twice must agree on the shape. */
  declare(name: string, shape: number[], init: Init, frozen = false, derived = false): Param {
    const old = this.byName.get(name);
    if (old) {
      if (old.shape.join() !== shape.join()) {
        throw new Error(`params: "${name}" declared as [${old.shape}] and [${shape}]`);
      }
      return old;
    }
    const p: Param = {
      name,
      shape,
      init,
      frozen,
      derived,
      data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
    };
    this.byName.set(name, p);
    return p;
  }

  /** BERT initialisation: normal(0, std) weights, zero biases, LayerNorm gamma ones. */
  initialize(rng: Rng, std = 0.02): void {
    for (const p of this.params) {
      if (p.derived) continue;
      if (p.init === 'ones') p.data.fill(1);
      else if (p.init === 'zeros') p.data.fill(0);
      else for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * std;
    }
  }

  /** Forget the parameters whose names match. */
  remove(match: (name: string) => boolean): void {
    for (const name of this.names) if (match(name)) this.byName.delete(name);
  }

  count(filter: (p: Param) => boolean = () => true): number {
    return this.params.filter(filter).reduce((s, p) => s + p.data.length, 0);
  }

  /** The stored (non-derived) parameters accepted by `filter`, as safetensors tensors. */
  toTensors(filter: (p: Param) => boolean = () => true): Map<string, SafeTensor> {
    const m = new Map<string, SafeTensor>();
    for (const p of this.params)
      if (!p.derived && filter(p)) m.set(p.name, { dtype: 'F32', shape: p.shape, data: p.data });
    return m;
  }

  save(path: string, metadata: Record<string, string> = {}, filter?: (p: Param) => boolean): void {
    writeSafetensors(path, this.toTensors(filter), metadata);
  }

  /**
   * Load values from a safetensors file. Every declared parameter must be present with the same
   * shape (unless `allowMissing` lists it); extra tensors in the file are reported to `onExtra`.
   */
  load(
    path: string,
    opts: {
      allowMissing?: (name: string) => boolean;
      onExtra?: (name: string) => void;
      /** Only these parameters are read from the file (default: all declared). */
      only?: (name: string) => boolean;
    } = {},
  ): void {
    const file = readSafetensors(path);
    for (const p of this.params) {
      if (p.derived || (opts.only && !opts.only(p.name))) continue;
      const t = file.tensors.get(p.name);
      if (!t) {
        if (opts.allowMissing?.(p.name)) continue;
        throw new UserError(`${path}: missing tensor "${p.name}" (shape [${p.shape}])`);
      }
      if (t.dtype !== 'F32') throw new UserError(`${path}: tensor "${p.name}" is ${t.dtype}, expected F32`);
      if (t.shape.join() !== p.shape.join()) {
        throw new UserError(
          `${path}: tensor "${p.name}" has shape [${t.shape}], the model expects [${p.shape}]`,
        );
      }
      p.data.set(t.data as Float32Array);
    }
    if (opts.onExtra) for (const name of file.tensors.keys()) if (!this.byName.has(name)) opts.onExtra(name);
  }
}

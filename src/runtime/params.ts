/**
 * The named parameter store: one Float32Array per parameter, Hugging Face BERT names
 * (`bert.encoder.layer.0.attention.self.query.weight`, ...). Read from and written to safetensors
 * (`load`, `toTensors`); the files themselves are read elsewhere, so this runs in a browser too.
 */
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { SafeTensor, SafetensorsFile } from './safetensors.js';

/** How a parameter starts: normal(0, std), zeros, ones, or the identity matrix (square 2-D only). */
export type Init = 'normal' | 'zeros' | 'ones' | 'identity';

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

  /** BERT initialisation: normal(0, std) weights, zero biases, LayerNorm gamma ones (of `only` the accepted). */
  initialize(rng: Rng, std = 0.02, only: (p: Param) => boolean = () => true): void {
    for (const p of this.params) {
      if (p.derived || !only(p)) continue;
      if (p.init === 'ones') p.data.fill(1);
      else if (p.init === 'identity') {
        const n = p.shape[0];
        if (p.shape.length !== 2 || p.shape[1] !== n)
          throw new Error(`params: identity init of [${p.shape}]`);
        p.data.fill(0);
        for (let i = 0; i < n; i++) p.data[i * n + i] = 1;
      } else if (p.init === 'zeros') p.data.fill(0);
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

  /**
   * Load values from a decoded safetensors file (`source` names it in errors). Every declared parameter must be present with the same
   * shape (unless `allowMissing` lists it) and hold finite values only. With `allowExtra`, every tensor
   * in the file must be read or allowed by it: one the model does not use means the file and the
   * config disagree (a 2-layer file beside a 1-layer config), so it is an error, not dropped silently.
   */
  load(
    file: SafetensorsFile,
    path: string,
    opts: {
      allowMissing?: (name: string) => boolean;
      /** Tensors the file may hold that are not read (optional heads, buffers). */
      allowExtra?: (name: string) => boolean;
      /** Only these parameters are read from the file (default: all declared). */
      only?: (name: string) => boolean;
    } = {},
  ): void {
    const read = new Set<string>();
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
      const data = t.data as Float32Array;
      let bad = 0;
      for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) bad++; // NaN and ±Infinity
      if (bad > 0)
        throw new UserError(`${path}: tensor "${p.name}" has ${bad} non-finite values (NaN or Infinity)`);
      p.data.set(data);
      read.add(p.name);
    }
    if (!opts.allowExtra) return;
    const extra = [...file.tensors.keys()].filter((n) => !read.has(n) && !opts.allowExtra!(n));
    if (extra.length > 0) {
      const shown = extra.slice(0, 3).map((n) => `"${n}"`);
      if (extra.length > 3) shown.push(`and ${extra.length - 3} more`);
      throw new UserError(
        `${path}: ${extra.length} unexpected tensor${extra.length > 1 ? 's' : ''} (${shown.join(', ')}) the model does not have (does config.json describe these weights?)`,
      );
    }
  }
}

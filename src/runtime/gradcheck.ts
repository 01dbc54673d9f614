/**
 * Finite-difference gradient checks: the reference is the oracle (micrograd, llm.c test_gpt2).
 * Builds `loss = sum(f(inputs) * R)` with a fixed random R, runs the analytic backward graph on
 * onnxruntime, and compares with central differences of the same graph's forward.
 */

import type { Param, ParamStore } from './params.js';
import { Session } from './session.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { grad } from '../graph/grad.js';
import { type DType, Graph, type NumericArray, type Value } from '../graph/graph.js';
import * as o from '../graph/ops.js';

export interface CheckInput {
  name: string;
  dtype: DType;
  shape: number[];
  /** Values to use (default: uniform in [-1, 1] from the seed). */
  data?: NumericArray;
  /** Differentiate with respect to this input (default: true for float inputs). */
  wrt?: boolean;
}

export interface CheckResult {
  maxAbsErr: number;
  maxRelErr: number; // over entries whose |g| exceeds the absolute floor
  checked: number;
  worst: string; // where the largest relative error was, for failure messages
}

type Build = (g: Graph, xs: Value[]) => Value;

function uniform(rng: Rng, n: number, dtype: DType): NumericArray {
  const a = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

/** Build the check graph: outputs the scalar loss followed by one gradient per wrt input. */
export function checkGraph(build: Build, inputs: CheckInput[], seed = 1) {
  const rng = new Rng(seed);
  const g = new Graph('gradcheck');
  const xs = inputs.map((i) => g.input(i.name, i.dtype, i.shape));
  const y = build(g, xs);
  const n = y.shape.reduce((a: number, d) => a * (d as number), 1);
  const r = g.constant(uniform(rng, n, y.dtype), y.dtype, y.shape as number[], 'R');
  const loss = o.reduceSum(o.mul(y, r), [...Array(y.rank).keys()]);
  const wrt = xs.filter(
    (_, k) => inputs[k].wrt ?? (inputs[k].dtype === 'float32' || inputs[k].dtype === 'float64'),
  );
  const grads = grad(loss, wrt);
  g.output(loss, 'loss');
  grads.forEach((gr, k) => {
    g.output(o.identity(gr), `grad_${wrt[k].name}`);
  });
  const feeds: Record<string, NumericArray> = {};
  inputs.forEach((i) => {
    feeds[i.name] =
      i.data ??
      uniform(
        rng,
        i.shape.reduce((a, b) => a * b, 1),
        i.dtype,
      );
  });
  return { g, wrt, feeds };
}

/**
 * Compare analytic and central-difference gradients. `floor` is the absolute floor below which an
 * entry is judged by absolute error only (near-zero gradients, e.g. key-projection biases).
 */
export async function gradCheck(
  build: Build,
  inputs: CheckInput[],
  opts: { eps?: number; floor?: number; maxPerInput?: number; seed?: number } = {},
): Promise<CheckResult> {
  const { g, wrt, feeds } = checkGraph(build, inputs, opts.seed);
  const session = await Session.create(g, { threads: 1 });
  const shapes = Object.fromEntries(inputs.map((i) => [i.name, i.shape]));
  const feedT = () =>
    Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { data: v, shape: shapes[k] }]));
  const out = await session.run(feedT());
  const eps = opts.eps ?? 1e-6;
  const floor = opts.floor ?? 1e-6;
  const rng = new Rng(deriveSeed(opts.seed ?? 1, 'GRCK'));
  let maxAbsErr = 0;
  let maxRelErr = 0;
  let checked = 0;
  let worst = '';
  for (const w of wrt) {
    const x = feeds[w.name] as Float64Array | Float32Array;
    const analytic = out[`grad_${w.name}`].data as Float64Array | Float32Array;
    const n = x.length;
    const m = Math.min(n, opts.maxPerInput ?? 64);
    const picks = m === n ? [...Array(n).keys()] : Array.from({ length: m }, () => rng.int(n));
    for (const i of picks) {
      const x0 = x[i];
      x[i] = x0 + eps;
      const lp = Number((await session.run(feedT())).loss.data[0]);
      x[i] = x0 - eps;
      const lm = Number((await session.run(feedT())).loss.data[0]);
      x[i] = x0;
      const numeric = (lp - lm) / (2 * eps);
      const a = analytic[i];
      const abs = Math.abs(a - numeric);
      maxAbsErr = Math.max(maxAbsErr, abs);
      const scale = Math.max(Math.abs(a), Math.abs(numeric));
      if (scale > floor) {
        const rel = abs / scale;
        if (rel > maxRelErr) {
          maxRelErr = rel;
          worst = `${w.name}[${i}]: analytic ${a}, numeric ${numeric}`;
        }
      }
      checked++;
    }
  }
  await session.release();
  return { maxAbsErr, maxRelErr, checked, worst };
}

/**
 * Whole-model check: central differences of the loss on a few sampled entries of each named parameter of
 * the store (perturbed in place, then restored), against the analytic gradients. Returns the largest
 * relative error, with max(1e-4, |numeric|, |analytic|) as its denominator, and where it was. The store
 * holds float32, so the step is the float32 perturbation actually applied.
 */
export async function sampledCentralDifferences(c: {
  store: ParamStore;
  names: readonly string[];
  analytic: (name: string) => ArrayLike<number>;
  loss: () => Promise<number>;
  perParam: number;
  seed: number;
  h?: number;
  skip?: (p: Param) => boolean;
}): Promise<{ worst: number; where: string }> {
  const rng = new Rng(c.seed);
  const h = c.h ?? 1e-3;
  let worst = 0;
  let where = '';
  for (const name of c.names) {
    const p = c.store.get(name);
    if (c.skip?.(p)) continue;
    const analytic = c.analytic(name);
    for (let k = 0; k < c.perParam; k++) {
      const i = rng.int(p.data.length);
      const x0 = p.data[i];
      p.data[i] = x0 + h;
      const lp = await c.loss();
      p.data[i] = x0 - h;
      const lm = await c.loss();
      p.data[i] = x0;
      const numeric = (lp - lm) / (Math.fround(x0 + h) - x0 + (x0 - Math.fround(x0 - h)));
      const err = Math.abs(numeric - analytic[i]) / Math.max(1e-4, Math.abs(numeric), Math.abs(analytic[i]));
      if (err > worst) {
        worst = err;
        where = `${name}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`;
      }
    }
  }
  return { worst, where };
}

/**
 * onnxruntime sessions: created once per graph and reused for every step. onnxruntime-node by default;
 * any backend with the same API (onnxruntime-web) can be passed, so training graphs run there too.
 * Feeds wrap existing typed arrays (no copy); outputs come back as new typed arrays.
 *
 * Browser-safe: onnxruntime-node is imported only when no backend is given (a page passes
 * onnxruntime-web and never loads it).
 */
import type * as ort from 'onnxruntime-node';
import type { DType, Graph, NumericArray, Shape, Tensor } from '../graph/graph.js';
import { resolveShape } from '../graph/graph.js';
import { type SerializeOptions, toOnnx } from '../graph/onnx.js';

export interface SessionOptions {
  /** Intra-op threads (the knob that matters on CPU). Default: 2 or MINNOW_THREADS. */
  threads?: number;
  /** Graph optimisation level; 'all' fuses MatMul+Add into Gemm and Transpose+MatMul. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write an onnxruntime per-node profile (JSON) with this file prefix; see `minnow bench --profile`. */
  profile?: string;
  /** The onnxruntime module to run on (default onnxruntime-node; onnxruntime-web has the same API). */
  backend?: OrtBackend;
}

export type OrtBackend = Pick<typeof ort, 'InferenceSession' | 'Tensor'>;

export type { Tensor } from '../graph/graph.js';

/** onnxruntime-node, loaded on first use (a variable specifier keeps bundlers from following it). */
const NODE_ORT = 'onnxruntime-node';
let nodeOrt: Promise<OrtBackend> | undefined;
const defaultBackend = () => (nodeOrt ??= import(NODE_ORT) as Promise<OrtBackend>);

export function defaultThreads(): number {
  const env = Number(globalThis.process?.env?.MINNOW_THREADS);
  return Number.isInteger(env) && env > 0 ? env : 2;
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
  uint8: 'uint8',
  uint16: 'uint16',
  int8: 'int8',
  float16: 'float16',
};

export class Session {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: { name: string; dtype: DType; shape: Shape }[],
    readonly outputNames: string[],
    private readonly backend: OrtBackend,
    private readonly profiling: boolean,
  ) {}

  /** Serialise `graph` and create a session for it. */
  static async create(graph: Graph, opts: SessionOptions = {}, ser: SerializeOptions = {}): Promise<Session> {
    const bytes = toOnnx(graph, ser);
    const baked = ser.initializers ?? new Map();
    const inputs = graph.inputs
      .filter((v) => !baked.has(v))
      .map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape }));
    return Session.fromBytes(
      bytes,
      inputs,
      graph.outputs.map((v) => v.name),
      opts,
    );
  }

  static async fromBytes(
    bytes: Uint8Array,
    inputs: { name: string; dtype: DType; shape: Shape }[],
    outputNames: string[],
    opts: SessionOptions = {},
  ): Promise<Session> {
    const backend = opts.backend ?? (await defaultBackend());
    const session = await backend.InferenceSession.create(bytes, {
      intraOpNumThreads: opts.threads ?? defaultThreads(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: opts.optimization ?? 'all',
      enableProfiling: !!opts.profile,
      profileFilePrefix: opts.profile,
    });
    const live = new Set(session.inputNames);
    return new Session(
      session,
      inputs.filter((i) => live.has(i.name)),
      outputNames,
      backend,
      !!opts.profile,
    );
  }

  /**
   * Run with named feeds. Feeds for inputs the optimised graph no longer reads are ignored.
   * `sizes` binds symbolic dims (B, T, ...) when a feed is given without an explicit shape.
   */
  async run(
    feeds: Record<string, Tensor | NumericArray>,
    sizes: Record<string, number> = {},
  ): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const inp of this.inputs) {
      const f = feeds[inp.name];
      if (f === undefined) throw new Error(`session: missing feed "${inp.name}"`);
      const t: Tensor = ArrayBuffer.isView(f)
        ? { data: f as NumericArray, shape: resolveShape(inp.shape, sizes) }
        : (f as Tensor);
      ortFeeds[inp.name] = new this.backend.Tensor(ORT_TYPE[inp.dtype], t.data as never, t.shape);
    }
    const out = await this.session.run(ortFeeds);
    const res: Record<string, Tensor> = {};
    for (const name of this.outputNames) {
      const t = out[name];
      res[name] = { data: t.data as NumericArray, shape: t.dims.map(Number) };
    }
    return res;
  }

  async release(): Promise<void> {
    if (this.profiling) this.session.endProfiling();
    await this.session.release();
  }
}

/**
 * Side-by-side peer for minnow's training-step benchmark: the same BERT-tiny-like classifier trained
 * with TensorFlow.js on the wasm backend (`@tensorflow/tfjs-backend-wasm`), plain autodiff
 * (`optimizer.minimize` -> `tf.variableGrads`), no hand-written gradients. Best-effort comparison only.
 *
 * Model (post-LN BERT): token embedding (vocab x hidden) + learned position embedding (512 rows, or
 * `seq` if longer) -> LayerNorm -> `layers` x [multi-head self-attention with additive padding mask
 * (-10000 on padded keys) -> residual -> LayerNorm -> erf-GELU FFN -> residual -> LayerNorm] -> tanh pooler
 * on [CLS] (position 0) -> 2-class linear head -> softmax cross-entropy (mean over the batch).
 * Not included: token-type embeddings, dropout. Init: truncated normal(0, 0.02), zero biases, unit LN gains.
 * Update: `tf.train.adam(1e-4, 0.9, 0.999, 1e-6)` plus decoupled weight decay 0.01 on matrices and
 * embeddings (AdamW-like: w <- w * (1 - lr * wd) after the Adam step; not on biases / LayerNorm).
 *
 * Engine facts and what this file does about them (tfjs / tfjs-backend-wasm 4.22.0, Node 20):
 * - The wasm backend lacks the UnsortedSegmentSum kernel, which core's GatherV2 gradient (the embedding
 *   gradient) needs, so `tf.gather` on the embedding table cannot be differentiated out of the box.
 *   Default fallback ('scatter-nd'): register a wasm `UnsortedSegmentSum` kernel that forwards to the wasm
 *   backend's own native `ScatterNd` kernel (which accumulates duplicate indices, i.e. it *is* a segment
 *   sum for 1-D segment ids). No data leaves wasm memory; the autodiff graph is unchanged (core's
 *   GatherV2 gradient still runs). Limitation: unlike TF, out-of-range/negative segment ids are not
 *   dropped; the ids here are always in [0, vocab).
 *   Alternative ('one-hot', `--embedding-grad one-hot`): embed with `matMul(oneHot(ids), table)`, so the
 *   gradient is an ordinary matMul; costs 2 * B*T*vocab*hidden extra FLOPs per step (forward + table grad).
 *   (The one-hot matrix is built as int32 and then cast: the wasm OneHot kernel ignores dtype 'float32' and
 *   writes int32 bit patterns into the float buffer, i.e. 1 reads as 1.4e-45.)
 * - Erf exists in the wasm backend, so the FFN uses exact erf-GELU (no tanh approximation).
 * - Measured on this build (1 thread, SIMD): only the plain 2-D `matMul(a, b)` takes the fast XNNPACK path
 *   (~22 GFLOP/s for 4096x128 @ 128x512); transposed variants (`matMul(dy, w, false, true)` ~2 GFLOP/s,
 *   `matMul(x, dy, true, false)` ~1 GFLOP/s) and the batched attention matmuls (~1.8 GFLOP/s) are 10-25x
 *   slower. Autodiff's matMul gradients are exactly those transposed forms, so BatchMatMul is ~85% of the
 *   step time. Left as is on purpose: the peer uses stock autodiff, no hand-written gradients.
 * - In Node the wasm backend runs single-threaded (no SharedArrayBuffer worker pool), with SIMD:
 *   threads is reported from the WASM_HAS_MULTITHREAD_SUPPORT flag and is 1 in practice.
 *
 * Run: npx tsx bench/tfjs-peer.ts --batch 32 --seq 128 --vocab 8000 --steps 3
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export interface PeerResult {
  system: string;
  threads: number;
  msPerStepMedian: number;
  tokensPerSecMedian: number;
  steps: number;
  loss0: number;
  error?: string;
}

export type EmbeddingGradMode = 'scatter-nd' | 'one-hot';

export interface TfjsTrainStepOptions {
  vocab: number;
  batch: number;
  seq: number;
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  steps: number;
  warmup: number;
  seed: number;
  /** How the embedding gradient is obtained on wasm (see file header). Default 'scatter-nd'. */
  embeddingGrad?: EmbeddingGradMode;
}

const SYSTEM_BASE = 'tfjs-4.22.0-wasm';
const LN_EPS = 1e-12;
const LR = 1e-4;
const WEIGHT_DECAY = 0.01;
const MASK_NEG = -10000;

/** mulberry32: tiny seeded 32-bit PRNG, returns floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

let backendReady: Promise<void> | undefined;

/** Loads the wasm backend once (wasm binaries read from node_modules by file path) and selects it. */
function initWasmBackend(): Promise<void> {
  backendReady ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    setWasmPaths(`${wasmDir}${path.sep}`);
    const ok = await tf.setBackend('wasm');
    if (!ok || tf.getBackend() !== 'wasm') throw new Error('tf.setBackend("wasm") failed');
    await tf.ready();
  })();
  // Let a failed load be retried by a later call instead of caching the rejection.
  backendReady.catch(() => {
    backendReady = undefined;
  });
  return backendReady;
}

/**
 * Registers UnsortedSegmentSum for wasm by forwarding to the wasm ScatterNd kernel:
 * segment ids of shape S (flattened to [n, 1]) index rows of x viewed as [n, ...rest].
 */
function ensureUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') !== undefined) return;
  const scatter = tf.getKernel('ScatterNd', 'wasm');
  if (scatter === undefined) throw new Error('wasm backend has neither UnsortedSegmentSum nor ScatterNd');
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x as tf.TensorInfo;
      const ids = inputs.segmentIds as tf.TensorInfo;
      const numSegments = attrs?.numSegments as number;
      const k = ids.shape.length;
      if (ids.dtype !== 'int32' || x.shape.slice(0, k).join(',') !== ids.shape.join(',')) {
        throw new Error(`UnsortedSegmentSum shim: unsupported shapes x=${x.shape} ids=${ids.shape}`);
      }
      const n = ids.shape.reduce((a, b) => a * b, 1);
      const rest = x.shape.slice(k);
      // Same dataIds, reinterpreted shapes (both tensors are dense row-major, so no copy needed).
      const indices: tf.TensorInfo = { dataId: ids.dataId, shape: [n, 1], dtype: 'int32' };
      const updates: tf.TensorInfo = { dataId: x.dataId, shape: [n, ...rest], dtype: x.dtype };
      return scatter.kernelFunc({
        inputs: { indices, updates },
        backend,
        attrs: { shape: [numSegments, ...rest] },
      });
    },
  });
}

/** Variable names must be unique per process; one prefix per built model. */
let modelCounter = 0;

interface LayerParams {
  wq: tf.Variable;
  bq: tf.Variable;
  wk: tf.Variable;
  bk: tf.Variable;
  wv: tf.Variable;
  bv: tf.Variable;
  wo: tf.Variable;
  bo: tf.Variable;
  ln1g: tf.Variable;
  ln1b: tf.Variable;
  w1: tf.Variable;
  b1: tf.Variable;
  w2: tf.Variable;
  b2: tf.Variable;
  ln2g: tf.Variable;
  ln2b: tf.Variable;
}

interface ModelParams {
  tokEmb: tf.Variable;
  posEmb: tf.Variable;
  embLnG: tf.Variable;
  embLnB: tf.Variable;
  layers: LayerParams[];
  poolW: tf.Variable;
  poolB: tf.Variable;
  clsW: tf.Variable;
  clsB: tf.Variable;
  /** Every trainable variable. */
  all: tf.Variable[];
  /** Variables that get decoupled weight decay (matrices and embeddings). */
  decayed: tf.Variable[];
}

function buildParams(
  o: Required<Pick<TfjsTrainStepOptions, 'vocab' | 'seq' | 'hidden' | 'layers' | 'ffn'>>,
  seed: number,
): ModelParams {
  const all: tf.Variable[] = [];
  const decayed: tf.Variable[] = [];
  let seedCounter = seed >>> 0;
  const mat = (shape: number[], name: string): tf.Variable => {
    seedCounter = (seedCounter + 1) >>> 0;
    const init = tf.truncatedNormal(shape, 0, 0.02, 'float32', seedCounter);
    const v = tf.variable(init, true, name); // shares the data (ref-counted), so init can go
    init.dispose();
    all.push(v);
    decayed.push(v);
    return v;
  };
  const vec = (n: number, value: number, name: string): tf.Variable => {
    const init = tf.fill([n], value, 'float32');
    const v = tf.variable(init, true, name);
    init.dispose();
    all.push(v);
    return v;
  };
  const h = o.hidden;
  const uid = `tfjs_peer_${++modelCounter}`;
  const n = (s: string) => `${uid}/${s}`;
  {
    const tokEmb = mat([o.vocab, h], n('tok_emb'));
    const posEmb = mat([Math.max(512, o.seq), h], n('pos_emb'));
    const embLnG = vec(h, 1, n('emb_ln_g'));
    const embLnB = vec(h, 0, n('emb_ln_b'));
    const layers: LayerParams[] = [];
    for (let l = 0; l < o.layers; l++) {
      const p = (s: string) => n(`l${l}/${s}`);
      layers.push({
        wq: mat([h, h], p('wq')),
        bq: vec(h, 0, p('bq')),
        wk: mat([h, h], p('wk')),
        bk: vec(h, 0, p('bk')),
        wv: mat([h, h], p('wv')),
        bv: vec(h, 0, p('bv')),
        wo: mat([h, h], p('wo')),
        bo: vec(h, 0, p('bo')),
        ln1g: vec(h, 1, p('ln1g')),
        ln1b: vec(h, 0, p('ln1b')),
        w1: mat([h, o.ffn], p('w1')),
        b1: vec(o.ffn, 0, p('b1')),
        w2: mat([o.ffn, h], p('w2')),
        b2: vec(h, 0, p('b2')),
        ln2g: vec(h, 1, p('ln2g')),
        ln2b: vec(h, 0, p('ln2b')),
      });
    }
    const poolW = mat([h, h], n('pool_w'));
    const poolB = vec(h, 0, n('pool_b'));
    const clsW = mat([h, 2], n('cls_w'));
    const clsB = vec(2, 0, n('cls_b'));
    return { tokEmb, posEmb, embLnG, embLnB, layers, poolW, poolB, clsW, clsB, all, decayed };
  }
}

function layerNorm(x: tf.Tensor2D, g: tf.Variable, b: tf.Variable): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return x
    .sub(mean)
    .mul(tf.rsqrt(variance.add(LN_EPS)))
    .mul(g)
    .add(b) as tf.Tensor2D;
}

function dense(x: tf.Tensor2D, w: tf.Variable, b: tf.Variable): tf.Tensor2D {
  return tf.matMul(x, w as tf.Tensor2D).add(b) as tf.Tensor2D;
}

/** Exact GELU: 0.5 * x * (1 + erf(x / sqrt(2))). */
function geluErf(x: tf.Tensor2D): tf.Tensor2D {
  return x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5) as tf.Tensor2D;
}

interface Batch {
  ids: tf.Tensor2D; // [B, T] int32
  idsOneHot?: tf.Tensor2D; // [B*T, vocab] float32 (one-hot mode only)
  maskAdd: tf.Tensor4D; // [B, 1, 1, T] float32: 0 for real tokens, -10000 for padding
  labels: tf.Tensor2D; // [B, 2] one-hot float32
}

function lossFn(
  p: ModelParams,
  d: Batch,
  o: { batch: number; seq: number; hidden: number; heads: number },
): tf.Scalar {
  const { batch: B, seq: T, hidden: H, heads: nh } = o;
  const dh = H / nh;
  const emb =
    d.idsOneHot !== undefined
      ? tf.matMul(d.idsOneHot, p.tokEmb as tf.Tensor2D)
      : (tf.gather(p.tokEmb, d.ids.reshape([B * T])) as tf.Tensor2D);
  const pos = tf.slice(p.posEmb, [0, 0], [T, H]);
  let x = emb
    .reshape([B, T, H])
    .add(pos)
    .reshape([B * T, H]) as tf.Tensor2D;
  x = layerNorm(x, p.embLnG, p.embLnB);
  const scale = 1 / Math.sqrt(dh);
  const splitHeads = (t: tf.Tensor2D) => t.reshape([B, T, nh, dh]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
  for (const L of p.layers) {
    const q = splitHeads(dense(x, L.wq, L.bq));
    const k = splitHeads(dense(x, L.wk, L.bk));
    const v = splitHeads(dense(x, L.wv, L.bv));
    const scores = tf.matMul(q, k, false, true).mul(scale).add(d.maskAdd) as tf.Tensor4D;
    const probs = tf.softmax(scores, -1);
    const ctx = tf
      .matMul(probs, v)
      .transpose([0, 2, 1, 3])
      .reshape([B * T, H]) as tf.Tensor2D;
    x = layerNorm(dense(ctx, L.wo, L.bo).add(x) as tf.Tensor2D, L.ln1g, L.ln1b);
    const ff = dense(geluErf(dense(x, L.w1, L.b1)), L.w2, L.b2);
    x = layerNorm(ff.add(x) as tf.Tensor2D, L.ln2g, L.ln2b);
  }
  const cls = x.reshape([B, T, H]).slice([0, 0, 0], [B, 1, H]).reshape([B, H]) as tf.Tensor2D;
  const pooled = tf.tanh(dense(cls, p.poolW, p.poolB)) as tf.Tensor2D;
  const logits = dense(pooled, p.clsW, p.clsB);
  return tf.losses.softmaxCrossEntropy(d.labels, logits) as tf.Scalar;
}

function makeBatch(o: TfjsTrainStepOptions, mode: EmbeddingGradMode): Batch {
  const { batch: B, seq: T, vocab: V } = o;
  const rnd = mulberry32(o.seed);
  const ids = new Int32Array(B * T);
  const maskAdd = new Float32Array(B * T);
  const labels = new Float32Array(B * 2);
  for (let b = 0; b < B; b++) {
    // A few padded positions at the tail of roughly every other row (never position 0 = [CLS]).
    const pad = b % 2 === 1 ? Math.min(T - 1, 1 + Math.floor(rnd() * Math.max(1, Math.floor(T / 8)))) : 0;
    for (let t = 0; t < T; t++) {
      const padded = t >= T - pad;
      ids[b * T + t] = padded ? 0 : t === 0 ? Math.min(101, V - 1) : 1 + Math.floor(rnd() * (V - 1));
      maskAdd[b * T + t] = padded ? MASK_NEG : 0;
    }
    labels[b * 2 + (rnd() < 0.5 ? 0 : 1)] = 1;
  }
  const idsT = tf.tensor2d(ids, [B, T], 'int32');
  return {
    ids: idsT,
    idsOneHot:
      mode === 'one-hot'
        ? (tf.tidy(() => tf.oneHot(idsT.reshape([B * T]) as tf.Tensor1D, V).cast('float32')) as tf.Tensor2D)
        : undefined,
    maskAdd: tf.tensor4d(maskAdd, [B, 1, 1, T], 'float32'),
    labels: tf.tensor2d(labels, [B, 2], 'float32'),
  };
}

function disposeBatch(d: Batch): void {
  d.ids.dispose();
  d.idsOneHot?.dispose();
  d.maskAdd.dispose();
  d.labels.dispose();
}

function validate(o: TfjsTrainStepOptions): string | undefined {
  const ints: (keyof TfjsTrainStepOptions)[] = ['vocab', 'batch', 'seq', 'hidden', 'layers', 'heads', 'ffn'];
  for (const k of ints) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return `${k} must be a positive integer`;
  }
  if (!Number.isInteger(o.steps) || o.steps < 1) return 'steps must be a positive integer';
  if (!Number.isInteger(o.warmup) || o.warmup < 0) return 'warmup must be a non-negative integer';
  if (o.hidden % o.heads !== 0) return `hidden (${o.hidden}) must be divisible by heads (${o.heads})`;
  if (o.vocab < 2) return 'vocab must be at least 2';
  return undefined;
}

/**
 * Trains the TF.js peer model for `warmup` untimed + `steps` timed steps (forward + backward + Adam
 * update, each awaited on the loss value) and reports the median step time. Never throws: failures
 * come back as a PeerResult with `error` set.
 */
export async function tfjsTrainStep(opts: TfjsTrainStepOptions): Promise<PeerResult> {
  const mode: EmbeddingGradMode = opts.embeddingGrad ?? 'scatter-nd';
  let system = `${SYSTEM_BASE}${mode === 'one-hot' ? '-onehot-emb' : ''}`;
  const fail = (error: string): PeerResult => ({
    system,
    threads: 1,
    msPerStepMedian: Number.NaN,
    tokensPerSecMedian: Number.NaN,
    steps: 0,
    loss0: Number.NaN,
    error,
  });
  const bad = validate(opts);
  if (bad !== undefined) return fail(`invalid options: ${bad}`);

  try {
    await initWasmBackend();
  } catch (e) {
    return fail(`wasm backend failed to load: ${(e as Error).message ?? String(e)}`);
  }
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const mt = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  const threads = mt ? Math.max(1, getThreadsCount()) : 1;
  system = `${SYSTEM_BASE}${simd ? '-simd' : ''}${mode === 'one-hot' ? '-onehot-emb' : ''}`;

  let params: ModelParams | undefined;
  let data: Batch | undefined;
  let optimizer: tf.AdamOptimizer | undefined;
  const tensorsBefore = tf.memory().numTensors;
  try {
    if (mode === 'scatter-nd') ensureUnsortedSegmentSum();
    params = buildParams(opts, opts.seed);
    data = makeBatch(opts, mode);
    optimizer = tf.train.adam(LR, 0.9, 0.999, 1e-6);
    const p = params;
    const d = data;
    const opt = optimizer;
    const shape = { batch: opts.batch, seq: opts.seq, hidden: opts.hidden, heads: opts.heads };
    const decayFactor = 1 - LR * WEIGHT_DECAY;

    const step = async (): Promise<number> => {
      const lossT = opt.minimize(() => lossFn(p, d, shape), true, p.all);
      if (lossT === null) throw new Error('optimizer.minimize returned no loss');
      tf.tidy(() => {
        for (const v of p.decayed) v.assign(v.mul(decayFactor));
      });
      const loss = (await lossT.data())[0];
      lossT.dispose();
      if (!Number.isFinite(loss)) throw new Error(`non-finite loss ${loss}`);
      return loss;
    };

    let loss0 = Number.NaN;
    let tensorsAfterFirst = -1;
    for (let i = 0; i < opts.warmup; i++) {
      const l = await step();
      if (i === 0) {
        loss0 = l;
        tensorsAfterFirst = tf.memory().numTensors; // Adam slots now exist
      }
    }
    const times: number[] = [];
    for (let i = 0; i < opts.steps; i++) {
      const t0 = performance.now();
      const l = await step();
      times.push(performance.now() - t0);
      if (tensorsAfterFirst < 0) {
        loss0 = l;
        tensorsAfterFirst = tf.memory().numTensors;
      }
    }
    const tensorsEnd = tf.memory().numTensors;
    const ms = median(times);
    const result: PeerResult = {
      system,
      threads,
      msPerStepMedian: ms,
      tokensPerSecMedian: (opts.batch * opts.seq) / (ms / 1000),
      steps: opts.steps,
      loss0,
    };
    if (tensorsEnd !== tensorsAfterFirst) {
      result.error = `tensor leak: numTensors ${tensorsAfterFirst} after first step, ${tensorsEnd} after last`;
    }
    return result;
  } catch (e) {
    return fail(`${(e as Error).message ?? String(e)}`);
  } finally {
    optimizer?.dispose();
    if (data !== undefined) disposeBatch(data);
    if (params !== undefined) for (const v of params.all) v.dispose();
    const leftover = tf.memory().numTensors - tensorsBefore;
    if (leftover !== 0) process.emitWarning(`tfjs-peer: ${leftover} tensors left after cleanup`);
  }
}

function parseArgs(argv: string[]): TfjsTrainStepOptions {
  const o: TfjsTrainStepOptions = {
    vocab: 8000,
    batch: 32,
    seq: 128,
    hidden: 128,
    layers: 2,
    heads: 2,
    ffn: 512,
    steps: 3,
    warmup: 1,
    seed: 1234,
  };
  const numeric = new Set([
    'vocab',
    'batch',
    'seq',
    'hidden',
    'layers',
    'heads',
    'ffn',
    'steps',
    'warmup',
    'seed',
  ]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [k, inline] = a.slice(2).split('=', 2);
    const val = inline ?? argv[++i];
    if (val === undefined) throw new Error(`missing value for --${k}`);
    if (k === 'embedding-grad') {
      if (val !== 'scatter-nd' && val !== 'one-hot')
        throw new Error('--embedding-grad must be scatter-nd or one-hot');
      o.embeddingGrad = val;
    } else if (numeric.has(k)) {
      const n = Number(val);
      if (!Number.isFinite(n)) throw new Error(`--${k} needs a number, got ${val}`);
      (o as unknown as Record<string, number>)[k] = n;
    } else {
      throw new Error(`unknown option --${k}`);
    }
  }
  return o;
}

const isMain =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  let opts: TfjsTrainStepOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`tfjs-peer: ${(e as Error).message}`);
    console.error(
      'usage: npx tsx bench/tfjs-peer.ts [--batch N] [--seq N] [--vocab N] [--hidden N] [--layers N] [--heads N] ' +
        '[--ffn N] [--steps N] [--warmup N] [--seed N] [--embedding-grad scatter-nd|one-hot]',
    );
    process.exit(2);
  }
  const r = await tfjsTrainStep(opts);
  console.log(JSON.stringify({ ...r, config: opts }, null, 2));
  if (r.error !== undefined) process.exitCode = 1;
}

/**
 * What `minnow bench infer` (infer.ts) times: a "runner" per loaded model file, whose pass classifies the
 * benchmark sentences in consecutive chunks of `batch`, tokenization included, timed where it runs
 * (wall clock and process CPU time around the whole pass).
 *
 *  - minnow's Classifier on onnxruntime-node, in this process.
 *  - transformers.js (@huggingface/transformers, a dev dependency): `pipeline('text-classification',
 *    folder, { dtype: 'fp32' | 'q8', session_options })` on the exported folder, in this process, local
 *    files only (no remote models, no cache, a fetch that throws). In Node it runs onnxruntime-node.
 *  - onnxruntime-web (wasm; installed with transformers.js) under minnow's own Classifier, in a child
 *    process per thread count: the wasm thread pool (env.wasm.numThreads) is fixed by a process's first
 *    session, so 1 and 2 threads cannot share a process. The child times its own passes, so IPC is not
 *    in the timing.
 *
 * The peers are imported at run time: a missing one is an error the bench reports in a row.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Classifier, type OrtModule } from '../infer/runtime.js';

export type Dtype = 'fp32' | 'int8';
export type Variant = 'compact' | 'portable';

export interface PassResult {
  ms: number;
  /** Process CPU time (user + system, all threads, worker threads included). */
  cpuMs: number;
  /** Class probabilities per sentence, in the model's label order (when asked for). */
  scores?: number[][];
}

export interface Runner {
  /** Size of the ONNX file this runner loaded. */
  modelBytes: number;
  /** Reading the folder and creating the session (compact: computing the hash vectors too). */
  loadMs: number;
  /** Classify the first `limit` sentences (default all) in chunks of `batch`. */
  pass(batch: number, collect: boolean, limit?: number): Promise<PassResult>;
  release(): Promise<void>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Classify `sentences` in consecutive chunks of `batch`, timed as a whole. */
export async function timedPass(
  classify: (chunk: string[]) => Promise<number[][]>,
  sentences: readonly string[],
  batch: number,
  collect: boolean,
): Promise<PassResult> {
  const scores: number[][] = [];
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < sentences.length; i += batch) {
    const out = await classify(sentences.slice(i, i + batch));
    if (collect) scores.push(...out);
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(cpu);
  return { ms, cpuMs: (c.user + c.system) / 1000, scores: collect ? scores : undefined };
}

/** A reader of an exported folder for Classifier.load. */
export function folderReader(dir: string): (name: string) => Promise<Uint8Array | undefined> {
  return async (name) => {
    const path = join(dir, name);
    return existsSync(path) ? new Uint8Array(await readFile(path)) : undefined;
  };
}

/** minnow's Classifier on an onnxruntime module (onnxruntime-node, or onnxruntime-web in the child). */
export async function classifierRunner(
  ort: OrtModule,
  dir: string,
  o: { dtype: Dtype; variant: Variant; threads: number },
  sentences: readonly string[],
): Promise<Runner> {
  const t0 = performance.now();
  const clf = await Classifier.load(folderReader(dir), {
    ort,
    quantized: o.dtype === 'int8',
    variant: o.variant,
    threads: o.threads,
  });
  const loadMs = performance.now() - t0;
  return {
    modelBytes: clf.modelBytes,
    loadMs,
    pass: (batch, collect, limit) =>
      timedPass(
        async (chunk) => (await clf.classify(chunk, batch)).map((r) => r.scores),
        limit === undefined ? sentences : sentences.slice(0, limit),
        batch,
        collect,
      ),
    release: () => clf.release(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// transformers.js

interface TjsLabelScore {
  label: string;
  score: number;
}
interface TjsPipeline {
  (texts: string[], o: { top_k: null }): Promise<TjsLabelScore[][]>;
  dispose(): Promise<void>;
}
interface TjsModule {
  env: Record<string, unknown> & { version?: string };
  pipeline(task: string, model: string, o: Record<string, unknown>): Promise<TjsPipeline>;
}

/** A variable, so that the build does not need the package (it is a dev dependency). */
const TRANSFORMERS_JS = '@huggingface/transformers';
let tjsModule: Promise<TjsModule> | undefined;

/** transformers.js, set to local files only (loaded once; rejects where it is not installed). */
export function transformersJs(): Promise<TjsModule> {
  tjsModule ??= (import(TRANSFORMERS_JS) as Promise<TjsModule>).then((m) => {
    m.env.allowRemoteModels = false;
    m.env.allowLocalModels = true;
    m.env.useFSCache = false;
    m.env.useBrowserCache = false;
    m.env.fetch = async (input: unknown) => {
      throw new Error(`transformers.js tried to fetch ${String(input)} (the bench runs offline)`);
    };
    m.env.logLevel = 40; // errors only: nothing of its own on stdout under --json
    return m;
  });
  return tjsModule;
}

/** The ONNX file transformers.js picks for a dtype (its suffixes: fp32 "", q8 "_quantized"). */
export const transformersJsFile = (dtype: Dtype) =>
  dtype === 'int8' ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx';

/**
 * transformers.js's text-classification pipeline on an exported folder (the portable files: the compact
 * graph needs minnow's hash table computed at load). Threads: session_options.intraOpNumThreads (interOp 1, as
 * minnow); everything else at transformers.js's and onnxruntime's defaults, as its users get it.
 */
export async function transformersJsRunner(
  dir: string,
  o: { dtype: Dtype; threads: number; labels: readonly string[] },
  sentences: readonly string[],
): Promise<Runner> {
  const m = await transformersJs();
  const t0 = performance.now();
  const pipe = await m.pipeline('text-classification', resolve(dir), {
    dtype: o.dtype === 'int8' ? 'q8' : 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: o.threads, interOpNumThreads: 1 },
  });
  const loadMs = performance.now() - t0;
  const index = new Map(o.labels.map((l, i) => [l, i]));
  const toScores = (r: TjsLabelScore[]) => {
    const s = new Array<number>(o.labels.length).fill(Number.NaN);
    for (const x of r) {
      const i = index.get(x.label);
      if (i !== undefined) s[i] = x.score;
    }
    return s;
  };
  return {
    modelBytes: statSync(join(dir, transformersJsFile(o.dtype))).size,
    loadMs,
    pass: (batch, collect, limit) =>
      timedPass(
        async (chunk) => (await pipe(chunk, { top_k: null })).map(toScores),
        limit === undefined ? sentences : sentences.slice(0, limit),
        batch,
        collect,
      ),
    release: () => pipe.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// onnxruntime-web (wasm) in a child process

const ORT_WEB = 'onnxruntime-web';
const CHILD_ENV = 'MINNOW_BENCH_ORT_WEB_CHILD';

type Request =
  | { op: 'init'; threads: number; sentences: string[] }
  | { op: 'load'; key: string; dir: string; dtype: Dtype; variant: Variant }
  | { op: 'pass'; key: string; batch: number; collect: boolean; limit?: number }
  | { op: 'release'; key: string };
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The node flags the child needs to run this file: tsx's loader when it is TypeScript. */
function childExecArgv(file: string): string[] {
  const args = process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect'));
  if (file.endsWith('.ts') && !args.some((a) => a.includes('tsx'))) {
    const loader = join(dirname(file), '..', '..', 'node_modules', 'tsx', 'dist', 'loader.mjs');
    args.push('--import', existsSync(loader) ? pathToFileURL(loader).href : 'tsx');
  }
  return args;
}

/** A child process running onnxruntime-web with a fixed wasm thread count. */
export class OrtWebProcess {
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private stderr = '';
  private exited: string | undefined;
  version = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly threads: number,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    child.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    child.on('exit', (code, signal) => {
      const tail = this.stderr.trim().split('\n').slice(-1)[0] ?? '';
      this.gone(`onnxruntime-web child exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ''}`);
    });
    child.on('error', (e) => this.gone(`onnxruntime-web child: ${message(e)}`));
  }

  /** Every request from now on fails with `why`. */
  private gone(why: string): void {
    this.exited ??= why;
    for (const p of this.pending.values()) p.reject(new Error(this.exited));
    this.pending.clear();
  }

  /** Start a child with `threads` wasm threads, holding the benchmark sentences. */
  static async start(threads: number, sentences: readonly string[]): Promise<OrtWebProcess> {
    const file = fileURLToPath(import.meta.url);
    const child = fork(file, [], {
      execArgv: childExecArgv(file),
      env: { ...process.env, [CHILD_ENV]: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const p = new OrtWebProcess(child, threads);
    try {
      p.version = String(await p.request({ op: 'init', threads, sentences: [...sentences] }));
    } catch (e) {
      p.close();
      throw e;
    }
    return p;
  }

  private request(r: Request): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.child.send({ id, ...r }, (e) => e && this.gone(`onnxruntime-web child: ${message(e)}`));
      } catch (e) {
        this.gone(`onnxruntime-web child: ${message(e)}`);
      }
    });
  }

  /** Load an exported file in the child; the runner's passes run there. */
  async runner(dir: string, o: { dtype: Dtype; variant: Variant }): Promise<Runner> {
    const key = `${dir}|${o.dtype}|${o.variant}`;
    const { modelBytes, loadMs } = (await this.request({ op: 'load', key, dir, ...o })) as {
      modelBytes: number;
      loadMs: number;
    };
    return {
      modelBytes,
      loadMs,
      pass: async (batch, collect, limit) =>
        (await this.request({ op: 'pass', key, batch, collect, limit })) as PassResult,
      release: async () => {
        await this.request({ op: 'release', key });
      },
    };
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

/** The child's side: one onnxruntime-web, runners by key. */
async function childMain(): Promise<void> {
  const runners = new Map<string, Runner>();
  let ort:
    (OrtModule & { env: { wasm: Record<string, unknown>; versions?: Record<string, string> } }) | null = null;
  let sentences: string[] = [];
  let threads = 1;
  // One request at a time, in order: a pass never overlaps another.
  let queue = Promise.resolve();
  const handle = async (m: Request): Promise<unknown> => {
    switch (m.op) {
      case 'init': {
        ort = (await import(ORT_WEB)) as NonNullable<typeof ort>;
        // The wasm files from the installed package (never a CDN), and the thread pool for all sessions.
        const dist = dirname(createRequire(import.meta.url).resolve(ORT_WEB));
        ort.env.wasm.wasmPaths = `${dist}/`;
        ort.env.wasm.numThreads = m.threads;
        ort.env.wasm.proxy = false;
        sentences = m.sentences;
        threads = m.threads;
        return ort.env.versions?.web ?? '?';
      }
      case 'load': {
        if (!ort) throw new Error('not initialised');
        const r = await classifierRunner(ort, m.dir, { ...m, threads }, sentences);
        runners.set(m.key, r);
        return { modelBytes: r.modelBytes, loadMs: r.loadMs };
      }
      case 'pass': {
        const r = runners.get(m.key);
        if (!r) throw new Error(`no session ${m.key}`);
        return r.pass(m.batch, m.collect, m.limit);
      }
      case 'release': {
        await runners.get(m.key)?.release();
        runners.delete(m.key);
        return null;
      }
    }
  };
  process.on('message', (m: Request & { id: number }) => {
    queue = queue.then(async () => {
      let reply: Reply;
      try {
        reply = { id: m.id, ok: true, value: await handle(m) };
      } catch (e) {
        reply = { id: m.id, ok: false, error: message(e) };
      }
      process.send!(reply);
    });
  });
  process.on('disconnect', () => process.exit(0));
}

if (
  process.env[CHILD_ENV] === '1' &&
  process.send &&
  process.argv[1] &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url)
)
  void childMain();

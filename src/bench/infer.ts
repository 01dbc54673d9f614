/**
 * `minnow bench infer`: classifier inference speed on SST-2 dev sentences, tokenization included, for
 * minnow's runtime (Classifier on onnxruntime-node: the compact variant of hash models, and the portable
 * one that other runtimes load) side by side with transformers.js and with minnow's runtime on
 * onnxruntime-web (wasm) in Node, on the same exported folder, in the same run.
 *
 * Rows: system x model x variant x dtype (fp32, int8) x batch x threads. A pass classifies the first N
 * sentences in consecutive chunks of `batch` (every system gets the same chunks, so the same padding);
 * each rep runs one pass of every row, the systems of a comparison (model, dtype, batch, threads) in an
 * order that rotates from rep to rep, so drift of the host hits all of them alike. Every session is
 * loaded once and warmed up (an untimed pass over the first 64 sentences) before the first rep. Medians
 * over reps.
 *
 * Models: exported folders are used as they are; a fine-tuned minnow directory is exported; a pre-trained
 * one without a task head (models/uno-eelbert, models/eelbert-tiny) or `preset:NAME` (random init, e.g.
 * preset:bert-tiny) is first fine-tuned for 1 epoch on the SST-2 sample in examples/sst2 (seconds). Both
 * land in a cache folder keyed by the source's bytes, the recipe and the exporter's code. Those models
 * are for timing: one epoch on 2,000 sentences does not make a good classifier.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import { readTask } from '../data/task.js';
import { exportModel, DEFAULT_EXPORT, spread } from '../infer/export-folder.js';
import type { ExportedConfig, OrtModule } from '../infer/runtime.js';
import { preset } from '../model/config.js';
import { hasDerivedWeight } from '../model/embeddings/registry.js';
import { createModel, saveModel } from '../model/io.js';
import { DEFAULT_FINETUNE, finetune } from '../train/finetune.js';
import { BERT_VOCAB, PACKAGE_ROOT } from '../util/assets.js';
import { Rng } from '../util/rng.js';
import {
  classifierRunner,
  type Dtype,
  OrtWebProcess,
  type Runner,
  transformersJs,
  transformersJsRunner,
  type Variant,
} from './infer-peers.js';
import { median } from './train-step.js';

export type SystemName = 'minnow' | 'transformers.js' | 'ort-web';

/** The default models: the two shipped pre-trained hash models and BERT-tiny (random init). */
export const DEFAULT_MODELS = ['models/uno-eelbert', 'models/eelbert-tiny', 'preset:bert-tiny'] as const;

export interface InferBenchOptions {
  /** Model folders (exported, fine-tuned, or pre-trained) or preset:NAME; relative to cwd or the package. */
  models: readonly string[];
  /** The first N sentences (default: all). */
  sentences?: number;
  reps: number;
  threads: readonly number[];
  batches: readonly number[];
  /** Run transformers.js and onnxruntime-web beside minnow. */
  peers: boolean;
  /** Where fine-tuned and exported models are kept. */
  cacheDir: string;
  /** SST-2 dev file or GLUE SST-2 folder (default: ../shared/data/glue/SST-2, else examples/sst2). */
  data?: string;
  /** Fine-tuning data for models without a task head (default examples/sst2: 2,000 sentences). */
  finetuneData?: string;
  /** Untimed sentences per row before the first rep. */
  warmup?: number;
}

export interface InferRow {
  system: SystemName;
  model: string;
  variant: Variant | null;
  dtype: Dtype | null;
  /** null: the row failed before any batch size was tried. */
  batch: number | null;
  threads: number | null;
  ms_per_sentence_median: number | null;
  sentences_per_s_median: number | null;
  cpu_ms_per_sentence_median: number | null;
  /** Wall time of each timed pass over all the sentences. */
  ms_per_pass_all: number[];
  model_bytes: number | null;
  load_ms: number | null;
  /** This row's sentences/s over transformers.js's for the same model, dtype, batch and threads. */
  vs_transformers_js: number | null;
  /** Largest |probability difference| from minnow's portable row (same model, dtype, batch, threads). */
  max_abs_diff_vs_minnow: number | null;
  /** Fraction of sentences with the same predicted class as minnow's portable row. */
  agreement_vs_minnow: number | null;
  error?: string;
}

export interface PreparedModel {
  name: string;
  source: string;
  /** The exported folder benchmarked. */
  dir: string;
  /** Whether it has a compact variant (an embedding computed at load: hash models). */
  compact: boolean;
  labels: string[];
  /** What the bench did to get the folder. */
  prepared: 'given' | 'exported' | 'fine-tuned and exported' | 'cached';
  /** Dev accuracy of the quick fine-tuning (when the bench fine-tuned it). */
  finetune_accuracy?: number;
}

export interface InferBenchResult {
  benchmark: 'infer';
  data: { file: string; sentences: number };
  reps: number;
  threads: number[];
  batches: number[];
  models: PreparedModel[];
  systems: Record<SystemName, { runtime: string; version: string | null; settings: string; limits: string }>;
  rows: InferRow[];
  host: { node: string; platform: string; cpus: number };
  date: string;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** What each system is given and what it could not be given. */
export const SYSTEM_NOTES: Record<SystemName, { runtime: string; settings: string; limits: string }> = {
  minnow: {
    runtime: 'onnxruntime-node',
    settings:
      'Classifier.load(folder, { ort, quantized, variant, threads }): intraOpNumThreads = threads, interOp 1, sequential, graph optimisation all, disable_quant_qdq',
    limits: 'none: all variants (compact for hash models, portable), fp32 and int8',
  },
  'transformers.js': {
    runtime: 'onnxruntime-node (through transformers.js)',
    settings:
      "pipeline('text-classification', folder, { dtype: fp32 | q8, device: 'cpu', session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } }); other session options at its defaults",
    limits:
      "portable files only: the compact graph needs minnow's hash table computed at load; its own tokenizer (tokenizer.json), softmax and label sorting are in the timing, as minnow's are",
  },
  'ort-web': {
    runtime: 'onnxruntime-web (wasm, SIMD) in Node, under minnow Classifier',
    settings:
      'env.wasm.numThreads = threads (a child process per thread count: the wasm thread pool is fixed by the first session of a process), wasmPaths = the installed package; session options as minnow',
    limits:
      'threads are wasm worker threads; onnxruntime-web ignores the intra-op setting per session; no native kernels (wasm SIMD only)',
  },
};

// ---------------------------------------------------------------------------------------------------------
// data and models

/** The SST-2 dev file: the full GLUE copy beside the checkout, else the sample (the same 872 sentences). */
export function defaultDataPath(): string {
  const shared = resolve(PACKAGE_ROOT, '..', 'shared', 'data', 'glue', 'SST-2', 'dev.tsv');
  return existsSync(shared) ? shared : join(PACKAGE_ROOT, 'examples', 'sst2', 'dev.tsv');
}

export function loadSentences(path: string, n?: number): { file: string; sentences: string[] } {
  const d = readTask({ task: 'sst2', data: path }, 'dev');
  const all = d.examples.map((e) => e.text);
  return { file: d.file, sentences: n === undefined ? all : all.slice(0, n) };
}

/** A path as given (cwd), else inside the package (models/... on a clone run from elsewhere). */
function locate(p: string): string {
  if (isAbsolute(p) || existsSync(p)) return resolve(p);
  const inPackage = join(PACKAGE_ROOT, p);
  return existsSync(inPackage) ? inPackage : resolve(p);
}

const sha = (h: ReturnType<typeof createHash>) => h.digest('hex').slice(0, 12);

/** The exporter's code, so that a cached export is rebuilt when the exporter changes. */
function exporterKey(): string {
  const h = createHash('sha256');
  const here = dirname(fileURLToPath(import.meta.url));
  for (const name of [
    'infer/export-folder',
    'infer/export-graph',
    'infer/calibrate',
    'infer/quantize',
    'infer/task-head',
    'model/bert',
  ])
    for (const ext of ['.js', '.ts']) {
      const f = join(here, '..', `${name}${ext}`);
      if (existsSync(f)) h.update(readFileSync(f));
    }
  return sha(h);
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function labelsOf(config: ExportedConfig): string[] {
  const n = config.num_labels ?? 1;
  return Array.from({ length: n }, (_, i) => config.id2label?.[String(i)] ?? `LABEL_${i}`);
}

function describe(name: string, source: string, dir: string, prepared: PreparedModel['prepared']) {
  const config = readJson(join(dir, 'config.json')) as unknown as ExportedConfig;
  return {
    name,
    source,
    dir,
    compact: hasDerivedWeight(config),
    labels: labelsOf(config),
    prepared,
  } satisfies PreparedModel;
}

/**
 * An exported folder for a model spec: the folder itself if it is an export; otherwise an export in the
 * cache, fine-tuning first (1 epoch on the SST-2 sample) where the model has no task head.
 */
export async function prepareModel(
  spec: string,
  o: { cacheDir: string; finetuneData: string },
  log: (s: string) => void,
): Promise<PreparedModel> {
  const presetName = spec.startsWith('preset:') ? spec.slice('preset:'.length) : undefined;
  const src = presetName ? undefined : locate(spec);
  const name = presetName ?? basename(src!);
  let config: Record<string, unknown> | undefined;
  if (src) {
    if (!existsSync(join(src, 'config.json'))) throw new Error(`${src}: no config.json (not a model folder)`);
    config = readJson(join(src, 'config.json'));
    if (config.minnow_export) return describe(name, spec, src, 'given');
  }
  const recipe = { epochs: 1, seed: DEFAULT_FINETUNE.seed, data: o.finetuneData };
  const key = createHash('sha256').update(JSON.stringify({ spec: presetName ?? null, recipe }));
  if (src)
    for (const f of readdirSync(src).sort())
      if (f === 'config.json' || f.endsWith('.safetensors')) key.update(f).update(readFileSync(join(src, f)));
  if (presetName) preset(presetName); // an unknown preset fails here, listing the valid ones
  const base = join(o.cacheDir, `${name}-${sha(key)}`);
  const exportDir = join(base, `export-${exporterKey()}`);
  const needsHead = !config?.num_labels;
  const out = join(base, 'finetuned');
  /** The quick fine-tuning's dev accuracy, where the bench fine-tuned the model. */
  const accuracy = (): { finetune_accuracy?: number } => {
    const file = join(out, 'eval_results.json');
    if (!needsHead || !existsSync(file)) return {};
    const a = (readJson(file) as { metrics?: { accuracy?: number } }).metrics?.accuracy;
    return a === undefined ? {} : { finetune_accuracy: a };
  };
  if (existsSync(join(exportDir, 'config.json')))
    return { ...describe(name, spec, exportDir, 'cached'), ...accuracy() };

  let model = src!;
  if (needsHead) {
    if (!existsSync(join(out, 'eval_results.json'))) {
      rmSync(out, { recursive: true, force: true });
      if (presetName) {
        model = join(base, 'init');
        rmSync(model, { recursive: true, force: true });
        saveModel(model, createModel(preset(presetName), BERT_VOCAB, new Rng(recipe.seed)));
      }
      log(`  ${name}: fine-tuning on ${o.finetuneData} (1 epoch) for the benchmark ...`);
      await finetune(model, { task: 'sst2', data: o.finetuneData }, undefined, {
        ...DEFAULT_FINETUNE,
        epochs: recipe.epochs,
        out,
      });
    }
    model = out;
  }
  log(`  ${name}: exporting to ${exportDir} ...`);
  for (const old of existsSync(base) ? readdirSync(base) : [])
    if (old.startsWith('export-')) rmSync(join(base, old), { recursive: true, force: true });
  // int8 as it ships: static, calibrated here on the fine-tuning data's training texts.
  const texts = spread(readTask({ task: 'sst2', data: o.finetuneData }, 'train').examples, 1000).map(
    (e) => e.text,
  );
  await exportModel(model, exportDir, {
    ...DEFAULT_EXPORT,
    check: undefined,
    calibration: { texts, from: `${texts.length} training texts of ${o.finetuneData}` },
  });
  return {
    ...describe(name, spec, exportDir, needsHead ? 'fine-tuned and exported' : 'exported'),
    ...accuracy(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// the benchmark

interface LiveRow {
  row: InferRow;
  runner?: Runner;
  /** CPU ms of each timed pass. */
  cpu: number[];
  /** Probabilities of the first rep. */
  scores?: number[][];
}

function emptyRow(
  system: SystemName,
  model: string,
  k: Partial<Pick<InferRow, 'variant' | 'dtype' | 'batch' | 'threads'>>,
  error?: string,
): InferRow {
  return {
    system,
    model,
    variant: k.variant ?? null,
    dtype: k.dtype ?? null,
    batch: k.batch ?? null,
    threads: k.threads ?? null,
    ms_per_sentence_median: null,
    sentences_per_s_median: null,
    cpu_ms_per_sentence_median: null,
    ms_per_pass_all: [],
    model_bytes: null,
    load_ms: null,
    vs_transformers_js: null,
    max_abs_diff_vs_minnow: null,
    agreement_vs_minnow: null,
    ...(error === undefined ? {} : { error }),
  };
}

const SYSTEM_ORDER: Record<SystemName, number> = { minnow: 0, 'transformers.js': 1, 'ort-web': 2 };
const argmax = (xs: number[]) => xs.reduce((k, x, i) => (x > xs[k] ? i : k), 0);

export async function benchInfer(
  o: InferBenchOptions,
  log: (s: string) => void = () => {},
): Promise<InferBenchResult> {
  const data = loadSentences(o.data ?? defaultDataPath(), o.sentences);
  const N = data.sentences.length;
  if (N === 0) throw new Error(`${data.file}: no sentences`);
  const warm = Math.min(N, o.warmup ?? 64);
  const threads = [...new Set(o.threads)];
  const batches = [...new Set(o.batches)];
  const dtypes: Dtype[] = ['fp32', 'int8'];
  const live: LiveRow[] = [];
  const failed: InferRow[] = [];
  const releases: (() => Promise<void>)[] = [];
  const versions: Record<SystemName, string | null> = {
    minnow: `onnxruntime-node ${(ortNode as unknown as { env: { versions: { node?: string } } }).env.versions.node ?? '?'}`,
    'transformers.js': null,
    'ort-web': null,
  };

  log(`bench infer: ${N} sentences of ${data.file}, ${o.reps} reps, threads ${threads}, batch ${batches}`);
  const models: PreparedModel[] = [];
  for (const spec of o.models) {
    try {
      const m = await prepareModel(
        spec,
        { cacheDir: o.cacheDir, finetuneData: o.finetuneData ?? join(PACKAGE_ROOT, 'examples', 'sst2') },
        log,
      );
      // Two folders of the same name (ft/uno, ex/uno): rows are told apart by the spec.
      if (models.some((x) => x.name === m.name)) m.name = spec;
      models.push(m);
    } catch (e) {
      failed.push(emptyRow('minnow', spec, {}, `model not prepared: ${message(e)}`));
    }
  }

  /** One loaded file: a row per batch size sharing its runner, or one row with the error. */
  const add = async (
    system: SystemName,
    m: PreparedModel,
    k: { variant: Variant; dtype: Dtype; threads: number },
    load: () => Promise<Runner>,
  ) => {
    let runner: Runner;
    try {
      runner = await load();
    } catch (e) {
      failed.push(emptyRow(system, m.name, k, `load failed: ${message(e)}`));
      return;
    }
    releases.push(() => runner.release());
    for (const batch of batches) {
      const row = emptyRow(system, m.name, { ...k, batch });
      row.model_bytes = runner.modelBytes;
      row.load_ms = runner.loadMs;
      live.push({ row, runner, cpu: [] });
    }
  };
  const variantsOf = (m: PreparedModel): Variant[] => (m.compact ? ['compact', 'portable'] : ['portable']);

  log('  loading minnow (onnxruntime-node) ...');
  for (const m of models)
    for (const dtype of dtypes)
      for (const variant of variantsOf(m))
        for (const t of threads)
          await add('minnow', m, { variant, dtype, threads: t }, () =>
            classifierRunner(
              ortNode as unknown as OrtModule,
              m.dir,
              { dtype, variant, threads: t },
              data.sentences,
            ),
          );

  const children: OrtWebProcess[] = [];
  if (o.peers) {
    log('  loading transformers.js ...');
    let tjsError: string | undefined;
    try {
      versions['transformers.js'] = `${(await transformersJs()).env.version ?? '?'} (onnxruntime-node)`;
    } catch (e) {
      tjsError = `transformers.js unavailable: ${message(e)}`;
      failed.push(emptyRow('transformers.js', '-', {}, tjsError));
    }
    if (!tjsError)
      for (const m of models)
        for (const dtype of dtypes)
          for (const t of threads)
            await add('transformers.js', m, { variant: 'portable', dtype, threads: t }, () =>
              transformersJsRunner(m.dir, { dtype, threads: t, labels: m.labels }, data.sentences),
            );

    log('  loading onnxruntime-web (wasm, a child process per thread count) ...');
    for (const t of threads) {
      let child: OrtWebProcess;
      try {
        child = await OrtWebProcess.start(t, data.sentences);
      } catch (e) {
        failed.push(emptyRow('ort-web', '-', { threads: t }, `onnxruntime-web unavailable: ${message(e)}`));
        continue;
      }
      children.push(child);
      versions['ort-web'] = `onnxruntime-web ${child.version} (wasm)`;
      for (const m of models)
        for (const dtype of dtypes)
          for (const variant of variantsOf(m))
            await add('ort-web', m, { variant, dtype, threads: t }, () =>
              child.runner(m.dir, { dtype, variant }),
            );
    }
  }

  const fail = (l: LiveRow, e: unknown) => {
    l.row.error = `pass failed: ${message(e)}`;
    l.runner = undefined;
  };
  log(`  warm-up: ${warm} sentences per row, ${live.length} rows`);
  for (const l of live)
    try {
      await l.runner!.pass(l.row.batch!, false, warm);
    } catch (e) {
      fail(l, e);
    }

  // The rows of one comparison (model, dtype, batch, threads) run back to back, their order rotating.
  const groups = new Map<string, LiveRow[]>();
  for (const l of live) {
    const k = `${l.row.model}|${l.row.dtype}|${l.row.batch}|${l.row.threads}`;
    groups.set(k, [...(groups.get(k) ?? []), l]);
  }
  for (let rep = 0; rep < o.reps; rep++) {
    const t0 = performance.now();
    for (const g of groups.values()) {
      const s = rep % g.length;
      for (const l of [...g.slice(s), ...g.slice(0, s)]) {
        if (!l.runner) continue;
        try {
          const res = await l.runner.pass(l.row.batch!, rep === 0);
          l.row.ms_per_pass_all.push(res.ms);
          l.cpu.push(res.cpuMs);
          if (res.scores) l.scores = res.scores;
        } catch (e) {
          fail(l, e);
        }
      }
    }
    log(`  rep ${rep + 1}/${o.reps}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  for (const r of releases)
    try {
      await r();
    } catch {
      // a child that has gone has released its sessions
    }
  for (const c of children) c.close();

  // Medians, the ratio to transformers.js and the agreement with minnow's portable row.
  const find = (s: SystemName, r: InferRow, variant: Variant) =>
    live.find(
      (l) =>
        l.row.system === s &&
        l.row.model === r.model &&
        l.row.variant === variant &&
        l.row.dtype === r.dtype &&
        l.row.batch === r.batch &&
        l.row.threads === r.threads,
    );
  for (const l of live) {
    const r = l.row;
    if (!r.ms_per_pass_all.length) continue;
    const ms = median(r.ms_per_pass_all);
    r.ms_per_sentence_median = ms / N;
    r.sentences_per_s_median = N / (ms / 1000);
    r.cpu_ms_per_sentence_median = median(l.cpu) / N;
  }
  for (const l of live) {
    const r = l.row;
    const tjs = find('transformers.js', r, 'portable')?.row;
    if (r.system !== 'transformers.js' && r.sentences_per_s_median && tjs?.sentences_per_s_median)
      r.vs_transformers_js = r.sentences_per_s_median / tjs.sentences_per_s_median;
    const ref = find('minnow', r, 'portable');
    if (ref && ref !== l && ref.scores && l.scores && ref.scores.length === l.scores.length) {
      let max = 0;
      let same = 0;
      l.scores.forEach((s, i) => {
        const t = ref.scores![i];
        for (let j = 0; j < s.length; j++) max = Math.max(max, Math.abs(s[j] - t[j]) || 0);
        if (argmax(s) === argmax(t)) same++;
      });
      r.max_abs_diff_vs_minnow = max;
      r.agreement_vs_minnow = same / N;
    }
  }

  const order = (r: InferRow) => [
    models.findIndex((m) => m.name === r.model),
    r.dtype === 'int8' ? 1 : 0,
    r.batch ?? -1,
    r.threads ?? -1,
    SYSTEM_ORDER[r.system],
    r.variant === 'portable' ? 1 : 0,
  ];
  const rows = [...live.map((l) => l.row), ...failed].sort((a, b) => {
    const x = order(a);
    const y = order(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  });
  const systems = Object.fromEntries(
    (Object.keys(SYSTEM_NOTES) as SystemName[]).map((s) => [s, { ...SYSTEM_NOTES[s], version: versions[s] }]),
  ) as InferBenchResult['systems'];
  return {
    benchmark: 'infer',
    data: { file: data.file, sentences: N },
    reps: o.reps,
    threads,
    batches,
    models,
    systems,
    rows,
    host: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: (await import('node:os')).availableParallelism(),
    },
    date: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// the table

const fmt = (n: number | null, d = 1) => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(d));
const kB = (b: number | null) => (b === null ? '-' : `${(b / 1000).toFixed(1)} kB`);
const SYSTEM_LABEL: Record<SystemName, string> = {
  minnow: 'minnow',
  'transformers.js': 'transformers.js',
  'ort-web': 'minnow on ort-web',
};

/** The Markdown table of a result, with the versions and what each peer could not do below it. */
export function inferTable(r: InferBenchResult): string {
  const lines = [
    '| system | model | variant | dtype | batch | threads | ms/sentence | sentences/s | model | ÷ transformers.js | max Δp | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const x of r.rows) {
    const note =
      x.error ??
      (x.agreement_vs_minnow !== null && x.agreement_vs_minnow < 1
        ? `${(100 * x.agreement_vs_minnow).toFixed(1)}% same class`
        : '');
    lines.push(
      `| ${SYSTEM_LABEL[x.system]} | ${x.model} | ${x.variant ?? '-'} | ${x.dtype ?? '-'} | ${x.batch ?? '-'} | ${x.threads ?? '-'} | ${fmt(x.ms_per_sentence_median, 3)} | ${fmt(x.sentences_per_s_median, 0)} | ${kB(x.model_bytes)} | ${x.vs_transformers_js === null ? '-' : `${x.vs_transformers_js.toFixed(2)}x`} | ${x.max_abs_diff_vs_minnow === null ? '-' : x.max_abs_diff_vs_minnow.toExponential(1)} | ${note.replaceAll('|', '/')} |`,
    );
  }
  lines.push(
    '',
    `${r.data.sentences} sentences of ${r.data.file}, tokenization included; median of ${r.reps} reps. ` +
      '÷ transformers.js: sentences/s over transformers.js on the same model, dtype, batch and threads. ' +
      "max Δp: largest probability difference from minnow's portable row.",
  );
  for (const s of Object.keys(r.systems) as SystemName[]) {
    const x = r.systems[s];
    lines.push(
      `- ${SYSTEM_LABEL[s]}: ${x.version ?? 'not run'}. Set: ${x.settings}. Could not: ${x.limits}.`,
    );
  }
  for (const m of r.models)
    if (m.finetune_accuracy !== undefined)
      lines.push(
        `- ${m.name}: fine-tuned by the bench for timing only (1 epoch, SST-2 dev accuracy ${(100 * m.finetune_accuracy).toFixed(1)}%)`,
      );
  return lines.join('\n');
}

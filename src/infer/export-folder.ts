/**
 * `minnow export`: a fine-tuned model directory (minnow's, or a transformers BERT classifier) becomes a
 * transformers.js-ready folder, written atomically (built under a temporary name, renamed into place):
 *
 *   config.json                 model_type "bert", id2label, label2id, minnow's fields + minnow_export
 *   tokenizer.json, tokenizer_config.json, vocab.txt
 *   onnx/model.onnx             portable fp32 (input_ids in; what transformers.js loads in Node)
 *   onnx/model_quantized.onnx   portable int8 (what transformers.js loads in a browser)
 *   onnx/model_compact.onnx     hash models: no embedding table stored (minnow's runtime); and _quantized
 *   knowledge.kg                K-BERT models: the knowledge graph (WordNet's too) the runtime reads
 *   model.safetensors           the fp32 weights: the folder is also a minnow model directory (fine-tune,
 *                               eval, export it again), and the page's "teach it" panel trains them
 *   configuration_minnow.py, modeling_minnow.py
 *                               hash, low-rank and hybrid models: Hugging Face remote code (`auto_map`;
 *                               model_type stays "bert" for transformers.js; see model/hf-remote.ts)
 *
 * With a check set, fp32 and int8 are scored on it and an int8 file whose score drops more than maxDrop
 * points below its fp32 twin is not written.
 */
import * as fs from 'node:fs';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readText, textLines } from '../data/tabular.js';
import type { DataSource, TaskData } from '../data/task.js';

import { hasDerivedWeight } from '../model/embeddings/registry.js';
import { loadModel, type Model, readConfig } from '../model/io.js';
import { withRemoteCode } from '../model/hf-remote.js';
import { weightsFile, withPositions } from '../model/model.js';
import { KNOWLEDGE_FILE } from '../knowledge/config.js';
import { ngramOnnx } from '../ngram/graph.js';
import { columnsOf, isNgramDir, loadNgramModel } from '../ngram/io.js';
import { tokenizerConfigJson, tokenizerJson } from '../text/tokenizer-files.js';
import { removeStaleFolderTemporaries } from '../util/atomic.js';
import { UserError, withPath } from '../util/errors.js';
import { calibrateRanges } from './calibrate.js';
import { classifierOnnx, type Int8Scheme, type Quantize } from './export-graph.js';
import { scoreClassifier } from './evaluate.js';
import { nodeOrt } from './load.js';
import {
  Classifier,
  type ClassifierInput,
  classifierInput,
  type ExportedConfig,
  type ExportVariant,
} from './runtime.js';
import { readTaskFor, setHead, type TaskHead, taskHead } from './task-head.js';

export interface ExportOptions {
  quantize: Quantize;
  scheme: Int8Scheme;
  /**
   * Static int8 with no texts to calibrate on (no anchors.txt, no check data): write weight-only int8 and
   * say so (true), or refuse (false: the user asked for static).
   */
  staticFallback: boolean;
  /** Texts to calibrate static int8 on, before the model's anchors.txt and the check data (fit: training texts). */
  calibration?: { texts: readonly ClassifierInput[]; from: string };
  /** Score fp32 and int8 on this labelled data before writing int8 files. */
  check?: { src: DataSource; split: 'train' | 'dev' };
  maxDrop: number; // points of the task score
  threads: number;
  maxLength: number;
  /**
   * Keep only this many position rows (max_position_embeddings becomes it): 65 kB less int8 for 512 x 128
   * cut to 128; the runtime then reads at most that many tokens. Undefined: all the model has.
   */
  maxPositions?: number;
}

export const DEFAULT_EXPORT: Readonly<Omit<ExportOptions, 'check'>> = Object.freeze({
  quantize: 'int8',
  // Static: int8 products on activations quantised with calibrated ranges: batch-independent, and as fast
  // as onnxruntime's per-tensor dynamic int8, where weight-only runs at fp32's speed
  // (results/serve-int8-batch.md). Without texts to calibrate on, weight-only (staticFallback).
  scheme: 'static',
  staticFallback: true,
  maxDrop: 1,
  threads: 2,
  maxLength: 128,
});

export interface VariantReport {
  variant: ExportVariant;
  file: string;
  bytes: number;
  gzipBytes: number;
  /** The other files its loader reads: config.json and tokenizer.json + tokenizer_config.json (portable:
   * transformers.js), or config.json and vocab.txt (compact: minnow's runtime). */
  sideFiles: string[];
  /** The model file plus those files: what a page downloads; and the same gzipped. */
  totalBytes: number;
  totalGzipBytes: number;
  score?: number;
  metrics?: Record<string, number | undefined>;
  /** Points below the fp32 twin on the check data. */
  drop?: number;
  written: boolean;
}

export interface ExportResult {
  out: string;
  variants: VariantReport[];
  tokenizerBytes: number;
  /** Bytes of model.safetensors (the fp32 weights, for fine-tuning the folder again or on the page). */
  weightsBytes: number;
  /** int8 files left out because they failed the accuracy gate. */
  refused: ExportVariant[];
  /** How the int8 files run (static falls back to weight-only without calibration texts), and why. */
  int8?: { scheme: Int8Scheme; note: string };
}

const FILES: Record<ExportVariant, string> = {
  portable: 'onnx/model.onnx',
  portable_quantized: 'onnx/model_quantized.onnx',
  compact: 'onnx/model_compact.onnx',
  compact_quantized: 'onnx/model_compact_quantized.onnx',
};

/** Everything an export writes, in memory: the ONNX files, the tokenizer files and config.json's object. */
export interface BuiltExport {
  onnx: Map<ExportVariant, Uint8Array>;
  text: Record<string, string>;
  config: ExportedConfig & { architectures: string[] };
  vocabulary: readonly string[];
}

/** Build the export of a loaded model (nothing written). */
export function buildExport(
  m: Model,
  head: TaskHead,
  o: Pick<ExportOptions, 'quantize' | 'scheme'> & {
    /** Static int8: the calibrated ranges (calibrate.ts); 'sizes' builds with placeholders, to count bytes only. */
    ranges?: readonly (readonly [number, number])[] | 'sizes';
  },
): BuiltExport {
  const variants: ExportVariant[] = ['portable'];
  if (hasDerivedWeight(m.config)) variants.push('compact'); // the table computed at load stays out
  if (o.quantize === 'int8') variants.push(...variants.map((v) => `${v}_quantized` as ExportVariant));
  const onnx = new Map<ExportVariant, Uint8Array>();
  for (const v of variants)
    onnx.set(
      v,
      classifierOnnx(m, head.numLabels, {
        compact: v.startsWith('compact'),
        quantize: v.endsWith('_quantized') ? 'int8' : 'none',
        scheme: o.scheme,
        ranges: o.ranges,
      }),
    );
  const config = exportedConfig(m, head);
  const vocabulary = m.tokenizer.vocabulary;
  const text: Record<string, string> = {
    'tokenizer.json': JSON.stringify(tokenizerJson(vocabulary)),
    'tokenizer_config.json': `${JSON.stringify(tokenizerConfigJson(vocabulary, { maxLength: m.config.max_position_embeddings }), null, 2)}\n`,
    'vocab.txt': `${vocabulary.join('\n')}\n`,
    // A K-BERT model's graph, WordNet too: the runtime (browser, serve) reads it from the folder.
    ...(m.config.knowledge ? { [KNOWLEDGE_FILE]: m.knowledge!.serialize() } : {}),
  };
  return { onnx, text, config: { ...config, architectures: ['BertForSequenceClassification'] }, vocabulary };
}

/** What each int8 scheme does, for the export's report. */
const SCHEME_NOTES: Record<Int8Scheme, string> = {
  static: 'int8 products, activations quantised with fixed calibrated ranges',
  'weight-only': 'int8 storage, float products',
  dynamic: 'int8 products, activations quantised per token at run time',
};

/** config.json's object for the export of `m` with task head `head` (before minnow_export). */
export function exportedConfig(m: Model, head: TaskHead): ExportedConfig {
  const config: ExportedConfig = { ...m.config, model_type: 'bert' };
  setHead(config, head);
  delete config.minnow_vocab; // the folder carries its vocab.txt
  return config;
}

/** At most `n` of `rows`, evenly spaced (files grouped by source or label still give every part). */
export function spread<T>(rows: readonly T[], n: number): T[] {
  if (rows.length <= n) return [...rows];
  return Array.from({ length: n }, (_, i) => rows[Math.floor((i * rows.length) / n)]);
}

/**
 * The texts static int8 is calibrated on: the model's anchors.txt (texts like the ones it reads, which
 * teaching keeps its answers on), else the check data's texts (1,000 of them at most, evenly spaced).
 */
export function calibrationTexts(
  dir: string,
  check: TaskData | undefined,
): { texts: readonly ClassifierInput[]; from: string } | undefined {
  const anchors = join(dir, 'anchors.txt');
  if (fs.existsSync(anchors)) {
    const lines = textLines(readText(anchors, 'anchors file'));
    if (lines.length) return { texts: lines, from: `${lines.length} texts of anchors.txt` };
  }
  if (!check?.examples.length) return undefined;
  const texts = spread(check.examples, 1000).map(classifierInput);
  return { texts, from: `${texts.length} texts of the check data` };
}

/** The files besides the model that a variant's loader reads. */
export function sideFiles(variant: ExportVariant, knowledge = false): string[] {
  const files = variant.startsWith('compact')
    ? ['config.json', 'vocab.txt']
    : ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
  return knowledge ? [...files, KNOWLEDGE_FILE] : files;
}

/** Sizes of one deployable: the model file, and with its side files, plain and gzipped. */
export function variantSizes(
  variant: ExportVariant,
  model: Uint8Array,
  files: Record<string, string | Uint8Array>,
): Omit<VariantReport, 'written'> {
  const names = sideFiles(variant, KNOWLEDGE_FILE in files);
  const side = names.map((f) =>
    typeof files[f] === 'string' ? new TextEncoder().encode(files[f] as string) : (files[f] as Uint8Array),
  );
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const gzipBytes = gzipSync(model).length;
  return {
    variant,
    file: FILES[variant],
    bytes: model.length,
    gzipBytes,
    sideFiles: names,
    totalBytes: model.length + sum(side.map((x) => x.length)),
    totalGzipBytes: gzipBytes + sum(side.map((x) => gzipSync(x).length)),
  };
}

/** Bytes of each deployable (model file, gzip, and with the side files a page also loads). */
export function deployableSizes(b: BuiltExport): Omit<VariantReport, 'written'>[] {
  const files = { ...b.text, 'config.json': `${JSON.stringify(b.config, null, 2)}\n` };
  return [...b.onnx].map(([variant, bytes]) => variantSizes(variant, bytes, files));
}

/** Export `dir` to `out` (see the file comment). */
export async function exportModel(dir: string, out: string, o: ExportOptions): Promise<ExportResult> {
  if (isNgramDir(dir)) return exportNgramModel(dir, out, o);
  const head = taskHead(readConfig(dir), join(dir, 'config.json'));
  const checkData = o.check ? readTaskFor(head, o.check.src, o.check.split, dir) : undefined;
  const loaded = loadModel(dir, { numLabels: head.numLabels });
  const m = o.maxPositions === undefined ? loaded : withPositions(loaded, o.maxPositions);
  let scheme = o.scheme;
  let note = `${scheme}: ${SCHEME_NOTES[scheme]}`;
  let ranges: [number, number][] | undefined;
  if (o.quantize === 'int8' && scheme === 'static') {
    const calibration = o.calibration ?? calibrationTexts(dir, checkData);
    if (calibration) {
      ranges = await calibrateRanges(m, exportedConfig(m, head), calibration.texts, {
        threads: o.threads,
        maxLength: o.maxLength,
        knowledge: m.knowledge,
      });
      note += `, calibrated on ${calibration.from}`;
    } else if (o.staticFallback) {
      scheme = 'weight-only';
      note = `weight-only: ${SCHEME_NOTES[scheme]} (static int8 needs texts to calibrate on: ${dir} has no anchors.txt and no --check data was given)`;
    } else
      throw new UserError(
        `export --int8 static: nothing to calibrate on; ${dir} has no anchors.txt: give labelled texts with --check TASK --data DIR (their texts calibrate it)`,
      );
  }
  const built = buildExport(m, head, { ...o, scheme, ranges });
  const { onnx, text, vocabulary } = built;
  const exported = built.config;
  const variants = [...onnx.keys()];
  const tokenizerBytes = Object.values(text).reduce((a, s) => a + new TextEncoder().encode(s).length, 0);

  // The accuracy gate: every variant scored on the check data through the runtime.
  const reports = new Map<ExportVariant, VariantReport>();
  const sized = { ...text, 'config.json': `${JSON.stringify(exported, null, 2)}\n` };
  for (const v of variants) reports.set(v, { ...variantSizes(v, onnx.get(v)!, sized), written: true });
  const refused: ExportVariant[] = [];
  if (checkData) {
    for (const v of variants) {
      const clf = await Classifier.create(exported, vocabulary, onnx.get(v)!, {
        ort: nodeOrt,
        knowledge: m.knowledge,
        variant: v.startsWith('compact') ? 'compact' : 'portable',
        threads: o.threads,
        maxLength: o.maxLength,
      });
      const { metrics, score } = await scoreClassifier(clf, checkData, head.regression, 64);
      await clf.release();
      const r = reports.get(v)!;
      r.metrics = metrics as Record<string, number | undefined>;
      r.score = score;
    }
    for (const v of variants.filter((x) => x.endsWith('_quantized'))) {
      const r = reports.get(v)!;
      const base = reports.get(v.replace('_quantized', '') as ExportVariant)!;
      r.drop = base.score! - r.score!;
      if (r.drop > o.maxDrop) {
        r.written = false;
        refused.push(v);
      }
    }
  }
  exported.minnow_export = {
    format: 2,
    files: Object.fromEntries(variants.filter((v) => reports.get(v)!.written).map((v) => [v, FILES[v]])),
  };
  const configText = `${JSON.stringify(exported, null, 2)}\n`;

  // Hash, low-rank and hybrid models: Hugging Face remote code for Python (hf-remote.ts).
  const files = withRemoteCode(
    {
      ...text,
      'config.json': configText,
      'model.safetensors': weightsFile(m),
      // A K-BERT model's graph, WordNet too: the runtime (browser, serve) reads it from the folder.
      ...(m.config.knowledge ? { [KNOWLEDGE_FILE]: m.knowledge!.serialize() } : {}),
      // The texts teaching keeps the answers on (minnow teach, the page's teach panel), when the model has them.
      ...(fs.existsSync(join(dir, 'anchors.txt'))
        ? { 'anchors.txt': fs.readFileSync(join(dir, 'anchors.txt')) }
        : {}),
      ...Object.fromEntries(
        variants.filter((v) => reports.get(v)!.written).map((v) => [FILES[v], onnx.get(v)!]),
      ),
    },
    m.config,
    { folder: 'export' },
  );
  const weights = files['model.safetensors'] as Uint8Array;
  writeFolderAtomic(out, files);
  return {
    out,
    variants: [...reports.values()],
    tokenizerBytes,
    weightsBytes: weights.byteLength,
    refused,
    ...(o.quantize === 'int8' ? { int8: { scheme, note } } : {}),
  };
}

/**
 * Export an n-gram model (`minnow baseline`): config.json, onnx/model.onnx and onnx/model_quantized.onnx
 * (int8 weights, uint8 idf), model.safetensors; no tokenizer files (it reads words, not word pieces). The
 * same accuracy gate as a transformer's.
 */
async function exportNgramModel(dir: string, out: string, o: ExportOptions): Promise<ExportResult> {
  const m = loadNgramModel(dir);
  const head = taskHead(m.config, join(dir, 'config.json'));
  const checkData = o.check ? readTaskFor(head, o.check.src, o.check.split, dir) : undefined;
  const K = columnsOf(m.config);
  const variants: ExportVariant[] = o.quantize === 'int8' ? ['portable', 'portable_quantized'] : ['portable'];
  const onnx = new Map(
    variants.map((v) => [
      v,
      ngramOnnx(m.weights, m.config.ngram, head.numLabels, K, v.endsWith('_quantized')),
    ]),
  );
  const exported = { ...m.config } as unknown as ExportedConfig;
  const configBytes = new TextEncoder().encode(`${JSON.stringify(exported, null, 2)}\n`);
  const reports = new Map<ExportVariant, VariantReport>();
  for (const v of variants) {
    const bytes = onnx.get(v)!;
    const gzipBytes = gzipSync(bytes).length;
    reports.set(v, {
      variant: v,
      file: FILES[v],
      bytes: bytes.length,
      gzipBytes,
      sideFiles: ['config.json'],
      totalBytes: bytes.length + configBytes.length,
      totalGzipBytes: gzipBytes + gzipSync(configBytes).length,
      written: true,
    });
  }
  const refused: ExportVariant[] = [];
  if (checkData) {
    for (const v of variants) {
      const clf = await Classifier.create(exported, [], onnx.get(v)!, { ort: nodeOrt, threads: o.threads });
      const { metrics, score } = await scoreClassifier(clf, checkData, head.regression, 64);
      await clf.release();
      Object.assign(reports.get(v)!, { metrics, score });
    }
    const q = reports.get('portable_quantized');
    if (q) {
      q.drop = reports.get('portable')!.score! - q.score!;
      if (q.drop > o.maxDrop) {
        q.written = false;
        refused.push('portable_quantized');
      }
    }
  }
  exported.minnow_export = {
    format: 2,
    files: Object.fromEntries(variants.filter((v) => reports.get(v)!.written).map((v) => [v, FILES[v]])),
  };
  const weights = readFileSync(join(dir, 'model.safetensors'));
  writeFolderAtomic(out, {
    'config.json': `${JSON.stringify(exported, null, 2)}\n`,
    'model.safetensors': weights,
    ...Object.fromEntries(
      variants.filter((v) => reports.get(v)!.written).map((v) => [FILES[v], onnx.get(v)!]),
    ),
  });
  return {
    out,
    variants: [...reports.values()],
    tokenizerBytes: 0,
    weightsBytes: weights.byteLength,
    refused,
  };
}

/**
 * Write `files` (relative paths) as the folder `out`, all or nothing: built beside it under a temporary
 * name, then renamed into place. An existing `out` is replaced only if it is an earlier export.
 */
export function writeFolderAtomic(out: string, files: Record<string, string | Uint8Array>): void {
  const target = resolve(out);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new UserError(`--out ${out}: is a file, not a directory`);
    const entries = fs.readdirSync(target);
    if (entries.length > 0 && !isExport(target))
      throw new UserError(
        `--out ${out}: exists and is not an earlier export; choose an empty or new directory`,
      );
  }
  fs.mkdirSync(dirname(target), { recursive: true });
  removeStaleFolderTemporaries(target); // OUT.tmp-PID of exports that were killed (any command's)
  const tmp = `${target}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const old = `${target}.old-${process.pid}`;
  try {
    for (const [name, data] of Object.entries(files)) {
      const file = join(tmp, name);
      fs.mkdirSync(dirname(file), { recursive: true });
      fs.writeFileSync(file, data);
    }
    if (fs.existsSync(target)) fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (fs.existsSync(old) && !fs.existsSync(target)) fs.renameSync(old, target); // put the earlier export back
    throw withPath(e, out); // a full disk names the folder
  }
}

function isExport(dir: string): boolean {
  try {
    return JSON.parse(fs.readFileSync(join(dir, 'config.json'), 'utf8')).minnow_export !== undefined;
  } catch {
    return false;
  }
}

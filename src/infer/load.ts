/**
 * The runtime's Classifier for a directory on disk (Node): an exported folder (config.json with
 * minnow_export) is loaded as a browser would load it; a model directory (config.json +
 * model.safetensors) is exported in memory first, so `minnow predict` and `eval` run the same graph a
 * deployment runs (compact for hash models, fp32).
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel, readConfig } from '../model/io.js';
import { ngramOnnx } from '../ngram/graph.js';
import { columnsOf, isNgramDir, loadNgramModel, readNgramConfig } from '../ngram/io.js';
import { UserError } from '../util/errors.js';
import { localFolder } from './file-source.js';
import { modelClassifier } from './model-classifier.js';
import { Classifier, type ExportedConfig, type OrtModule } from './runtime.js';
import { type HeadFields, setHead, taskHead } from './task-head.js';

export interface LoadOptions {
  threads: number;
  maxLength: number;
  quantized?: boolean;
  variant?: 'compact' | 'portable';
  /** onnxruntime to run on (default onnxruntime-node; webOrt() for the page's WebAssembly numbers). */
  ort?: OrtModule;
}

/** Reads a folder's files for Classifier.load (undefined for a file that is not there): the runtime's own. */
export const folderReader = localFolder;

export const nodeOrt = ort as unknown as OrtModule;

/** Where onnxruntime runs in Node: its native build, or onnxruntime-web's WebAssembly as a page runs it. */
export type NodeBackend = 'node' | 'web';

/**
 * onnxruntime-web's WebAssembly build in Node, on one thread as the page runs it, so that a run gives the
 * page's numbers bit for bit (onnxruntime-node's native kernels round differently). onnxruntime-web is not
 * a dependency of minnow's CLI: without it, one line says how to install it.
 */
export async function webOrt(name = 'onnxruntime-web'): Promise<OrtModule> {
  // `name` is a variable specifier: bundlers and the type checker leave it alone.
  let m: { env: { wasm: { numThreads?: number } } } & OrtModule;
  try {
    m = (await import(name)) as typeof m;
  } catch {
    throw new UserError('--backend web needs onnxruntime-web: npm install onnxruntime-web');
  }
  m.env.wasm.numThreads = 1;
  return m;
}

/** The onnxruntime module for a NodeBackend. */
export async function ortFor(backend: NodeBackend): Promise<OrtModule> {
  return backend === 'web' ? webOrt() : nodeOrt;
}

/** config.json of any model directory or export, for its task head: a BERT model's or an n-gram model's. */
export function readHeadConfig(dir: string): HeadFields & { minnow_export?: unknown } {
  return isNgramDir(dir) ? readNgramConfig(dir) : readConfig(dir);
}

/** A Classifier for an exported folder or a fine-tuned model directory. */
export async function loadClassifier(dir: string, o: LoadOptions): Promise<Classifier> {
  const headConfig = readHeadConfig(dir);
  const runtime = o.ort ?? nodeOrt;
  if (headConfig.minnow_export) return Classifier.load(folderReader(dir), { ...o, ort: runtime });
  if (o.quantized)
    throw new UserError(`${dir}: int8 needs an exported folder (minnow export --quantize int8)`);
  if (isNgramDir(dir)) {
    const m = loadNgramModel(dir);
    const onnx = ngramOnnx(m.weights, m.config.ngram, m.config.num_labels, columnsOf(m.config), false);
    return Classifier.create(
      m.config as unknown as ExportedConfig,
      [],
      onnx,
      { ...o, ort: runtime },
      join(dir, 'model.safetensors'),
    );
  }
  const config = headConfig as ExportedConfig;
  const head = taskHead(config, join(dir, 'config.json'));
  const m = loadModel(dir, { numLabels: head.numLabels });
  setHead(m.config, head);
  return modelClassifier(m, { ...o, ort: runtime }, join(dir, 'model.safetensors'));
}

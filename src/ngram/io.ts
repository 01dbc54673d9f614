/**
 * A bag-of-n-grams model directory, as `minnow baseline` writes it:
 *
 *   config.json        model_type "minnow-ngram", the features (ngram), the head (num_labels, id2label,
 *                      problem_type, finetuning_task: Hugging Face's names) and how it was fitted
 *   model.safetensors  ngram.weight (buckets, K), ngram.bias (K), ngram.idf (buckets), float32
 *
 * K is 1 for two classes and for regression, the number of classes otherwise (linear.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { NGRAM_MODEL_TYPE, type NgramConfig, validateNgramConfig } from './features.js';
import type { LinearWeights } from './linear.js';

export { NGRAM_MODEL_TYPE };

/** config.json of an n-gram model: the features and the task head in Hugging Face's field names. */
export interface NgramModelConfig {
  model_type: typeof NGRAM_MODEL_TYPE;
  architectures: ['MinnowNgramClassifier'];
  ngram: NgramConfig;
  num_labels: number;
  problem_type: 'regression' | 'single_label_classification';
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  finetuning_task?: string;
  minnow_text_pairs?: boolean;
  /** How it was fitted: the regularisation picked and the dev scores of each candidate. */
  minnow_baseline?: Record<string, unknown>;
}

export interface NgramModel {
  config: NgramModelConfig;
  weights: LinearWeights;
}

/** Columns of the weight table: one for two classes and for regression. */
export function columnsOf(c: Pick<NgramModelConfig, 'num_labels' | 'problem_type'>): number {
  return c.problem_type === 'regression' || c.num_labels === 2 ? 1 : c.num_labels;
}

/** Whether `dir` holds an n-gram model (its config.json says model_type "minnow-ngram"). */
export function isNgramDir(dir: string): boolean {
  const file = join(dir, 'config.json');
  if (!existsSync(file) || !statSync(file).isFile()) return false;
  try {
    return JSON.parse(readFileSync(file, 'utf8').replace(/^\ufeff/, '')).model_type === NGRAM_MODEL_TYPE;
  } catch {
    return false; // readConfig reports the invalid JSON
  }
}

/** Read and check config.json of an n-gram model. */
export function readNgramConfig(dir: string): NgramModelConfig {
  const file = join(dir, 'config.json');
  const raw = JSON.parse(readFileSync(file, 'utf8').replace(/^\ufeff/, '')) as NgramModelConfig;
  validateNgramConfig(raw.ngram, file);
  if (!Number.isInteger(raw.num_labels) || raw.num_labels < 1)
    throw new UserError(
      `${file}: num_labels: expected a positive integer, got ${JSON.stringify(raw.num_labels)}`,
    );
  if (raw.problem_type !== 'regression' && raw.problem_type !== 'single_label_classification')
    throw new UserError(`${file}: problem_type: expected "regression" or "single_label_classification"`);
  return raw;
}

/** Load an n-gram model directory; shapes are checked against config.json. */
export function loadNgramModel(dir: string): NgramModel {
  const config = readNgramConfig(dir);
  const file = join(dir, 'model.safetensors');
  const t = readSafetensors(file).tensors;
  const K = columnsOf(config);
  const B = config.ngram.buckets;
  const get = (name: string, shape: number[]): Float32Array => {
    const x = t.get(name);
    if (!x) throw new UserError(`${file}: no tensor ${name}`);
    if (x.dtype !== 'F32' || x.shape.join(',') !== shape.join(','))
      throw new UserError(
        `${file}: ${name} is ${x.dtype} [${x.shape}], expected F32 [${shape}] (config.json)`,
      );
    return x.data as Float32Array;
  };
  return {
    config,
    weights: {
      weight: get('ngram.weight', [B, K]),
      bias: get('ngram.bias', [K]),
      idf: get('ngram.idf', [B]),
    },
  };
}

/** Write an n-gram model directory (each file atomically). */
export function saveNgramModel(dir: string, m: NgramModel): void {
  ensureDir(dir);
  const K = columnsOf(m.config);
  const B = m.config.ngram.buckets;
  writeSafetensors(
    join(dir, 'model.safetensors'),
    {
      'ngram.weight': { dtype: 'F32', shape: [B, K], data: m.weights.weight },
      'ngram.bias': { dtype: 'F32', shape: [K], data: m.weights.bias },
      'ngram.idf': { dtype: 'F32', shape: [B], data: m.weights.idf },
    },
    { format: 'pt' },
  );
  writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(m.config, null, 2)}\n`);
}

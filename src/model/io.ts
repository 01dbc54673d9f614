/**
 * Model directories, as any BERT user knows them:
 *   config.json          Hugging Face BERT fields + minnow's (embedding_type, hash_embedding, ...)
 *   model.safetensors    parameters with Hugging Face names (no V x H table for EELBERT models)
 *   vocab.txt            WordPiece vocabulary
 *   mlm_head.safetensors optional: the masked-LM head (cls.predictions.*), kept apart so the model
 *                        that fine-tuning and deployment use stays small
 *   configuration_minnow.py, modeling_minnow.py
 *                        hash, low-rank and hybrid models: Hugging Face remote code (hf-remote.ts)
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ParamStore } from '../runtime/params.js';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import type { BertTokenizer } from '../text/wordpiece.js';
import { readTokenizerJsonFile, readVocabFile } from '../text/vocab-file.js';
import { assetPath } from '../util/assets.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { type BertConfig, validateConfig } from './config.js';
import { withRemoteCode } from './hf-remote.js';
import { declareParams, fillDerived, isHead, type Model, modelFiles, optionalTensor } from './model.js';
import { modelKnowledge } from '../knowledge/load.js';

export type { Model } from './model.js';

/** The masked-LM head's output bias: a checkpoint that has it holds the head. */
const MLM_BIAS = 'cls.predictions.bias';

/** A new, randomly initialised model. */
export function createModel(
  config: BertConfig,
  vocabPath: string,
  rng: Rng,
  parts: { mlm?: boolean; numLabels?: number } = {},
): Model {
  const tokenizer = readVocabFile(vocabPath);
  if (tokenizer.vocabSize !== config.vocab_size) config.vocab_size = tokenizer.vocabSize;
  const store = new ParamStore();
  declareParams(store, config, parts);
  store.initialize(rng, config.initializer_range);
  fillDerived(store, config, tokenizer);
  return { config, store, tokenizer, hasMlmHead: !!parts.mlm };
}

export function readConfig(dir: string): BertConfig {
  if (!existsSync(dir)) throw new UserError(`${dir}: model directory not found`);
  if (!statSync(dir).isDirectory())
    throw new UserError(`${dir}: not a directory (a model is a directory with config.json)`);
  const file = join(dir, 'config.json');
  if (!existsSync(file))
    throw new UserError(
      `${file}: missing (a model directory needs config.json, model.safetensors and vocab.txt or tokenizer.json)`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8').replace(/^\ufeff/, ''));
  } catch (e) {
    throw new UserError(`${file}: invalid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  const weights = join(dir, 'model.safetensors');
  return validateConfig(raw, file, { hasClassifier: hasTensor(weights, 'classifier.weight') });
}

/**
 * Whether a safetensors file names a tensor, from its header alone (false if the file is missing or
 * unreadable: loading it reports that).
 */
function hasTensor(path: string, name: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8) return false;
    const n = Number(len.readBigUInt64LE());
    if (n > 100_000_000) return false;
    const header = Buffer.alloc(n);
    if (readSync(fd, header, 0, n, 8) !== n) return false;
    return Object.hasOwn(JSON.parse(header.toString('utf8')), name);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The shipped vocabularies a model directory may name instead of carrying its own vocab.txt. */
const SHIPPED_VOCABS: Record<string, string> = { 'bert-base-uncased': 'bert-base-uncased-vocab.txt' };

/**
 * The directory's vocab.txt; else its tokenizer.json's WordPiece vocabulary (transformers 5.x writes no
 * vocab.txt); else, when config.json names a shipped vocabulary ("minnow_vocab": "bert-base-uncased"),
 * the copy in assets/ (this keeps the shipped models small).
 */
function tokenizerFor(dir: string, config: BertConfig): BertTokenizer {
  const own = join(dir, 'vocab.txt');
  const json = join(dir, 'tokenizer.json');
  if (!existsSync(own) && existsSync(json)) return readTokenizerJsonFile(json);
  if (existsSync(own) || !config.minnow_vocab) return readVocabFile(own);
  const shipped = Object.hasOwn(SHIPPED_VOCABS, config.minnow_vocab) && SHIPPED_VOCABS[config.minnow_vocab];
  if (!shipped)
    throw new UserError(
      `${join(dir, 'config.json')}: unknown minnow_vocab "${config.minnow_vocab}" and no vocab.txt`,
    );
  return readVocabFile(assetPath(shipped));
}

/** Which file tokenizerFor read the vocabulary from, for messages. */
function vocabFileOf(dir: string): string {
  return !existsSync(join(dir, 'vocab.txt')) && existsSync(join(dir, 'tokenizer.json'))
    ? 'tokenizer.json'
    : 'vocab.txt';
}

/**
 * Load a model directory. `mlm` also loads the masked-LM head (a fresh one if the directory has none);
 * `numLabels` declares a classifier (loaded if the directory has one with that size, else initialised
 * with `rng`).
 */
export function loadModel(dir: string, opts: { mlm?: boolean; numLabels?: number; rng?: Rng } = {}): Model {
  const config = readConfig(dir);
  const tokenizer = tokenizerFor(dir, config);
  if (tokenizer.vocabSize !== config.vocab_size) {
    throw new UserError(
      `${join(dir, 'config.json')}: vocab_size ${config.vocab_size} but ${vocabFileOf(dir)} has ${tokenizer.vocabSize} entries`,
    );
  }
  const store = new ParamStore();
  declareParams(store, config, { mlm: opts.mlm, numLabels: opts.numLabels });
  if (opts.rng) store.initialize(opts.rng, config.initializer_range);
  const keepClassifier = opts.numLabels !== undefined && config.num_labels === opts.numLabels;
  const weights = join(dir, 'model.safetensors');
  if (!existsSync(weights)) throw new UserError(`${weights}: missing`);
  const file = readSafetensors(weights);
  store.load(file, weights, {
    allowMissing: (n) => isHead(n) || (n.startsWith('classifier.') && !keepClassifier),
    allowExtra: optionalTensor(config),
    only: (n) => !isHead(n) && (keepClassifier || !n.startsWith('classifier.')),
  });
  let hasMlmHead = false;
  const headFile = join(dir, 'mlm_head.safetensors');
  if (opts.mlm && existsSync(headFile)) {
    store.load(readSafetensors(headFile), headFile, { allowMissing: (n) => !isHead(n), only: isHead });
    hasMlmHead = true;
  } else if (opts.mlm && file.tensors.has(MLM_BIAS)) {
    // A masked-LM model transformers saved (BertForMaskedLM, MinnowForMaskedLM): its head is in model.safetensors.
    store.load(file, weights, { allowMissing: (n) => !isHead(n), only: isHead });
    hasMlmHead = true;
  }
  fillDerived(store, config, tokenizer);
  const knowledge = config.knowledge ? modelKnowledge(dir, config.knowledge) : undefined;
  return { config, store, tokenizer, hasMlmHead: hasMlmHead || !!opts.mlm, knowledge };
}

/**
 * Write a model directory (each file atomically). The MLM head, if present, goes to its own file.
 * `shippedVocab` names a vocabulary in assets/ instead of writing vocab.txt (for models/ in this repo).
 */
export function saveModel(
  dir: string,
  m: Model,
  opts: { shippedVocab?: string; mlmHead?: boolean } = {},
): void {
  ensureDir(dir);
  const mlm = (opts.mlmHead ?? true) && m.store.params.some((p) => isHead(p.name));
  // Hash, low-rank and hybrid models also carry the Hugging Face remote code (hf-remote.ts).
  const files = withRemoteCode(modelFiles(m, opts), m.config, { mlm });
  for (const [name, data] of Object.entries(files)) writeFileAtomic(join(dir, name), data!);
  if (mlm)
    writeSafetensors(
      join(dir, 'mlm_head.safetensors'),
      m.store.toTensors((p) => isHead(p.name)),
      {
        format: 'pt',
      },
    );
}

/** Size of the files that make up the deployable model (config, weights, vocab.txt or tokenizer.json), in bytes. */
export function modelBytes(dir: string): { weights: number; total: number; mlmHead: number } {
  const size = (f: string) => (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0);
  const weights = size('model.safetensors');
  return {
    weights,
    total: weights + size('config.json') + (size('vocab.txt') || size('tokenizer.json')),
    mlmHead: size('mlm_head.safetensors'),
  };
}

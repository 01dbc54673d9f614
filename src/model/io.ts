/**
 * Model directories, as any BERT user knows them:
 *   config.json          Hugging Face BERT fields + minnow's (embedding_type, hash_embedding, ...)
 *   model.safetensors    parameters with Hugging Face names (no V x H table for EELBERT models)
 *   vocab.txt            WordPiece vocabulary
 *   mlm_head.safetensors optional: the masked-LM head (cls.predictions.*), kept apart so the model
 *                        that fine-tuning and deployment use stays small
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../graph/graph.js';
import { type Param, ParamStore } from '../runtime/params.js';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import { hashEmbeddingTable } from '../text/hash-embedding.js';
import { BertTokenizer } from '../text/wordpiece.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { assetPath } from '../util/assets.js';
import { bertInputs, classifier, encoder, mlmHead } from './bert.js';
import { Dropout } from '../runtime/dropout.js';
import { Weights } from '../runtime/weights.js';
import { type BertConfig, defaultLabels, validateConfig } from './config.js';
import { readVocabFile } from '../text/vocab-file.js';

export interface Model {
  config: BertConfig;
  store: ParamStore;
  tokenizer: BertTokenizer;
  /** Whether the store holds a masked-LM head (cls.predictions.*). */
  hasMlmHead: boolean;
}

const isHead = (name: string) => name.startsWith('cls.');
const WORD_TABLE = 'bert.embeddings.word_embeddings.weight';

/**
 * Tensors a model.safetensors may hold that minnow does not read: the MLM/NSP heads (cls.*, read from
 * mlm_head.safetensors), the position_ids buffer older transformers save, a classifier not loaded
 * (no task head asked for, or one of another size to be re-initialised) and a hash model's word table
 * (recomputed from the vocabulary). Anything else means config.json does not describe the weights.
 */
const optionalTensor = (c: BertConfig) => (name: string) =>
  isHead(name) ||
  name === 'bert.embeddings.position_ids' ||
  name.startsWith('classifier.') ||
  (c.embedding_type === 'hash' && name === WORD_TABLE);

/** Declare every parameter the model's graphs use, by building them once on a scratch graph. */
export function declareParams(
  store: ParamStore,
  c: BertConfig,
  parts: { mlm?: boolean; numLabels?: number },
): void {
  const g = new Graph('declare');
  const w = new Weights(g, store);
  const x = bertInputs(g);
  const out = encoder(w, c, x, new Dropout(false));
  classifier(w, c, out, parts.numLabels ?? 2, new Dropout(false)); // pooler (+ classifier, dropped below if unused)
  if (parts.mlm) mlmHead(w, c, out, g.input('mlm_positions', 'int64', ['M']));
  if (parts.numLabels === undefined) store.remove((n) => n.startsWith('classifier.'));
}

/** Fill the EELBERT hash table (derived, never stored) from the vocabulary. */
export function fillDerived(store: ParamStore, c: BertConfig, tokenizer: BertTokenizer): void {
  if (c.embedding_type !== 'hash') return;
  const p = store.get(WORD_TABLE);
  p.data.set(hashEmbeddingTable(tokenizer.vocabulary, c.hidden_size, c.hash_embedding!));
}

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
      `${file}: missing (a model directory needs config.json, model.safetensors and vocab.txt)`,
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
 * The directory's vocab.txt, or, when it has none and config.json names a shipped vocabulary
 * ("minnow_vocab": "bert-base-uncased"), the copy in assets/ (this keeps the shipped models small).
 */
function tokenizerFor(dir: string, config: BertConfig): BertTokenizer {
  const own = join(dir, 'vocab.txt');
  if (existsSync(own) || !config.minnow_vocab) return readVocabFile(own);
  const shipped = Object.hasOwn(SHIPPED_VOCABS, config.minnow_vocab) && SHIPPED_VOCABS[config.minnow_vocab];
  if (!shipped)
    throw new UserError(
      `${join(dir, 'config.json')}: unknown minnow_vocab "${config.minnow_vocab}" and no vocab.txt`,
    );
  return readVocabFile(assetPath(shipped));
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
      `${join(dir, 'config.json')}: vocab_size ${config.vocab_size} but vocab.txt has ${tokenizer.vocabSize} entries`,
    );
  }
  const store = new ParamStore();
  declareParams(store, config, { mlm: opts.mlm, numLabels: opts.numLabels });
  if (opts.rng) store.initialize(opts.rng, config.initializer_range);
  const keepClassifier = opts.numLabels !== undefined && config.num_labels === opts.numLabels;
  const weights = join(dir, 'model.safetensors');
  if (!existsSync(weights)) throw new UserError(`${weights}: missing`);
  store.load(readSafetensors(weights), weights, {
    allowMissing: (n) => isHead(n) || (n.startsWith('classifier.') && !keepClassifier),
    allowExtra: optionalTensor(config),
    only: (n) => !isHead(n) && (keepClassifier || !n.startsWith('classifier.')),
  });
  let hasMlmHead = false;
  const headFile = join(dir, 'mlm_head.safetensors');
  if (opts.mlm && existsSync(headFile)) {
    store.load(readSafetensors(headFile), headFile, { allowMissing: (n) => !isHead(n), only: isHead });
    hasMlmHead = true;
  }
  fillDerived(store, config, tokenizer);
  return { config, store, tokenizer, hasMlmHead: hasMlmHead || !!opts.mlm };
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
  const config = { ...m.config, ...headFields(m.config) };
  if (opts.shippedVocab) config.minnow_vocab = opts.shippedVocab;
  writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  if (!opts.shippedVocab) writeFileAtomic(join(dir, 'vocab.txt'), `${m.tokenizer.vocabulary.join('\n')}\n`);
  const save = (file: string, keep: (p: Param) => boolean) =>
    writeSafetensors(join(dir, file), m.store.toTensors(keep), { format: 'pt' });
  save('model.safetensors', (p) => !isHead(p.name));
  if ((opts.mlmHead ?? true) && m.store.params.some((p) => isHead(p.name)))
    save('mlm_head.safetensors', (p) => isHead(p.name));
}

/**
 * The task-head fields as config.json must hold them: an id2label of num_labels entries (callers that
 * change num_labels, e.g. fine-tuning a classifier for regression, may leave the old one behind) and a
 * label2id, when there is one, that inverts it.
 */
function headFields(c: BertConfig): Partial<BertConfig> & { label2id?: Record<string, number> } {
  const n = c.num_labels;
  if (n === undefined) return {};
  const names = Object.keys(c.id2label ?? {});
  const fits = names.length === n && names.every((k, i) => k === String(i));
  const id2label = fits ? c.id2label! : defaultLabels(n);
  const label2id =
    'label2id' in c ? Object.fromEntries(Object.values(id2label).map((l, i) => [l, i])) : undefined;
  return { id2label, ...(label2id ? { label2id } : {}) };
}

/** Size of the files that make up the deployable model (config, weights, vocab), in bytes. */
export function modelBytes(dir: string): { weights: number; total: number; mlmHead: number } {
  const size = (f: string) => (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0);
  const weights = size('model.safetensors');
  return {
    weights,
    total: weights + size('config.json') + size('vocab.txt'),
    mlmHead: size('mlm_head.safetensors'),
  };
}

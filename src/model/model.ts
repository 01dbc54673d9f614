/**
 * A model in memory (config, parameters, tokenizer), and the bytes of the model directory it comes from
 * and goes to: config.json, model.safetensors, vocab.txt. No file system here, so a page builds and
 * saves models with it too; io.ts reads and writes directories.
 */
import { Graph } from '../graph/graph.js';
import { Dropout } from '../runtime/dropout.js';
import { ParamStore } from '../runtime/params.js';
import { decodeSafetensors, encodeSafetensors } from '../runtime/safetensors.js';
import { Weights } from '../runtime/weights.js';
import { BertTokenizer } from '../text/wordpiece.js';
import { KNOWLEDGE_FILE, WORDNET } from '../knowledge/config.js';
import { type TreeEncoder, treeEncoder } from '../knowledge/encode.js';
import { KnowledgeGraph } from '../knowledge/graph.js';
import { UserError } from '../util/errors.js';
import { bertInputs, classifier, encoder, mlmHead } from './bert.js';
import { type BertConfig, defaultLabels, validateConfig } from './config.js';
import { derivedWeight, derivedWeightName } from './embeddings/registry.js';
import { WORD_EMBEDDINGS } from './embeddings/kind.js';

export interface Model {
  config: BertConfig;
  store: ParamStore;
  tokenizer: BertTokenizer;
  /** Whether the store holds a masked-LM head (cls.predictions.*). */
  hasMlmHead: boolean;
  /** The knowledge graph of a K-BERT model (config.knowledge says how it is read). */
  knowledge?: KnowledgeGraph;
}

/**
 * How the model encodes text: K-BERT's sentence trees when it reads knowledge, else undefined (the
 * tokenizer's plain encoding).
 */
export function modelEncoder(m: Model, maxLength: number): TreeEncoder | undefined {
  const k = m.config.knowledge;
  if (!k) return undefined;
  if (!m.knowledge)
    throw new UserError(`the model reads knowledge (${k.source}) but its graph is not loaded`);
  return treeEncoder(m.tokenizer, m.knowledge, k, maxLength);
}

export const isHead = (name: string) => name.startsWith('cls.');
/** The word embedding weight's Hugging Face name (its shape and use are the embedding kind's). */
export const WORD_TABLE = WORD_EMBEDDINGS;

/**
 * Tensors a model.safetensors may hold that minnow does not read: the MLM/NSP heads (cls.*, read from
 * mlm_head.safetensors), the position_ids buffer older transformers save, a classifier not loaded
 * (no task head asked for, or one of another size to be re-initialised) and the weight an embedding kind
 * computes at load (a hash model's word table, recomputed from the vocabulary). Anything else means
 * config.json does not describe the weights.
 */
export const optionalTensor = (c: BertConfig) => {
  const derived = derivedWeightName(c);
  return (name: string) =>
    isHead(name) ||
    name === 'bert.embeddings.position_ids' ||
    name.startsWith('classifier.') ||
    name === derived;
};

/** Declare every parameter the model's graphs use, by building them once on a scratch graph. */
export function declareParams(
  store: ParamStore,
  c: BertConfig,
  parts: { mlm?: boolean; numLabels?: number },
): void {
  const g = new Graph('declare');
  const w = new Weights(g, store);
  const x = bertInputs(g, false, !!c.ngram);
  const out = encoder(w, c, x, new Dropout(false));
  // pooler (+ classifier and a hybrid's n-gram path, dropped below if unused)
  classifier(w, c, out, parts.numLabels ?? 2, new Dropout(false), x.ngram);
  if (parts.mlm) mlmHead(w, c, out, g.input('mlm_positions', 'int64', ['M']));
  if (parts.numLabels === undefined)
    store.remove((n) => n.startsWith('classifier.') || n.startsWith('ngram.'));
}

/** Fill the weight the embedding kind computes from the vocabulary (EELBERT's hash table; never stored). */
export function fillDerived(store: ParamStore, c: BertConfig, tokenizer: BertTokenizer): void {
  const name = derivedWeightName(c);
  if (name === undefined) return;
  store.get(name).data.set(derivedWeight(c, tokenizer.vocabulary, 'config.json').values);
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

/**
 * config.json's object for a model directory: the head's fields as they must be, and no `minnow_export`
 * record (read from an exported folder, it would make the new directory pass for one).
 */
export function savedConfig(c: BertConfig): BertConfig {
  const config: BertConfig & { minnow_export?: unknown } = { ...c, ...headFields(c) };
  delete config.minnow_export;
  return config;
}

/** The files of a model directory that hold a model: what `modelFromFiles` reads and `modelFiles` writes. */
export interface ModelFiles {
  'config.json': string;
  'model.safetensors': Uint8Array;
  /** Absent when config.json names a shipped vocabulary (minnow_vocab). */
  'vocab.txt'?: string;
  /** The knowledge graph of a K-BERT model whose knowledge is not WordNet (KNOWLEDGE_FILE). */
  'knowledge.kg'?: string;
}

/**
 * A model from its directory's files (`source`: the directory or URL, for error messages). `numLabels`
 * declares a classifier: loaded when the file has one of that size, else zeros until trained.
 */
export function modelFromFiles(files: ModelFiles, source: string, opts: { numLabels?: number } = {}): Model {
  const at = (f: string) => `${source.replace(/\/?$/, '/')}${f}`;
  let raw: unknown;
  try {
    raw = JSON.parse(files['config.json'].replace(/^\ufeff/, ''));
  } catch (e) {
    throw new UserError(`${at('config.json')}: invalid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  const weights = decodeSafetensors(files['model.safetensors'], at('model.safetensors'));
  const config = validateConfig(raw, at('config.json'), {
    hasClassifier: weights.tensors.has('classifier.weight'),
  });
  const vocab = files['vocab.txt'];
  if (vocab === undefined) throw new UserError(`${at('vocab.txt')}: missing`);
  const lines = BertTokenizer.parseVocab(vocab);
  if (lines.length !== config.vocab_size)
    throw new UserError(
      `${at('config.json')}: vocab_size ${config.vocab_size} but vocab.txt has ${lines.length} entries`,
    );
  const tokenizer = new BertTokenizer(lines, { source: at('vocab.txt') });
  const store = new ParamStore();
  declareParams(store, config, { numLabels: opts.numLabels });
  const keepClassifier = opts.numLabels !== undefined && config.num_labels === opts.numLabels;
  store.load(weights, at('model.safetensors'), {
    allowMissing: (n) => n.startsWith('classifier.') && !keepClassifier,
    allowExtra: optionalTensor(config),
    only: (n) => keepClassifier || !n.startsWith('classifier.'),
  });
  fillDerived(store, config, tokenizer);
  const m: Model = { config, store, tokenizer, hasMlmHead: false };
  const graph = files[KNOWLEDGE_FILE];
  if (graph !== undefined) m.knowledge = KnowledgeGraph.parse(graph, at(KNOWLEDGE_FILE));
  return m;
}

/** model.safetensors's bytes: every stored parameter but the MLM head. */
export function weightsFile(m: Model): Uint8Array {
  return encodeSafetensors(
    m.store.toTensors((p) => !isHead(p.name)),
    { format: 'pt' },
  );
}

/**
 * The model directory's files (the MLM head is not included), as saveModel writes them. `shippedVocab`
 * names a vocabulary in assets/ in config.json instead of carrying vocab.txt.
 */
export function modelFiles(m: Model, opts: { shippedVocab?: string } = {}): ModelFiles {
  const config = savedConfig(m.config);
  if (opts.shippedVocab) config.minnow_vocab = opts.shippedVocab;
  const files: ModelFiles = {
    'config.json': `${JSON.stringify(config, null, 2)}\n`,
    'model.safetensors': weightsFile(m),
  };
  if (!opts.shippedVocab) files['vocab.txt'] = `${m.tokenizer.vocabulary.join('\n')}\n`;
  const graph = knowledgeFile(m);
  if (graph !== undefined) files[KNOWLEDGE_FILE] = graph;
  return files;
}

/** KNOWLEDGE_FILE's text for a model that carries its graph (knowledge other than WordNet). */
export function knowledgeFile(m: Model): string | undefined {
  const k = m.config.knowledge;
  if (!k || k.source === WORDNET) return undefined;
  if (!m.knowledge)
    throw new UserError(`the model reads knowledge (${k.source}) but its graph is not loaded`);
  return m.knowledge.serialize();
}

export const POSITION_TABLE = 'bert.embeddings.position_embeddings.weight';

/**
 * The same model reading at most `positions` tokens: its position table cut to the first `positions` rows
 * (the rows a text that long uses; 512 x 128 of them are 65 kB of an int8 export) and max_position_embeddings
 * set to match, so every runtime caps its inputs there. Other parameters are shared, not copied.
 */
export function withPositions(m: Model, positions: number): Model {
  const c = m.config;
  if (!Number.isInteger(positions) || positions < 3)
    throw new UserError(`positions: expected an integer of 3 or more, got ${positions}`);
  if (positions >= c.max_position_embeddings) return m;
  const store = new ParamStore();
  for (const p of m.store.params) {
    const q = store.declare(
      p.name,
      p.name === POSITION_TABLE ? [positions, p.shape[1]] : p.shape,
      p.init,
      p.frozen,
      p.derived,
    );
    q.data = p.name === POSITION_TABLE ? p.data.slice(0, positions * p.shape[1]) : p.data;
  }
  return { ...m, config: { ...c, max_position_embeddings: positions }, store };
}

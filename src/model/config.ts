/**
 * Model configuration: one typed object with the Hugging Face BERT field names (so config.json is
 * recognisable) plus minnow's own fields. Presets for the Turc et al. miniatures, their EELBERT
 * variants and UNO-EELBERT. `validateConfig` turns a config.json into a BertConfig or a one-line error.
 */
import { type KnowledgeConfig, validateKnowledgeConfig } from '../knowledge/config.js';
import { type NgramConfig, validateNgramConfig } from '../ngram/features.js';
import { DEFAULT_HASH_CONFIG } from '../text/hash-embedding.js';
import { UserError } from '../util/errors.js';
import type { HashFields } from './embeddings/hash.js';
import type { EmbeddingConfig } from './embeddings/kind.js';
import { DEFAULT_LOWRANK_DIM, type LowrankFields } from './embeddings/lowrank.js';
import { embeddingKinds, validateEmbedding } from './embeddings/registry.js';

export { embeddingWidth } from './embeddings/kind.js';

/** The embedding kinds' own fields (`hash_embedding`, `lowrank_dim`) come from their modules. */
export interface BertConfig extends EmbeddingConfig, HashFields, LowrankFields {
  model_type: 'bert';
  vocab_size: number; // WordPiece vocabulary size (30,522 for bert-base-uncased)
  hidden_size: number; // H
  num_hidden_layers: number; // L
  num_attention_heads: number; // A; head size is H / A
  intermediate_size: number; // feed-forward width (4H)
  hidden_act: 'gelu'; // exact erf-GELU
  hidden_dropout_prob: number; // dropout on embeddings and sub-layer outputs
  attention_probs_dropout_prob: number; // dropout on attention probabilities
  max_position_embeddings: number; // learned positions
  type_vocab_size: number; // segment (token type) vocabulary
  initializer_range: number; // std of the normal init
  layer_norm_eps: number;
  /**
   * minnow: one of the embedding kinds (src/model/embeddings/): 'table' is BERT's V x H lookup; 'hash' is
   * EELBERT's n-gram pooling hash (no table stored); 'lowrank' is a learned V x k code table projected up
   * to H (NeuML's "BERT Hash" models).
   */
  embedding_type: string;
  /**
   * Width of the embeddings when it differs from hidden_size; they are projected up (embeddings_project).
   * Internal: ELECTRA's narrower generator sharing the discriminator's embeddings. Never read from
   * config.json.
   */
  embedding_size?: number;
  /** Task head (Hugging Face fields), present after fine-tuning. */
  num_labels?: number;
  problem_type?: 'single_label_classification' | 'regression';
  id2label?: Record<string, string>;
  finetuning_task?: string;
  /** minnow: the preset this model was created from, for the record. */
  minnow_preset?: string;
  /** minnow: a vocabulary shipped in assets/ used when the directory has no vocab.txt. */
  minnow_vocab?: string;
  /** minnow: K-BERT knowledge injection, when fine-tuned with --knowledge (read everywhere the model runs). */
  knowledge?: KnowledgeConfig;
  /**
   * minnow: a hybrid classifier's bag-of-n-grams path (ngram.weight, ngram.idf): its logits are added to
   * the [CLS] head's (src/ngram/graph.ts; `minnow hybrid`).
   */
  ngram?: NgramConfig;
  /** minnow: what pre-trained this model, one entry per `minnow pretrain` run (oldest first). */
  minnow_pretraining?: PretrainingRecord[];
}

/** One masked-LM pre-training run, as recorded in config.json (carried on into fine-tuned models). */
export interface PretrainingRecord {
  corpus: string; // file name of the training text
  tokens: number; // token budget of the run
  updates: number;
  batch_size: number;
  seq_len: number;
  lr: number;
  valid_mlm_loss?: number; // last validation, when --valid was given
  valid_mlm_accuracy?: number;
  /** ELECTRA runs (absent: masked-LM): the generator's shape (absent: the defaults), lambda, temperature. */
  objective?: 'electra';
  generator_hidden?: number;
  generator_layers?: number;
  rtd_weight?: number;
  sample_temperature?: number; // absent: 1, the generator sampled as it is
  valid_generator_mlm_loss?: number;
  valid_rtd_loss?: number;
  valid_rtd_accuracy?: number;
  date: string; // ISO time the run ended
}

export const BASE: Omit<
  BertConfig,
  'hidden_size' | 'num_hidden_layers' | 'num_attention_heads' | 'intermediate_size'
> = {
  model_type: 'bert',
  vocab_size: 30522,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  embedding_type: 'table',
};

const shape = (L: number, H: number, A: number, F: number) => ({
  num_hidden_layers: L,
  hidden_size: H,
  num_attention_heads: A,
  intermediate_size: F,
});
const hash = { embedding_type: 'hash' as const, hash_embedding: { ...DEFAULT_HASH_CONFIG } };
const lowrank = { embedding_type: 'lowrank' as const, lowrank_dim: DEFAULT_LOWRANK_DIM };

/**
 * Presets. UNO-EELBERT's architecture could not be read from the paper (docs/methods.md §1.4); its 1.2 MB
 * size fits one transformer layer at hidden 128 with hash embeddings, so that is the preset.
 */
export const PRESETS: Record<string, BertConfig> = {
  'bert-tiny': { ...BASE, ...shape(2, 128, 2, 512) },
  'bert-mini': { ...BASE, ...shape(4, 256, 4, 1024) },
  'bert-small': { ...BASE, ...shape(4, 512, 8, 2048) },
  'eelbert-tiny': { ...BASE, ...shape(2, 128, 2, 512), ...hash },
  'eelbert-mini': { ...BASE, ...shape(4, 256, 4, 1024), ...hash },
  'eelbert-small': { ...BASE, ...shape(4, 512, 8, 2048), ...hash },
  'uno-eelbert': { ...BASE, ...shape(1, 128, 2, 512), ...hash },
  // A learned 30,522 x 8 code table and an 8 -> H projection instead of the V x H table (NeuML-style).
  'lowrank-tiny': { ...BASE, ...shape(2, 128, 2, 512), ...lowrank },
  'uno-lowrank': { ...BASE, ...shape(1, 128, 2, 512), ...lowrank },
};

export function preset(name: string): BertConfig {
  const p = PRESETS[name];
  if (!p) throw new UserError(`unknown preset "${name}" (presets: ${Object.keys(PRESETS).join(', ')})`);
  return structuredClone({ ...p, minnow_preset: name });
}

export function headSize(c: BertConfig): number {
  return c.hidden_size / c.num_attention_heads;
}

/** A JSON value for an error message, cut short (configs may carry large nested values). */
function show(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // JSON.stringify says null
  let s: string;
  try {
    s = JSON.stringify(v);
  } catch {
    s = typeof v; // nested too deep to print
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** A sanity bound on the classifier's size (config.json is read before any weights). */
const MAX_LABELS = 100_000;

/** transformers heads whose weights minnow would misread as a sequence classifier or an encoder. */
const UNSUPPORTED_ARCHITECTURES = [
  'BertForTokenClassification',
  'BertForQuestionAnswering',
  'BertForMultipleChoice',
  'BertLMHeadModel',
];

/**
 * Check a parsed config.json; errors name the file and the field. Unknown fields are kept.
 *
 * Reads minnow's own configs and those transformers writes (`architectures`, `dtype`, `pad_token_id`,
 * ... are kept and ignored). The task head is read as transformers reads it: transformers never writes
 * `num_labels` (it is the size of `id2label`, which it omits for the default 2 labels) and leaves out
 * `problem_type` until it is set. So a config without `num_labels` has a head when the checkpoint has a
 * classifier (`hasClassifier`), with id2label's size or else 2 labels; a missing problem_type is
 * regression for 1 label and single-label classification otherwise (as BertForSequenceClassification
 * decides). The result has `num_labels`, `problem_type` and `id2label` all set, consistently, or none.
 */
export function validateConfig(
  raw: unknown,
  source: string,
  opts: { hasClassifier?: boolean } = {},
): BertConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UserError(`${source}: not a JSON object`);
  const r = raw as Record<string, unknown>;
  const bad = (k: string, want: string): never => {
    throw new UserError(`${source}: field "${k}" must be ${want}, got ${show(r[k])}`);
  };
  const posInt = (k: string, d?: number): number => {
    const v = r[k] ?? d;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : bad(k, 'a positive integer');
  };
  const num = (k: string, d: number, ok: (v: number) => boolean, want: string): number => {
    const v = r[k] ?? d;
    return typeof v === 'number' && ok(v) ? v : bad(k, want);
  };
  const prob = (k: string, d: number) => num(k, d, (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  const oneOf = (k: string, allowed: unknown[], why: string) => {
    if (r[k] !== undefined && !allowed.includes(r[k])) bad(k, `${allowed.map(show).join(' or ')} (${why})`);
  };
  // "minnow-bert": a hash, low-rank or hybrid model with Hugging Face remote code (hf-remote.ts).
  oneOf('model_type', ['bert', 'minnow-bert'], 'minnow reads BERT models only');
  oneOf('hidden_act', ['gelu'], 'exact erf GELU is the only activation supported');
  oneOf(
    'embedding_type',
    embeddingKinds().map((k) => k.name),
    'minnow embeddings',
  );
  oneOf('position_embedding_type', ['absolute'], 'learned absolute positions only');
  oneOf('is_decoder', [false], 'minnow models are encoders');
  oneOf('add_cross_attention', [false], 'minnow models are encoders');
  if (r.classifier_dropout !== null) prob('classifier_dropout', 0);
  for (const k of ['minnow_vocab', 'finetuning_task'])
    if (r[k] !== undefined && typeof r[k] !== 'string') bad(k, 'a string');
  if (r.architectures !== undefined) {
    if (!Array.isArray(r.architectures) || !r.architectures.every((a) => typeof a === 'string'))
      bad('architectures', 'a list of class names');
    const head = (r.architectures as string[]).find((a) => UNSUPPORTED_ARCHITECTURES.includes(a));
    if (head)
      bad('architectures', 'BertModel, BertForMaskedLM, BertForPreTraining or BertForSequenceClassification');
  }
  if (r.minnow_pretraining !== undefined)
    pretrainingRecords(r.minnow_pretraining, `${source}: field "minnow_pretraining"`);
  const H = posInt('hidden_size');
  const A = posInt('num_attention_heads');
  if (H % A !== 0)
    throw new UserError(`${source}: hidden_size ${H} is not divisible by num_attention_heads ${A}`);
  const cfg: BertConfig = {
    ...(r as object),
    model_type: 'bert',
    vocab_size: posInt('vocab_size'),
    hidden_size: H,
    num_hidden_layers: posInt('num_hidden_layers'),
    num_attention_heads: A,
    intermediate_size: posInt('intermediate_size'),
    hidden_act: 'gelu',
    hidden_dropout_prob: prob('hidden_dropout_prob', 0.1),
    attention_probs_dropout_prob: prob('attention_probs_dropout_prob', 0.1),
    max_position_embeddings: posInt('max_position_embeddings'),
    type_vocab_size: posInt('type_vocab_size', 2),
    initializer_range: num('initializer_range', 0.02, (v) => v >= 0 && v < Infinity, 'a number >= 0'),
    layer_norm_eps: num('layer_norm_eps', 1e-12, (v) => v > 0 && v < Infinity, 'a number > 0'),
    embedding_type: 'table',
  };
  validateEmbedding(r, cfg, bad, source); // embedding_type and the kind's own fields
  if (r.knowledge !== undefined && r.knowledge !== null)
    cfg.knowledge = validateKnowledgeConfig(r.knowledge, `${source}: knowledge`);
  else delete cfg.knowledge;
  if (r.ngram !== undefined && r.ngram !== null) cfg.ngram = validateNgramConfig(r.ngram, source);
  else delete cfg.ngram;

  // The task head.
  const labels = r.id2label ?? undefined;
  let n = r.num_labels ?? undefined;
  if (labels !== undefined) {
    const names =
      typeof labels === 'object' && labels !== null && !Array.isArray(labels) ? Object.entries(labels) : [];
    if (names.length === 0 || names.some(([k, v], i) => k !== String(i) || typeof v !== 'string'))
      bad('id2label', 'an object {"0": label, "1": label, ...} of label names');
    if (n !== undefined && posInt('num_labels') !== names.length)
      bad('num_labels', `the number of "id2label" entries (${names.length})`);
    if (n === undefined && opts.hasClassifier) n = names.length;
  } else if (n === undefined && opts.hasClassifier) n = 2;
  delete cfg.num_labels;
  delete cfg.problem_type;
  delete cfg.id2label;
  if (n === undefined) {
    delete (cfg as { label2id?: unknown }).label2id;
    return cfg;
  }
  cfg.num_labels = posInt('num_labels', n as number);
  if (cfg.num_labels > MAX_LABELS) bad('num_labels', `at most ${MAX_LABELS}`);
  const problem = r.problem_type ?? (cfg.num_labels === 1 ? 'regression' : 'single_label_classification');
  const n1 = cfg.num_labels === 1;
  if (!(problem === 'regression' ? n1 : problem === 'single_label_classification' && !n1)) {
    const why = `num_labels is ${cfg.num_labels}; multi-label classification is not supported`;
    bad('problem_type', `"regression" (1 label) or "single_label_classification" (2 or more) (${why})`);
  }
  cfg.problem_type = problem as BertConfig['problem_type'];
  cfg.id2label = (labels as Record<string, string>) ?? defaultLabels(cfg.num_labels);
  return cfg;
}

/** transformers' names for unnamed labels: {"0": "LABEL_0", ...}. */
export function defaultLabels(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), `LABEL_${i}`]));
}

/** Check config.json's pre-training records (minnow info prints them); `?` marks optional fields. */
const RECORD_FIELDS: Record<string, string> = {
  corpus: 'string',
  tokens: 'number',
  updates: 'number',
  batch_size: 'number',
  seq_len: 'number',
  lr: 'number',
  valid_mlm_loss: 'number?',
  valid_mlm_accuracy: 'number?',
  date: 'string',
};

function pretrainingRecords(v: unknown, where: string): void {
  if (!Array.isArray(v)) throw new UserError(`${where} must be a list of records, got ${show(v)}`);
  v.forEach((rec, i) => {
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec))
      throw new UserError(`${where}[${i}] must be an object, got ${show(rec)}`);
    for (const [k, t] of Object.entries(RECORD_FIELDS)) {
      const x = (rec as Record<string, unknown>)[k];
      const ok = typeof x === t.replace('?', '') && (typeof x !== 'number' || Number.isFinite(x));
      if (!ok && !(t.endsWith('?') && x == null))
        throw new UserError(`${where}[${i}].${k} must be a ${t.replace('?', '')}, got ${show(x)}`);
    }
  });
}

/**
 * Model configuration: one typed object with the Hugging Face BERT field names (so config.json is
 * recognisable) plus minnow's own fields. Presets for the Turc et al. miniatures, their EELBERT
 * variants and UNO-EELBERT. `validateConfig` turns a config.json into a BertConfig or a one-line error.
 */
import { DEFAULT_HASH_CONFIG, type HashEmbeddingConfig, validateHashConfig } from '../text/hash-embedding.js';
import { UserError } from '../util/errors.js';

export interface BertConfig {
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
  /** minnow: 'table' is BERT's V x H lookup; 'hash' is EELBERT's n-gram pooling hash (no table stored). */
  embedding_type: 'table' | 'hash';
  /** minnow: the hash function's settings, when embedding_type is 'hash'. */
  hash_embedding?: HashEmbeddingConfig;
  /** Task head (Hugging Face fields), present after fine-tuning. */
  num_labels?: number;
  problem_type?: 'single_label_classification' | 'regression';
  id2label?: Record<string, string>;
  finetuning_task?: string;
  /** minnow: the preset this model was created from, for the record. */
  minnow_preset?: string;
  /** minnow: a vocabulary shipped in assets/ used when the directory has no vocab.txt. */
  minnow_vocab?: string;
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

/**
 * Presets. UNO-EELBERT's architecture could not be read from the paper (methods.md 1.4); its 1.2 MB
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
};

export function preset(name: string): BertConfig {
  const p = PRESETS[name];
  if (!p) throw new UserError(`unknown preset "${name}" (presets: ${Object.keys(PRESETS).join(', ')})`);
  return structuredClone({ ...p, minnow_preset: name });
}

export function headSize(c: BertConfig): number {
  return c.hidden_size / c.num_attention_heads;
}

/** Check a parsed config.json; errors name the file and the field. Unknown fields are kept. */
export function validateConfig(raw: unknown, source: string): BertConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UserError(`${source}: not a JSON object`);
  const r = raw as Record<string, unknown>;
  const posInt = (k: string) => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new UserError(`${source}: field "${k}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const prob = (k: string, d: number) => {
    const v = r[k] ?? d;
    if (typeof v !== 'number' || v < 0 || v >= 1)
      throw new UserError(`${source}: field "${k}" must be in [0, 1), got ${JSON.stringify(v)}`);
    return v;
  };
  if (r.model_type !== undefined && r.model_type !== 'bert') {
    throw new UserError(`${source}: field "model_type" is "${r.model_type}"; minnow reads BERT models only`);
  }
  if (r.hidden_act !== undefined && r.hidden_act !== 'gelu') {
    throw new UserError(
      `${source}: field "hidden_act" is "${r.hidden_act}"; only "gelu" (exact erf GELU) is supported`,
    );
  }
  const H = posInt('hidden_size');
  const A = posInt('num_attention_heads');
  if (H % A !== 0)
    throw new UserError(`${source}: hidden_size ${H} is not divisible by num_attention_heads ${A}`);
  const embedding = (r.embedding_type ?? 'table') as string;
  if (embedding !== 'table' && embedding !== 'hash') {
    throw new UserError(
      `${source}: field "embedding_type" must be "table" or "hash", got ${JSON.stringify(embedding)}`,
    );
  }
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
    type_vocab_size: r.type_vocab_size === undefined ? 2 : posInt('type_vocab_size'),
    initializer_range: typeof r.initializer_range === 'number' ? r.initializer_range : 0.02,
    layer_norm_eps: typeof r.layer_norm_eps === 'number' ? r.layer_norm_eps : 1e-12,
    embedding_type: embedding,
  } as BertConfig;
  if (embedding === 'hash')
    cfg.hash_embedding = validateHashConfig(r.hash_embedding ?? {}, `${source}: hash_embedding`);
  if (r.num_labels !== undefined) {
    cfg.num_labels = posInt('num_labels');
    if (r.problem_type !== 'regression' && r.problem_type !== 'single_label_classification') {
      throw new UserError(
        `${source}: field "problem_type" must be "single_label_classification" or "regression"`,
      );
    }
  }
  return cfg;
}

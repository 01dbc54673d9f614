/**
 * Model configuration: one typed object with the Hugging Face BERT field names (so config.json is
 * recognisable) plus minnow's own fields. Presets for the Turc et al. miniatures and EELBERT variants.
 */
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

export const PRESETS: Record<string, BertConfig> = {
  'bert-tiny': { ...BASE, ...shape(2, 128, 2, 512) },
  'bert-mini': { ...BASE, ...shape(4, 256, 4, 1024) },
  'bert-small': { ...BASE, ...shape(4, 512, 8, 2048) },
};

export function headSize(c: BertConfig): number {
  return c.hidden_size / c.num_attention_heads;
}

/**
 * BERT's embedding: a learned (V, E) lookup table. The masked-LM decoder is tied to it (logits = h table^T).
 */
import * as o from '../../graph/ops.js';
import type { Weights } from '../../runtime/weights.js';
import { type EmbeddingConfig, type EmbeddingKind, embeddingWidth, WORD_EMBEDDINGS } from './kind.js';

const table = (w: Weights, c: EmbeddingConfig) =>
  w.table(WORD_EMBEDDINGS, [c.vocab_size, embeddingWidth(c)], 'normal');

export const TABLE = {
  name: 'table',
  noun: 'a lookup table',
  fields: [],
  plainBert: true,
  validate() {},
  describe: () => 'lookup table',
  words: (w, c, ids) => o.gather(table(w, c), ids), // (B, T, E)
  tiedDecoder: (w, c, h) => ({ h, table: table(w, c) }),
} as const satisfies EmbeddingKind;

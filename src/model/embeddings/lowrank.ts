/**
 * Learned low-rank codes (NeuML's "BERT Hash" models): a (V, k) code table, looked up and projected up to
 * H by P (H, k), instead of BERT's (V, H) table. The codes are stored under BERT's word-table name
 * (`bert.embeddings.word_embeddings.weight`, shape (V, k)); they are a lookup table by use, and the
 * projection a dense weight. The masked-LM decoder ties through the codes: the table would be C P^T (V, H),
 * and h (C P^T)^T = (h P) C^T, so the (M, k) x (k, V) product does k/H of the work of the (M, H) x (H, V)
 * one, forward and backward, and the (V, H) table is never built.
 */
import type { Value } from '../../graph/graph.js';
import * as o from '../../graph/ops.js';
import type { Weights } from '../../runtime/weights.js';
import { UserError } from '../../util/errors.js';
import { type EmbeddingConfig, type EmbeddingKind, embeddingWidth, WORD_EMBEDDINGS } from './kind.js';

/** The config of a low-rank model: `lowrank_dim` is k, the code size. */
export interface LowrankFields {
  lowrank_dim?: number;
}

/** k when config.json does not say. */
export const DEFAULT_LOWRANK_DIM = 8;

const dim = (c: EmbeddingConfig) => (c as EmbeddingConfig & LowrankFields).lowrank_dim ?? DEFAULT_LOWRANK_DIM;

const codes = (w: Weights, c: EmbeddingConfig) => w.table(WORD_EMBEDDINGS, [c.vocab_size, dim(c)], 'normal');

const projection = (w: Weights, c: EmbeddingConfig) =>
  w.get('bert.embeddings.word_projection.weight', [embeddingWidth(c), dim(c)], 'normal');

/** (rows, k) codes -> (rows, E): x P^T with the projection P (E, k) (no bias). */
const up = (w: Weights, c: EmbeddingConfig, x: Value) => o.gemm(x, projection(w, c), null, { transB: true });

/** Check k for a model of hidden size H: a whole number from 1 to H (`where`: the flag or field). */
function checkDim(k: unknown, H: number): k is number {
  return typeof k === 'number' && Number.isSafeInteger(k) && k >= 1 && k <= H;
}

export const LOWRANK = {
  name: 'lowrank',
  noun: 'learned low-rank codes',
  fields: ['lowrank_dim'],
  validate(raw, c, bad) {
    const k = raw.lowrank_dim ?? DEFAULT_LOWRANK_DIM;
    if (!checkDim(k, Infinity)) bad('lowrank_dim', 'a positive integer');
    if (!checkDim(k, c.hidden_size)) bad('lowrank_dim', `at most hidden_size (${c.hidden_size})`);
    (c as EmbeddingConfig & LowrankFields).lowrank_dim = k as number;
  },
  describe: (c) => `learned ${c.vocab_size} x ${dim(c)} codes projected to ${c.hidden_size}`,
  // Codes (N, k), projected up to (N, E).
  words: (w, c, ids, rows) => rows(up(w, c, o.reshape(o.gather(codes(w, c), ids), [-1, dim(c)]))),
  tiedDecoder: (w, c, h) => ({ h: o.gemm(h, projection(w, c)), table: codes(w, c) }),
  flag: {
    name: 'lowrank-dim',
    value: 'K',
    help: `with a lowrank preset: the code size k of its V x k table (default ${DEFAULT_LOWRANK_DIM}; recorded in config.json)`,
    apply(c, text) {
      const k = text.trim() === '' ? NaN : Number(text);
      if (!checkDim(k, c.hidden_size))
        throw new UserError(
          `--lowrank-dim: expected a whole number from 1 to hidden_size (${c.hidden_size}), got ${text}`,
        );
      (c as EmbeddingConfig & LowrankFields).lowrank_dim = k;
    },
  },
} as const satisfies EmbeddingKind;

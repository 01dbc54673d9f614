/**
 * EELBERT's n-gram pooling hash embedding (text/hash-embedding.ts): the (V, H) table is computed from the
 * vocabulary at load, frozen and never stored; a compact export leaves it out and minnow's runtime computes
 * it (`derived`). With `projection` a trainable H x H projection (identity at the start) follows the
 * frozen vectors. The masked-LM decoder is tied to the frozen table itself (docs/methods.md §1.3).
 */
import type { Value } from '../../graph/graph.js';
import * as o from '../../graph/ops.js';
import type { Weights } from '../../runtime/weights.js';
import {
  type HashEmbeddingConfig,
  hashEmbeddingTable,
  validateHashConfig,
} from '../../text/hash-embedding.js';
import { UserError } from '../../util/errors.js';
import { type EmbeddingConfig, type EmbeddingKind, embeddingWidth, WORD_EMBEDDINGS } from './kind.js';

/** The config of a hash model: `hash_embedding` holds the hash function's settings. */
export interface HashFields {
  hash_embedding?: HashEmbeddingConfig;
}

const settings = (c: EmbeddingConfig) => (c as EmbeddingConfig & HashFields).hash_embedding;

const table = (w: Weights, c: EmbeddingConfig) =>
  w.table(WORD_EMBEDDINGS, [c.vocab_size, embeddingWidth(c)], 'normal', { frozen: true, derived: true });

/** y = x P^T + b with P (H, H) initialised to the identity: the hash vectors, made trainable through P. */
function projection(w: Weights, x: Value, H: number): Value {
  const P = w.get('bert.embeddings.word_projection.weight', [H, H], 'identity');
  const b = w.get('bert.embeddings.word_projection.bias', [H], 'zeros');
  return o.add(o.gemm(x, P, null, { transB: true }), b);
}

/** A hash embedding's non-default settings, as `; boundaries, wholeToken 0.25`. */
function variants(h: HashEmbeddingConfig): string {
  const parts = [
    h.ngramMin !== 1 || h.ngramMax !== 3 ? `${h.ngramMin}- to ${h.ngramMax}-grams` : '',
    h.boundaries ? 'word-start markers' : '',
    h.wholeToken ? `whole piece in ${h.wholeToken} of the dims` : '',
  ].filter(Boolean);
  return parts.length ? `; ${parts.join(', ')}` : '';
}

/** `--hash K=V,...`: values true/false, numbers, or words. */
function parseSettings(spec: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const part of spec
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UserError(`--hash: "${part}" should be KEY=VALUE`);
    const v = part.slice(eq + 1);
    fields[part.slice(0, eq)] =
      v === 'true' ? true : v === 'false' ? false : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return fields;
}

export const HASH = {
  name: 'hash',
  noun: 'an EELBERT hash embedding',
  fields: ['hash_embedding'],
  validate(raw, c, _bad, source) {
    (c as EmbeddingConfig & HashFields).hash_embedding = validateHashConfig(
      raw.hash_embedding ?? {},
      `${source}: hash_embedding`,
    );
  },
  describe(c, derivedValues) {
    const h = settings(c);
    return `EELBERT n-gram pooling hash (${derivedValues.toLocaleString()} values computed at load, none stored)${h?.projection ? ' + a trainable H x H projection' : ''}${h ? variants(h) : ''}`;
  },
  words(w, c, ids, rows) {
    if (!settings(c)?.projection) return o.gather(table(w, c), ids); // (B, T, E)
    const E = embeddingWidth(c);
    return rows(projection(w, o.reshape(o.gather(table(w, c), ids), [-1, E]), E));
  },
  tiedDecoder: (w, c, h) => ({ h, table: table(w, c) }),
  derived: {
    name: WORD_EMBEDDINGS,
    compute(c, vocabulary, source) {
      const h = settings(c);
      if (!h) throw new UserError(`${source}: a hash-embedding model needs its "hash_embedding" settings`);
      return {
        shape: [vocabulary.length, c.hidden_size],
        values: hashEmbeddingTable(vocabulary, c.hidden_size, h),
      };
    },
  },
  flag: {
    name: 'hash',
    value: 'K=V,...',
    help: 'with a hash preset: hash embedding settings, e.g. wholeToken=0.25,boundaries=true,ngramMax=4 (recorded in config.json)',
    apply(c, text) {
      const fields = parseSettings(text);
      (c as EmbeddingConfig & HashFields).hash_embedding = validateHashConfig(
        { ...settings(c), ...fields },
        '--hash',
      );
    },
  },
} as const satisfies EmbeddingKind;

/**
 * The one builder of BERT input tensors: token rows padded to the longest with [PAD], attention mask 1
 * on real tokens, token types (0 where a row has none), position ids 0..T-1. Fine-tuning, evaluation,
 * pre-training (masking.ts) and distillation all build their feeds here. Also a task's examples encoded,
 * padded into batches and shuffled per epoch from the seed. Browser-safe.
 */
import type { NumericArray, Tensor } from '../graph/graph.js';
import type { BertTokenizer } from '../text/wordpiece.js';
import {
  NGRAM_IDS,
  NGRAM_TF,
  type NgramConfig,
  ngramFeatures,
  ngramFeeds,
  type NgramRow,
} from '../ngram/features.js';
import { deriveSeed, Rng } from '../util/rng.js';
import type { Example } from './tabular.js';

/** A batch ready for a session: named feeds, the sizes of the symbolic dims, real tokens in it. */
export interface Batch {
  feeds: Record<string, Tensor | NumericArray>;
  sizes: Record<string, number>;
  tokens: number;
}

export interface TokenRow {
  ids: ArrayLike<number>;
  /** Token type (segment) ids, as long as `ids`; all 0 when absent. */
  types?: ArrayLike<number>;
  /** Position ids (K-BERT's soft positions); 0..n-1 when absent. */
  positions?: ArrayLike<number>;
  /** (n, n) row-major visible matrix (K-BERT), 1 = row token may attend to column token. */
  visible?: ArrayLike<number>;
}

export interface BertFeeds {
  /** (B, T) row-major. */
  input_ids: BigInt64Array;
  token_type_ids: BigInt64Array;
  position_ids: BigInt64Array;
  /** (B, T), or (B, T, T) when the rows carry visible matrices. */
  attention_mask: BigInt64Array;
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Writes non-negative int32 values into a zero-filled BigInt64Array: on little-endian hosts (all that run
 * Node or a browser in practice) as the low 32-bit words, ~10x faster than one BigInt per value.
 */
function int64Writer(a: BigInt64Array): (i: number, v: number) => void {
  if (!LITTLE_ENDIAN) return (i, v) => void (a[i] = BigInt(v));
  const words = new Int32Array(a.buffer, a.byteOffset, a.length * 2);
  return (i, v) => void (words[2 * i] = v);
}

/**
 * BERT inputs of `rows`, padded to the longest row. Rows with visible matrices (K-BERT; all rows or
 * none) give a (B, T, T) attention mask: each row's matrix in its top-left corner, pads seeing and seen
 * by nothing, as K-BERT pads. Ids, types, positions and visibility are non-negative int32 values.
 */
export function bertFeeds(
  rows: readonly TokenRow[],
  padId: number,
  /** Pad to this length (at least the longest row's); default: the longest row's. */
  padTo = 0,
): BertFeeds & { B: number; T: number; tokens: number } {
  const B = rows.length;
  let T = 0;
  for (const r of rows) T = Math.max(T, r.ids.length);
  if (padTo > T) T = padTo;
  const input_ids = new BigInt64Array(B * T).fill(BigInt(padId));
  const token_type_ids = new BigInt64Array(B * T);
  const position_ids = new BigInt64Array(B * T);
  const tree = B > 0 && rows[0].visible !== undefined;
  const attention_mask = new BigInt64Array(tree ? B * T * T : B * T);
  const [ids64, types64, positions64, mask64] = [input_ids, token_type_ids, position_ids, attention_mask].map(
    int64Writer,
  );
  let tokens = 0;
  for (let b = 0; b < B; b++) {
    const { ids, types, positions, visible } = rows[b];
    const row = b * T;
    const n = ids.length;
    for (let t = 0; t < T; t++) positions64(row + t, positions && t < n ? positions[t] : t);
    for (let t = 0; t < n; t++) {
      ids64(row + t, ids[t]);
      if (types) types64(row + t, types[t]);
      if (!tree) mask64(row + t, 1);
    }
    if (tree) {
      if (!visible || visible.length !== n * n)
        throw new Error(
          `bertFeeds: row ${b} has ${visible ? visible.length : 'no'} visible entries for ${n} tokens`,
        );
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mask64((row + i) * T + j, visible[i * n + j]);
    }
    tokens += n;
  }
  return { input_ids, token_type_ids, position_ids, attention_mask, B, T, tokens };
}

/**
 * The length a row of `n` tokens (or n-gram features) is padded to for inference: the next of 16, 24,
 * 32, 48, 64, 96, 128, 192, ... (at most `cap`, the longest a row can be). It depends on the row alone,
 * so a row is padded the same alone and in any batch.
 */
export function paddedLength(n: number, cap = Infinity): number {
  if (n <= 0) return 0;
  let b = 16;
  while (b < n) b = (b & (b - 1)) === 0 ? (b * 3) / 2 : (b / 3) * 4;
  return Math.max(n, Math.min(b, cap));
}

/**
 * Batches of row indices for inference: every index once, each batch at most `batchSize` rows that share
 * their padded length (paddedLength of their tokens, and of their n-gram features), shortest first;
 * callers pad each batch to that length and put the results back in input order. A row then sees the
 * same padding alone and in any batch, and its logits are the same bit for bit: the padded length sets
 * how many terms the attention softmax (and an n-gram path's sums) add, and in which order.
 */
export function lengthBatches(
  rows: readonly { ids: ArrayLike<number>; ngrams?: { ids: ArrayLike<number> } }[],
  batchSize: number,
  /** The longest a row can be (the model's positions): padded lengths stop there. */
  cap = Infinity,
): number[][] {
  // Each row's padded lengths, once: [tokens, n-grams].
  const keys = rows.map((r) => [paddedLength(r.ids.length, cap), paddedLength(r.ngrams?.ids.length ?? 0)]);
  const order = rows
    .map((_, i) => i)
    .sort(
      (a, b) => keys[a][0] - keys[b][0] || keys[a][1] - keys[b][1] || rows[a].ids.length - rows[b].ids.length,
    );
  const out: number[][] = [];
  let batch: number[] = [];
  for (const i of order) {
    const last = batch.length ? keys[batch[0]] : undefined;
    if (batch.length === batchSize || (last && (last[0] !== keys[i][0] || last[1] !== keys[i][1]))) {
      out.push(batch);
      batch = [];
    }
    batch.push(i);
  }
  if (batch.length) out.push(batch);
  return out;
}

/** Encoded examples (token ids, types, label) and their padded batches, reshuffled every epoch. */
export interface Encoded {
  ids: Int32Array;
  types: Int32Array;
  label: number;
  positions?: Int32Array;
  visible?: Uint8Array;
  /** A hybrid model's bag-of-n-grams features (src/ngram/features.ts). */
  ngrams?: NgramRow;
}

/** An encoding other than the tokenizer's (K-BERT's sentence trees: knowledge/encode.ts). */
export type RowEncoder = (text: string, pair?: string) => Omit<Encoded, 'label'>;

/**
 * Examples as token rows, truncated to `maxLength` (by `encode` when given, else by the tokenizer); with
 * `ngram` (a hybrid model), each row also carries its n-gram features.
 */
export function encodeAll(
  tok: BertTokenizer,
  examples: Example[],
  maxLength: number,
  encode?: RowEncoder,
  ngram?: NgramConfig,
): Encoded[] {
  return examples.map((e) => {
    const ngrams = ngram ? { ngrams: ngramFeatures(e.text, e.pair, ngram) } : {};
    if (encode) return { ...encode(e.text, e.pair), label: e.label, ...ngrams };
    const enc = tok.encode(e.text, e.pair, { maxLength });
    return { ids: Int32Array.from(enc.ids), types: Int32Array.from(enc.typeIds), label: e.label, ...ngrams };
  });
}

/** A padded batch of the given examples (padded to the longest one), with their labels. */
export function padBatch(
  items: Encoded[],
  regression: boolean,
  padId: number,
  /** Inference: pad to these lengths (lengthBatches' padded lengths) instead of the longest row's. */
  padTo: { T?: number; N?: number } = {},
): Batch {
  const { B, T, tokens, ...feeds } = bertFeeds(items, padId, padTo.T);
  const labels = regression
    ? Float32Array.from(items.map((x) => x.label))
    : BigInt64Array.from(items.map((x) => BigInt(x.label)));
  if (!items.some((x) => x.ngrams)) return { feeds: { ...feeds, labels }, sizes: { B, T }, tokens };
  const n = ngramFeeds(
    items.map((x) => x.ngrams ?? { ids: new Int32Array(0), tf: new Float32Array(0) }),
    padTo.N,
  );
  return {
    feeds: { ...feeds, labels, [NGRAM_IDS]: n.ids, [NGRAM_TF]: n.tf },
    sizes: { B, T, N: n.N },
    tokens,
  };
}

/**
 * Batches of example indices, reshuffled every epoch from (seed, epoch): `indicesOf(k)` is a pure
 * function of the global step k, which is what makes --resume bit-exact.
 */
export function epochBatches(n: number, batchSize: number, seed: number) {
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const orders = new Map<number, number[]>();
  const orderOf = (epoch: number) => {
    let ord = orders.get(epoch);
    if (!ord) {
      ord = new Rng(deriveSeed(seed, 'EPCH', epoch)).shuffle(Array.from({ length: n }, (_, i) => i));
      orders.set(epoch, ord);
    }
    return ord;
  };
  const indicesOf = (k: number) => {
    const i = (k % stepsPerEpoch) * batchSize;
    return orderOf(Math.floor(k / stepsPerEpoch)).slice(i, i + batchSize);
  };
  return { stepsPerEpoch, indicesOf };
}

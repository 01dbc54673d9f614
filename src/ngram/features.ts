/**
 * Hashed bag-of-n-grams features (fastText's and scikit-learn's HashingVectorizer's trick), computed the
 * same way in training, in Node and in the browser. Browser-safe.
 *
 * A text is split into words as BERT's BasicTokenizer splits it (lower-cased, accents stripped,
 * punctuation as words). Its features are word n-grams of 1..word_ngrams words and, with char_ngrams
 * [a, b], the character n-grams of a..b characters of each word padded with a space on both sides
 * (scikit-learn's `char_wb`). Each feature is hashed (MurmurHash3 of its code points, one seed per kind of
 * feature) into `probes` rows of its block; with both kinds, word features take the first half of the
 * `buckets` rows and character features the second, and each block is L2-normalised on its own (as
 * scikit-learn's FeatureUnion of two vectorizers), so that a sentence's ~150 character n-grams do not
 * drown its ~15 words. Several probes per feature (2-3) make collisions in a small table cheaper: two
 * features rarely share all their rows. A row's features are the distinct buckets with sublinear term
 * frequency 1 + ln(count); IDF and the norms are the model's (linear.ts, graph.ts).
 *
 * A text pair (entailment, paraphrase, similarity) is one bag of both texts' n-grams: an n-gram they share
 * counts twice, which the sublinear tf and the norm turn into an overlap signal. (With each text's n-grams
 * also hashed apart: STS-B 30.12 instead of 42.66, MRPC 77.58 / 77.15, RTE 52.35 / 47.65; docs/baseline-and-fit.md.)
 * With `pair_features`, a pair also gets PAIR_FEATURES measures of how alike its two texts are (overlap of
 * their words, bigrams and character trigrams, their lengths, their numbers: pairSimilarity) in the table's
 * last PAIR_FEATURES rows, the dense block, which the model reads as they are: no idf, no norm. A bag of
 * n-grams cannot say "most words are shared" in one weight; these can.
 */
import { murmur3_32 } from '../text/hash-embedding.js';
import { basicWords } from '../text/wordpiece.js';
import { UserError } from '../util/errors.js';

/** config.json's model_type of a model of n-gram features only (`minnow baseline`). */
export const NGRAM_MODEL_TYPE = 'minnow-ngram';

/** The graph's inputs: (B, N) bucket ids and their 1 + ln(count) (graph.ts). */
export const NGRAM_IDS = 'ngram_ids';
export const NGRAM_TF = 'ngram_tf';

export interface NgramConfig {
  /** Hash buckets: rows of the weight table. */
  buckets: number;
  /** Word n-grams of 1..word_ngrams words (0: none). */
  word_ngrams: number;
  /** Character n-grams of [min, max] characters within word boundaries; null: none. */
  char_ngrams: [number, number] | null;
  /** Rows each feature is hashed to (1 = plain hashing). */
  probes: number;
  /** Hash seed. */
  seed: number;
  /** Text pairs: also the two texts' similarity features in the last PAIR_FEATURES rows (absent: off). */
  pair_features?: boolean;
}

export const DEFAULT_NGRAM: Readonly<NgramConfig> = Object.freeze({
  buckets: 1 << 18,
  word_ngrams: 2,
  char_ngrams: null,
  probes: 1,
  seed: 0,
});

/** Words read per text; the rest of a longer text is not counted (about 20 pages of prose). */
export const MAX_WORDS = 10_000;

/** One example's features: distinct bucket ids in increasing order and their 1 + ln(count). */
export interface NgramRow {
  ids: Int32Array;
  tf: Float32Array;
}

/** Check a config read from a file or flags; errors name `source` and the field. */
export function validateNgramConfig(raw: unknown, source: string): NgramConfig {
  const c = raw as Partial<NgramConfig> | null;
  if (!c || typeof c !== 'object') throw new UserError(`${source}: ngram: expected an object`);
  const int = (name: keyof NgramConfig, min: number, max: number): number => {
    const v = c[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new UserError(
        `${source}: ngram.${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`,
      );
    return v;
  };
  const buckets = int('buckets', 1, 1 << 24);
  const word = int('word_ngrams', 0, 4);
  const seed = int('seed', 0, 0xffffffff);
  const probes = int('probes', 1, 8);
  let chars: [number, number] | null = null;
  if (c.char_ngrams !== null && c.char_ngrams !== undefined) {
    const r = c.char_ngrams;
    if (
      !Array.isArray(r) ||
      r.length !== 2 ||
      !r.every((x) => Number.isInteger(x)) ||
      r[0] < 1 ||
      r[1] < r[0] ||
      r[1] > 8
    )
      throw new UserError(
        `${source}: ngram.char_ngrams: expected [min, max] with 1 <= min <= max <= 8, or null`,
      );
    chars = [r[0], r[1]];
  }
  if (word === 0 && chars === null)
    throw new UserError(`${source}: ngram: no features (word_ngrams 0 and char_ngrams null)`);
  if (c.pair_features !== undefined && typeof c.pair_features !== 'boolean')
    throw new UserError(
      `${source}: ngram.pair_features: expected true or false, got ${JSON.stringify(c.pair_features)}`,
    );
  const hashed = c.pair_features ? buckets - PAIR_FEATURES : buckets;
  if (hashed < (word > 0 && chars !== null ? 2 : 1))
    throw new UserError(
      `${source}: ngram.buckets: ${buckets} leaves no rows for hashed features${c.pair_features ? ` beside the ${PAIR_FEATURES} pair features` : ''}`,
    );
  return {
    buckets,
    word_ngrams: word,
    char_ngrams: chars,
    probes,
    seed,
    ...(c.pair_features ? { pair_features: true } : {}),
  };
}

/** Rows of the dense block of a model with pair_features: pairSimilarity's values. */
export const PAIR_FEATURES = 16;

/**
 * Where a model's blocks of rows start: words from 0, characters from charStart (null: one hashed block),
 * pair features from denseStart (null: none). Each hashed block is L2-normalised on its own; the dense
 * block is read as it is.
 */
export interface NgramBlocks {
  charStart: number | null;
  denseStart: number | null;
}

export function ngramBlocks(
  c: Pick<NgramConfig, 'buckets' | 'word_ngrams' | 'char_ngrams' | 'pair_features'>,
): NgramBlocks {
  const denseStart = c.pair_features ? c.buckets - PAIR_FEATURES : null;
  const hashed = denseStart ?? c.buckets;
  return {
    charStart: c.word_ngrams > 0 && c.char_ngrams !== null ? Math.floor(hashed / 2) : null,
    denseStart,
  };
}

// Kinds of feature, each hashed with its own seed.
const WORD = 1;
const CHAR = 2;

/** Collects hashed features' buckets (one entry per occurrence); `row` counts them. */
class Counter {
  private buckets = new Int32Array(256);
  private n = 0;
  private key = new Uint32Array(256);
  private readonly wordStart: number;
  private readonly wordSize: number;
  private readonly charStart: number;
  private readonly charSize: number;

  constructor(private readonly c: NgramConfig) {
    const { charStart: split, denseStart } = ngramBlocks(c);
    const hashed = denseStart ?? c.buckets;
    this.wordStart = 0;
    this.wordSize = split ?? hashed;
    this.charStart = split ?? 0;
    this.charSize = split === null ? hashed : hashed - split;
  }

  /** Hash code points `cps[0..len)` with the kind's seed into `probes` rows of its block, and collect them. */
  add(cps: Uint32Array, len: number, kind: number, char: boolean): void {
    const start = char ? this.charStart : this.wordStart;
    const size = char ? this.charSize : this.wordSize;
    for (let p = 0; p < this.c.probes; p++) {
      const h = murmur3_32(cps, len, (this.c.seed + kind * 0x9e3779b1 + p * 0x85ebca6b) | 0);
      if (this.n === this.buckets.length) {
        const grown = new Int32Array(2 * this.n);
        grown.set(this.buckets);
        this.buckets = grown;
      }
      this.buckets[this.n++] = start + (h % size);
    }
  }

  /** The distinct buckets in increasing order and their 1 + ln(count). */
  row(): NgramRow {
    const all = this.buckets.subarray(0, this.n).sort();
    let distinct = 0;
    for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) distinct++;
    const ids = new Int32Array(distinct);
    const tf = new Float32Array(distinct);
    for (let i = 0, j = 0; i < all.length; j++) {
      let e = i + 1;
      while (e < all.length && all[e] === all[i]) e++;
      ids[j] = all[i];
      tf[j] = 1 + Math.log(e - i);
      i = e;
    }
    return { ids, tf };
  }

  /** A scratch buffer of at least n code units. */
  buffer(n: number): Uint32Array {
    if (this.key.length < n) this.key = new Uint32Array(Math.max(n, 2 * this.key.length));
    return this.key;
  }
}

function codePoints(word: string): number[] {
  const out: number[] = [];
  for (const ch of word) out.push(ch.codePointAt(0)!);
  return out;
}

function countText(counter: Counter, words: number[][], c: NgramConfig): void {
  for (let n = 1; n <= c.word_ngrams; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      let len = 1;
      for (let j = i; j < i + n; j++) len += words[j].length + 1;
      const key = counter.buffer(len);
      let k = 0;
      key[k++] = n;
      for (let j = i; j < i + n; j++) {
        for (const cp of words[j]) key[k++] = cp;
        key[k++] = 0; // separator: "ab c" and "a bc" differ
      }
      counter.add(key, k, WORD, false);
    }
  }
  if (c.char_ngrams) {
    const [lo, hi] = c.char_ngrams;
    for (const w of words) {
      const padded = [32, ...w, 32];
      for (let n = lo; n <= hi; n++) {
        const key = counter.buffer(n + 1);
        for (let i = 0; i + n <= padded.length; i++) {
          key[0] = n;
          for (let j = 0; j < n; j++) key[j + 1] = padded[i + j];
          counter.add(key, n + 1, CHAR, true);
        }
      }
    }
  }
}

/** The features of a text (or a text pair). */
export function ngramFeatures(text: string, pair: string | undefined, c: NgramConfig): NgramRow {
  const counter = new Counter(c);
  const a = basicWords(text).slice(0, MAX_WORDS);
  countText(counter, a.map(codePoints), c);
  if (pair === undefined) return counter.row();
  const b = basicWords(pair).slice(0, MAX_WORDS);
  countText(counter, b.map(codePoints), c); // one bag of both texts
  const row = counter.row();
  if (!c.pair_features) return row;
  // The dense block: its rows come after every hashed row, so the ids stay in increasing order.
  const start = ngramBlocks(c).denseStart!;
  const dense = pairSimilarity(a, b);
  const k = dense.flatMap((v, j) => (v !== 0 ? [j] : []));
  const ids = new Int32Array(row.ids.length + k.length);
  const tf = new Float32Array(ids.length);
  ids.set(row.ids);
  tf.set(row.tf);
  k.forEach((j, i) => {
    ids[row.ids.length + i] = start + j;
    tf[row.ids.length + i] = dense[j];
  });
  return { ids, tf };
}

const KNOTS = [0, 0.25, 0.5, 0.75, 1];

/** v in [0, 1] as hat functions at KNOTS (they sum to 1): a linear model reads a piecewise-linear f(v). */
function hats(v: number): number[] {
  return KNOTS.map((k) => Math.max(0, 1 - Math.abs(v - k) * (KNOTS.length - 1)));
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let shared = 0;
  for (const x of a) if (b.has(x)) shared++;
  const union = a.size + b.size - shared;
  return union > 0 ? shared / union : 0;
}

const WORDLIKE = /[\p{L}\p{N}]/u;
const NUMBER = /\p{N}/u;

/**
 * How alike two texts are (words as basicWords gives them; punctuation left out), PAIR_FEATURES values:
 *   0-4    word Jaccard (shared distinct words / all distinct words), as hats at 0, 1/4, 1/2, 3/4, 1
 *   5-9    character-trigram Jaccard (within words padded with a space), as hats
 *   10     word-bigram Jaccard
 *   11     shared distinct words / the smaller text's distinct words
 *   12     Jaccard of words of 4 or more characters (a proxy for content words)
 *   13     the shorter text's words / the longer's
 *   14, 15 the numbers in them: 1 at 14 if both have the same set of them, 1 at 15 if the sets differ
 */
export function pairSimilarity(a: readonly string[], b: readonly string[]): number[] {
  const words = (x: readonly string[]) => x.filter((w) => WORDLIKE.test(w));
  const wa = words(a);
  const wb = words(b);
  const sa = new Set(wa);
  const sb = new Set(wb);
  const grams = (ws: readonly string[]) => {
    const out = new Set<string>();
    for (const w of ws) {
      const p = [' ', ...w, ' '];
      for (let i = 0; i + 3 <= p.length; i++) out.add(p.slice(i, i + 3).join(''));
    }
    return out;
  };
  const bigrams = (ws: readonly string[]) => new Set(ws.slice(1).map((w, i) => `${ws[i]} ${w}`));
  const long = (s: ReadonlySet<string>) => new Set([...s].filter((w) => [...w].length >= 4));
  let shared = 0;
  for (const w of sa) if (sb.has(w)) shared++;
  const na = new Set([...sa].filter((w) => NUMBER.test(w)));
  const nb = new Set([...sb].filter((w) => NUMBER.test(w)));
  const numbers = na.size + nb.size === 0 ? [0, 0] : jaccard(na, nb) === 1 ? [1, 0] : [0, 1];
  const smaller = Math.min(sa.size, sb.size);
  const longer = Math.max(wa.length, wb.length);
  return [
    ...hats(jaccard(sa, sb)),
    ...hats(jaccard(grams(wa), grams(wb))),
    jaccard(bigrams(wa), bigrams(wb)),
    smaller > 0 ? shared / smaller : 0,
    jaccard(long(sa), long(sb)),
    longer > 0 ? Math.min(wa.length, wb.length) / longer : 0,
    ...numbers,
  ];
}

/** The graph's feeds for rows: (B, N) ids and tf, padded with id 0 and tf 0 to the longest row (N >= 1). */
export function ngramFeeds(
  rows: readonly NgramRow[],
  /** Pad to this many features (at least the most any row has). */
  padTo = 0,
): { ids: BigInt64Array; tf: Float32Array; N: number } {
  const N = Math.max(1, padTo, ...rows.map((r) => r.ids.length));
  const ids = new BigInt64Array(rows.length * N);
  const tf = new Float32Array(rows.length * N);
  rows.forEach((r, i) => {
    for (let j = 0; j < r.ids.length; j++) ids[i * N + j] = BigInt(r.ids[j]);
    tf.set(r.tf, i * N);
  });
  return { ids, tf, N };
}

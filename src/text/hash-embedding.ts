/**
 * EELBERT dynamic "n-gram pooling hash" embedding (Cohn et al., EMNLP 2023; docs/methods.md §1.2).
 *
 * The paper's exact function could not be read, so the details below are minnow's decisions. They are
 * fixed by the config (written to config.json) and by the golden values in hash-embedding.test.ts.
 *
 * Algorithm for one vocabulary string `token` and embedding size `d`:
 *  1. codes = the Unicode code points of the raw vocab string. Nothing is stripped or added: `##ing`
 *     keeps its `##` (so it differs from `ing`), `[CLS]`, `[SEP]`, `[MASK]`, `[PAD]` are hashed as literal
 *     strings. There are no boundary markers unless `boundaries` is set (see the config). A lone surrogate
 *     counts as one code point.
 *  2. Per-dimension seeds: seed_j (j = 0..d-1, global output index) is the j-th output of splitmix32
 *     started at cfg.seed (the same splitmix32 as src/util/rng.ts: state += 0x9e3779b9, then the murmur3
 *     fmix-style mix with 0x85ebca6b / 0xc2b2ae35).
 *  3. For each n in ngramMin..ngramMax, each contiguous window g of n code points gets a 32-bit key
 *       key_g = murmur3_32(g, n, cfg.seed)
 *     i.e. MurmurHash3_x86_32 of g's UTF-32LE bytes with seed cfg.seed (grams of different sizes differ
 *     because the byte length enters the finaliser).
 *  4. Per dimension j the gram's value is
 *       h = murmur3_32([key_g], 1, seed_j)          (one more murmur3 block round plus fmix32)
 *       v = (h >>> 0) / 4294967295 * 2 - 1          (exactly in [-1, 1])
 *     The block mix of key_g does not depend on j, so it is done once per gram; per dimension only
 *     `h = seed_j ^ k1; rotl 13; *5 + 0xe6546b64; ^ 4; fmix32` remains. Only Math.imul, >>>, <<, |, ^ and
 *     + are used, so Node and every browser produce identical bits.
 *  5. Pooling = mean.
 *     - 'proportional': the d dims are split into consecutive blocks, one per n (ascending), of size
 *       floor(d * n / Σn); the remainder goes to the largest n. With n = 1..3: d=768 -> 128/256/384,
 *       d=128 -> 21/42/65. Block n is the mean over the grams of size n; a token with fewer than n code
 *       points has no such grams and its block is 0.
 *     - 'shared': every gram of every size contributes to all d dims; the mean is over all grams.
 *     A token with no grams at all (the empty string) is the zero vector.
 *  6. With `wholeToken` > 0 the last round(d * wholeToken) dims are not n-gram dims: they hold step 4's
 *     value of one gram, the whole piece (so every piece gets its own random vector there), and steps 3-5
 *     partition the other dims.
 *  Sums are taken in float64 and the mean is rounded once to float32.
 *
 * Known property: a unigram dim takes one value per distinct character, so over the (mostly a-z)
 * BERT vocab its mean is an average of few uniforms and sits ~0.1 from 0 (max ~0.3 at d=128); bigram
 * and trigram dims are centred to within ~0.04. Every one of the 30,522 BERT-uncased rows is distinct.
 *
 * The function has no trainable parameters. Compute it once per vocabulary id with hashEmbeddingTable
 * (that table is the per-id cache; it is recomputed at load and never stored on disk).
 */
import { UserError } from '../util/errors.js';
import { fmix32 } from '../util/rng.js';

export interface HashEmbeddingConfig {
  /** Smallest character n-gram (default 1). */
  ngramMin: number;
  /** Largest character n-gram (default 3). */
  ngramMax: number;
  /** 32-bit unsigned seed for the gram keys and the per-dimension seeds (default 0). */
  seed: number;
  /**
   * 'proportional' (default): dims split between n-gram sizes in proportion to n, remainder to the
   * largest n. 'shared': every n-gram feeds all d dims, mean over all n-grams of all sizes.
   */
  partition: 'proportional' | 'shared';
  /** Hash family, recorded in config.json for forward compatibility. Only 'murmur3'. */
  hash: 'murmur3';
  /**
   * Word-boundary marker (default false): a piece that starts a word is hashed as `<` + piece, a `##`
   * continuation as the piece without `##` (special tokens as they are), so grams at a word's start
   * differ from the same letters inside a word, as fastText's `<where>` does.
   */
  boundaries?: boolean;
  /**
   * Share of the dims (0 <= x < 1, default 0) given to a whole-token component: the last
   * round(dim * wholeToken) dims hold the hash of the whole piece as one gram (a distinct random vector per
   * piece); the n-gram blocks share the rest.
   */
  wholeToken?: number;
  /**
   * A trainable (H, H) projection (and bias) after the hash vectors, starting as the identity (default
   * false). A model parameter (`bert.embeddings.word_projection.*`), not part of the hash function: the
   * frozen table stays as computed here.
   */
  projection?: boolean;
}

export const DEFAULT_HASH_CONFIG: HashEmbeddingConfig = Object.freeze({
  ngramMin: 1,
  ngramMax: 3,
  seed: 0,
  partition: 'proportional',
  hash: 'murmur3',
});

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** The murmur3 block pre-mix of one 32-bit word k: k*c1, rotl 15, *c2. */
function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** Fold one pre-mixed block into the state h: h ^= k1, rotl 13, h*5 + 0xe6546b64. */
function mixH(h: number, k1: number): number {
  h ^= k1;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * MurmurHash3_x86_32 over the first `len` 32-bit words of `key` (code points, or any 32-bit code units).
 * Equals MurmurHash3_x86_32 of the words' little-endian bytes (byte length 4 * len). Unsigned result.
 */
export function murmur3_32(key: Uint32Array | number[], len: number, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < len; i++) h = mixH(h, mixK(key[i]));
  return fmix32(h ^ (len * 4)) >>> 0;
}

/** MurmurHash3_x86_32 of a byte string (the reference definition, for test vectors). Unsigned result. */
export function murmur3_32Bytes(bytes: Uint8Array, seed: number): number {
  const n = bytes.length;
  const blocks = n >>> 2;
  let h = seed | 0;
  for (let i = 0; i < blocks; i++) {
    const p = i * 4;
    h = mixH(h, mixK(bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)));
  }
  const tail = blocks * 4;
  const rest = n & 3;
  if (rest > 0) {
    let k = bytes[tail];
    if (rest > 1) k |= bytes[tail + 1] << 8;
    if (rest > 2) k |= bytes[tail + 2] << 16;
    h ^= mixK(k);
  }
  return fmix32(h ^ n) >>> 0;
}

/** The d per-dimension seeds: splitmix32 from `seed` (see the file comment). */
function dimSeeds(seed: number, dim: number): Int32Array {
  const out = new Int32Array(dim);
  let s = seed >>> 0;
  for (let j = 0; j < dim; j++) {
    s = (s + 0x9e3779b9) >>> 0;
    out[j] = fmix32(s);
  }
  return out;
}

/**
 * Which output dims each n-gram size writes: blocks[n - ngramMin] = [start, end). Under 'shared'
 * every size gets [0, dim).
 */
export function partitionBlocks(dim: number, cfg: HashEmbeddingConfig): Array<[number, number]> {
  const sizes: number[] = [];
  if (cfg.partition === 'shared') {
    for (let n = cfg.ngramMin; n <= cfg.ngramMax; n++) sizes.push(dim);
    return sizes.map((s) => [0, s]);
  }
  let total = 0;
  for (let n = cfg.ngramMin; n <= cfg.ngramMax; n++) total += n;
  let used = 0;
  for (let n = cfg.ngramMin; n <= cfg.ngramMax; n++) {
    const s = Math.floor((dim * n) / total);
    sizes.push(s);
    used += s;
  }
  sizes[sizes.length - 1] += dim - used;
  const blocks: Array<[number, number]> = [];
  let start = 0;
  for (const s of sizes) {
    blocks.push([start, start + s]);
    start += s;
  }
  return blocks;
}

/** Reusable state for computing many rows with one config and size. */
class Embedder {
  private readonly seeds: Int32Array;
  private readonly blocks: Array<[number, number]>;
  /** The whole-token component's dims: [dim - whole, dim). */
  private readonly whole: number;
  private readonly acc: Float64Array;
  private codes = new Uint32Array(64);

  constructor(
    private readonly dim: number,
    private readonly cfg: HashEmbeddingConfig,
  ) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new RangeError(`hash embedding: dim must be a positive integer, got ${dim}`);
    this.seeds = dimSeeds(cfg.seed, dim);
    this.whole = Math.round(dim * (cfg.wholeToken ?? 0));
    if (this.whole >= dim)
      throw new RangeError(`hash embedding: wholeToken ${cfg.wholeToken} leaves no n-gram dims`);
    this.blocks = partitionBlocks(dim - this.whole, cfg);
    this.acc = new Float64Array(dim);
  }

  /** Write the embedding of `token` into out[offset .. offset + dim). */
  embed(piece: string, out: Float32Array, offset: number): void {
    const { dim, cfg, seeds, acc } = this;
    const token = cfg.boundaries ? boundaryForm(piece) : piece;
    let len = 0;
    for (let i = 0; i < token.length; i++) {
      const c = token.codePointAt(i) as number;
      if (c > 0xffff) i++;
      if (len === this.codes.length) {
        const grown = new Uint32Array(len * 2);
        grown.set(this.codes);
        this.codes = grown;
      }
      this.codes[len++] = c;
    }
    const codes = this.codes;
    const shared = cfg.partition === 'shared';
    const seed = cfg.seed | 0;
    acc.fill(0);
    let sharedCount = 0;
    for (let n = cfg.ngramMin; n <= cfg.ngramMax; n++) {
      const count = len - n + 1;
      if (count <= 0) continue; // no grams of this size: block stays 0
      const [start, end] = this.blocks[n - cfg.ngramMin];
      for (let g = 0; g < count; g++) {
        // key_g = murmur3_32(codes[g .. g+n), n, seed), inlined to avoid a subarray per gram.
        let h = seed;
        for (let i = 0; i < n; i++) h = mixH(h, mixK(codes[g + i]));
        const k1 = mixK(fmix32(h ^ (n * 4)));
        for (let j = start; j < end; j++) {
          // murmur3_32([key_g], 1, seed_j), mapped to [-1, 1].
          const v = fmix32(mixH(seeds[j], k1) ^ 4) >>> 0;
          acc[j] += (v / 4294967295) * 2 - 1;
        }
      }
      if (shared) sharedCount += count;
      else for (let j = start; j < end; j++) acc[j] /= count;
    }
    if (shared && sharedCount > 0) for (let j = 0; j < dim - this.whole; j++) acc[j] /= sharedCount;
    if (this.whole > 0 && len > 0) {
      // The whole piece as one gram: key = murmur3_32(codes[0 .. len), len, seed). Inlined like the
      // n-gram loop above: helper functions for the two measured ~20% slower on the 30,522-row table.
      let h = seed;
      for (let i = 0; i < len; i++) h = mixH(h, mixK(codes[i]));
      const k1 = mixK(fmix32(h ^ (len * 4)));
      for (let j = dim - this.whole; j < dim; j++)
        acc[j] = ((fmix32(mixH(seeds[j], k1) ^ 4) >>> 0) / 4294967295) * 2 - 1;
    }
    for (let j = 0; j < dim; j++) out[offset + j] = acc[j];
  }
}

/** A piece as hashed with boundary markers: `<` + a word-initial piece, a `##` piece without `##`. */
export function boundaryForm(piece: string): string {
  if (/^\[[A-Z]+\]$/.test(piece)) return piece; // [CLS], [SEP], [PAD], [MASK], [UNK], ...
  return piece.startsWith('##') && piece.length > 2 ? piece.slice(2) : `<${piece}`;
}

/** The hash embedding of one token string (length dim, values in [-1, 1]). */
export function hashEmbedding(token: string, dim: number, cfg: HashEmbeddingConfig): Float32Array {
  const out = new Float32Array(dim);
  new Embedder(dim, cfg).embed(token, out, 0);
  return out;
}

/** The V x dim row-major table of every vocabulary entry: row i = hashEmbedding(vocab[i], dim, cfg). */
export function hashEmbeddingTable(
  vocab: readonly string[],
  dim: number,
  cfg: HashEmbeddingConfig,
): Float32Array {
  const embedder = new Embedder(dim, cfg);
  const out = new Float32Array(vocab.length * dim);
  for (let i = 0; i < vocab.length; i++) embedder.embed(vocab[i], out, i * dim);
  return out;
}

const FIELDS = [
  'ngramMin',
  'ngramMax',
  'seed',
  'partition',
  'hash',
  'boundaries',
  'wholeToken',
  'projection',
] as const;

/**
 * Check a hash-embedding config read from `source` (a file name or flag). Missing fields take
 * DEFAULT_HASH_CONFIG's value; a bad or unknown field throws a UserError naming source and field.
 */
export function validateHashConfig(cfg: unknown, source: string): HashEmbeddingConfig {
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) {
    throw new UserError(`${source}: hash embedding config must be an object`);
  }
  const raw = cfg as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new UserError(
        `${source}: unknown hash embedding field "${key}" (expected one of ${FIELDS.join(', ')})`,
      );
    }
  }
  const r = { ...DEFAULT_HASH_CONFIG, ...raw } as Record<string, unknown>;
  const bad = (field: string, want: string): never => {
    throw new UserError(
      `${source}: hash embedding field "${field}" must be ${want}, got ${JSON.stringify(r[field])}`,
    );
  };
  const {
    ngramMin,
    ngramMax,
    seed,
    partition,
    hash,
    boundaries = false,
    wholeToken = 0,
    projection = false,
  } = r;
  if (typeof ngramMin !== 'number' || !Number.isInteger(ngramMin) || ngramMin < 1)
    bad('ngramMin', 'an integer >= 1');
  if (typeof ngramMax !== 'number' || !Number.isInteger(ngramMax) || ngramMax < (ngramMin as number)) {
    bad('ngramMax', `an integer >= ngramMin (${ngramMin})`);
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    bad('seed', 'an integer in [0, 4294967295]');
  }
  if (partition !== 'proportional' && partition !== 'shared') bad('partition', '"proportional" or "shared"');
  if (hash !== 'murmur3') bad('hash', '"murmur3"');
  if (typeof boundaries !== 'boolean') bad('boundaries', 'true or false');
  if (typeof projection !== 'boolean') bad('projection', 'true or false');
  if (typeof wholeToken !== 'number' || !(wholeToken >= 0 && wholeToken < 1))
    bad('wholeToken', 'a number in [0, 1)');
  return {
    ngramMin: ngramMin as number,
    ngramMax: ngramMax as number,
    seed: seed as number,
    partition: partition as HashEmbeddingConfig['partition'],
    hash: 'murmur3',
    // The variants are written only when used, so the configs of models made before them read the same.
    ...(boundaries ? { boundaries: true } : {}),
    ...((wholeToken as number) > 0 ? { wholeToken: wholeToken as number } : {}),
    ...(projection ? { projection: true } : {}),
  };
}

/**
 * Pre-training corpus: a plain-text file tokenized once into a binary token cache, and a sampler that
 * cuts the token stream into fixed-length `[CLS] window [SEP]` sequences in a seeded order per epoch.
 *
 * Token cache format (`minnow-tokens/1`):
 * - A one-line JSON header (see {@link TokenCacheHeader}) padded with spaces and ended by `\n`, so that
 *   the header's byte length is a multiple of 8.
 * - `count` little-endian uint16 words: bits 0-14 are the WordPiece id, bit 15 ({@link WORD_START}) is
 *   set when the piece starts a new pre-tokenized word (a whole word, a punctuation character, or the
 *   first piece of a line). Ids must be < 32768.
 * The lines of the text are concatenated in order (empty lines skipped, no document boundaries). The
 * header records the vocabulary's sha256, the source's size and mtime (a cache for another vocabulary
 * or an edited source is stale, not an error), the token count and the data's sha256 (a cache whose
 * header or data does not check out is corrupt: a UserError naming the file).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { endianness } from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { BertTokenizer } from '../text/wordpiece.js';
import { checkOutDir, ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { deriveSeed, Rng } from '../util/rng.js';

export const TOKEN_CACHE_MAGIC = 'minnow-tokens/1';
/** Bit of a cached token that marks the first piece of a word. */
export const WORD_START = 0x8000;
/** Mask of the id bits of a cached token. */
export const ID_MASK = 0x7fff;

/** The part of a tokenizer the corpus code uses. */
export type CorpusTokenizer = Pick<BertTokenizer, 'encodePieces' | 'tokenOf' | 'vocabSize'>;

export interface TokenCacheHeader {
  magic: typeof TOKEN_CACHE_MAGIC;
  vocabSize: number;
  /** sha256 (hex) of the vocabulary: its tokens, each followed by `\n`. */
  vocabSha256: string;
  /** Basename of the source text, for people reading the header. */
  source: string;
  sourceSize: number;
  sourceMtimeMs: number;
  /** Number of uint16 tokens after the header. */
  count: number;
  /** Non-empty lines tokenized. */
  lines: number;
  /** sha256 (hex) of the token bytes. */
  dataSha256: string;
}

export interface TokenCache {
  /** Token ids with {@link WORD_START} set on word-initial pieces. */
  tokens: Uint16Array;
  count: number;
}

export interface TokenizeOptions {
  /** Called after every chunk read, and once at the end with `bytesDone === bytesTotal`. */
  onProgress?(bytesDone: number, bytesTotal: number): void;
  /** Read size in bytes (default 4 MiB). */
  chunkBytes?: number;
}

export interface TokenizeResult extends TokenCache {
  lines: number;
  bytes: number;
  header: TokenCacheHeader;
}

const HEADER_PROBE = 64 * 1024;
const LITTLE_ENDIAN = endianness() === 'LE';

const vocabHashes = new WeakMap<object, string>();

/** sha256 (hex) of a tokenizer's vocabulary (its tokens in id order, each followed by `\n`); memoized. */
export function vocabHash(tokenizer: CorpusTokenizer): string {
  const hit = vocabHashes.get(tokenizer);
  if (hit !== undefined) return hit;
  const h = createHash('sha256');
  const parts: string[] = [];
  for (let i = 0; i < tokenizer.vocabSize; i++) {
    parts.push(tokenizer.tokenOf(i) ?? '', '\n');
    if (parts.length >= 8192) {
      h.update(parts.join(''), 'utf8');
      parts.length = 0;
    }
  }
  h.update(parts.join(''), 'utf8');
  const hex = h.digest('hex');
  vocabHashes.set(tokenizer, hex);
  return hex;
}

function statSource(textPath: string): fs.Stats {
  try {
    return fs.statSync(textPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${textPath}: corpus text file not found`);
    throw new UserError(`${textPath}: cannot read corpus text file (${code ?? (e as Error).message})`);
  }
}

/** The little-endian bytes of `tokens` (a view on little-endian hosts, a swapped copy otherwise). */
function leBytes(tokens: Uint16Array): Uint8Array {
  const bytes = new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 2) {
    out[i] = bytes[i + 1];
    out[i + 1] = bytes[i];
  }
  return out;
}

/** Uint16 tokens from little-endian bytes (always a fresh, aligned copy). */
function fromLeBytes(bytes: Uint8Array): Uint16Array {
  const tokens = new Uint16Array(bytes.length >>> 1);
  const dst = new Uint8Array(tokens.buffer);
  if (LITTLE_ENDIAN) {
    dst.set(bytes);
  } else {
    for (let i = 0; i < bytes.length; i += 2) {
      dst[i] = bytes[i + 1];
      dst[i + 1] = bytes[i];
    }
  }
  return tokens;
}

function encodeHeader(header: TokenCacheHeader): Buffer {
  const json = JSON.stringify(header);
  const len = Buffer.byteLength(json, 'utf8') + 1;
  const padded = json + ' '.repeat((8 - (len % 8)) % 8) + '\n';
  return Buffer.from(padded, 'utf8');
}

/**
 * Tokenizes every non-empty line of `textPath` with `tokenizer.encodePieces`, streaming the file in
 * chunks, and writes the token cache to `cachePath` atomically (creating its directory). Returns the
 * tokens as written.
 */
export async function tokenizeCorpus(
  textPath: string,
  tokenizer: CorpusTokenizer,
  cachePath: string,
  opts: TokenizeOptions = {},
): Promise<TokenizeResult> {
  if (tokenizer.vocabSize > ID_MASK + 1) {
    throw new UserError(
      `${textPath}: vocabulary has ${tokenizer.vocabSize} tokens; the token cache holds ids below ${ID_MASK + 1}`,
    );
  }
  const before = statSource(textPath);
  const total = before.size;
  let tokens = new Uint16Array(Math.max(1024, Math.ceil(total / 3)));
  let count = 0;
  let lines = 0;

  const addLine = (line: string): void => {
    if (line.length === 0) return;
    const { ids, wordIds } = tokenizer.encodePieces(line);
    if (ids.length === 0) return;
    lines++;
    if (count + ids.length > tokens.length) {
      const grown = new Uint16Array(Math.max(count + ids.length, Math.ceil(tokens.length * 1.5)));
      grown.set(tokens.subarray(0, count));
      tokens = grown;
    }
    let prevWord = Number.NaN;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id > ID_MASK || id < 0) {
        throw new UserError(`${textPath}: token id ${id} does not fit the token cache (ids must be < 32768)`);
      }
      const w = wordIds[i];
      tokens[count++] = w !== prevWord ? id | WORD_START : id;
      prevWord = w;
    }
  };

  const decoder = new StringDecoder('utf8');
  let pending: string[] = []; // pieces of the current, still unterminated line
  let done = 0;
  const stream = fs.createReadStream(textPath, {
    highWaterMark: opts.chunkBytes ?? 4 * 1024 * 1024,
  });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decoder.write(chunk);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        let line = text.slice(start, nl);
        if (pending.length > 0) {
          pending.push(line);
          line = pending.join('');
          pending = [];
        }
        addLine(line);
        start = nl + 1;
      }
      if (start < text.length) pending.push(text.slice(start));
      done += chunk.length;
      opts.onProgress?.(done, total);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${textPath}: cannot read corpus text file (${code ?? (e as Error).message})`);
  }
  pending.push(decoder.end());
  addLine(pending.join(''));

  const after = statSource(textPath);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || done !== total) {
    throw new UserError(`${textPath}: file changed while it was being tokenized; run again`);
  }
  opts.onProgress?.(total, total);

  tokens = tokens.slice(0, count);
  const data = leBytes(tokens);
  const header: TokenCacheHeader = {
    magic: TOKEN_CACHE_MAGIC,
    vocabSize: tokenizer.vocabSize,
    vocabSha256: vocabHash(tokenizer),
    source: path.basename(textPath),
    sourceSize: before.size,
    sourceMtimeMs: before.mtimeMs,
    count,
    lines,
    dataSha256: createHash('sha256').update(data).digest('hex'),
  };
  const head = encodeHeader(header);
  const file = new Uint8Array(head.length + data.length);
  file.set(head, 0);
  file.set(data, head.length);
  try {
    ensureDir(path.dirname(path.resolve(cachePath)));
    writeFileAtomic(cachePath, file);
  } catch (e) {
    // E.g. a directory where the cache goes (EISDIR), or a read-only cache directory.
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${cachePath}: cannot write token cache (${code ?? (e as Error).message})`);
  }
  return { tokens, count, lines, bytes: total, header };
}

function corrupt(cachePath: string, why: string): UserError {
  return new UserError(`${cachePath}: corrupt token cache (${why}); delete it to rebuild`);
}

/** Reads and checks the header of a token cache; throws a UserError if it is not a valid one. */
export function readTokenCacheHeader(cachePath: string): {
  header: TokenCacheHeader;
  headerBytes: number;
} {
  let fd: number;
  try {
    fd = fs.openSync(cachePath, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${cachePath}: cannot open token cache (${code ?? (e as Error).message})`);
  }
  try {
    const probe = Buffer.alloc(HEADER_PROBE);
    let n: number;
    try {
      n = fs.readSync(fd, probe, 0, HEADER_PROBE, 0);
    } catch (e) {
      // A directory opens fine on Linux and fails here with EISDIR.
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(`${cachePath}: cannot read token cache (${code ?? (e as Error).message})`);
    }
    const nl = probe.subarray(0, n).indexOf(10);
    if (nl < 0) throw corrupt(cachePath, 'no header line');
    let h: Record<string, unknown>;
    try {
      h = JSON.parse(probe.subarray(0, nl).toString('utf8'));
    } catch {
      throw corrupt(cachePath, 'header is not JSON');
    }
    if (h === null || typeof h !== 'object' || Array.isArray(h))
      throw corrupt(cachePath, 'header is not an object');
    if (h.magic !== TOKEN_CACHE_MAGIC) throw corrupt(cachePath, `magic is not ${TOKEN_CACHE_MAGIC}`);
    const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    for (const k of ['vocabSize', 'sourceSize', 'count', 'lines'] as const) {
      if (!isCount(h[k])) throw corrupt(cachePath, `header field ${k} is not a count`);
    }
    if (typeof h.sourceMtimeMs !== 'number' || !Number.isFinite(h.sourceMtimeMs)) {
      throw corrupt(cachePath, 'header field sourceMtimeMs is not a number');
    }
    for (const k of ['vocabSha256', 'dataSha256'] as const) {
      if (typeof h[k] !== 'string' || !/^[0-9a-f]{64}$/.test(h[k] as string)) {
        throw corrupt(cachePath, `header field ${k} is not a sha256`);
      }
    }
    if (typeof h.source !== 'string') throw corrupt(cachePath, 'header field source is not a string');
    return { header: h as unknown as TokenCacheHeader, headerBytes: nl + 1 };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The cached tokens of `textPath`, or undefined when `cachePath` does not exist or was made from another
 * vocabulary or another version of the source (size or mtime differ), or the source is missing.
 * A cache that exists but is unreadable, truncated or corrupt gives a UserError naming the file.
 */
export function loadTokenCache(
  cachePath: string,
  textPath: string,
  tokenizer: CorpusTokenizer,
): TokenCache | undefined {
  if (!fs.existsSync(cachePath)) return undefined;
  const { header, headerBytes } = readTokenCacheHeader(cachePath);
  let src: fs.Stats;
  try {
    src = fs.statSync(textPath);
  } catch {
    return undefined;
  }
  if (
    header.vocabSize !== tokenizer.vocabSize ||
    header.vocabSha256 !== vocabHash(tokenizer) ||
    header.sourceSize !== src.size ||
    header.sourceMtimeMs !== src.mtimeMs
  ) {
    return undefined;
  }
  let file: Buffer;
  try {
    file = fs.readFileSync(cachePath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${cachePath}: cannot read token cache (${code ?? (e as Error).message})`);
  }
  const expected = headerBytes + 2 * header.count;
  if (file.length !== expected) {
    throw corrupt(
      cachePath,
      `${file.length < expected ? 'truncated' : 'too long'}: ${file.length} bytes, header says ${expected}`,
    );
  }
  const data = file.subarray(headerBytes);
  if (createHash('sha256').update(data).digest('hex') !== header.dataSha256) {
    throw corrupt(cachePath, 'data checksum mismatch');
  }
  const tokens = fromLeBytes(data);
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i] & ID_MASK;
    if (id >= header.vocabSize) {
      throw corrupt(cachePath, `token ${i} has id ${id}, not below the vocabulary size ${header.vocabSize}`);
    }
  }
  return { tokens, count: header.count };
}

/**
 * A digest of a corpus' token stream (16 hex): training runs record it, so a --resume on a corpus edited in
 * place under the same name is refused rather than trained on. One sha256 pass over the tokens' bytes.
 */
export function tokensDigest(tokens: Uint16Array): string {
  const bytes = new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength);
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** Path of the token cache of `textPath` inside `cacheDir`: `<basename>.<vocab hash, 16 hex>.tokens`. */
export function tokenCachePath(textPath: string, tokenizer: CorpusTokenizer, cacheDir: string): string {
  return path.join(cacheDir, `${path.basename(textPath)}.${vocabHash(tokenizer).slice(0, 16)}.tokens`);
}

export interface CorpusTokensOptions extends TokenizeOptions {
  /** Called when an existing cache is corrupt and is being rebuilt (default: rebuild silently). */
  onCorruptCache?(error: UserError): void;
}

/**
 * The tokens of `textPath`: loaded from its cache in `cacheDir` when that is current, else tokenized
 * and cached. A corrupt cache is reported through `onCorruptCache` and rebuilt.
 */
export async function corpusTokens(
  textPath: string,
  tokenizer: CorpusTokenizer,
  cacheDir: string,
  opts: CorpusTokensOptions = {},
): Promise<TokenCache & { cachePath: string; built: boolean }> {
  const cachePath = tokenCachePath(textPath, tokenizer, cacheDir);
  let cached: TokenCache | undefined;
  try {
    cached = loadTokenCache(cachePath, textPath, tokenizer);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    opts.onCorruptCache?.(e);
  }
  if (cached) return { ...cached, cachePath, built: false };
  checkOutDir(cacheDir, '--cache-dir'); // a file or a read-only directory: one line, before tokenizing
  const built = await tokenizeCorpus(textPath, tokenizer, cachePath, opts);
  return { tokens: built.tokens, count: built.count, cachePath, built: true };
}

// ---------------------------------------------------------------------------------------------
// Sequences

/** One training sequence: `[CLS] pieces [SEP]` as plain ids, and which pieces start a word. */
export interface Sequence {
  ids: Int32Array;
  /** 1 where the piece starts a word; 0 for continuation pieces and for [CLS]/[SEP]. */
  wordStart: Uint8Array;
}

export interface SampledSequence extends Sequence {
  epoch: number;
  /** Index of the window in the token stream. */
  window: number;
}

/** [CLS] and [SEP] ids of the shipped bert-base-uncased vocabulary. */
const BERT = { clsId: 101, sepId: 102 } as const;

/**
 * Fixed-length sequences over a token stream. Window `i` covers tokens `[i*(seqLen-2), (i+1)*(seqLen-2))`
 * and is framed as `[CLS] window [SEP]`; a last partial window is dropped. Epoch `e` visits every window
 * once, in a Fisher-Yates order seeded by (seed, e). Global sample `s` is the `s % W`-th window of epoch
 * `floor(s / W)` (W = windows per epoch), and step `k` with batch size `B` takes samples `kB .. kB+B-1`
 * (a batch can straddle two epochs). Everything is a pure function of (tokens, seqLen, seed, step, B),
 * so a resumed run gets the same batches as an uninterrupted one.
 */
export class SequenceSampler {
  readonly seqLen: number;
  /** Corpus pieces per sequence: `seqLen - 2`. */
  readonly windowLen: number;
  readonly windowsPerEpoch: number;
  /** Corpus pieces visited per epoch (`windowsPerEpoch * windowLen`, [CLS]/[SEP] not counted). */
  readonly tokensPerEpoch: number;
  readonly seed: number;
  private readonly tokens: Uint16Array;
  private readonly clsId: number;
  private readonly sepId: number;
  /** Memoized epoch orders (at most two: a batch spans at most two epochs when B <= W). */
  private readonly orders = new Map<number, Int32Array>();

  constructor(
    tokens: Uint16Array,
    seqLen: number,
    seed: number,
    special: { clsId: number; sepId: number } = BERT,
  ) {
    if (!Number.isInteger(seqLen) || seqLen < 3) {
      throw new UserError(
        `seqLen: must be an integer >= 3 (room for [CLS], [SEP] and one piece), got ${seqLen}`,
      );
    }
    this.tokens = tokens;
    this.seqLen = seqLen;
    this.windowLen = seqLen - 2;
    this.windowsPerEpoch = Math.floor(tokens.length / this.windowLen);
    if (this.windowsPerEpoch === 0) {
      throw new UserError(
        `corpus has ${tokens.length} tokens, fewer than one sequence of ${this.windowLen} pieces (seqLen ${seqLen})`,
      );
    }
    this.tokensPerEpoch = this.windowsPerEpoch * this.windowLen;
    this.seed = seed >>> 0;
    this.clsId = special.clsId;
    this.sepId = special.sepId;
  }

  /** Number of steps of `batchSize` sequences that make up one epoch (the last one may straddle). */
  stepsPerEpoch(batchSize: number): number {
    return Math.ceil(this.windowsPerEpoch / batchSize);
  }

  /** The window order of an epoch (a permutation of 0..W-1; shared, do not modify). */
  order(epoch: number): Int32Array {
    if (!Number.isSafeInteger(epoch) || epoch < 0)
      throw new RangeError(`epoch must be an integer >= 0, got ${epoch}`);
    const hit = this.orders.get(epoch);
    if (hit) return hit;
    const n = this.windowsPerEpoch;
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    const rng = new Rng(deriveSeed(this.seed, 'SQNC', epoch));
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    if (this.orders.size >= 2) {
      const oldest = this.orders.keys().next();
      if (!oldest.done) this.orders.delete(oldest.value);
    }
    this.orders.set(epoch, perm);
    return perm;
  }

  /** The `[CLS] window [SEP]` sequence of window `w`. */
  sequence(w: number): Sequence {
    if (!Number.isInteger(w) || w < 0 || w >= this.windowsPerEpoch) {
      throw new RangeError(`window must be an integer in [0, ${this.windowsPerEpoch}), got ${w}`);
    }
    const L = this.windowLen;
    const ids = new Int32Array(L + 2);
    const wordStart = new Uint8Array(L + 2);
    ids[0] = this.clsId;
    const base = w * L;
    for (let i = 0; i < L; i++) {
      const t = this.tokens[base + i];
      ids[i + 1] = t & ID_MASK;
      wordStart[i + 1] = t >>> 15;
    }
    ids[L + 1] = this.sepId;
    return { ids, wordStart };
  }

  /** (epoch, window) of each sample of a step. */
  locate(step: number, batchSize: number): { epoch: number; window: number }[] {
    if (!Number.isSafeInteger(step) || step < 0)
      throw new RangeError(`step must be an integer >= 0, got ${step}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
    }
    const W = this.windowsPerEpoch;
    const out: { epoch: number; window: number }[] = [];
    for (let b = 0; b < batchSize; b++) {
      const s = step * batchSize + b;
      if (!Number.isSafeInteger(s)) throw new RangeError(`sample index ${s} is out of range`);
      const epoch = Math.floor(s / W);
      out.push({ epoch, window: this.order(epoch)[s - epoch * W] });
    }
    return out;
  }

  /** The sequences of global step `step` (a pure function of the step). */
  batch(step: number, batchSize: number): SampledSequence[] {
    return this.locate(step, batchSize).map(({ epoch, window }) => ({
      ...this.sequence(window),
      epoch,
      window,
    }));
  }
}

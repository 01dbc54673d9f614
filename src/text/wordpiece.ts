/**
 * BERT uncased WordPiece tokenizer: the same output as Hugging Face's `bert-base-uncased` tokenizer
 * (BertNormalizer + BertPreTokenizer + WordPiece + the [CLS]/[SEP] template), checked token for token
 * against the reference in `src/text/wordpiece.test.ts`.
 *
 * Pipeline for one text:
 * 1. Never-split special tokens (`[CLS] [SEP] [MASK] [PAD] [UNK]`) are cut out of the raw text first,
 *    case-sensitively, wherever they occur (even inside a word), and become their own token.
 * 2. Each remaining piece is normalized: drop U+0000, U+FFFD and control characters (categories Cc, Cf,
 *    Co, Cs, except tab/newline/CR), map whitespace to a space, put spaces around CJK ideographs,
 *    lower-case, NFD, drop nonspacing marks (Mn).
 * 3. Split on spaces, and split every punctuation character (ASCII 33-47, 58-64, 91-96, 123-126 and
 *    Unicode P*) into its own word.
 * 4. WordPiece: greedy longest-match-first with `##` continuation pieces; a word longer than
 *    `maxInputCharsPerWord` code points, or one with an unmatchable rest, becomes a single [UNK].
 *
 * Where Hugging Face's implementations (Python, Rust tokenizers, transformers.js) disagree:
 * - CJK ideographs outside the BMP (U+20000...) are split into their own words, as in HF Python and Rust;
 *   transformers.js tests UTF-16 code units and never matches them (so `a𠀀b` gives it one [UNK]).
 * - Lower-casing is String.prototype.toLowerCase, so a word-final capital sigma becomes `ς` (as in
 *   Python's str.lower and transformers.js; the Rust tokenizers lower-case per character, giving `σ`).
 * - Unassigned code points (Cn) are kept, as in transformers.js (HF Python drops them as controls).
 * - A pair's second text may be empty (`[CLS] a [SEP] [SEP]`), as in HF Python and Rust.
 * - Pair truncation follows the tokenizers library (see {@link truncateLengths}); transformers.js has none.
 *
 * Speed: printable-ASCII text skips normalization; WordPiece results are cached per word.
 */
import { UserError } from '../util/errors.js';

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

export interface EncodeOptions {
  /** Total length including [CLS]/[SEP]. When set, the pieces are truncated to fit. */
  maxLength?: number;
  /** How to truncate a pair; default `longest_first`, as in Hugging Face tokenizers. */
  truncation?: TruncationStrategy;
}

export interface Encoding {
  ids: number[];
  /** Segment ids: 0 for [CLS] a [SEP], 1 for b [SEP]. */
  typeIds: number[];
  tokens: string[];
  /**
   * For each token, the index of the pre-tokenized word (a run of letters/digits, one punctuation
   * character, or one special token written in the text) it came from; -1 for the added [CLS]/[SEP].
   * Numbering runs on through the second text of a pair (its first word follows the last of the first
   * text, counted before truncation), so equal ids always mean the same word.
   */
  wordIds: number[];
}

/** Word pieces of a text, as ids, with the word each came from (see {@link Encoding.wordIds}). */
export interface PieceIds {
  ids: number[];
  wordIds: number[];
  /** Number of pre-tokenized words in the text. */
  words: number;
}

export interface BertTokenizerOptions {
  /** Words longer than this (in code points) become [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
  /** Tokens cut out of the raw text unchanged. Default `[CLS] [SEP] [MASK] [PAD] [UNK]`. */
  specialTokens?: readonly string[];
  /** Name of the vocabulary's source, for error messages. Default `vocabulary`. */
  source?: string;
  /** Most words kept in the WordPiece cache before it is cleared. Default 1,000,000. */
  cacheLimit?: number;
}

const DEFAULT_SPECIALS = ['[CLS]', '[SEP]', '[MASK]', '[PAD]', '[UNK]'] as const;
const PREFIX = '##';

// ---------------------------------------------------------------------------------------------
// Character classes. ASCII comes from a table; other code points are classified once with Unicode
// property escapes and remembered.

const F_DROP = 1; // removed by clean_text: U+0000, U+FFFD, control (Cc Cf Co Cs) except \t \n \r
const F_SPACE = 2; // whitespace, mapped to ' '
const F_CJK = 4; // CJK ideograph, surrounded by spaces
const F_PUNCT = 8; // split off as its own word
const F_MN = 16; // nonspacing mark, dropped after NFD
const F_KNOWN = 128;

const RE_CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const RE_SPACE = /^\s$/u;
const RE_PUNCT = /^\p{P}$/u;
const RE_MN = /^\p{Mn}$/u;
const RE_HAS_MN = /\p{Mn}/u;
const RE_ALL_MN = /\p{Mn}/gu;

/** The CJK Unified Ideograph blocks Hugging Face's BERT tokenizer treats as single-character words. */
export function isCjkCodePoint(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function asciiFlags(c: number): number {
  let f = F_KNOWN;
  if (c === 9 || c === 10 || c === 13 || c === 32) f |= F_SPACE;
  else if (c < 32 || c === 127) f |= F_DROP;
  else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
    f |= F_PUNCT;
  }
  return f;
}

const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII[c] = asciiFlags(c);

/** Lazily filled flags for every code point (1.1 MB, shared by all tokenizers). */
const FLAGS = new Uint8Array(0x110000);
FLAGS.set(ASCII);

function classify(cp: number): number {
  const ch = String.fromCodePoint(cp);
  let f = F_KNOWN;
  if (cp === 0xfffd || RE_CONTROL.test(ch)) f |= F_DROP;
  else if (RE_SPACE.test(ch)) f |= F_SPACE;
  else if (isCjkCodePoint(cp)) f |= F_CJK;
  if (RE_PUNCT.test(ch)) f |= F_PUNCT;
  if (RE_MN.test(ch)) f |= F_MN;
  FLAGS[cp] = f;
  return f;
}

function flagsOf(cp: number): number {
  const f = FLAGS[cp];
  return f !== 0 ? f : classify(cp);
}

/** Hugging Face's `_is_punctuation`: ASCII punctuation/symbol ranges plus Unicode P*. */
export function isPunctuation(cp: number): boolean {
  return (flagsOf(cp) & F_PUNCT) !== 0;
}

// ---------------------------------------------------------------------------------------------

export class BertTokenizer {
  readonly vocabSize: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly maskId: number;
  readonly unkId: number;

  private readonly vocab: string[];
  private readonly ids = new Map<string, number>();
  /** Continuation pieces keyed without their `##`. */
  private readonly contIds = new Map<string, number>();
  private readonly maxLen: number;
  private readonly maxContLen: number;
  private readonly maxChars: number;
  private readonly specials: string[];
  private readonly specialIds = new Map<string, number>();
  private readonly specialFirst: Set<string>;
  private readonly cache = new Map<string, readonly number[]>();
  private readonly cacheLimit: number;

  /** Splits vocab.txt contents into tokens: one per line, a final newline and CRs before LFs ignored. */
  static parseVocab(text: string): string[] {
    if (text.length === 0) return [];
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
    }
    return lines;
  }

  constructor(vocabLines: readonly string[], opts: BertTokenizerOptions = {}) {
    const source = opts.source ?? 'vocabulary';
    if (vocabLines.length === 0) throw new UserError(`${source}: vocabulary is empty`);
    this.vocab = vocabLines.slice();
    this.vocabSize = this.vocab.length;
    let maxLen = 0;
    let maxContLen = 0;
    for (let i = 0; i < this.vocab.length; i++) {
      const t = this.vocab[i];
      this.ids.set(t, i); // a repeated token keeps its last line, as in Hugging Face's load_vocab
      if (t.startsWith(PREFIX) && t.length > PREFIX.length) {
        this.contIds.set(t.slice(PREFIX.length), i);
        maxContLen = Math.max(maxContLen, t.length - PREFIX.length);
      }
      maxLen = Math.max(maxLen, t.length);
    }
    this.maxLen = maxLen;
    this.maxContLen = maxContLen;
    this.maxChars = opts.maxInputCharsPerWord ?? 100;
    this.cacheLimit = opts.cacheLimit ?? 1_000_000;

    const need = (tok: string): number => {
      const id = this.ids.get(tok);
      if (id === undefined) throw new UserError(`${source}: vocabulary has no ${tok} token`);
      return id;
    };
    this.clsId = need('[CLS]');
    this.sepId = need('[SEP]');
    this.padId = need('[PAD]');
    this.maskId = need('[MASK]');
    this.unkId = need('[UNK]');

    this.specials = [...(opts.specialTokens ?? DEFAULT_SPECIALS)].filter((t) => t.length > 0);
    // Longest first, so that at one position the longest special token wins.
    this.specials.sort((a, b) => b.length - a.length);
    for (const t of this.specials) this.specialIds.set(t, need(t));
    this.specialFirst = new Set(this.specials.map((t) => t[0]));
  }

  /** The id of a token, or undefined if it is not in the vocabulary. */
  /** The vocabulary, id order (the lines of vocab.txt). */
  get vocabulary(): readonly string[] {
    return this.vocab;
  }

  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The token of an id, or undefined if out of range. */
  tokenOf(id: number): string | undefined {
    return this.vocab[id];
  }

  /** Word pieces of a text, without [CLS]/[SEP]. */
  tokenize(text: string): string[] {
    return this.encodePieces(text).ids.map((id) => this.vocab[id]);
  }

  /**
   * The pre-tokenized words of a text: special tokens kept, everything else normalized and split on
   * whitespace and punctuation (Hugging Face's BasicTokenizer).
   */
  basicTokenize(text: string): string[] {
    const out: string[] = [];
    this.splitSpecials(text, (seg, special) => {
      if (special) out.push(seg);
      else basicSplit(seg, out);
    });
    return out;
  }

  /** WordPiece ids of words that are already normalized and split (e.g. from {@link basicTokenize}). */
  encodeWordPieces(words: readonly string[]): { ids: number[]; tokens: string[]; wordIds: number[] } {
    const ids: number[] = [];
    const wordIds: number[] = [];
    for (let w = 0; w < words.length; w++) {
      const word = words[w];
      const special = this.specialIds.get(word);
      if (special !== undefined) {
        ids.push(special);
        wordIds.push(w);
        continue;
      }
      const pieces = this.wordPiece(word);
      for (let k = 0; k < pieces.length; k++) {
        ids.push(pieces[k]);
        wordIds.push(w);
      }
    }
    return { ids, tokens: ids.map((id) => this.vocab[id]), wordIds };
  }

  /** Word-piece ids of one text, without [CLS]/[SEP]; word ids start at `firstWord`. */
  encodePieces(text: string, firstWord = 0): PieceIds {
    const ids: number[] = [];
    const wordIds: number[] = [];
    const words: string[] = [];
    let w = firstWord;
    this.splitSpecials(text, (seg, special) => {
      if (special) {
        ids.push(this.specialIds.get(seg)!);
        wordIds.push(w++);
        return;
      }
      words.length = 0;
      basicSplit(seg, words);
      for (let k = 0; k < words.length; k++) {
        const pieces = this.wordPiece(words[k]);
        for (let p = 0; p < pieces.length; p++) {
          ids.push(pieces[p]);
          wordIds.push(w);
        }
        w++;
      }
    });
    return { ids, wordIds, words: w - firstWord };
  }

  /**
   * `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, with segment ids and word ids. With `maxLength`, the
   * pieces are truncated so that the whole fits, by Hugging Face tokenizers' rules (see {@link truncateLengths}).
   */
  encode(text: string, pair?: string, opts: EncodeOptions = {}): Encoding {
    const a = this.encodePieces(text);
    const b = pair === undefined ? undefined : this.encodePieces(pair, a.words);
    let lenA = a.ids.length;
    let lenB = b ? b.ids.length : 0;
    if (opts.maxLength !== undefined) {
      const specials = b ? 3 : 2;
      const max = opts.maxLength;
      if (!Number.isInteger(max) || max < specials) {
        throw new UserError(
          `maxLength: must be an integer >= ${specials} (room for [CLS] and [SEP]${b ? ' [SEP]' : ''}), got ${max}`,
        );
      }
      [lenA, lenB] = truncateLengths(lenA, b ? lenB : undefined, max - specials, opts.truncation);
    }
    const n = lenA + lenB + (b ? 3 : 2);
    const ids = new Array<number>(n);
    const typeIds = new Array<number>(n).fill(0);
    const wordIds = new Array<number>(n);
    let k = 0;
    ids[k] = this.clsId;
    wordIds[k++] = -1;
    for (let i = 0; i < lenA; i++, k++) {
      ids[k] = a.ids[i];
      wordIds[k] = a.wordIds[i];
    }
    ids[k] = this.sepId;
    wordIds[k++] = -1;
    if (b) {
      for (let i = 0; i < lenB; i++, k++) {
        ids[k] = b.ids[i];
        wordIds[k] = b.wordIds[i];
        typeIds[k] = 1;
      }
      ids[k] = this.sepId;
      wordIds[k] = -1;
      typeIds[k++] = 1;
    }
    return { ids, typeIds, tokens: ids.map((id) => this.vocab[id]), wordIds };
  }

  /** WordPiece of one normalized word, as ids (cached; do not modify the result). */
  wordPiece(word: string): readonly number[] {
    const hit = this.cache.get(word);
    if (hit !== undefined) return hit;
    const pieces = this.wordPieceUncached(word);
    if (this.cache.size >= this.cacheLimit) this.cache.clear();
    this.cache.set(word, pieces);
    return pieces;
  }

  private wordPieceUncached(word: string): number[] {
    const n = word.length;
    if (n > this.maxChars && countCodePoints(word) > this.maxChars) return [this.unkId];
    const whole = this.ids.get(word);
    if (whole !== undefined) return [whole];
    const out: number[] = [];
    let start = 0;
    while (start < n) {
      const map = start === 0 ? this.ids : this.contIds;
      let end = Math.min(n, start + (start === 0 ? this.maxLen : this.maxContLen));
      let found = -1;
      while (end > start) {
        const id = map.get(word.slice(start, end));
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) return [this.unkId];
      out.push(found);
      start = end;
    }
    return out;
  }

  /** Calls `emit` for each piece of `text`: special tokens (exact, case-sensitive) and the text between. */
  private splitSpecials(text: string, emit: (seg: string, special: boolean) => void): void {
    let any = false;
    for (const c of this.specialFirst) {
      if (text.includes(c)) {
        any = true;
        break;
      }
    }
    if (!any) {
      if (text.length > 0) emit(text, false);
      return;
    }
    let segStart = 0;
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (this.specialFirst.has(text[i])) {
        let match: string | undefined;
        for (const t of this.specials) {
          if (text.startsWith(t, i)) {
            match = t;
            break;
          }
        }
        if (match !== undefined) {
          if (i > segStart) emit(text.slice(segStart, i), false);
          emit(match, true);
          i += match.length;
          segStart = i;
          continue;
        }
      }
      i++;
    }
    if (segStart < n) emit(text.slice(segStart), false);
  }
}

/**
 * Lengths of the first and second piece sequences after truncating to `budget` pieces (special
 * tokens not counted), as Hugging Face tokenizers' `truncate_encodings` does:
 * - `longest_first` with a pair: if only the longer one must shrink, it keeps `budget - shorter`;
 *   if both must, the shorter keeps `floor(budget / 2)` and the longer the rest (the second one on
 *   a tie). (The old Python-only tokenizers removed one token at a time, from the first when it is
 *   strictly longer: that differs only in which side gets the odd token.)
 * - `only_first` / `only_second`: cut the named one; an error if it is too short to make room.
 * A single sequence is cut to `budget` by `longest_first` and `only_first`.
 */
export function truncateLengths(
  lenA: number,
  lenB: number | undefined,
  budget: number,
  strategy: TruncationStrategy = 'longest_first',
): [number, number] {
  const b = lenB ?? 0;
  if (budget <= 0) return [0, 0];
  const total = lenA + b;
  if (total <= budget) return [lenA, b];
  const toRemove = total - budget;
  if (strategy === 'longest_first') {
    if (lenB === undefined) return [budget, 0];
    let n1 = lenA;
    let n2 = lenB;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = Math.floor(budget / 2);
      n2 = n1 + (budget % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    return [Math.min(lenA, n1), Math.min(lenB, n2)];
  }
  if (strategy === 'only_first') {
    if (lenA > toRemove) return [lenA - toRemove, b];
    throw new UserError(
      `truncation only_first: the first text has ${lenA} pieces, cannot remove ${toRemove}; use longest_first`,
    );
  }
  if (strategy === 'only_second') {
    if (lenB === undefined) throw new UserError('truncation only_second: there is no second text');
    if (lenB > toRemove) return [lenA, lenB - toRemove];
    throw new UserError(
      `truncation only_second: the second text has ${lenB} pieces, cannot remove ${toRemove}; use longest_first`,
    );
  }
  throw new UserError(`truncation: unknown strategy ${String(strategy)}`);
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * The words of a text as BERT's BasicTokenizer splits them (cleaned, lower-cased, accents stripped, split
 * on whitespace and punctuation), with no vocabulary: what the bag-of-n-grams features count.
 */
export function basicWords(text: string): string[] {
  const out: string[] = [];
  basicSplit(text, out);
  return out;
}

/** Normalizes a text without special tokens and appends its words to `out`. */
function basicSplit(text: string, out: string[]): void {
  // Fast path: printable ASCII plus \t \n \r needs no cleaning, CJK spacing or NFD.
  let simple = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 126 || (c < 32 && c !== 9 && c !== 10 && c !== 13)) {
      simple = false;
      break;
    }
  }
  splitWords(simple ? text.toLowerCase() : bertNormalize(text), out);
}

/** BertNormalizer: clean text, space out CJK, lower-case, NFD, strip nonspacing marks. */
export function bertNormalize(text: string): string {
  const parts: string[] = [];
  let runStart = 0;
  let nonAscii = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    let cp = text.charCodeAt(i);
    let w = 1;
    let f: number;
    if (cp < 128) {
      f = ASCII[cp];
    } else {
      nonAscii = true;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          w = 2;
        }
      }
      f = flagsOf(cp);
    }
    if ((f & (F_DROP | F_CJK)) !== 0 || ((f & F_SPACE) !== 0 && cp !== 32)) {
      if (i > runStart) parts.push(text.slice(runStart, i));
      if ((f & F_SPACE) !== 0) parts.push(' ');
      else if ((f & F_CJK) !== 0) parts.push(` ${text.slice(i, i + w)} `);
      runStart = i + w;
    }
    i += w;
  }
  if (runStart < n) parts.push(runStart === 0 ? text : text.slice(runStart));
  let s = parts.join('').toLowerCase();
  if (nonAscii) {
    s = s.normalize('NFD');
    if (RE_HAS_MN.test(s)) s = s.replace(RE_ALL_MN, '');
  }
  return s;
}

/** Splits normalized text on whitespace and around punctuation (BertPreTokenizer). */
function splitWords(s: string, out: string[]): void {
  const n = s.length;
  let start = -1;
  let i = 0;
  while (i < n) {
    let cp = s.charCodeAt(i);
    let w = 1;
    let f: number;
    if (cp < 128) {
      f = ASCII[cp];
    } else {
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
        const lo = s.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          w = 2;
        }
      }
      f = flagsOf(cp);
    }
    if ((f & F_SPACE) !== 0) {
      if (start >= 0) {
        out.push(s.slice(start, i));
        start = -1;
      }
    } else if ((f & F_PUNCT) !== 0) {
      if (start >= 0) {
        out.push(s.slice(start, i));
        start = -1;
      }
      out.push(s.slice(i, i + w));
    } else if (start < 0) {
      start = i;
    }
    i += w;
  }
  if (start >= 0) out.push(s.slice(start));
}

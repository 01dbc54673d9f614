/**
 * TinyBERT data augmentation (Jiao et al. 2020, Algorithm 1; docs/methods.md §4.3), for task distillation.
 *
 * For each training example, N copies; in each copy every eligible word is, with probability p, replaced
 * by one of K candidates drawn uniformly. A word's candidates come from the teacher's masked language
 * model: the word (a single WordPiece) is masked and the teacher's top-K predictions at that position are
 * taken. The candidates of a word do not depend on the copy, so each (example, word) is predicted once
 * and reused for all N copies (and identical masked inputs within a chunk of examples are run once).
 *
 * minnow's choices, where TinyBERT's paper or script differ or cannot be followed:
 * - **Words of several WordPieces are left unchanged.** TinyBERT replaces them with one of their K
 *   nearest GloVe words; GloVe is not available here, and masking only the first piece would make the
 *   teacher predict a word start, not a word. They are counted (`multiPieceWords`).
 * - Eligible words: a pre-tokenized word (BERT's basic tokenizer: whitespace and punctuation split) that
 *   contains a letter, is not a special token written in the text, and is one WordPiece other than
 *   [UNK]. Punctuation, numbers and symbols are kept, as TinyBERT's script does (it only touches
 *   `[a-z]+` words); unlike the script, stop words are not skipped.
 * - Candidates: the teacher's K best tokens among those that are whole words: never a `[...]` token
 *   ([CLS], [SEP], [MASK], [PAD], [UNK], [unused*]), never a `##` continuation piece, never a token
 *   without a letter. The script took the top K and then dropped `##` pieces, so it had fewer than K.
 *   The original word may be among them (as in the script); drawing it leaves the word unchanged.
 * - Masked-LM input, `context: 'tinybert'` (default): `[CLS] text-with-[MASK] [SEP] text [SEP]`, the
 *   unmasked text as the second segment, as TinyBERT's `data_augmentation.py` feeds BERT (its candidates
 *   stay close to the original word). `context: 'example'`: the example as the task model sees it,
 *   `[CLS] a [SEP] b [SEP]` with one word masked. Words whose piece falls beyond `maxLength` are kept.
 * - Pairs: both texts are augmented in each copy. Labels, and every other column, stay as they are.
 * - The replacement keeps the case pattern of the word it replaces (`Great` -> `Good`, `BAD` -> `POOR`),
 *   and the rest of the text is kept byte for byte: only the replaced words' characters change.
 * - Every example gets exactly N copies, duplicates included (the script dropped duplicates), so each
 *   example keeps its weight and `p = 0` gives N exact copies.
 * - Seeded: the copies of example i depend only on (seed, i, its candidates), not on batching.
 *
 * The algorithm here is pure given a candidate function; {@link teacherCandidates} is the function
 * backed by a teacher's masked-LM head on onnxruntime.
 */
import type { Example } from '../data/tabular.js';
import type { Graph } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { bertInputs, encoder, mlmHead } from '../model/bert.js';
import { Dropout } from '../runtime/dropout.js';
import type { Model } from '../model/io.js';
import { type BertTokenizer, isCjkCodePoint, isPunctuation, truncateLengths } from '../text/wordpiece.js';
import { Forward } from '../runtime/forward.js';
import { UserError } from '../util/errors.js';
import { deriveSeed, Rng } from '../util/rng.js';

/** How a masked word is shown to the teacher (see the file comment). */
export type MlmContext = 'tinybert' | 'example';

export interface AugmentOptions {
  /** Candidates per word (TinyBERT: 15). */
  k: number;
  /** Probability of replacing each eligible word in a copy (TinyBERT: 0.4). */
  p: number;
  /** Augmented copies per example (TinyBERT: 20). */
  n: number;
  seed: number;
  /** Longest masked-LM input in pieces, [CLS]/[SEP] included. */
  maxLength: number;
  context?: MlmContext;
  /** Examples are processed in chunks of about this many masked-LM inputs (default 1024). */
  chunkForwards?: number;
}

/** What kind of word a span is; only 'single' words are ever replaced. */
export type WordKind = 'single' | 'multi' | 'unknown' | 'special' | 'other';

/** A pre-tokenized word of a text and where it sits in the original string. */
export interface WordSpan {
  /** UTF-16 offsets of the word in the original text. */
  start: number;
  end: number;
  /** The normalized word (lower-cased, accents stripped), as WordPiece sees it. */
  word: string;
  pieces: readonly number[];
  kind: WordKind;
}

/** One masked-LM input: piece ids with [MASK] at `position`, and segment ids. */
export interface MaskQuery {
  ids: Int32Array;
  types: Int32Array;
  position: number;
}

/**
 * Returns, for each query, candidate token ids best first. The algorithm keeps the first `k` that are
 * allowed replacements (see {@link replacementMask}) and ignores the rest.
 */
export type CandidateFn = (queries: readonly MaskQuery[]) => Promise<ArrayLike<number>[]>;

/**
 * Candidate words for a word (as WordPiece normalises it: lower-cased, accents stripped), best first: a
 * thesaurus, such as WordNet's synonyms ({@link wordnetSynonyms} in knowledge/load.ts). Unlike the
 * masked LM it covers words of several pieces, and it needs no teacher.
 */
export type WordCandidateFn = (word: string) => readonly string[];

/**
 * Where candidates come from. `mlm` alone: TinyBERT's masked LM for single-piece words, the rest kept.
 * `mlm` and `words`: the masked LM for single-piece words, the thesaurus for words of several pieces
 * (TinyBERT's split, the thesaurus standing in for its GloVe neighbours). `words` alone: the thesaurus for
 * every word.
 */
export interface CandidateSources {
  mlm?: CandidateFn;
  words?: WordCandidateFn;
}

/** One augmented copy: the example with new text (and pair); label and line unchanged. */
export type Copy = Example;

export interface AugmentStats {
  /** Examples read. */
  examples: number;
  /** Augmented copies made (examples x n); the originals are not counted. */
  copies: number;
  /** Words with a letter (special tokens excluded), over all input texts. */
  words: number;
  /** Of these, words of one WordPiece (the ones TinyBERT masks). */
  singlePieceWords: number;
  /** Words of several pieces: left unchanged without a thesaurus (TinyBERT used GloVe neighbours). */
  multiPieceWords: number;
  /** Words that are [UNK] to the teacher's vocabulary: left unchanged. */
  unknownWords: number;
  /** Single-piece words beyond maxLength: left unchanged. */
  truncatedWords: number;
  /** Single-piece words that got candidates from the teacher. */
  predictedWords: number;
  /** Words that got candidates from the thesaurus (`words` source). */
  thesaurusWords: number;
  /** Masked-LM inputs actually run (identical inputs in a chunk run once). */
  forwards: number;
  /** (copy, word) replacements that changed the word, over all copies. */
  wordsReplaced: number;
}

export function emptyStats(): AugmentStats {
  return {
    examples: 0,
    copies: 0,
    words: 0,
    singlePieceWords: 0,
    multiPieceWords: 0,
    unknownWords: 0,
    truncatedWords: 0,
    predictedWords: 0,
    thesaurusWords: 0,
    forwards: 0,
    wordsReplaced: 0,
  };
}

// ------------------------------------------------------------------------------------------- words

/** The tokenizer's never-split tokens (its defaults), cut out of the text before anything else. */
const SPECIALS = ['[CLS]', '[SEP]', '[MASK]', '[PAD]', '[UNK]'] as const;
const HAS_LETTER = /\p{L}/u;
const SPACE = /^\s$/u;
const FORMAT = /^\p{Cf}$/u;

/** Whitespace as the tokenizer splits on it (ASCII controls other than \t \n \r are dropped, not split on). */
function isSeparator(cp: number): boolean {
  if (cp < 128) return cp === 32 || cp === 9 || cp === 10 || cp === 13;
  const ch = String.fromCodePoint(cp);
  return SPACE.test(ch) && !FORMAT.test(ch);
}

/**
 * The words of a text as BERT's basic tokenizer splits it, each with its character span in the original
 * text, so that a word can be replaced without touching the rest. A span the tokenizer would split
 * further (not expected) yields all its words as 'other', never replaced.
 */
export function wordSpans(tok: BertTokenizer, text: string): WordSpan[] {
  const out: WordSpan[] = [];
  const push = (start: number, end: number, special: boolean) => {
    if (end <= start) return;
    if (special) {
      const word = text.slice(start, end);
      out.push({ start, end, word, pieces: [tok.idOf(word)!], kind: 'special' });
      return;
    }
    const words = tok.basicTokenize(text.slice(start, end));
    for (const word of words) {
      const pieces = tok.wordPiece(word);
      let kind: WordKind;
      if (words.length !== 1 || !HAS_LETTER.test(word)) kind = 'other';
      else if (pieces.length === 1 && pieces[0] === tok.unkId) kind = 'unknown';
      else kind = pieces.length === 1 ? 'single' : 'multi';
      out.push({ start, end, word, pieces, kind });
    }
  };
  let wordStart = -1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (text[i] === '[') {
      const sp = SPECIALS.find((s) => text.startsWith(s, i) && tok.idOf(s) !== undefined);
      if (sp) {
        if (wordStart >= 0) push(wordStart, i, false);
        wordStart = -1;
        push(i, i + sp.length, true);
        i += sp.length;
        continue;
      }
    }
    const cp = text.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    if (isSeparator(cp)) {
      if (wordStart >= 0) push(wordStart, i, false);
      wordStart = -1;
    } else if (isPunctuation(cp) || isCjkCodePoint(cp)) {
      if (wordStart >= 0) push(wordStart, i, false);
      wordStart = -1;
      push(i, i + w, false);
    } else if (wordStart < 0) wordStart = i;
    i += w;
  }
  if (wordStart >= 0) push(wordStart, n, false);
  return out;
}

/**
 * Which token ids may replace a word (1) and which never (0): `[...]` tokens (special and unused), `##`
 * continuation pieces, tokens without a letter, and tokens that would not read back as themselves.
 */
export function replacementMask(tok: BertTokenizer): Uint8Array {
  const mask = new Uint8Array(tok.vocabSize);
  tok.vocabulary.forEach((t, id) => {
    if (t.startsWith('[') && t.endsWith(']')) return;
    if (t.startsWith('##') || !HAS_LETTER.test(t)) return;
    const words = tok.basicTokenize(t);
    if (words.length !== 1 || words[0] !== t) return;
    const pieces = tok.wordPiece(t);
    if (pieces.length === 1 && pieces[0] === id) mask[id] = 1;
  });
  return mask;
}

// ------------------------------------------------------------------------------------------- plan

interface Side {
  text: string;
  spans: WordSpan[];
}

/** A word that may be replaced: which side and span, and its masked-LM query (none: a thesaurus word). */
interface Slot {
  side: number;
  span: number;
  query?: MaskQuery;
}

export interface ExamplePlan {
  sides: Side[];
  slots: Slot[];
}

function countWords(sides: Side[], stats: AugmentStats): void {
  for (const s of sides)
    for (const w of s.spans) {
      if (w.kind === 'single' || w.kind === 'multi' || w.kind === 'unknown') stats.words++;
      if (w.kind === 'single') stats.singlePieceWords++;
      else if (w.kind === 'multi') stats.multiPieceWords++;
      else if (w.kind === 'unknown') stats.unknownWords++;
    }
}

/**
 * The words of an example and its slots: with `sources.mlm` (the default), one masked-LM query per
 * single-piece word inside the length limit; with `sources.words`, a thesaurus slot for each word of
 * several pieces (and, without `mlm`, for every word of one piece too), after the masked-LM slots.
 */
export function planExample(
  tok: BertTokenizer,
  ex: Example,
  opts: Pick<AugmentOptions, 'maxLength' | 'context'>,
  stats: AugmentStats = emptyStats(),
  sources: { mlm: boolean; words: boolean } = { mlm: true, words: false },
): ExamplePlan {
  const sides: Side[] = [{ text: ex.text, spans: wordSpans(tok, ex.text) }];
  if (ex.pair !== undefined) sides.push({ text: ex.pair, spans: wordSpans(tok, ex.pair) });
  countWords(sides, stats);
  const pieces = sides.map((s) => s.spans.flatMap((w) => w.pieces));
  // Where each word's first piece sits within its side's pieces.
  const offsets = sides.map((s) => {
    let at = 0;
    return s.spans.map((w) => {
      const here = at;
      at += w.pieces.length;
      return here;
    });
  });
  const slots: Slot[] = [];
  const thesaurusSlots = () =>
    sides.forEach((s, side) =>
      s.spans.forEach((w, span) => {
        if (w.kind === 'multi' || (w.kind === 'single' && !sources.mlm)) slots.push({ side, span });
      }),
    );
  if (!sources.mlm) {
    if (sources.words) thesaurusSlots();
    return { sides, slots };
  }
  const addSlots = (side: number, kept: number, base: number[], types: number[], at: number) => {
    sides[side].spans.forEach((w, span) => {
      if (w.kind !== 'single') return;
      const off = offsets[side][span];
      if (off >= kept) {
        stats.truncatedWords++;
        return;
      }
      const ids = Int32Array.from(base);
      ids[at + off] = tok.maskId;
      slots.push({ side, span, query: { ids, types: Int32Array.from(types), position: at + off } });
    });
  };
  const max = opts.maxLength;
  if ((opts.context ?? 'tinybert') === 'tinybert') {
    // TinyBERT's script: [CLS] text-with-[MASK] [SEP] text [SEP], the second copy cut to what fits.
    sides.forEach((_, s) => {
      const p = pieces[s];
      const a = Math.max(0, Math.min(p.length, max - 2));
      const base = [tok.clsId, ...p.slice(0, a), tok.sepId];
      const room = max - base.length - 1;
      if (room > 0) base.push(...p.slice(0, room), tok.sepId);
      const types = base.map((_, t) => (t < a + 2 ? 0 : 1));
      addSlots(s, a, base, types, 1);
    });
  } else {
    // The example as the task model sees it: [CLS] a [SEP] (b [SEP]), truncated longest-first.
    const pair = sides.length === 2;
    const [la, lb] = truncateLengths(
      pieces[0].length,
      pair ? pieces[1].length : undefined,
      Math.max(0, max - (pair ? 3 : 2)),
    );
    const base = [tok.clsId, ...pieces[0].slice(0, la), tok.sepId];
    if (pair) base.push(...pieces[1].slice(0, lb), tok.sepId);
    const types = base.map((_, t) => (t < la + 2 ? 0 : 1));
    addSlots(0, la, base, types, 1);
    if (pair) addSlots(1, lb, base, types, la + 2);
  }
  if (sources.words) thesaurusSlots();
  return { sides, slots };
}

// ------------------------------------------------------------------------------------------- copies

/** `cand` with the case pattern of `orig`: all capitals (two letters or more) or a leading capital. */
export function matchCase(orig: string, cand: string): string {
  const letters = orig.replace(/[^\p{L}]/gu, '');
  if (letters.length > 1 && letters === letters.toUpperCase() && letters !== letters.toLowerCase())
    return cand.toUpperCase();
  const first = String.fromCodePoint(orig.codePointAt(0)!);
  if (first !== first.toLowerCase() && first === first.toUpperCase()) {
    const c0 = String.fromCodePoint(cand.codePointAt(0)!);
    return c0.toUpperCase() + cand.slice(c0.length);
  }
  return cand;
}

/** The text of a side with some of its spans replaced. */
function rebuild(side: Side, replaced: Map<number, string>): string {
  if (replaced.size === 0) return side.text;
  let out = '';
  let last = 0;
  for (const [span, word] of [...replaced.entries()].sort((a, b) => a[0] - b[0])) {
    const w = side.spans[span];
    out += side.text.slice(last, w.start) + matchCase(side.text.slice(w.start, w.end), word);
    last = w.end;
  }
  return out + side.text.slice(last);
}

/**
 * The N copies of one example. `candidates[j]` are the allowed candidate words of `plan.slots[j]` (at
 * most k, best first). In each copy, each slot draws u ~ U[0,1); if u < p its word becomes a candidate
 * drawn uniformly (drawing the word itself leaves it unchanged).
 */
export function makeCopies(
  ex: Example,
  plan: ExamplePlan,
  candidates: readonly (readonly string[])[],
  opts: Pick<AugmentOptions, 'n' | 'p'>,
  rng: Rng,
  stats: AugmentStats = emptyStats(),
): Copy[] {
  const copies: Copy[] = [];
  for (let c = 0; c < opts.n; c++) {
    const replaced = plan.sides.map(() => new Map<number, string>());
    plan.slots.forEach((slot, j) => {
      const u = rng.uniform();
      const list = candidates[j];
      if (u >= opts.p || list.length === 0) return;
      const cand = list[rng.int(list.length)];
      if (cand === plan.sides[slot.side].spans[slot.span].word) return;
      replaced[slot.side].set(slot.span, cand);
      stats.wordsReplaced++;
    });
    const copy: Copy = { ...ex, text: rebuild(plan.sides[0], replaced[0]) };
    if (plan.sides.length > 1) copy.pair = rebuild(plan.sides[1], replaced[1]);
    copies.push(copy);
  }
  stats.copies += copies.length;
  return copies;
}

/** The random stream of example `index` for a seed: independent of chunking and batching. */
export function exampleRng(seed: number, index: number): Rng {
  return new Rng(deriveSeed(seed, 'AUGM', index));
}

/** The first k allowed, distinct ids of a candidate list. */
function allowedCandidates(list: ArrayLike<number>, allowed: Uint8Array, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < list.length && out.length < k; i++) {
    const id = list[i];
    if (Number.isInteger(id) && allowed[id] === 1 && !out.includes(id)) out.push(id);
  }
  return out;
}

const queryKey = (q: MaskQuery) => `${q.position}:${q.types.indexOf(1)}:${q.ids.join(',')}`;

/**
 * The first k distinct thesaurus candidates for `word` that can replace it: one word as the tokenizer
 * splits text (no spaces, no punctuation inside), with a letter, not [UNK], and not the word itself.
 */
function thesaurusCandidates(tok: BertTokenizer, words: WordCandidateFn, word: string, k: number): string[] {
  const out: string[] = [];
  for (const c of words(word)) {
    if (out.length >= k) break;
    if (c === word || out.includes(c) || !HAS_LETTER.test(c)) continue;
    const split = tok.basicTokenize(c);
    if (split.length !== 1 || split[0] !== c) continue;
    const pieces = tok.wordPiece(c);
    if (pieces.length === 1 && pieces[0] === tok.unkId) continue;
    out.push(c);
  }
  return out;
}

/**
 * Augment examples in order. For each example, `emit(index, example, copies)` is called once, in input
 * order; `onChunk(done, stats)` after each chunk. The masked LM (`sources.mlm`) is called once per chunk
 * with the chunk's distinct masked-LM inputs; the thesaurus (`sources.words`) once per distinct word.
 */
export async function augmentExamples(
  tok: BertTokenizer,
  examples: readonly Example[],
  sources: CandidateSources,
  opts: AugmentOptions,
  emit: (index: number, example: Example, copies: Copy[]) => void,
  onChunk?: (done: number, stats: AugmentStats) => void,
): Promise<AugmentStats> {
  if (!(opts.p >= 0 && opts.p <= 1)) throw new UserError(`augment: p must be in [0, 1], got ${opts.p}`);
  if (!(Number.isInteger(opts.k) && opts.k >= 1))
    throw new UserError(`augment: k must be >= 1, got ${opts.k}`);
  if (!(Number.isInteger(opts.n) && opts.n >= 0))
    throw new UserError(`augment: n must be >= 0, got ${opts.n}`);
  if (!sources.mlm && !sources.words) throw new Error('augment: no candidate source');
  const allowed = sources.mlm ? replacementMask(tok) : new Uint8Array(0);
  const use = { mlm: sources.mlm !== undefined, words: sources.words !== undefined };
  const thesaurus = new Map<string, string[]>();
  const fromThesaurus = (word: string): string[] => {
    let list = thesaurus.get(word);
    if (list === undefined) {
      list = thesaurusCandidates(tok, sources.words!, word, opts.k);
      thesaurus.set(word, list);
    }
    return list;
  };
  const stats = emptyStats();
  const target = opts.chunkForwards ?? 1024;
  let start = 0;
  while (start < examples.length) {
    // Plan examples until the chunk holds about `target` slots.
    const plans: ExamplePlan[] = [];
    let queries = 0;
    while (start + plans.length < examples.length && (plans.length === 0 || queries < target)) {
      const plan = planExample(tok, examples[start + plans.length], opts, stats, use);
      plans.push(plan);
      queries += plan.slots.length;
    }
    const unique: MaskQuery[] = [];
    const indexOf = new Map<string, number>();
    const slotQuery = plans.map((plan) =>
      plan.slots.map((slot) => {
        if (!slot.query) return -1;
        const key = queryKey(slot.query);
        let at = indexOf.get(key);
        if (at === undefined) {
          at = unique.length;
          indexOf.set(key, at);
          unique.push(slot.query);
        }
        return at;
      }),
    );
    const results = unique.length ? await sources.mlm!(unique) : [];
    if (results.length !== unique.length)
      throw new Error(
        `augment: candidate function returned ${results.length} lists for ${unique.length} inputs`,
      );
    const lists = results.map((r) => allowedCandidates(r, allowed, opts.k).map((id) => tok.tokenOf(id)!));
    stats.forwards += unique.length;
    plans.forEach((plan, e) => {
      const index = start + e;
      const cands = plan.slots.map((slot, j) => {
        if (slot.query) {
          const list = lists[slotQuery[e][j]];
          if (list.length > 0) stats.predictedWords++;
          return list;
        }
        const list = fromThesaurus(plan.sides[slot.side].spans[slot.span].word);
        if (list.length > 0) stats.thesaurusWords++;
        return list;
      });
      const copies = makeCopies(examples[index], plan, cands, opts, exampleRng(opts.seed, index), stats);
      emit(index, examples[index], copies);
    });
    stats.examples += plans.length;
    start += plans.length;
    onChunk?.(start, stats);
  }
  return stats;
}

// ------------------------------------------------------------------------------------------- teacher

export interface TeacherCandidates {
  candidates: CandidateFn;
  release(): Promise<void>;
}

/**
 * Top-k candidate function backed by a model's masked-LM head: one onnxruntime session whose graph
 * gathers the masked rows (M = one per sequence), applies the head, adds -1e9 to the logits of tokens
 * that may never replace a word, and keeps the k best ids with an ONNX TopK: logits exist only as
 * (M, V) inside onnxruntime, and only (M, k) ids come back. Inputs are sorted by length and run in
 * batches of `batchSize`; `onBatch(n)` is told after each batch of n inputs.
 */
export async function teacherCandidates(
  m: Model,
  opts: { k: number; batchSize: number; threads: number; onBatch?: (n: number) => void },
): Promise<TeacherCandidates> {
  const c = m.config;
  const tok = m.tokenizer;
  const allowed = replacementMask(tok);
  const nAllowed = allowed.reduce((a, b) => a + b, 0);
  if (opts.k > nAllowed)
    throw new UserError(`--k: the vocabulary has only ${nAllowed} whole-word tokens, got ${opts.k}`);
  const ban = new Float32Array(c.vocab_size);
  for (let i = 0; i < ban.length; i++) ban[i] = allowed[i] ? 0 : -1e9;
  const k = opts.k;
  const fwd = await Forward.create(
    (g: Graph, w) => {
      const out = encoder(w, c, bertInputs(g), new Dropout(false));
      const positions = g.input('mlm_positions', 'int64', ['M']);
      const { h, table, bias } = mlmHead(w, c, out, positions); // h: (M, H), or (M, k) for low-rank codes
      const banned = g.constant(ban, 'float32', [c.vocab_size], 'banned');
      const logits = o.gemm(h, table, o.add(bias, banned), { transB: true }); // (M, V)
      const [, ids] = g.node(
        'TopK',
        [logits, o.i64(g, [k])],
        [
          { dtype: 'float32', shape: [h.shape[0], k] },
          { dtype: 'int64', shape: [h.shape[0], k] },
        ],
        {
          axis: { kind: 'int', value: -1 },
          largest: { kind: 'int', value: 1 },
          sorted: { kind: 'int', value: 1 },
        },
      );
      return { candidates: ids };
    },
    m.store,
    { threads: opts.threads },
  );
  const candidates: CandidateFn = async (queries) => {
    const out = new Array<Int32Array>(queries.length);
    const order = queries.map((_, i) => i).sort((a, b) => queries[a].ids.length - queries[b].ids.length);
    for (let i = 0; i < order.length; i += opts.batchSize) {
      const idx = order.slice(i, i + opts.batchSize);
      const B = idx.length;
      const T = Math.max(...idx.map((q) => queries[q].ids.length));
      const ids = new BigInt64Array(B * T).fill(BigInt(tok.padId));
      const types = new BigInt64Array(B * T);
      const pos = new BigInt64Array(B * T);
      const mask = new BigInt64Array(B * T);
      const where = new BigInt64Array(B);
      idx.forEach((q, b) => {
        const x = queries[q];
        for (let t = 0; t < T; t++) pos[b * T + t] = BigInt(t);
        for (let t = 0; t < x.ids.length; t++) {
          ids[b * T + t] = BigInt(x.ids[t]);
          types[b * T + t] = BigInt(x.types[t]);
          mask[b * T + t] = 1n;
        }
        where[b] = BigInt(b * T + x.position);
      });
      const r = await fwd.run(
        {
          input_ids: ids,
          token_type_ids: types,
          position_ids: pos,
          attention_mask: mask,
          mlm_positions: where,
        },
        { B, T, M: B },
      );
      const data = r.candidates.data as BigInt64Array;
      idx.forEach((q, b) => {
        const row = new Int32Array(k);
        for (let j = 0; j < k; j++) row[j] = Number(data[b * k + j]);
        out[q] = row;
      });
      opts.onBatch?.(B);
    }
    return out;
  };
  return { candidates, release: () => fwd.release() };
}

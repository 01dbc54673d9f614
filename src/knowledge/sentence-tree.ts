/**
 * K-BERT's sentence tree (docs/methods.md §5.1; autoliuweijie/K-BERT `brain/knowgraph.py`) for one text or a
 * text pair, with minnow's WordPiece tokenizer. Pure: runs in a browser.
 *
 * 1. Words: the tokenizer's basic words (lower-cased, split on whitespace and punctuation). Special tokens
 *    written in the text (`[MASK]`) are never matched and no subject spans them.
 * 2. Subjects: left to right, the longest (multi-word) subject starting at each word
 *    ({@link KnowledgeGraph.match}); a lone function word is skipped and a word that is no subject is
 *    tried as its lemmas (`dogs` -> `dog`), see `skip` and `lemmatize`.
 * 3. Branches: each match's first `maxEntities` facts, each the word pieces of `relation object` (or of
 *    the object alone), at most `maxBranchTokens` pieces, cut between words (a branch left with no object
 *    word is dropped), inserted right after the last piece of the matched words, in fact order.
 * 4. Soft positions: trunk tokens (the text's pieces, [CLS] and [SEP]) count 0, 1, 2, ... as in BERT; the
 *    k-th piece of a branch gets the anchor's last piece's position + k, so the trunk after a branch
 *    resumes at anchor + 1 and positions repeat. A pair's second text continues the count.
 * 5. Segments: a single text is K-BERT's: trunk 0, branches 1. In a pair, segment ids already tell the
 *    two texts apart, so a branch takes its anchor's segment (0 in the first text, 1 in the second)
 *    rather than marking "knowledge" with a segment that would put it in the other text.
 * 6. Visible matrix (row may attend to column): every trunk token sees every trunk token; each token of
 *    a matched span (all pieces of all its words: K-BERT's "each token of the entity") also sees all its
 *    branches; a branch token sees its own branch and its anchor span, nothing else (not [CLS], not a
 *    sibling branch).
 * 7. Truncation to `maxLength`: no trunk token is cut while a branch remains: whole branches go first,
 *    the last one first (the second text's from its end, then the first's); then the trunk is cut as
 *    BERT's tokenizer cuts it (`truncateLengths`, longest first for a pair), the [SEP]s kept. So a text
 *    whose trunk alone is too long keeps no branches, and its trunk is exactly `tokenizer.encode`'s.
 * 8. No padding: a batch pads each tree (K-BERT: pad tokens at position `max_length - 1`, seeing and seen
 *    by nothing, i.e. zero rows and columns of `visible`).
 *
 * `withRelation` defaults to true (K-BERT's code defaults to the object alone): WordNet's relations
 * differ in meaning (`good` "opposite of bad" vs "similar to ample"), so the object alone would inject an
 * antonym as if it were a synonym; and "dog is a canine" reads as English that a pre-trained English BERT
 * has seen. `maxBranchTokens` 6 leaves the object at least 4 pieces after a two-word relation.
 */
import { UserError } from '../util/errors.js';
import {
  isPunctuation,
  truncateLengths,
  type BertTokenizer,
  type TruncationStrategy,
} from '../text/wordpiece.js';
import { ENGLISH_STOPWORDS, morphy } from './english.js';
import type { KnowledgeGraph, SubjectMatch } from './graph.js';

/** What the sentence tree needs of a tokenizer. */
export type TreeTokenizer = Pick<BertTokenizer, 'basicTokenize' | 'encodeWordPieces' | 'clsId' | 'sepId'>;

export interface SentenceTreeOptions {
  /** Most tokens, [CLS] and [SEP]s included (see truncation above). Default: no limit. */
  maxLength?: number;
  /** Most branches per matched subject (K-BERT's `MAX_ENTITIES`). Default 2. */
  maxEntities?: number;
  /** Most word pieces per branch, relation included. Default 6. */
  maxBranchTokens?: number;
  /** Branch text `relation object` (true) or `object` (false, K-BERT's code). Default true. */
  withRelation?: boolean;
  /** How a pair's trunk is truncated. Default `longest_first`. */
  truncation?: TruncationStrategy;
  /** Single words never matched on their own. Default {@link ENGLISH_STOPWORDS}. */
  skip?: ReadonlySet<string>;
  /** Lemma candidates of a word that is no subject; false for exact matches only. Default {@link morphy}. */
  lemmatize?: ((word: string) => readonly string[]) | false;
}

/** One branch in a built tree; token indices are into the tree's arrays. */
export interface TreeBranch {
  /** The matched subject's key and the fact. */
  subject: string;
  relation: string;
  object: string;
  /** Tokens `[anchorStart, anchorEnd)`: the pieces of the matched words. */
  anchorStart: number;
  anchorEnd: number;
  /** Tokens `[start, end)`: the branch's pieces, right after `anchorEnd - 1`. */
  start: number;
  end: number;
}

/** One example as K-BERT feeds it to the encoder (unpadded). */
export interface SentenceTree {
  /** Number of tokens, T. */
  length: number;
  inputIds: Int32Array;
  tokenTypeIds: Int32Array;
  /** Soft positions. */
  positionIds: Int32Array;
  /** (T, T) row-major: `visible[i * T + j]` is 1 when token i may attend to token j. */
  visible: Uint8Array;
  /** For each token, -1 on the trunk, else the index of its branch in `branches`. */
  branchOf: Int32Array;
  branches: TreeBranch[];
  /** Branches left out to fit `maxLength`. */
  droppedBranches: number;
  /** Trunk pieces cut to fit `maxLength` (after all branches were dropped). */
  cutPieces: number;
}

/** A branch before layout: its fact, pieces, and the trunk pieces `[from, to)` (in its text) it hangs from. */
interface Pending {
  subject: string;
  relation: string;
  object: string;
  ids: readonly number[];
  from: number;
  to: number;
}

interface Side {
  ids: number[];
  branches: Pending[];
}

const DEFAULTS = { maxEntities: 2, maxBranchTokens: 6, withRelation: true };

/** Builds sentence trees over one graph and tokenizer; caches each fact's branch pieces. */
export class SentenceTreeBuilder {
  private readonly tokenizer: TreeTokenizer;
  private readonly graph: KnowledgeGraph;
  private readonly opts: SentenceTreeOptions;
  private readonly maxEntities: number;
  private readonly maxBranchTokens: number;
  private readonly withRelation: boolean;
  private readonly branchCache = new Map<string, readonly number[]>();

  constructor(tokenizer: TreeTokenizer, graph: KnowledgeGraph, opts: SentenceTreeOptions = {}) {
    this.tokenizer = tokenizer;
    this.graph = graph;
    this.opts = opts;
    this.maxEntities = opts.maxEntities ?? DEFAULTS.maxEntities;
    this.maxBranchTokens = opts.maxBranchTokens ?? DEFAULTS.maxBranchTokens;
    this.withRelation = opts.withRelation ?? DEFAULTS.withRelation;
    for (const [name, v] of [
      ['maxEntities', this.maxEntities],
      ['maxBranchTokens', this.maxBranchTokens],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) throw new UserError(`${name}: must be an integer >= 0, got ${v}`);
    }
  }

  /** The tree of `text`, or of the pair `text`, `pair`. */
  build(text: string, pair?: string): SentenceTree {
    const a = this.side(text);
    const b = pair === undefined ? undefined : this.side(pair);
    const specials = b ? 3 : 2;
    let lenA = a.ids.length;
    let lenB = b ? b.ids.length : 0;
    const branches = b ? [...a.branches, ...b.branches] : a.branches;
    let kept = branches.length;
    let cutPieces = 0;
    const max = this.opts.maxLength;
    if (max !== undefined) {
      if (!Number.isInteger(max) || max < specials) {
        throw new UserError(
          `maxLength: must be an integer >= ${specials} (room for [CLS] and [SEP]s), got ${max}`,
        );
      }
      let total = specials + lenA + lenB;
      for (const br of branches) total += br.ids.length;
      while (total > max && kept > 0) total -= branches[--kept].ids.length;
      if (total > max) {
        [lenA, lenB] = truncateLengths(lenA, b ? lenB : undefined, max - specials, this.opts.truncation);
        cutPieces = a.ids.length + (b ? b.ids.length : 0) - lenA - lenB;
      }
    }
    const keptA = a.branches.slice(0, Math.min(kept, a.branches.length));
    const keptB = b ? b.branches.slice(0, Math.max(0, kept - a.branches.length)) : [];
    return this.layout(
      [
        { ids: a.ids.slice(0, lenA), branches: keptA },
        ...(b ? [{ ids: b.ids.slice(0, lenB), branches: keptB }] : []),
      ],
      branches.length - kept,
      cutPieces,
    );
  }

  /** Pieces of one text and the branches hanging from them. */
  private side(text: string): Side {
    const words = this.tokenizer.basicTokenize(text);
    const { ids, wordIds } = this.tokenizer.encodeWordPieces(words);
    // First piece of each word (every word has at least one piece), and one past the last.
    const firstPiece = new Array<number>(words.length + 1);
    for (let p = ids.length - 1; p >= 0; p--) firstPiece[wordIds[p]] = p;
    firstPiece[words.length] = ids.length;
    const branches: Pending[] = [];
    if (this.maxEntities === 0) return { ids, branches };
    for (const m of this.matches(words)) {
      for (const fact of this.graph.facts(m.subject, this.maxEntities)) {
        const pieces = this.branchPieces(fact.relation, fact.object);
        if (pieces.length === 0) continue;
        branches.push({
          subject: m.subject,
          ...fact,
          ids: pieces,
          from: firstPiece[m.start],
          to: firstPiece[m.end],
        });
      }
    }
    return { ids, branches };
  }

  /** Subjects among the words, special tokens (`[MASK]`, a word > 1 character starting with punctuation) excluded. */
  private matches(words: readonly string[]): SubjectMatch[] {
    const lemmatize = this.opts.lemmatize ?? morphy;
    const opts = { skip: this.opts.skip ?? ENGLISH_STOPWORDS, lemmatize: lemmatize || undefined };
    const out: SubjectMatch[] = [];
    let runStart = 0;
    for (let w = 0; w <= words.length; w++) {
      const special = w < words.length && words[w].length > 1 && isPunctuation(words[w].codePointAt(0)!);
      if (w < words.length && !special) continue;
      if (w > runStart) {
        for (const m of this.graph.match(words.slice(runStart, w), opts)) {
          out.push({ start: m.start + runStart, end: m.end + runStart, subject: m.subject });
        }
      }
      runStart = w + 1;
    }
    return out;
  }

  /** A branch's pieces, at most `maxBranchTokens`, cut between words; none if no object word fits. */
  private branchPieces(relation: string, object: string): readonly number[] {
    const cacheKey = `${relation}\t${object}`;
    const hit = this.branchCache.get(cacheKey);
    if (hit) return hit;
    const relationWords = this.withRelation ? this.tokenizer.basicTokenize(relation).length : 0;
    const words = this.tokenizer.basicTokenize(this.withRelation ? `${relation} ${object}` : object);
    const { ids, wordIds } = this.tokenizer.encodeWordPieces(words);
    let n = Math.min(ids.length, this.maxBranchTokens);
    if (n < ids.length) while (n > 0 && wordIds[n] === wordIds[n - 1]) n--;
    const pieces = n > 0 && wordIds[n - 1] >= relationWords ? ids.slice(0, n) : [];
    this.branchCache.set(cacheKey, pieces);
    return pieces;
  }

  /** Lays the kept trunk and branches out: ids, segments, soft positions, visible matrix. */
  private layout(sides: Side[], droppedBranches: number, cutPieces: number): SentenceTree {
    let T = sides.length + 1;
    for (const s of sides) {
      T += s.ids.length;
      for (const br of s.branches) T += br.ids.length;
    }
    const single = sides.length === 1;
    const inputIds = new Int32Array(T);
    const tokenTypeIds = new Int32Array(T);
    const positionIds = new Int32Array(T);
    const branchOf = new Int32Array(T).fill(-1);
    const trunk: number[] = []; // output index of each trunk token; its position is its index here
    const branches: TreeBranch[] = [];
    let t = 0;
    const put = (id: number, segment: number, position: number): number => {
      inputIds[t] = id;
      tokenTypeIds[t] = segment;
      positionIds[t] = position;
      return t++;
    };
    trunk.push(put(this.tokenizer.clsId, 0, 0));
    sides.forEach((side, segment) => {
      const at = new Array<number>(side.ids.length); // output index of each of the side's pieces
      let next = 0; // the next branch to place (branches are in order of their anchors)
      for (let p = 0; p < side.ids.length; p++) {
        const anchor = trunk.length;
        trunk.push((at[p] = put(side.ids[p], segment, anchor)));
        for (; next < side.branches.length && side.branches[next].to === p + 1; next++) {
          const br = side.branches[next];
          const start = t;
          for (let k = 0; k < br.ids.length; k++)
            branchOf[put(br.ids[k], single ? 1 : segment, anchor + 1 + k)] = branches.length;
          const { subject, relation, object } = br;
          branches.push({
            subject,
            relation,
            object,
            anchorStart: at[br.from],
            anchorEnd: at[p] + 1,
            start,
            end: t,
          });
        }
      }
      trunk.push(put(this.tokenizer.sepId, segment, trunk.length));
    });

    const visible = new Uint8Array(T * T);
    for (const i of trunk) for (const j of trunk) visible[i * T + j] = 1;
    for (const br of branches) {
      for (let i = br.anchorStart; i < br.anchorEnd; i++) visible.fill(1, i * T + br.start, i * T + br.end);
      for (let i = br.start; i < br.end; i++) {
        visible.fill(1, i * T + br.anchorStart, i * T + br.anchorEnd);
        visible.fill(1, i * T + br.start, i * T + br.end);
      }
    }
    return {
      length: T,
      inputIds,
      tokenTypeIds,
      positionIds,
      visible,
      branchOf,
      branches,
      droppedBranches,
      cutPieces,
    };
  }
}

/** The sentence tree of `text` (or the pair `text`, `pair`); for many texts, reuse a {@link SentenceTreeBuilder}. */
export function buildSentenceTree(
  tokenizer: TreeTokenizer,
  graph: KnowledgeGraph,
  text: string,
  pair?: string,
  opts: SentenceTreeOptions = {},
): SentenceTree {
  return new SentenceTreeBuilder(tokenizer, graph, opts).build(text, pair);
}

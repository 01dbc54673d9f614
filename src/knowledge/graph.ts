/**
 * A knowledge graph for K-BERT (docs/methods.md §5.1): subject -> ordered list of (relation, object), with
 * longest-first matching of (multi-word) subjects over a text's words, and a compact text form that can
 * be cached to disk and shipped to a browser. Pure: no Node built-ins.
 *
 * - Subjects are keyed by their words as BERT's basic tokenizer splits them (subject-key.ts): `New  York`
 *   and `new york` are one subject, `pye-dog` is `pye - dog`, as the tokenizer splits it in a text.
 * - Objects and relations keep their text (whitespace collapsed); the tokenizer normalises them when
 *   a branch is built.
 * - A subject's facts keep the order they were added in (the most useful first: K-BERT takes the first
 *   `maxEntities`); a repeated (relation, object) and an object equal to its own subject are dropped.
 *
 * Memory: the strings once in an array, a Map from subject key to string index, and the facts as typed
 * arrays (CSR: `factStart[s]..factStart[s+1]` index `factRelation`/`factObject`).
 */
import { UserError } from '../util/errors.js';
import { isOwnKey, oneSpace, subjectKey } from './subject-key.js';

/** One fact as given: subject, relation (predicate) and object. */
export interface Triple {
  subject: string;
  relation: string;
  object: string;
}

/** One fact of a subject. */
export interface Fact {
  relation: string;
  object: string;
}

/** A subject found in a word sequence: words `[start, end)` (end exclusive) matched subject key `subject`. */
export interface SubjectMatch {
  start: number;
  end: number;
  subject: string;
}

export interface MatchOptions {
  /** Single words never matched on their own (function words); multi-word subjects still match. */
  skip?: ReadonlySet<string>;
  /**
   * Candidate lemmas of a single word that is not itself a subject, tried in order (e.g. `dogs` ->
   * `dog`; see english.ts's `morphy`). Words in `skip` are not lemmatized.
   */
  lemmatize?: (word: string) => readonly string[];
}

export interface BuildOptions {
  /** Most facts kept per subject, the first added first. Default: all. */
  maxFacts?: number;
  /** Free-form description stored with the graph (source, version, options). */
  meta?: Readonly<Record<string, string>>;
}

/** First line of the serialised form. */
export const GRAPH_FORMAT = 'minnow-kg 1';

/**
 * A graph's frozen contents (what {@link KnowledgeGraph.serialize} writes): the facts of string `s` are
 * `factStart[s] .. factStart[s + 1] - 1`, each a relation index and an object string index.
 */
export interface GraphParts {
  /** Relation names. */
  relations: readonly string[];
  /** Subject keys and object texts, each once, sorted. A string with facts is a subject. */
  strings: readonly string[];
  /** `strings.length + 1` offsets into the fact arrays. */
  factStart: Uint32Array;
  factRelation: Uint16Array;
  factObject: Uint32Array;
  meta: Readonly<Record<string, string>>;
}

export class KnowledgeGraph {
  readonly relations: readonly string[];
  readonly strings: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  /** Number of subjects (strings with at least one fact). */
  readonly subjects: number;
  /** Number of facts in all. */
  readonly size: number;
  /** Most words in one subject. */
  readonly maxSubjectWords: number;

  private readonly factStart: Uint32Array;
  private readonly factRelation: Uint16Array;
  private readonly factObject: Uint32Array;
  private readonly subjectIndex = new Map<string, number>();
  /** For each first word of a multi-word subject, the most words of a subject starting with it. */
  private readonly spanOf = new Map<string, number>();

  /** A graph over frozen parts (use {@link GraphBuilder}, {@link fromTriples} or {@link parse}). */
  constructor(parts: GraphParts) {
    const { relations, strings, factStart, factRelation, factObject, meta } = parts;
    if (factStart.length !== strings.length + 1 || factRelation.length !== factObject.length) {
      throw new Error(
        'KnowledgeGraph: factStart must have strings.length + 1 entries, one relation per object',
      );
    }
    this.relations = relations;
    this.strings = strings;
    this.factStart = factStart;
    this.factRelation = factRelation;
    this.factObject = factObject;
    this.meta = meta;
    this.size = factObject.length;
    let maxWords = 0;
    for (let s = 0; s < strings.length; s++) {
      if (factStart[s + 1] === factStart[s]) continue;
      const key = strings[s];
      this.subjectIndex.set(key, s);
      let words = 1;
      for (let i = key.indexOf(' '); i >= 0; i = key.indexOf(' ', i + 1)) words++;
      if (words > 1) {
        const first = key.slice(0, key.indexOf(' '));
        this.spanOf.set(first, Math.max(words, this.spanOf.get(first) ?? 1));
      }
      maxWords = Math.max(maxWords, words);
    }
    this.subjects = this.subjectIndex.size;
    this.maxSubjectWords = maxWords;
  }

  /**
   * A graph of `triples` (see {@link GraphBuilder}): an empty subject, relation or object is a UserError.
   */
  static fromTriples(triples: Iterable<Triple>, opts: BuildOptions = {}): KnowledgeGraph {
    const builder = new GraphBuilder(opts.maxFacts);
    for (const t of triples) builder.add(t.subject, t.relation, t.object);
    return builder.build(opts.meta);
  }

  /** The facts of a subject (any spelling that normalises to its key), at most `limit`, in order. */
  facts(subject: string, limit = Infinity): Fact[] {
    let s = this.subjectIndex.get(subject);
    if (s === undefined) s = this.subjectIndex.get(subjectKey(subject));
    if (s === undefined) return [];
    const out: Fact[] = [];
    const end = Math.min(this.factStart[s + 1], this.factStart[s] + limit);
    for (let k = this.factStart[s]; k < end; k++) {
      out.push({ relation: this.relations[this.factRelation[k]], object: this.strings[this.factObject[k]] });
    }
    return out;
  }

  /** Every subject key with its number of facts, in no particular order. */
  *factCounts(): IterableIterator<[string, number]> {
    for (const [key, s] of this.subjectIndex) yield [key, this.factStart[s + 1] - this.factStart[s]];
  }

  /** Whether `key` (already a {@link subjectKey}) is a subject. */
  has(key: string): boolean {
    return this.subjectIndex.has(key);
  }

  /** The longest subject starting at `words[i]`, or undefined. Words are compared lower-cased. */
  longestAt(words: readonly string[], i: number, opts: MatchOptions = {}): SubjectMatch | undefined {
    const first = words[i].toLowerCase();
    const most = Math.min(this.spanOf.get(first) ?? 1, words.length - i);
    for (let n = most; n >= 2; n--) {
      let key = first;
      for (let j = i + 1; j < i + n; j++) key += ' ' + words[j].toLowerCase();
      if (this.subjectIndex.has(key)) return { start: i, end: i + n, subject: key };
    }
    if (opts.skip?.has(first)) return undefined;
    if (this.subjectIndex.has(first)) return { start: i, end: i + 1, subject: first };
    if (opts.lemmatize) {
      for (const lemma of opts.lemmatize(first)) {
        if (!opts.skip?.has(lemma) && this.subjectIndex.has(lemma))
          return { start: i, end: i + 1, subject: lemma };
      }
    }
    return undefined;
  }

  /** Subjects in `words`, left to right, each the longest one starting where the previous ended. */
  match(words: readonly string[], opts: MatchOptions = {}): SubjectMatch[] {
    const out: SubjectMatch[] = [];
    for (let i = 0; i < words.length;) {
      const m = this.longestAt(words, i, opts);
      if (m) {
        out.push(m);
        i = m.end;
      } else {
        i++;
      }
    }
    return out;
  }

  /**
   * The graph as text (UTF-8, gzips well): a `minnow-kg 1` line, `relations` and `meta` (JSON) lines,
   * `strings N`, then one line per string, sorted: the string alone, or the string, a tab and its facts
   * as space-separated `relation:object` indices (decimal) into the relations and strings.
   */
  serialize(): string {
    const lines = [
      GRAPH_FORMAT,
      ['relations', ...this.relations].join('\t'),
      `meta\t${JSON.stringify(this.meta)}`,
      `strings\t${this.strings.length}`,
    ];
    for (let s = 0; s < this.strings.length; s++) {
      const a = this.factStart[s];
      const b = this.factStart[s + 1];
      if (a === b) {
        lines.push(this.strings[s]);
        continue;
      }
      const facts: string[] = [];
      for (let k = a; k < b; k++) facts.push(`${this.factRelation[k]}:${this.factObject[k]}`);
      lines.push(`${this.strings[s]}\t${facts.join(' ')}`);
    }
    return lines.join('\n') + '\n';
  }

  /** Reads {@link serialize}'s text; `source` names it in errors (a UserError naming the line). */
  static parse(text: string, source = 'knowledge graph'): KnowledgeGraph {
    const lines = text.split('\n');
    const bad = (line: number, why: string): never => {
      throw new UserError(`${source}:${line}: ${why}`);
    };
    if (lines[0] !== GRAPH_FORMAT) bad(1, `not a knowledge graph (expected a first line "${GRAPH_FORMAT}")`);
    const rel = lines[1]?.split('\t') ?? [];
    if (rel[0] !== 'relations') bad(2, 'expected "relations"');
    const relations = rel.slice(1);
    let meta: Record<string, string> = {};
    if (!lines[2]?.startsWith('meta\t')) bad(3, 'expected "meta"');
    try {
      meta = JSON.parse(lines[2].slice(5)) as Record<string, string>;
    } catch {
      bad(3, 'meta is not JSON');
    }
    const count = /^strings\t(\d+)$/.exec(lines[3] ?? '');
    if (!count) bad(4, 'expected "strings N"');
    const n = Number(count![1]);
    if (lines.length < n + 5 || lines[n + 4] !== '') bad(lines.length, `expected ${n} strings, then the end`);
    const strings = new Array<string>(n);
    const factStart = new Uint32Array(n + 1);
    const rs: number[] = [];
    const os: number[] = [];
    for (let s = 0; s < n; s++) {
      const line = lines[s + 4];
      factStart[s] = os.length;
      const tab = line.indexOf('\t');
      if (tab < 0) {
        strings[s] = line;
        continue;
      }
      strings[s] = line.slice(0, tab);
      for (const f of line.slice(tab + 1).split(' ')) {
        const m = /^(\d+):(\d+)$/.exec(f);
        const r = m ? Number(m[1]) : -1;
        const o = m ? Number(m[2]) : -1;
        if (r < 0 || r >= relations.length || o < 0 || o >= n) bad(s + 5, `bad fact ${JSON.stringify(f)}`);
        rs.push(r);
        os.push(o);
      }
    }
    factStart[n] = os.length;
    const factRelation = Uint16Array.from(rs);
    const factObject = Uint32Array.from(os);
    return new KnowledgeGraph({ relations, strings, factStart, factRelation, factObject, meta });
  }
}

/** One subject's facts while building: relation indices and object texts, in order. */
interface Pending {
  relations: number[];
  objects: string[];
  /** `relation\tobject` of each fact, once there are enough for a scan to cost more than a Set. */
  seen?: Set<string>;
}

/**
 * Collects facts, then freezes them into a {@link KnowledgeGraph}. Subjects are keyed by
 * {@link subjectKey}; relations and objects have whitespace runs made one space. A repeated
 * (relation, object), an object whose key is its subject's, and facts past `maxFacts` are dropped.
 */
export class GraphBuilder {
  private readonly maxFacts: number;
  private readonly relations: string[] = [];
  private readonly relationIndex = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  /** Keys of texts seen before that are not their own key (subjects and objects repeat a lot). */
  private readonly keys = new Map<string, string>();

  constructor(maxFacts = Infinity) {
    this.maxFacts = maxFacts;
  }

  /** Adds a fact; returns whether it was kept. */
  add(subject: string, relation: string, object: string): boolean {
    const key = this.keyOf(subject);
    const rel = oneSpace(relation);
    const obj = oneSpace(object);
    if (key === '' || rel === '' || obj === '') {
      const what = key === '' ? 'subject' : rel === '' ? 'relation' : 'object';
      throw new UserError(
        `knowledge graph: empty ${what} in ${JSON.stringify({ subject, relation, object })}`,
      );
    }
    if (this.keyOf(obj) === key) return false;
    let r = this.relationIndex.get(rel);
    if (r === undefined) {
      r = this.relations.length;
      if (r > 0xffff) throw new UserError('knowledge graph: more than 65,536 relations');
      this.relations.push(rel);
      this.relationIndex.set(rel, r);
    }
    let own = this.pending.get(key);
    if (own === undefined) this.pending.set(key, (own = { relations: [], objects: [] }));
    const n = own.objects.length;
    if (n >= this.maxFacts) return false;
    if (own.seen) {
      const id = `${r}\t${obj}`;
      if (own.seen.has(id)) return false;
      own.seen.add(id);
    } else {
      for (let k = 0; k < n; k++) if (own.relations[k] === r && own.objects[k] === obj) return false;
      if (n + 1 >= 16)
        own.seen = new Set(own.objects.map((o, k) => `${own!.relations[k]}\t${o}`).concat(`${r}\t${obj}`));
    }
    own.relations.push(r);
    own.objects.push(obj);
    return true;
  }

  /** The graph of the facts added so far. */
  build(meta: Readonly<Record<string, string>> = {}): KnowledgeGraph {
    const all = new Set<string>();
    let n = 0;
    for (const [key, own] of this.pending) {
      if (own.objects.length === 0) continue;
      all.add(key);
      for (const o of own.objects) all.add(o);
      n += own.objects.length;
    }
    const strings = [...all].sort();
    const index = new Map(strings.map((s, i) => [s, i]));
    const factStart = new Uint32Array(strings.length + 1);
    const factRelation = new Uint16Array(n);
    const factObject = new Uint32Array(n);
    let k = 0;
    for (let s = 0; s < strings.length; s++) {
      factStart[s] = k;
      const own = this.pending.get(strings[s]);
      if (own === undefined) continue;
      for (let f = 0; f < own.objects.length; f++, k++) {
        factRelation[k] = own.relations[f];
        factObject[k] = index.get(own.objects[f])!;
      }
    }
    factStart[strings.length] = k;
    const relations = this.relations.slice();
    return new KnowledgeGraph({ relations, strings, factStart, factRelation, factObject, meta: { ...meta } });
  }

  private keyOf(text: string): string {
    if (isOwnKey(text)) return text;
    let key = this.keys.get(text);
    if (key === undefined) this.keys.set(text, (key = subjectKey(text)));
    return key;
  }
}

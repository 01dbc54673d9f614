/**
 * How a model reads knowledge (config.json's `knowledge`), recorded at fine-tuning so the model is always
 * evaluated, exported and served with the knowledge it was trained with. Browser-safe.
 */
import { UserError } from '../util/errors.js';

export const WORDNET = 'wordnet';

export interface KnowledgeConfig {
  /** 'wordnet', or the file name of the user's triples (for the record: the graph is in KNOWLEDGE_FILE). */
  source: string;
  /** WordNet relations taken (WordNet only), in the order they are taken within a sense. */
  relations?: string[];
  /** Most branches per matched subject (K-BERT's MAX_ENTITIES). */
  max_entities: number;
  /** Most word pieces per branch, relation included. */
  max_branch_tokens: number;
  /** Branch text `relation object` (true) or the object alone (K-BERT's code). */
  with_relation: boolean;
  /** The visible matrix; false is the ablation where every token sees every token (knowledge noise). */
  visible_matrix: boolean;
}

/** The graph of a model whose knowledge is not WordNet: this file in its directory (KnowledgeGraph text). */
export const KNOWLEDGE_FILE = 'knowledge.kg';

export const DEFAULT_KNOWLEDGE: Readonly<Omit<KnowledgeConfig, 'source'>> = Object.freeze({
  max_entities: 2,
  max_branch_tokens: 6,
  with_relation: true,
  visible_matrix: true,
});

/** config.json's `knowledge` as a KnowledgeConfig, or a one-line error naming the field. */
export function validateKnowledgeConfig(raw: unknown, source: string): KnowledgeConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UserError(`${source}: an object {"source": "wordnet" | file, ...}`);
  const r = raw as Record<string, unknown>;
  const bad = (field: string, want: string) => {
    throw new UserError(`${source}.${field}: ${JSON.stringify(r[field])} should be ${want}`);
  };
  const int = (field: keyof KnowledgeConfig, dflt: number, min: number) => {
    const v = r[field] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 512)
      bad(field, `an integer ${min}..512`);
    return v as number;
  };
  const bool = (field: keyof KnowledgeConfig, dflt: boolean) => {
    const v = r[field] ?? dflt;
    if (typeof v !== 'boolean') bad(field, 'true or false');
    return v as boolean;
  };
  if (typeof r.source !== 'string' || !r.source) bad('source', '"wordnet" or the name of a triples file');
  if (
    r.relations !== undefined &&
    (!Array.isArray(r.relations) || r.relations.some((x) => typeof x !== 'string'))
  )
    bad('relations', 'a list of relation names');
  const k: KnowledgeConfig = {
    source: r.source as string,
    max_entities: int('max_entities', DEFAULT_KNOWLEDGE.max_entities, 1),
    max_branch_tokens: int('max_branch_tokens', DEFAULT_KNOWLEDGE.max_branch_tokens, 1),
    with_relation: bool('with_relation', DEFAULT_KNOWLEDGE.with_relation),
    visible_matrix: bool('visible_matrix', DEFAULT_KNOWLEDGE.visible_matrix),
  };
  if (r.relations !== undefined) k.relations = [...(r.relations as string[])];
  return k;
}

/**
 * A text (or pair) as the encoder reads it with knowledge: K-BERT's sentence tree as one row of ids,
 * segments, soft positions and a visible matrix. Training, evaluation and the runtime all encode with
 * this, so a model sees the same trees everywhere. Browser-safe.
 */
import type { BertTokenizer } from '../text/wordpiece.js';
import type { KnowledgeConfig } from './config.js';
import type { KnowledgeGraph } from './graph.js';
import { SentenceTreeBuilder } from './sentence-tree.js';

/** One encoded example: (T) ids, segments and positions, and the (T, T) visible matrix, 1 = may attend. */
export interface TreeRow {
  ids: Int32Array;
  types: Int32Array;
  positions: Int32Array;
  visible: Uint8Array;
}

export type TreeEncoder = (text: string, pair?: string) => TreeRow;

/** An encoder of texts into sentence trees of at most `maxLength` tokens. */
export function treeEncoder(
  tokenizer: BertTokenizer,
  graph: KnowledgeGraph,
  k: KnowledgeConfig,
  maxLength: number,
): TreeEncoder {
  const builder = new SentenceTreeBuilder(tokenizer, graph, {
    maxLength,
    maxEntities: k.max_entities,
    maxBranchTokens: k.max_branch_tokens,
    withRelation: k.with_relation,
  });
  return (text, pair) => {
    const t = builder.build(text, pair);
    return {
      ids: t.inputIds,
      types: t.tokenTypeIds,
      positions: t.positionIds,
      // The ablation: the same tree, but every token sees every token.
      visible: k.visible_matrix ? t.visible : new Uint8Array(t.length * t.length).fill(1),
    };
  };
}

/** `minnow explain-tree`: K-BERT's sentence tree for one text: branches, soft positions, segments, visible matrix. */
import { DEFAULT_KNOWLEDGE, type KnowledgeConfig } from '../knowledge/config.js';
import { formatTree } from '../knowledge/format-tree.js';
import type { KnowledgeGraph } from '../knowledge/graph.js';
import { loadKnowledge } from '../knowledge/load.js';
import { buildSentenceTree } from '../knowledge/sentence-tree.js';
import { loadModel } from '../model/io.js';
import { readVocabFile } from '../text/vocab-file.js';
import type { BertTokenizer } from '../text/wordpiece.js';
import { BERT_VOCAB } from '../util/assets.js';
import { UserError } from '../util/errors.js';
import { command, num, type Parsed, str } from './args.js';
import { KNOWLEDGE_OPTIONS, knowledgeSettings } from './options.js';

export const spec = command({
  name: 'explain-tree',
  summary:
    'show the sentence tree K-BERT builds for a text (branches, soft positions, segments, visible matrix)',
  usage: 'minnow explain-tree (--model DIR | --knowledge wordnet|FILE) [options] TEXT [PAIR]',
  positionals: 'TEXT [PAIR]: the text (and the second text of a pair), each one argument (quote it)',
  options: {
    model: {
      type: 'string',
      value: 'DIR',
      help: 'a model fine-tuned with --knowledge: its knowledge, settings and vocabulary',
    },
    ...KNOWLEDGE_OPTIONS,
    'max-length': {
      type: 'string',
      value: 'N',
      help: 'most tokens (branches are dropped before the text is cut)',
      default: '128',
      number: { int: true, min: 3 },
    },
  },
});

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const [text, pair, ...rest] = p.positionals;
  if (text === undefined || rest.length)
    throw new UserError('explain-tree: give the text (and at most one pair text) as arguments');
  const dir = str(p, 'model');
  const settings = knowledgeSettings(p);
  if (!dir === !settings)
    throw new UserError('explain-tree: give exactly one of --model DIR or --knowledge wordnet|FILE');
  let tokenizer: BertTokenizer;
  let graph: KnowledgeGraph;
  let k: KnowledgeConfig;
  if (dir) {
    const m = loadModel(dir);
    if (!m.config.knowledge || !m.knowledge)
      throw new UserError(`${dir}: this model reads no knowledge (fine-tune it with --knowledge)`);
    ({ tokenizer, knowledge: graph } = m as typeof m & { knowledge: KnowledgeGraph });
    k = m.config.knowledge;
  } else {
    ({ graph, config: k } = loadKnowledge(settings!));
    tokenizer = readVocabFile(BERT_VOCAB);
  }
  const tree = buildSentenceTree(tokenizer, graph, text, pair, {
    maxLength: num(p, 'max-length'),
    maxEntities: k.max_entities,
    maxBranchTokens: k.max_branch_tokens,
    withRelation: k.with_relation ?? DEFAULT_KNOWLEDGE.with_relation,
  });
  process.stdout.write(`${formatTree(tree, tokenizer)}\n`);
  if (!k.visible_matrix)
    process.stdout.write(
      '(this model was trained without the visible matrix: every token sees every token)\n',
    );
}

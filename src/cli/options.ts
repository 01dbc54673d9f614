/**
 * Option groups shared by several commands, declared once: task data, dev data, seed and threads, batch
 * size, inference, K-BERT knowledge, embedding variants. Groups whose defaults differ between commands take
 * them from the library's DEFAULT_* objects; a training recipe's settings are its own table
 * (FINETUNE_SETTINGS, ...: util/settings.ts), made into options by args.ts settingOptions.
 */
import type { DataSource } from '../data/task.js';
import type { NodeBackend } from '../infer/load.js';
import type { OrtModule } from '../infer/runtime.js';
import { DEFAULT_KNOWLEDGE } from '../knowledge/config.js';
import { type BertConfig, PRESETS, preset } from '../model/config.js';
import { applyEmbeddingFlag, type EmbeddingFlagName, embeddingFlags } from '../model/embeddings/registry.js';
import type { KnowledgeSettings } from '../knowledge/load.js';
import { DEFAULT_WORDNET_RELATIONS, WORDNET_RELATIONS } from '../knowledge/wordnet.js';
import { RUN_SETTINGS } from '../train/settings.js';
import { pick } from '../util/settings.js';
import { UserError } from '../util/errors.js';
import { choice, given, optionalNum, options, type Parsed, settingOptions, str } from './args.js';

export const DATA_OPTIONS = options({
  task: {
    type: 'string',
    value: 'T',
    help: 'GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli), or a name for your own data (default with --text-column: the file name)',
  },
  data: {
    type: 'string',
    value: 'PATH',
    help: 'GLUE task folder or file; or your CSV/TSV/JSONL file (with --text-column)',
  },
  'text-column': { type: 'string', value: 'NAME', help: 'own data: column (or JSON key) with the text' },
  'text-pair-column': {
    type: 'string',
    value: 'NAME',
    help: 'own data: column with the second text of a pair',
  },
  'label-column': { type: 'string', value: 'NAME', help: 'own data: column with the label (default: label)' },
  regression: { type: 'boolean', help: 'own data: labels are numbers to regress' },
  'skip-bad-rows': {
    type: 'boolean',
    help: 'skip malformed rows (reported) instead of stopping at the first',
  },
});

/**
 * --dev and --dev-fraction: where a command's dev data comes from. `what` says what the dev data is for;
 * `withoutDev` what --dev-fraction 0 means (null: 0 is refused, the command needs dev data).
 */
export function devOptions(d: { devFraction: number }, what: string, withoutDev: string | null) {
  return options({
    dev: {
      type: 'string',
      value: 'PATH',
      help: `dev file ${what} (default: GLUE: the dev split next to --data; own data: rows held out, see --dev-fraction)`,
    },
    'dev-fraction': {
      type: 'string',
      value: 'F',
      help: `own data without --dev: seeded fraction of the training rows held out as dev${withoutDev ? ` (0: ${withoutDev})` : ''}`,
      default: String(d.devFraction),
      number: withoutDev ? { min: 0, below: 1 } : { above: 0, below: 1 },
    },
  });
}

/** Any command's parsed flags that include DATA_OPTIONS. */
interface DataParsed {
  spec: { name: string };
  values: Partial<Record<keyof typeof DATA_OPTIONS, string | boolean>>;
}

const text = (p: DataParsed, k: keyof typeof DATA_OPTIONS) => {
  const v = p.values[k];
  return typeof v === 'string' ? v : undefined;
};

/** The data source the flags name. `--task` is optional for your own data (the file's base name). */
export function dataSource(p: DataParsed, path = text(p, 'data')): DataSource {
  const textColumn = text(p, 'text-column');
  if (!path) throw new UserError(`${p.spec.name}: --data PATH is required`);
  const task = text(p, 'task') ?? (textColumn ? ownTaskName(path) : undefined);
  if (!task)
    throw new UserError(
      `${p.spec.name}: --task T is required for GLUE data (or give --text-column for your own CSV/TSV/JSONL file)`,
    );
  return {
    task,
    data: path,
    textColumn,
    textPairColumn: text(p, 'text-pair-column'),
    labelColumn: text(p, 'label-column') ?? (textColumn ? 'label' : undefined),
    regression: p.values.regression === true,
    skipBadRows: p.values['skip-bad-rows'] === true,
  };
}

/** "reviews" for data/reviews.csv. */
function ownTaskName(path: string): string {
  const base = path.replace(/\\/g, '/').split('/').filter(Boolean).pop() ?? 'data';
  return base.replace(/\.(csv|tsv|jsonl|json|txt)$/i, '') || 'data';
}

/** --seed and --threads, for every command that runs a model (declared with the training settings). */
export function seedThreadsOptions(d: { seed: number; threads: number }) {
  return settingOptions(pick(RUN_SETTINGS, 'seed', 'threads'), d);
}

/** --batch-size: how many examples (or sequences) one update or forward pass takes. */
export function batchSizeOption(d: number, help: string) {
  return options({
    'batch-size': {
      type: 'string',
      value: 'N',
      help,
      default: String(d),
      number: { int: true, min: 1, max: 65536 },
    },
  });
}

/** --backend: where onnxruntime runs in Node (teach, eval, predict). */
export const BACKEND_OPTION = options({
  backend: {
    type: 'string',
    value: 'B',
    help: "node: onnxruntime-node's native kernels; web: onnxruntime-web's WebAssembly on one thread, as the page runs it (the page's numbers bit for bit, slower; needs onnxruntime-web installed)",
    default: 'node',
    choices: ['node', 'web'],
  },
});

/** The onnxruntime module --backend names (loaded here, so commands that run no model do not load it). */
export async function backendOrt(p: Parsed<typeof BACKEND_OPTION>): Promise<OrtModule> {
  const backend = choice<typeof BACKEND_OPTION, NodeBackend>(p, 'backend', ['node', 'web']);
  // The page's backend runs on one thread: a --threads it would ignore is refused, not dropped silently.
  if (backend === 'web' && p.explicit.has('threads'))
    throw new UserError(
      '--threads: --backend web runs on one thread, as the page does; leave --threads out or use --backend node',
    );
  const { ortFor } = await import('../infer/load.js');
  return ortFor(backend);
}

/** Inference over many examples: eval, predict. */
export const INFERENCE_OPTIONS = options({
  'max-length': {
    type: 'string',
    value: 'N',
    help: 'maximum tokens per example (pairs truncated longest-first)',
    default: '128',
    number: { int: true, min: 3 },
  },
  ...batchSizeOption(64, 'examples per forward pass'),
  threads: {
    type: 'string',
    value: 'N',
    help: 'onnxruntime threads',
    default: '2',
    number: { int: true, min: 1, max: 256 },
  },
  ...BACKEND_OPTION,
});

/** K-BERT knowledge injection (finetune, distill): recorded in the model's config.json. */
export const KNOWLEDGE_OPTIONS = options({
  knowledge: {
    type: 'string',
    value: 'wordnet|FILE',
    help: 'inject knowledge K-BERT style: WordNet 3.1, or your triples (CSV/TSV: subject, predicate, object)',
  },
  'max-entities': {
    type: 'string',
    value: 'N',
    help: `with --knowledge: most branches per matched word (default ${DEFAULT_KNOWLEDGE.max_entities})`,
    number: { int: true, min: 1, max: 16 },
  },
  'max-branch-tokens': {
    type: 'string',
    value: 'N',
    help: `with --knowledge: most word pieces per branch, relation included (default ${DEFAULT_KNOWLEDGE.max_branch_tokens})`,
    number: { int: true, min: 1, max: 64 },
  },
  relations: {
    type: 'string',
    value: 'LIST',
    help: `with --knowledge wordnet: relations to inject, comma-separated (${WORDNET_RELATIONS.join(', ')}; default ${DEFAULT_WORDNET_RELATIONS.join(',')})`,
  },
  'visible-matrix': {
    type: 'string',
    value: 'on|off',
    help: "with --knowledge: K-BERT's visible matrix; off lets every token see every branch (ablation; default on)",
    choices: ['on', 'off'],
  },
});

type KnowledgeParsed = Parsed<typeof KNOWLEDGE_OPTIONS>;

/** The knowledge settings the flags ask for (undefined without --knowledge); other flags alone are an error. */
export function knowledgeSettings(p: KnowledgeParsed): KnowledgeSettings | undefined {
  const flagValue = str(p, 'knowledge');
  if (flagValue === undefined) {
    for (const name of ['relations', 'max-entities', 'max-branch-tokens', 'visible-matrix'] as const)
      if (given(p, name)) throw new UserError(`--${name}: only with --knowledge wordnet|FILE`);
    return undefined;
  }
  const relations = str(p, 'relations')
    ?.split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  return {
    knowledge: flagValue,
    ...(relations ? { relations } : {}),
    max_entities: optionalNum(p, 'max-entities') ?? DEFAULT_KNOWLEDGE.max_entities,
    max_branch_tokens: optionalNum(p, 'max-branch-tokens') ?? DEFAULT_KNOWLEDGE.max_branch_tokens,
    with_relation: DEFAULT_KNOWLEDGE.with_relation,
    visible_matrix: choice(p, 'visible-matrix', ['on', 'off'] as const, 'on') === 'on',
  };
}

/**
 * A new model's embedding variant (pretrain, finetune with --preset): each embedding kind's flag
 * (src/model/embeddings/: --hash, --lowrank-dim).
 */
export const EMBEDDING_OPTIONS = Object.fromEntries(
  embeddingFlags().map((f) => [f.name, { type: 'string', value: f.value, help: f.help }]),
) as { [K in EmbeddingFlagName]: { type: 'string'; value: string; help: string } };

/** The first embedding-variant flag given (--hash, --lowrank-dim), if any. */
export function embeddingFlagGiven(p: Parsed<typeof EMBEDDING_OPTIONS>): EmbeddingFlagName | undefined {
  return (Object.keys(EMBEDDING_OPTIONS) as EmbeddingFlagName[]).find((k) => str(p, k) !== undefined);
}

/**
 * The preset `name` with the embedding flags applied (each by its kind, which must be the preset's); with
 * no preset (a model directory goes on as it is), any of them is an error rather than silently ignored.
 */
export function presetWithEmbedding(
  p: Parsed<typeof EMBEDDING_OPTIONS>,
  name: string | undefined,
): BertConfig | undefined {
  const flagSet = embeddingFlagGiven(p);
  if (name === undefined) {
    if (flagSet) throw new UserError(`--${flagSet}: only with --preset (a new model)`);
    return undefined;
  }
  const c = preset(name);
  for (const flag of Object.keys(EMBEDDING_OPTIONS) as EmbeddingFlagName[]) {
    const text = str(p, flag);
    if (text !== undefined) applyEmbeddingFlag(c, flag, text, { name, all: PRESETS });
  }
  return c;
}

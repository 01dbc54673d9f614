/**
 * `minnow distill`: task distillation from a fine-tuned teacher (--task/--data: Hinton KD or TinyBERT's
 * two stages), or general distillation from a pre-trained teacher on a text corpus (--corpus: DistilBERT's
 * triple loss or TinyBERT's intermediate layers), into a student preset or directory. Each mode's defaults
 * are DEFAULT_TASK_DISTILL and DEFAULT_GENERAL_DISTILL; a flag of the other mode is an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  DEFAULT_DISTILBERT,
  DEFAULT_GENERAL_DISTILL,
  defaultGeneralConfig,
  type GeneralMethod,
  generalDistill,
  parseGeneralConfig,
} from '../distill/general.js';
import type { StudentSpec } from '../distill/init.js';
import { DEFAULT_DISTILL, type DistillConfig, parseDistillConfig } from '../distill/mapping.js';
import { DEFAULT_TASK_DISTILL, distill } from '../distill/task-distill.js';
import { PRESETS } from '../model/config.js';
import { DECAYS } from '../runtime/schedule.js';
import { assetPath } from '../util/assets.js';
import { checkOutDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { choice, command, flag, given, num, options, type Parsed, required, str } from './args.js';
import {
  corpusOptions,
  DATA_OPTIONS,
  dataSource,
  EMBEDDING_OPTIONS,
  embeddingFlagGiven,
  KNOWLEDGE_OPTIONS,
  knowledgeSettings,
  presetWithEmbedding,
  seedThreadsOptions,
} from './options.js';

const T = DEFAULT_TASK_DISTILL;
const G = DEFAULT_GENERAL_DISTILL;

/** Flags of task distillation only (defaults applied in code, so that a flag given in the wrong mode can be told). */
const TASK_OPTIONS = options({
  task: { ...DATA_OPTIONS.task, help: `task: ${DATA_OPTIONS.task.help}` },
  data: { ...DATA_OPTIONS.data, help: `task: ${DATA_OPTIONS.data.help}` },
  'text-column': { ...DATA_OPTIONS['text-column'], help: `task: ${DATA_OPTIONS['text-column'].help}` },
  'text-pair-column': {
    ...DATA_OPTIONS['text-pair-column'],
    help: `task: ${DATA_OPTIONS['text-pair-column'].help}`,
  },
  'label-column': { ...DATA_OPTIONS['label-column'], help: `task: ${DATA_OPTIONS['label-column'].help}` },
  regression: { ...DATA_OPTIONS.regression, help: `task: ${DATA_OPTIONS.regression.help}` },
  'skip-bad-rows': { ...DATA_OPTIONS['skip-bad-rows'], help: `task: ${DATA_OPTIONS['skip-bad-rows'].help}` },
  dev: {
    type: 'string',
    value: 'PATH',
    help: 'task: dev file (default: GLUE: the dev split next to --data; own data: rows held out, see --dev-fraction)',
  },
  'dev-fraction': {
    type: 'string',
    value: 'F',
    help: `task, own data without --dev: seeded fraction of the training rows held out as dev (default: ${T.devFraction})`,
    number: { min: 0, below: 1 },
  },
  alpha: {
    type: 'string',
    value: 'A',
    help: `task, hinton: weight of the soft loss; hard labels get 1 - A (default: ${T.alpha})`,
    number: { min: 0, max: 1 },
  },
  epochs: {
    type: 'string',
    value: 'N',
    help: `task: epochs of prediction-layer distillation (default: ${T.predictionEpochs})`,
    number: { int: true, min: 0 },
  },
  'intermediate-epochs': {
    type: 'string',
    value: 'N',
    help: `task, tinybert: epochs of intermediate-layer distillation first (default: ${T.intermediateEpochs})`,
    number: { int: true, min: 0 },
  },
  'max-length': {
    type: 'string',
    value: 'N',
    help: `task: maximum tokens per example (default: ${T.maxLength})`,
    number: { int: true, min: 3 },
  },
  'teacher-cache': {
    type: 'string',
    value: 'DIR',
    help: 'task: cache of the teacher logits, keyed by teacher and data; share it between students (default: OUT/teacher_cache)',
  },
  ...KNOWLEDGE_OPTIONS,
});

const CORPUS = corpusOptions('corpus: ');
const def = (v: string | number) => ` (default: ${v})`;
/** Flags of general (corpus) distillation only. */
const CORPUS_OPTIONS = options({
  ...CORPUS,
  corpus: { ...CORPUS.corpus, help: `${CORPUS.corpus.help}: general distillation` },
  tokens: { ...CORPUS.tokens, help: CORPUS.tokens.help + def(G.tokens) },
  'seq-len': { ...CORPUS['seq-len'], help: CORPUS['seq-len'].help + def(G.seqLen) },
  accumulation: { ...CORPUS.accumulation, help: CORPUS.accumulation.help + def(G.accumulation) },
  'mask-prob': {
    ...CORPUS['mask-prob'],
    help: `corpus, distilbert: fraction of tokens masked and predicted${def(G.masking.probability)}`,
  },
  'whole-word': { ...CORPUS['whole-word'], help: 'corpus, distilbert: mask whole words' },
  'eval-every': { ...CORPUS['eval-every'], help: CORPUS['eval-every'].help + def(G.evalEvery) },
  'valid-sequences': {
    ...CORPUS['valid-sequences'],
    help: CORPUS['valid-sequences'].help + def(G.validSequences),
  },
  'cache-dir': { ...CORPUS['cache-dir'], help: CORPUS['cache-dir'].help + def(G.cacheDir) },
  'weight-decay': {
    type: 'string',
    value: 'X',
    help: `corpus: AdamW decoupled weight decay${def(G.weightDecay)}`,
    number: { min: 0 },
  },
  'clip-norm': {
    type: 'string',
    value: 'X',
    help: `corpus: global gradient-norm clip (0 = off)${def(G.clipNorm)}`,
    number: { min: 0 },
  },
  'alpha-ce': {
    type: 'string',
    value: 'X',
    help: `corpus, distilbert: weight of the soft cross-entropy (T^2 KL) with the teacher${def(DEFAULT_DISTILBERT.alphaCe)}`,
    number: { min: 0 },
  },
  'alpha-mlm': {
    type: 'string',
    value: 'X',
    help: `corpus, distilbert: weight of the student's own MLM loss${def(DEFAULT_DISTILBERT.alphaMlm)}`,
    number: { min: 0 },
  },
  'alpha-cos': {
    type: 'string',
    value: 'X',
    help: `corpus, distilbert: weight of the cosine loss on last hidden states${def(DEFAULT_DISTILBERT.alphaCos)}`,
    number: { min: 0 },
  },
  'ce-positions': {
    type: 'string',
    value: 'masked|all',
    help: `corpus, distilbert: where the soft cross-entropy is taken: the masked positions, or all non-padding ones (DistilBERT's default; ~4x slower, more memory)${def(DEFAULT_DISTILBERT.positions)}`,
    choices: ['masked', 'all'],
  },
});

export const spec = command({
  name: 'distill',
  summary:
    'distil a teacher into a small student: on a task (Hinton KD, TinyBERT) or on a corpus (DistilBERT, TinyBERT general)',
  usage:
    'minnow distill --teacher DIR --student PRESET|DIR --out DIR --task T --data PATH [--method hinton|tinybert] [--config distill.json] ...\n' +
    '       minnow distill --teacher DIR --student PRESET|DIR --out DIR --corpus FILE [--valid FILE] [--method distilbert|tinybert] [--tokens N] [--config distill.json] [--init-from-teacher 0,2] [--resume] ...',
  details:
    'Two modes. Task distillation (--task, --data): the teacher is fine-tuned on the task; hinton trains on its\n' +
    'soft targets and the labels, tinybert matches intermediate layers, then the prediction layer.\n' +
    'General distillation (--corpus): the teacher is a pre-trained model (minnow or Hugging Face BERT layout) and\n' +
    'there is no task. distilbert (default) trains on masked corpus windows with alpha-ce * T^2 KL(teacher MLM ||\n' +
    'student MLM) over the whole vocabulary + alpha-mlm * MLM loss + alpha-cos * (1 - cos) of the last hidden states\n' +
    '(defaults 5 / 2 / 1, T 2; the teacher needs mlm_head.safetensors); tinybert matches embeddings, hidden states\n' +
    '(learned projections where widths differ) and attention scores (heads averaged where counts differ) on\n' +
    'unmasked windows. The output is a model directory (with mlm_head.safetensors when the student has an MLM head)\n' +
    'for minnow finetune --model DIR, minnow pretrain --model DIR or another distill. Options marked task: or corpus:\n' +
    'belong to that mode only. The distill config JSON takes a "distilbert" section in corpus mode:\n' +
    '{"distilbert": {"alphaCe": 5, "alphaMlm": 2, "alphaCos": 1, "temperature": 2, "positions": "masked"}}.',
  options: {
    teacher: {
      type: 'string',
      value: 'DIR',
      help: 'teacher model directory: fine-tuned (task mode) or pre-trained (corpus mode); task mode, hinton: several, comma-separated (A,B,C), distils their ensemble (the mean of their softmaxes at T)',
    },
    student: {
      type: 'string',
      value: 'PRESET|DIR',
      help: `student preset (${Object.keys(PRESETS).join(', ')}) or model directory (e.g. models/uno-eelbert)`,
    },
    ...EMBEDDING_OPTIONS,
    out: { type: 'string', value: 'DIR', help: 'output student model directory' },
    method: {
      type: 'string',
      value: 'M',
      help: 'task: hinton (default) or tinybert; corpus: distilbert (default) or tinybert',
      choices: ['hinton', 'tinybert', 'distilbert'],
    },
    config: {
      type: 'string',
      value: 'FILE',
      help: 'distill config JSON (intermediate mapping, temperature, ...); replaces the --method defaults',
    },
    temperature: {
      type: 'string',
      value: 'T',
      help: 'softmax temperature (default: hinton 2, tinybert 1, distilbert 2)',
      number: { above: 0 },
    },
    'init-from-teacher': {
      type: 'string',
      value: 'L,L,...',
      help: 'copy these 0-based teacher layers (and the embeddings; distilbert: the MLM head) into the student first',
    },
    'batch-size': {
      type: 'string',
      value: 'N',
      help: `examples (task) or sequences (corpus) per update (default: task ${T.batchSize}, corpus ${G.batchSize})`,
      number: { int: true, min: 1, max: 65536 },
    },
    lr: {
      type: 'string',
      value: 'X',
      help: `peak learning rate (default: task ${T.lr}, corpus ${G.lr})`,
      number: { above: 0 },
    },
    warmup: {
      type: 'string',
      value: 'F',
      help: `warmup fraction (default: task ${T.warmup}, corpus ${G.warmup})`,
      number: { min: 0, max: 1 },
    },
    decay: {
      type: 'string',
      value: 'KIND',
      help: `learning-rate decay after warmup: ${DECAYS.join(', ')} (default: task ${T.decay}, corpus ${G.decay})`,
      choices: DECAYS,
    },
    'checkpoint-every': {
      type: 'string',
      value: 'N',
      help: `updates between checkpoints (default: task ${T.checkpointEvery} = end of each stage, corpus ${G.checkpointEvery})`,
      number: { int: true, min: 0 },
    },
    resume: {
      type: 'boolean',
      help: 'continue from the latest checkpoint in OUT (task: of each stage; bit-exact)',
    },
    ...seedThreadsOptions(T),
    json: { type: 'boolean', help: 'print the result as JSON' },
    ...TASK_OPTIONS,
    ...CORPUS_OPTIONS,
  },
});

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${path}: ${code === 'ENOENT' ? 'not found' : `invalid JSON (${(e as Error).message})`}`,
    );
  }
}

type DistillParsed = Parsed<typeof spec.options>;

function initLayers(p: DistillParsed): number[] | undefined {
  return str(p, 'init-from-teacher')
    ?.split(',')
    .map((x) => {
      const n = Number(x);
      if (x.trim() === '' || !Number.isInteger(n) || n < 0)
        throw new UserError(`--init-from-teacher: "${x}" is not a layer number`);
      return n;
    });
}

/**
 * The student: a preset (with its --hash / --lowrank-dim settings) or a model directory; a name that is
 * neither gets one error naming both.
 */
function studentSpec(p: DistillParsed, student: string): StudentSpec {
  if (PRESETS[student]) return { preset: student, config: presetWithEmbedding(p, student)! }; // a name: never undefined
  if (existsSync(student)) {
    const flagSet = embeddingFlagGiven(p);
    if (flagSet)
      throw new UserError(
        `--${flagSet}: only with a preset --student (a new model), not the directory ${student}`,
      );
    return { dir: student };
  }
  throw new UserError(
    `--student ${student}: not a preset (${Object.keys(PRESETS).join(', ')}) and no model directory of that name`,
  );
}

export async function run(p: DistillParsed): Promise<void> {
  const [teacher, ...ensemble] = required(p, 'teacher').split(',');
  if ([teacher, ...ensemble].some((d) => d.trim() === ''))
    throw new UserError(`--teacher: an empty directory name in "${required(p, 'teacher')}"`);
  const student = studentSpec(p, required(p, 'student'));
  const out = required(p, 'out');
  if (str(p, 'corpus') !== undefined) {
    if (ensemble.length)
      throw new UserError(
        '--teacher: general distillation (--corpus) takes one teacher; an ensemble is for task distillation',
      );
    return runGeneral(p, teacher, student, out);
  }
  const stray = Object.keys(CORPUS_OPTIONS).find((k) => given(p, k as keyof typeof CORPUS_OPTIONS));
  if (stray)
    throw new UserError(
      `--${stray} belongs to general distillation: give --corpus FILE (or drop --${stray})`,
    );
  const method = str(p, 'method') ?? 'hinton';
  if (method !== 'hinton' && method !== 'tinybert')
    throw new UserError(
      `--method: expected hinton or tinybert for task distillation, got "${method}"` +
        (method === 'distilbert' ? ' (distilbert is general distillation: give --corpus FILE)' : ''),
    );
  const configPath = str(p, 'config');
  const base: DistillConfig =
    method === 'hinton'
      ? { ...DEFAULT_DISTILL, temperature: 2, intermediate: [] }
      : {
          ...DEFAULT_DISTILL,
          temperature: 1,
          alpha: 1,
          intermediate: { uniform: { attention: true } },
          averageHeads: true,
        };
  const config = configPath ? parseDistillConfig(readJson(configPath), configPath) : base;
  if (given(p, 'temperature')) config.temperature = num(p, 'temperature');
  if (!configPath) config.alpha = method === 'hinton' ? num(p, 'alpha', T.alpha) : 1;
  const src = dataSource(p);
  const devPath = str(p, 'dev');
  const hasIntermediate = Array.isArray(config.intermediate) ? config.intermediate.length > 0 : true;
  const settings = {
    intermediateEpochs: hasIntermediate ? num(p, 'intermediate-epochs', T.intermediateEpochs) : 0,
    predictionEpochs: num(p, 'epochs', T.predictionEpochs),
    batchSize: num(p, 'batch-size', T.batchSize),
    lr: num(p, 'lr', T.lr),
    warmup: num(p, 'warmup', T.warmup),
    decay: choice(p, 'decay', DECAYS, T.decay),
    maxLength: num(p, 'max-length', T.maxLength),
    devFraction: num(p, 'dev-fraction', T.devFraction),
    seed: num(p, 'seed'),
    threads: num(p, 'threads'),
    checkpointEvery: num(p, 'checkpoint-every', T.checkpointEvery),
    resume: flag(p, 'resume'),
  };
  checkOutDir(out);
  const teacherCache = str(p, 'teacher-cache');
  if (teacherCache !== undefined) checkOutDir(teacherCache, '--teacher-cache');
  const res = await distill({
    teacher,
    ensemble,
    student,
    initLayers: initLayers(p),
    vocab: assetPath('bert-base-uncased-vocab.txt'),
    src,
    dev: devPath ? { ...src, data: devPath } : undefined,
    out,
    config,
    teacherCache,
    knowledge: knowledgeSettings(p),
    ...settings,
  });
  if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(res)}\n`);
  else {
    const fmt = (m: Record<string, number | undefined>) =>
      Object.entries(m)
        .map(([k, v]) => `${k} ${(100 * (v ?? Number.NaN)).toFixed(2)}`)
        .join(', ');
    process.stdout.write(
      `${res.task} dev: student ${fmt(res.metrics)} (teacher ${fmt(res.teacher.metrics)}); model written to ${out}\n`,
    );
  }
}

/** General distillation on a corpus (--corpus). */
async function runGeneral(
  p: DistillParsed,
  teacher: string,
  student: StudentSpec,
  out: string,
): Promise<void> {
  const stray = Object.keys(TASK_OPTIONS).find((k) => given(p, k as keyof typeof TASK_OPTIONS));
  if (stray)
    throw new UserError(`--${stray} belongs to task distillation, not to general distillation with --corpus`);
  const method = str(p, 'method') ?? 'distilbert';
  if (method !== 'distilbert' && method !== 'tinybert')
    throw new UserError(
      `--method: general distillation with --corpus takes distilbert or tinybert, got "${method}"` +
        (method === 'hinton' ? ' (hinton distils a task: give --task and --data)' : ''),
    );
  const m = method as GeneralMethod;
  if (m === 'tinybert') {
    const distilbertOnly = [
      'alpha-ce',
      'alpha-mlm',
      'alpha-cos',
      'ce-positions',
      'mask-prob',
      'whole-word',
      'temperature',
    ] as const;
    const f = distilbertOnly.find((k) => given(p, k));
    if (f)
      throw new UserError(
        `--${f} applies to --method distilbert; tinybert general distillation uses unmasked windows and no MLM`,
      );
  }
  const configPath = str(p, 'config');
  const { config, distilbert } = configPath
    ? parseGeneralConfig(readJson(configPath), configPath, m)
    : { config: defaultGeneralConfig(m), distilbert: { ...DEFAULT_DISTILBERT } };
  // Flags override the config file.
  const override = (f: 'alpha-ce' | 'alpha-mlm' | 'alpha-cos', key: 'alphaCe' | 'alphaMlm' | 'alphaCos') => {
    if (given(p, f) || !configPath) distilbert[key] = num(p, f, DEFAULT_DISTILBERT[key]);
  };
  override('alpha-ce', 'alphaCe');
  override('alpha-mlm', 'alphaMlm');
  override('alpha-cos', 'alphaCos');
  if (given(p, 'temperature')) distilbert.temperature = num(p, 'temperature');
  if (given(p, 'ce-positions') || !configPath)
    distilbert.positions = choice(
      p,
      'ce-positions',
      ['masked', 'all'] as const,
      DEFAULT_DISTILBERT.positions,
    );
  const settings = {
    tokens: num(p, 'tokens', G.tokens),
    seqLen: num(p, 'seq-len', G.seqLen),
    batchSize: num(p, 'batch-size', G.batchSize),
    accumulation: num(p, 'accumulation', G.accumulation),
    lr: num(p, 'lr', G.lr),
    warmup: num(p, 'warmup', G.warmup),
    decay: choice(p, 'decay', DECAYS, G.decay),
    weightDecay: num(p, 'weight-decay', G.weightDecay),
    clipNorm: num(p, 'clip-norm', G.clipNorm),
    masking: {
      ...G.masking,
      probability: num(p, 'mask-prob', G.masking.probability),
      wholeWord: flag(p, 'whole-word'),
    },
    seed: num(p, 'seed'),
    threads: num(p, 'threads'),
    evalEvery: num(p, 'eval-every', G.evalEvery),
    validSequences: num(p, 'valid-sequences', G.validSequences),
    checkpointEvery: num(p, 'checkpoint-every', G.checkpointEvery),
    resume: flag(p, 'resume'),
    cacheDir: str(p, 'cache-dir') ?? G.cacheDir,
  };
  checkOutDir(out);
  const res = await generalDistill({
    teacher,
    student,
    initLayers: initLayers(p),
    vocab: assetPath('bert-base-uncased-vocab.txt'),
    method: m,
    config,
    distilbert,
    corpus: str(p, 'corpus')!,
    valid: str(p, 'valid'),
    out,
    ...settings,
  });
  const summary = {
    out,
    method: res.method,
    updates: res.updates,
    tokens_per_s: Math.round(res.tokensPerSecond),
    evals: res.evals,
  };
  if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const first = res.evals[0];
    const last = res.evals[res.evals.length - 1];
    const loss =
      first && last && first !== last
        ? `; valid_loss ${first.valid_loss.toFixed(4)} -> ${last.valid_loss.toFixed(4)}`
        : last
          ? `; valid_loss ${last.valid_loss.toFixed(4)}`
          : '';
    process.stdout.write(
      `general distillation (${res.method}): ${res.updates} updates, ${(res.tokensPerSecond / 1000).toFixed(1)}k tokens/s${loss}; model written to ${out}\n`,
    );
  }
}

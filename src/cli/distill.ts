/**
 * `minnow distill`: task distillation from a fine-tuned teacher (--task/--data: Hinton KD or TinyBERT's
 * two stages), or general distillation from a pre-trained teacher on a text corpus (--corpus: DistilBERT's
 * triple loss or TinyBERT's intermediate layers), into a student preset or directory.
 */
import { readFileSync } from 'node:fs';
import { distill } from '../distill/task-distill.js';
import {
  type CePositions,
  DEFAULT_DISTILBERT,
  defaultGeneralConfig,
  type GeneralMethod,
  generalDistill,
  parseGeneralConfig,
} from '../distill/general.js';
import { DEFAULT_DISTILL, type DistillConfig, parseDistillConfig } from '../distill/mapping.js';
import { PRESETS } from '../model/config.js';
import { UserError } from '../util/errors.js';
import { type CommandSpec, num, type OptionSpec, type Parsed, str } from './args.js';
import { assetPath } from '../util/assets.js';
import { DATA_OPTIONS, dataSource } from './data-options.js';

/** Flags of task distillation only. */
const TASK_OPTIONS: Record<string, OptionSpec> = {
  ...Object.fromEntries(Object.entries(DATA_OPTIONS).map(([k, o]) => [k, { ...o, help: `task: ${o.help}` }])),
  dev: {
    type: 'string',
    value: 'PATH',
    help: 'task: dev file (default: the dev split next to --data for GLUE)',
  },
  alpha: {
    type: 'string',
    value: 'A',
    help: 'task, hinton: weight of the soft loss; hard labels get 1 - A (default: 0.5)',
  },
  epochs: { type: 'string', value: 'N', help: 'task: epochs of prediction-layer distillation (default: 3)' },
  'intermediate-epochs': {
    type: 'string',
    value: 'N',
    help: 'task, tinybert: epochs of intermediate-layer distillation first (default: 3)',
  },
  'max-length': { type: 'string', value: 'N', help: 'task: maximum tokens per example (default: 128)' },
  'teacher-cache': {
    type: 'string',
    value: 'DIR',
    help: 'task: cache of the teacher logits, keyed by teacher and data; share it between students (default: OUT/teacher_cache)',
  },
};

/** Flags of general (corpus) distillation only, with their defaults (applied in code, so that a flag given in the wrong mode can be told). */
const CORPUS_DEFAULTS: Record<string, string> = {
  tokens: '1000000',
  'seq-len': '128',
  accumulation: '1',
  decay: 'linear',
  'weight-decay': '0.01',
  'clip-norm': '1',
  'mask-prob': '0.15',
  'eval-every': '0',
  'valid-sequences': '512',
  'checkpoint-every': '500',
  'cache-dir': '.minnow-cache',
  'alpha-ce': String(DEFAULT_DISTILBERT.alphaCe),
  'alpha-mlm': String(DEFAULT_DISTILBERT.alphaMlm),
  'alpha-cos': String(DEFAULT_DISTILBERT.alphaCos),
  'ce-positions': DEFAULT_DISTILBERT.positions,
};
const corpusOption = (value: string, help: string, type: 'string' | 'boolean' = 'string'): OptionSpec =>
  type === 'boolean' ? { type, help: `corpus: ${help}` } : { type, value, help: `corpus: ${help}` };
const withDefault = (name: string, value: string, help: string) =>
  corpusOption(value, `${help} (default: ${CORPUS_DEFAULTS[name]})`);
const CORPUS_OPTIONS: Record<string, OptionSpec> = {
  corpus: corpusOption('FILE', 'training text (UTF-8, one passage per line): general distillation'),
  valid: corpusOption(
    'FILE',
    'validation text (every loss term is reported, before training and at the end)',
  ),
  tokens: withDefault('tokens', 'N', 'training token budget'),
  'seq-len': withDefault('seq-len', 'N', 'sequence length including [CLS] and [SEP]'),
  accumulation: withDefault('accumulation', 'N', 'micro-batches per update (bounds memory)'),
  decay: withDefault('decay', 'KIND', 'linear or cosine'),
  'weight-decay': withDefault('weight-decay', 'X', 'AdamW decoupled weight decay'),
  'clip-norm': withDefault('clip-norm', 'X', 'global gradient-norm clip (0 = off)'),
  'mask-prob': withDefault('mask-prob', 'P', 'distilbert: fraction of tokens masked and predicted'),
  'whole-word': corpusOption('', 'distilbert: mask whole words', 'boolean'),
  'alpha-ce': withDefault(
    'alpha-ce',
    'X',
    'distilbert: weight of the soft cross-entropy (T^2 KL) with the teacher',
  ),
  'alpha-mlm': withDefault('alpha-mlm', 'X', "distilbert: weight of the student's own MLM loss"),
  'alpha-cos': withDefault('alpha-cos', 'X', 'distilbert: weight of the cosine loss on last hidden states'),
  'ce-positions': withDefault(
    'ce-positions',
    'masked|all',
    "distilbert: where the soft cross-entropy is taken: the masked positions, or all non-padding ones (DistilBERT's default; ~4x slower, more memory)",
  ),
  'eval-every': withDefault('eval-every', 'N', 'updates between validation runs (0: only at the end)'),
  'valid-sequences': withDefault('valid-sequences', 'N', 'validation windows scored'),
  'checkpoint-every': withDefault('checkpoint-every', 'N', 'updates between checkpoints'),
  resume: corpusOption('', 'continue from the latest checkpoint in DIR/checkpoints (bit-exact)', 'boolean'),
  'cache-dir': withDefault('cache-dir', 'DIR', 'token caches of the corpora'),
};

export const spec: CommandSpec = {
  name: 'distill',
  summary:
    'distil a teacher into a small student: on a task (Hinton KD, TinyBERT) or on a corpus (DistilBERT, TinyBERT general)',
  usage:
    'minnow distill --teacher DIR --student PRESET|DIR --out DIR --task T --data PATH [--method hinton|tinybert] [--config distill.json] ...\n' +
    '       minnow distill --teacher DIR --student PRESET|DIR --out DIR --corpus FILE [--valid FILE] [--method distilbert|tinybert] [--tokens N] [--config distill.json] [--init-from-teacher 0,2] [--resume] ...',
  positionals:
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
      help: 'teacher model directory: fine-tuned (task mode) or pre-trained (corpus mode)',
    },
    student: {
      type: 'string',
      value: 'PRESET|DIR',
      help: 'student preset (e.g. uno-eelbert) or model directory (e.g. models/uno-eelbert)',
    },
    out: { type: 'string', value: 'DIR', help: 'output student model directory' },
    method: {
      type: 'string',
      value: 'M',
      help: 'task: hinton (default) or tinybert; corpus: distilbert (default) or tinybert',
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
    },
    'init-from-teacher': {
      type: 'string',
      value: 'L,L,...',
      help: 'copy these 0-based teacher layers (and the embeddings; distilbert: the MLM head) into the student first',
    },
    'batch-size': {
      type: 'string',
      value: 'N',
      help: 'examples (task) or sequences (corpus) per update',
      default: '32',
    },
    lr: { type: 'string', value: 'X', help: 'peak learning rate (default: task 2e-4, corpus 5e-4)' },
    warmup: { type: 'string', value: 'F', help: 'warmup fraction (default: task 0.1, corpus 0.05)' },
    seed: { type: 'string', value: 'N', help: 'random seed', default: '0' },
    threads: { type: 'string', value: 'N', help: 'onnxruntime threads', default: '2' },
    json: { type: 'boolean', help: 'print the result as JSON' },
    ...TASK_OPTIONS,
    ...CORPUS_OPTIONS,
  },
};

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

const given = (p: Parsed, name: string) => p.values[name] !== undefined && p.values[name] !== false;

/** A numeric flag, or its default when absent. */
function numOr(p: Parsed, name: string, def: string, opts: { int?: boolean; min?: number } = {}): number {
  return num({ ...p, values: { ...p.values, [name]: str(p, name) ?? def } }, name, opts);
}

function initLayers(p: Parsed): number[] | undefined {
  return str(p, 'init-from-teacher')
    ?.split(',')
    .map((x) => {
      const n = Number(x);
      if (x.trim() === '' || !Number.isInteger(n))
        throw new UserError(`--init-from-teacher: "${x}" is not a layer number`);
      return n;
    });
}

export async function run(p: Parsed): Promise<void> {
  const teacher = str(p, 'teacher');
  const student = str(p, 'student');
  const out = str(p, 'out');
  if (!teacher || !student || !out)
    throw new UserError('distill: --teacher DIR, --student PRESET|DIR and --out DIR are required');
  if (str(p, 'corpus') !== undefined) return runGeneral(p, teacher, student, out);
  const stray = Object.keys(CORPUS_OPTIONS).find((k) => given(p, k));
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
  if (str(p, 'temperature') !== undefined) config.temperature = num(p, 'temperature', { min: 0 });
  if (!configPath) config.alpha = method === 'hinton' ? numOr(p, 'alpha', '0.5', { min: 0 }) : 1;
  const studentSpec = PRESETS[student] ? { preset: student } : { dir: student };
  const src = dataSource(p);
  const devPath = str(p, 'dev');
  const hasIntermediate = Array.isArray(config.intermediate) ? config.intermediate.length > 0 : true;
  const res = await distill({
    teacher,
    student: studentSpec,
    initLayers: initLayers(p),
    vocab: assetPath('bert-base-uncased-vocab.txt'),
    src,
    dev: devPath ? { ...src, data: devPath } : undefined,
    out,
    config,
    intermediateEpochs: hasIntermediate ? numOr(p, 'intermediate-epochs', '3', { int: true, min: 0 }) : 0,
    predictionEpochs: numOr(p, 'epochs', '3', { int: true, min: 0 }),
    batchSize: num(p, 'batch-size', { int: true, min: 1 }),
    lr: numOr(p, 'lr', '2e-4', { min: 0 }),
    warmup: numOr(p, 'warmup', '0.1', { min: 0 }),
    maxLength: numOr(p, 'max-length', '128', { int: true, min: 3 }),
    seed: num(p, 'seed', { int: true }),
    threads: num(p, 'threads', { int: true, min: 1 }),
    teacherCache: str(p, 'teacher-cache'),
  });
  if (p.values.json) process.stdout.write(`${JSON.stringify(res)}\n`);
  else {
    const fmt = (m: Record<string, number | undefined>) =>
      Object.entries(m)
        .map(([k, v]) => `${k} ${(100 * (v ?? Number.NaN)).toFixed(2)}`)
        .join(', ');
    process.stdout.write(
      `${res.task} dev: student ${fmt(res.metrics)} (teacher ${fmt(res.teacher)}); model written to ${out}\n`,
    );
  }
}

/** General distillation on a corpus (--corpus). */
async function runGeneral(p: Parsed, teacher: string, student: string, out: string): Promise<void> {
  const stray = Object.keys(TASK_OPTIONS).find((k) => given(p, k));
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
    const flag = [
      'alpha-ce',
      'alpha-mlm',
      'alpha-cos',
      'ce-positions',
      'mask-prob',
      'whole-word',
      'temperature',
    ].find((k) => given(p, k));
    if (flag)
      throw new UserError(
        `--${flag} applies to --method distilbert; tinybert general distillation uses unmasked windows and no MLM`,
      );
  }
  const configPath = str(p, 'config');
  const { config, distilbert } = configPath
    ? parseGeneralConfig(readJson(configPath), configPath, m)
    : { config: defaultGeneralConfig(m), distilbert: { ...DEFAULT_DISTILBERT } };
  // Flags override the config file.
  const override = (flag: string, key: 'alphaCe' | 'alphaMlm' | 'alphaCos') => {
    if (given(p, flag) || !configPath) distilbert[key] = numOr(p, flag, CORPUS_DEFAULTS[flag], { min: 0 });
  };
  override('alpha-ce', 'alphaCe');
  override('alpha-mlm', 'alphaMlm');
  override('alpha-cos', 'alphaCos');
  if (given(p, 'temperature')) {
    distilbert.temperature = num(p, 'temperature', { min: 0 });
    if (distilbert.temperature === 0) throw new UserError('--temperature: must be > 0, got 0');
  }
  if (given(p, 'ce-positions') || !configPath) {
    const where = str(p, 'ce-positions') ?? CORPUS_DEFAULTS['ce-positions'];
    if (where !== 'masked' && where !== 'all')
      throw new UserError(`--ce-positions: expected masked or all, got "${where}"`);
    distilbert.positions = where as CePositions;
  }
  const decay = str(p, 'decay') ?? CORPUS_DEFAULTS.decay;
  if (decay !== 'linear' && decay !== 'cosine')
    throw new UserError(`--decay: expected linear or cosine, got "${decay}"`);
  const n = (name: string, opts: { int?: boolean; min?: number } = {}) =>
    numOr(p, name, CORPUS_DEFAULTS[name], opts);
  const res = await generalDistill({
    teacher,
    student: PRESETS[student] ? { preset: student } : { dir: student },
    initLayers: initLayers(p),
    vocab: assetPath('bert-base-uncased-vocab.txt'),
    method: m,
    config,
    distilbert,
    corpus: str(p, 'corpus')!,
    valid: str(p, 'valid'),
    out,
    tokens: n('tokens', { int: true, min: 1 }),
    seqLen: n('seq-len', { int: true, min: 8 }),
    batchSize: num(p, 'batch-size', { int: true, min: 1 }),
    accumulation: n('accumulation', { int: true, min: 1 }),
    lr: numOr(p, 'lr', '5e-4', { min: 0 }),
    warmup: numOr(p, 'warmup', '0.05', { min: 0 }),
    decay,
    weightDecay: n('weight-decay', { min: 0 }),
    clipNorm: n('clip-norm', { min: 0 }),
    masking: {
      probability: n('mask-prob', { min: 0 }),
      maskFraction: 0.8,
      randomFraction: 0.1,
      wholeWord: !!p.values['whole-word'],
    },
    seed: num(p, 'seed', { int: true }),
    threads: num(p, 'threads', { int: true, min: 1 }),
    evalEvery: n('eval-every', { int: true, min: 0 }),
    validSequences: n('valid-sequences', { int: true, min: 1 }),
    checkpointEvery: n('checkpoint-every', { int: true, min: 0 }),
    resume: !!p.values.resume,
    cacheDir: str(p, 'cache-dir') ?? CORPUS_DEFAULTS['cache-dir'],
  });
  const summary = {
    out,
    method: res.method,
    updates: res.updates,
    tokens_per_s: Math.round(res.tokensPerSecond),
    evals: res.evals,
  };
  if (p.values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
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

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
  DISTILBERT_SCHEMA,
  defaultGeneralConfig,
  GENERAL_DISTILL_SETTINGS,
  type GeneralMethod,
  generalDistill,
  parseGeneralConfig,
} from '../distill/general.js';
import type { StudentSpec } from '../distill/init.js';
import { describeSchema } from '../distill/config-schema.js';
import { DISTILL_SCHEMA, hasIntermediate, parseDistillConfig } from '../distill/mapping.js';
import {
  DEFAULT_TASK_DISTILL,
  distill,
  TASK_DISTILL_SETTINGS,
  TASK_METHODS,
} from '../distill/task-distill.js';
import { PRESETS } from '../model/config.js';
import { BERT_VOCAB } from '../util/assets.js';
import { checkOutDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { getPath } from '../util/settings.js';
import {
  command,
  configOf,
  flag,
  given,
  type OptionSpec,
  options,
  type Parsed,
  required,
  settingOptions,
  str,
} from './args.js';
import {
  DATA_OPTIONS,
  dataSource,
  EMBEDDING_OPTIONS,
  embeddingFlagGiven,
  KNOWLEDGE_OPTIONS,
  knowledgeSettings,
  presetWithEmbedding,
} from './options.js';

const T = DEFAULT_TASK_DISTILL;
const G = DEFAULT_GENERAL_DISTILL;
const DB = DEFAULT_DISTILBERT;

/** Each setting's default in a mode, as --help says it: the task settings of both methods where they differ. */
function defaultIn(mode: 'task' | 'corpus', field: string): string {
  if (mode === 'corpus') return String(getPath(G, field));
  const byMethod = Object.entries(TASK_METHODS).map(([m, config]) => [m, getPath({ ...T, config }, field)]);
  return new Set(byMethod.map(([, v]) => v)).size === 1
    ? String(byMethod[0][1])
    : byMethod.map(([m, v]) => `${m} ${v}`).join(', ');
}

/**
 * The settings of both modes as one option table, without defaults (each mode applies its own, so that a
 * flag given in the wrong mode can be told): a flag of one mode only says which in its help.
 */
function modeSettings() {
  const task = settingOptions(TASK_DISTILL_SETTINGS);
  const corpus = settingOptions(GENERAL_DISTILL_SETTINGS);
  const out: Record<string, OptionSpec> = {};
  const shown = (o: OptionSpec, text: string) => (o.type === 'boolean' ? {} : { defaultText: text });
  for (const [flag, o] of Object.entries(task) as [string, OptionSpec][]) {
    const c = (corpus as Record<string, OptionSpec>)[flag];
    const [t, g] = [defaultIn('task', o.field!), c && defaultIn('corpus', c.field!)];
    out[flag] = c
      ? {
          ...o,
          help: o.help === c.help ? o.help : `task: ${o.help}; corpus: ${c.help}`,
          ...shown(o, t === g ? t : `task ${t}, corpus ${g}`),
        }
      : { ...o, help: `task: ${o.help}`, ...shown(o, t) };
  }
  for (const [flag, o] of Object.entries(corpus) as [string, OptionSpec][])
    if (!out[flag])
      out[flag] = { ...o, help: `corpus: ${o.help}`, ...shown(o, defaultIn('corpus', o.field!)) };
  return out as typeof task & typeof corpus;
}

const SETTINGS = modeSettings();
const taskFlags = new Set<string>(Object.values(TASK_DISTILL_SETTINGS).map((s) => s.flag));
const corpusFlags = new Set<string>(Object.values(GENERAL_DISTILL_SETTINGS).map((s) => s.flag));

/** What task distillation reads (the data, its dev split, the teacher cache, K-BERT knowledge). */
const TASK_INPUTS = options({
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
  'teacher-cache': {
    type: 'string',
    value: 'DIR',
    help: 'task: cache of the teacher logits, keyed by teacher and data; share it between students (default: OUT/teacher_cache)',
  },
  ...KNOWLEDGE_OPTIONS,
});

/** What general distillation reads. */
const CORPUS_INPUTS = options({
  corpus: {
    type: 'string',
    value: 'FILE',
    help: 'corpus: training text (UTF-8, one passage per line): general distillation',
  },
  valid: {
    type: 'string',
    value: 'FILE',
    help: 'corpus: validation text (loss and accuracy are reported)',
  },
});

/** Flags of one mode only: given in the other, an error. */
const TASK_ONLY = [...Object.keys(TASK_INPUTS), ...[...taskFlags].filter((f) => !corpusFlags.has(f))];
const CORPUS_ONLY = ['valid', ...[...corpusFlags].filter((f) => !taskFlags.has(f))];

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
    `(defaults ${DB.alphaCe} / ${DB.alphaMlm} / ${DB.alphaCos}, T ${DB.temperature}; the teacher needs mlm_head.safetensors); tinybert matches embeddings, hidden states\n` +
    '(learned projections where widths differ) and attention scores (heads averaged where counts differ) on\n' +
    'unmasked windows. The output is a model directory (with mlm_head.safetensors when the student has an MLM head)\n' +
    'for minnow finetune --model DIR, minnow pretrain --model DIR or another distill. Options marked task: or corpus:\n' +
    'belong to that mode only.\n' +
    'The distill config JSON (--config; corpus mode: without temperature, alpha and predictionWeight):\n' +
    describeSchema(DISTILL_SCHEMA).join('\n') +
    '\nand in corpus mode "distilbert":\n' +
    describeSchema(DISTILBERT_SCHEMA).join('\n'),
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
      help: `task: ${Object.keys(TASK_METHODS).join(' or ')} (default ${T.method}); corpus: distilbert or tinybert (default ${G.method})`,
      choices: ['hinton', 'tinybert', 'distilbert'],
    },
    config: {
      type: 'string',
      value: 'FILE',
      help: 'distill config JSON (intermediate mapping, temperature, ...); replaces the --method defaults',
    },
    'init-from-teacher': {
      type: 'string',
      value: 'L,L,...',
      help: 'copy these 0-based teacher layers (and the embeddings; distilbert: the MLM head) into the student first',
    },
    json: { type: 'boolean', help: 'print the result as JSON' },
    ...SETTINGS,
    ...TASK_INPUTS,
    ...CORPUS_INPUTS,
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
  const stray = CORPUS_ONLY.find((k) => given(p, k as keyof typeof spec.options & string));
  if (stray)
    throw new UserError(
      `--${stray} belongs to general distillation: give --corpus FILE (or drop --${stray})`,
    );
  const method = str(p, 'method') ?? T.method;
  if (method !== 'hinton' && method !== 'tinybert')
    throw new UserError(
      `--method: expected hinton or tinybert for task distillation, got "${method}"` +
        (method === 'distilbert' ? ' (distilbert is general distillation: give --corpus FILE)' : ''),
    );
  const configPath = str(p, 'config');
  // The method's config, or the config file's; the flags given override either.
  const config = configPath ? parseDistillConfig(readJson(configPath), configPath) : TASK_METHODS[method];
  const intermediate = hasIntermediate(config);
  const what = configPath ? `${configPath} maps intermediate layers` : '--method tinybert';
  if (intermediate && given(p, 'alpha'))
    throw new UserError(
      `--alpha weighs Hinton KD's soft and hard losses; ${what}, whose prediction stage takes the soft targets alone: drop --alpha`,
    );
  if (!intermediate && given(p, 'intermediate-epochs'))
    throw new UserError(
      `--intermediate-epochs: no intermediate layers to distil (${configPath ? `${configPath} has an empty "intermediate"` : `--method ${method}`}): drop it, or use --method tinybert`,
    );
  const { method: _, ...settings } = configOf(p, TASK_DISTILL_SETTINGS, { ...T, config });
  if (!intermediate) settings.intermediateEpochs = 0;
  const src = dataSource(p);
  const devPath = str(p, 'dev');
  checkOutDir(out);
  const teacherCache = str(p, 'teacher-cache');
  if (teacherCache !== undefined) checkOutDir(teacherCache, '--teacher-cache');
  const res = await distill({
    teacher,
    ensemble,
    student,
    initLayers: initLayers(p),
    vocab: BERT_VOCAB,
    src,
    dev: devPath ? { ...src, data: devPath } : undefined,
    out,
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
  const stray = TASK_ONLY.find((k) => given(p, k as keyof typeof spec.options & string));
  if (stray)
    throw new UserError(`--${stray} belongs to task distillation, not to general distillation with --corpus`);
  const method = str(p, 'method') ?? G.method;
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
  // The flags given override the config file's values (or the defaults).
  const settings = configOf(p, GENERAL_DISTILL_SETTINGS, { ...G, method: m, config, distilbert });
  checkOutDir(out);
  const res = await generalDistill({
    teacher,
    student,
    initLayers: initLayers(p),
    vocab: BERT_VOCAB,
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

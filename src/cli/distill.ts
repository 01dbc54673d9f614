/** `minnow distill`: task distillation from a fine-tuned teacher into a student preset or directory. */
import { readFileSync } from 'node:fs';
import { distill } from '../distill/distill.js';
import { DEFAULT_DISTILL, type DistillConfig, parseDistillConfig } from '../distill/mapping.js';
import { PRESETS } from '../model/config.js';
import { UserError } from '../util/errors.js';
import { type CommandSpec, num, type Parsed, str } from './args.js';
import { assetPath } from '../util/assets.js';
import { DATA_OPTIONS, dataSource } from './data-options.js';

export const spec: CommandSpec = {
  name: 'distill',
  summary: 'distil a fine-tuned teacher into a small student (Hinton KD or TinyBERT)',
  usage:
    'minnow distill --teacher DIR --student PRESET|DIR --task T --data PATH --out DIR [--method hinton|tinybert] [--config distill.json]',
  options: {
    teacher: {
      type: 'string',
      value: 'DIR',
      help: 'fine-tuned teacher model directory (minnow or Hugging Face BERT layout)',
    },
    student: {
      type: 'string',
      value: 'PRESET|DIR',
      help: 'student preset (e.g. uno-eelbert) or model directory (e.g. models/uno-eelbert)',
    },
    ...DATA_OPTIONS,
    dev: { type: 'string', value: 'PATH', help: 'dev file (default: the dev split next to --data for GLUE)' },
    out: { type: 'string', value: 'DIR', help: 'output student model directory' },
    method: {
      type: 'string',
      value: 'M',
      help: 'hinton (soft targets + hard labels) or tinybert (intermediate layers, then prediction layer)',
      default: 'hinton',
    },
    config: {
      type: 'string',
      value: 'FILE',
      help: 'distill config JSON (temperature, alpha, intermediate mapping, ...); overrides --method defaults',
    },
    temperature: {
      type: 'string',
      value: 'T',
      help: 'prediction-layer temperature (default: hinton 2, tinybert 1)',
    },
    alpha: {
      type: 'string',
      value: 'A',
      help: 'weight of the soft loss; hard labels get 1 - A',
      default: '0.5',
    },
    epochs: { type: 'string', value: 'N', help: 'epochs of prediction-layer distillation', default: '3' },
    'intermediate-epochs': {
      type: 'string',
      value: 'N',
      help: 'tinybert: epochs of intermediate-layer distillation first',
      default: '3',
    },
    'batch-size': { type: 'string', value: 'N', help: 'examples per update', default: '32' },
    lr: { type: 'string', value: 'X', help: 'peak learning rate', default: '2e-4' },
    warmup: { type: 'string', value: 'F', help: 'warmup fraction', default: '0.1' },
    'max-length': { type: 'string', value: 'N', help: 'maximum tokens per example', default: '128' },
    seed: { type: 'string', value: 'N', help: 'random seed', default: '0' },
    threads: { type: 'string', value: 'N', help: 'onnxruntime threads', default: '2' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
};

function readConfig(path: string): DistillConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `${path}: ${code === 'ENOENT' ? 'not found' : `invalid JSON (${(e as Error).message})`}`,
    );
  }
  return parseDistillConfig(raw, path);
}

export async function run(p: Parsed): Promise<void> {
  const teacher = str(p, 'teacher');
  const student = str(p, 'student');
  const out = str(p, 'out');
  if (!teacher || !student || !out)
    throw new UserError('distill: --teacher DIR, --student PRESET|DIR and --out DIR are required');
  const method = str(p, 'method');
  if (method !== 'hinton' && method !== 'tinybert')
    throw new UserError(`--method: expected hinton or tinybert, got "${method}"`);
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
  const config = configPath ? readConfig(configPath) : base;
  if (str(p, 'temperature') !== undefined) config.temperature = num(p, 'temperature', { min: 0 });
  if (!configPath) config.alpha = method === 'hinton' ? num(p, 'alpha', { min: 0 }) : 1;
  const studentSpec = PRESETS[student] ? { preset: student } : { dir: student };
  const src = dataSource(p);
  const devPath = str(p, 'dev');
  const hasIntermediate = Array.isArray(config.intermediate) ? config.intermediate.length > 0 : true;
  const res = await distill({
    teacher,
    student: studentSpec,
    initLayers: str(p, 'init-from-teacher')
      ?.split(',')
      .map((x) => {
        const n = Number(x);
        if (x.trim() === '' || !Number.isInteger(n))
          throw new UserError(`--init-from-teacher: "${x}" is not a layer number`);
        return n;
      }),
    vocab: assetPath('bert-base-uncased-vocab.txt'),
    src,
    dev: devPath ? { ...src, data: devPath } : undefined,
    out,
    config,
    intermediateEpochs: hasIntermediate ? num(p, 'intermediate-epochs', { int: true, min: 0 }) : 0,
    predictionEpochs: num(p, 'epochs', { int: true, min: 0 }),
    batchSize: num(p, 'batch-size', { int: true, min: 1 }),
    lr: num(p, 'lr', { min: 0 }),
    warmup: num(p, 'warmup', { min: 0 }),
    maxLength: num(p, 'max-length', { int: true, min: 3 }),
    seed: num(p, 'seed', { int: true }),
    threads: num(p, 'threads', { int: true, min: 1 }),
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

/** `minnow finetune`: train a classification or regression head (and the encoder) on a task. */
import { join } from 'node:path';
import { preset } from '../model/config.js';
import { createModel, saveModel } from '../model/io.js';
import { finetune } from '../train/finetune.js';
import { Rng } from '../util/rng.js';
import { assetPath } from '../util/assets.js';
import { UserError } from '../util/errors.js';
import { type CommandSpec, num, type Parsed, str } from './args.js';
import { DATA_OPTIONS, dataSource } from './data-options.js';

export const spec: CommandSpec = {
  name: 'finetune',
  summary: 'fine-tune a model on a GLUE task or your own labelled data',
  usage: 'minnow finetune --model DIR --task T --data PATH --out DIR [--epochs N] [--lr X] ...',
  options: {
    model: { type: 'string', value: 'DIR', help: 'pre-trained model directory (e.g. models/uno-eelbert)' },
    preset: {
      type: 'string',
      value: 'NAME',
      help: 'or start from a randomly initialised preset (no pre-training)',
    },
    ...DATA_OPTIONS,
    dev: {
      type: 'string',
      value: 'PATH',
      help: 'dev file for evaluation (default: the dev split next to --data for GLUE)',
    },
    out: { type: 'string', value: 'DIR', help: 'output model directory' },
    epochs: { type: 'string', value: 'N', help: 'passes over the training data', default: '3' },
    'batch-size': { type: 'string', value: 'N', help: 'examples per update', default: '32' },
    lr: { type: 'string', value: 'X', help: 'peak learning rate', default: '1e-4' },
    warmup: { type: 'string', value: 'F', help: 'fraction of updates used for warmup', default: '0.1' },
    'weight-decay': { type: 'string', value: 'X', help: 'AdamW decoupled weight decay', default: '0.01' },
    'clip-norm': { type: 'string', value: 'X', help: 'global gradient-norm clip', default: '1' },
    'max-length': {
      type: 'string',
      value: 'N',
      help: 'maximum tokens per example (pairs truncated longest-first)',
      default: '128',
    },
    dropout: { type: 'string', value: 'P', help: "override the model's dropout" },
    'checkpoint-every': {
      type: 'string',
      value: 'N',
      help: 'updates between checkpoints (0: end only)',
      default: '0',
    },
    resume: { type: 'boolean', help: 'continue from the latest checkpoint in DIR/checkpoints' },
    seed: { type: 'string', value: 'N', help: 'random seed', default: '0' },
    threads: { type: 'string', value: 'N', help: 'onnxruntime threads', default: '2' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
};

export async function run(p: Parsed): Promise<void> {
  let model = str(p, 'model');
  const out = str(p, 'out');
  const presetName = str(p, 'preset');
  if (!model === !presetName)
    throw new UserError('finetune: give exactly one of --model DIR or --preset NAME');
  if (!out) throw new UserError('finetune: --out DIR is required');
  if (presetName) {
    // A randomly initialised model directory, so that "no pre-training" runs the same code path.
    model = join(out, 'init');
    saveModel(
      model,
      createModel(
        preset(presetName),
        assetPath('bert-base-uncased-vocab.txt'),
        new Rng(num(p, 'seed', { int: true })),
      ),
    );
  }
  const src = dataSource(p);
  const devPath = str(p, 'dev');
  const res = await finetune(model!, src, devPath ? { ...src, data: devPath } : undefined, {
    out,
    epochs: num(p, 'epochs', { min: 1, int: true }),
    batchSize: num(p, 'batch-size', { int: true, min: 1 }),
    lr: num(p, 'lr', { min: 0 }),
    warmup: num(p, 'warmup', { min: 0 }),
    weightDecay: num(p, 'weight-decay', { min: 0 }),
    clipNorm: num(p, 'clip-norm', { min: 0 }),
    maxLength: num(p, 'max-length', { int: true, min: 3 }),
    dropout: str(p, 'dropout') === undefined ? undefined : num(p, 'dropout', { min: 0 }),
    seed: num(p, 'seed', { int: true }),
    threads: num(p, 'threads', { int: true, min: 1 }),
    resume: !!p.values.resume,
    checkpointEvery: num(p, 'checkpoint-every', { int: true, min: 0 }),
  });
  if (p.values.json) process.stdout.write(`${JSON.stringify(res)}\n`);
  else {
    const m = Object.entries(res.metrics).map(([k, v]) => `${k} ${(100 * (v ?? Number.NaN)).toFixed(2)}`);
    process.stdout.write(
      `${res.task} dev (${res.devExamples} examples): ${m.join(', ')}; model written to ${out}\n`,
    );
  }
}

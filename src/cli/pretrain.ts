/** `minnow pretrain`: masked-LM pre-training of a preset (or a model directory) on a text corpus. */
import { join } from 'node:path';
import { preset } from '../model/config.js';
import { type PretrainConfig, pretrain, pretrainModel } from '../train/pretrain.js';
import { UserError } from '../util/errors.js';
import { type CommandSpec, num, type Parsed, str } from './args.js';
import { assetPath } from '../util/assets.js';

export const spec: CommandSpec = {
  name: 'pretrain',
  summary: 'masked-LM pre-training on a text corpus',
  usage:
    'minnow pretrain (--preset NAME | --model DIR) --corpus FILE [--valid FILE] --out DIR [--tokens N] ...',
  options: {
    preset: {
      type: 'string',
      value: 'NAME',
      help: 'bert-tiny, bert-mini, bert-small, eelbert-tiny, eelbert-mini, eelbert-small, uno-eelbert',
    },
    model: {
      type: 'string',
      value: 'DIR',
      help: 'continue pre-training an existing model directory instead',
    },
    corpus: { type: 'string', value: 'FILE', help: 'training text (UTF-8, one passage per line)' },
    valid: { type: 'string', value: 'FILE', help: 'validation text (MLM loss and accuracy are reported)' },
    out: {
      type: 'string',
      value: 'DIR',
      help: 'output model directory (checkpoints and log.jsonl go inside)',
    },
    vocab: {
      type: 'string',
      value: 'FILE',
      help: 'vocab.txt for a new model (default: the shipped BERT uncased vocabulary)',
    },
    tokens: { type: 'string', value: 'N', help: 'training token budget', default: '1000000' },
    'seq-len': {
      type: 'string',
      value: 'N',
      help: 'sequence length including [CLS] and [SEP]',
      default: '128',
    },
    'batch-size': { type: 'string', value: 'N', help: 'sequences per update', default: '64' },
    accumulation: { type: 'string', value: 'N', help: 'micro-batches per update', default: '1' },
    lr: { type: 'string', value: 'X', help: 'peak learning rate', default: '1e-3' },
    warmup: {
      type: 'string',
      value: 'F',
      help: 'fraction of updates used for linear warmup',
      default: '0.02',
    },
    decay: { type: 'string', value: 'KIND', help: 'linear or cosine', default: 'linear' },
    'weight-decay': { type: 'string', value: 'X', help: 'AdamW decoupled weight decay', default: '0.01' },
    'clip-norm': { type: 'string', value: 'X', help: 'global gradient-norm clip (0 = off)', default: '1' },
    'mask-prob': { type: 'string', value: 'P', help: 'fraction of tokens predicted', default: '0.15' },
    'whole-word': { type: 'boolean', help: 'mask whole words (all their pieces together)' },
    'eval-every': {
      type: 'string',
      value: 'N',
      help: 'updates between validation runs (0: only at the end)',
      default: '0',
    },
    'valid-sequences': { type: 'string', value: 'N', help: 'validation windows scored', default: '512' },
    'checkpoint-every': { type: 'string', value: 'N', help: 'updates between checkpoints', default: '500' },
    resume: { type: 'boolean', help: 'continue from the latest checkpoint in DIR/checkpoints (bit-exact)' },
    'cache-dir': {
      type: 'string',
      value: 'DIR',
      help: 'token caches of the corpora',
      default: '.minnow-cache',
    },
    'decoder-bias': {
      type: 'string',
      value: 'KIND',
      help: 'initial MLM output bias of a new model: zeros (BERT) or unigram (log piece frequencies of the corpus)',
      default: 'zeros',
    },
    seed: { type: 'string', value: 'N', help: 'random seed', default: '0' },
    threads: { type: 'string', value: 'N', help: 'onnxruntime threads', default: '2' },
  },
};

export async function run(p: Parsed): Promise<void> {
  const out = str(p, 'out');
  const corpus = str(p, 'corpus');
  if (!out) throw new UserError('pretrain: --out DIR is required');
  if (!corpus) throw new UserError('pretrain: --corpus FILE is required');
  const presetName = str(p, 'preset');
  const modelDir = str(p, 'model');
  if (!presetName === !modelDir)
    throw new UserError('pretrain: give exactly one of --preset NAME or --model DIR');
  const decay = str(p, 'decay');
  if (decay !== 'linear' && decay !== 'cosine')
    throw new UserError(`--decay: expected linear or cosine, got "${decay}"`);
  const decoderBias = str(p, 'decoder-bias');
  if (decoderBias !== 'zeros' && decoderBias !== 'unigram')
    throw new UserError(`--decoder-bias: expected zeros or unigram, got "${decoderBias}"`);
  if (decoderBias === 'unigram' && modelDir)
    throw new UserError('--decoder-bias unigram initialises a new model: use it with --preset, not --model');
  const seed = num(p, 'seed', { int: true });
  const resume = !!p.values.resume;
  // On resume the model is rebuilt the same way and the checkpoint overwrites it.
  const model = pretrainModel(
    {
      preset: presetName ? preset(presetName) : undefined,
      model: modelDir,
      vocab: str(p, 'vocab') ?? assetPath('bert-base-uncased-vocab.txt'),
    },
    seed,
  );
  const cfg: PretrainConfig = {
    out,
    corpus,
    valid: str(p, 'valid'),
    tokens: num(p, 'tokens', { int: true, min: 1 }),
    seqLen: num(p, 'seq-len', { int: true, min: 8 }),
    batchSize: num(p, 'batch-size', { int: true, min: 1 }),
    accumulation: num(p, 'accumulation', { int: true, min: 1 }),
    lr: num(p, 'lr', { min: 0 }),
    warmup: num(p, 'warmup', { min: 0 }),
    decay,
    weightDecay: num(p, 'weight-decay', { min: 0 }),
    clipNorm: num(p, 'clip-norm', { min: 0 }),
    masking: {
      probability: num(p, 'mask-prob', { min: 0 }),
      maskFraction: 0.8,
      randomFraction: 0.1,
      wholeWord: !!p.values['whole-word'],
    },
    seed,
    threads: num(p, 'threads', { int: true, min: 1 }),
    evalEvery: num(p, 'eval-every', { int: true, min: 0 }),
    validSequences: num(p, 'valid-sequences', { int: true, min: 1 }),
    checkpointEvery: num(p, 'checkpoint-every', { int: true, min: 0 }),
    resume,
    cacheDir: str(p, 'cache-dir') ?? join(out, 'cache'),
    decoderBias,
  };
  const r = await pretrain(model, cfg);
  process.stdout.write(
    `${JSON.stringify({ out, updates: r.updates, tokens_per_s: Math.round(r.tokensPerSecond), evals: r.evals })}\n`,
  );
}

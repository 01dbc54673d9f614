/** `minnow pretrain`: masked-LM or ELECTRA pre-training of a preset (or a model directory) on a text corpus. */
import { PRESETS } from '../model/config.js';
import { DEFAULT_ELECTRA } from '../train/electra.js';
import { DEFAULT_PRETRAIN, type PretrainConfig, pretrain, pretrainModel } from '../train/pretrain.js';
import { DECAYS } from '../runtime/schedule.js';
import { assetPath } from '../util/assets.js';
import { checkOutDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { choice, command, flag, num, optionalNum, type Parsed, required, str } from './args.js';
import {
  batchSizeOption,
  corpusOptions,
  EMBEDDING_OPTIONS,
  optimiserOptions,
  presetWithEmbedding,
  runOptions,
} from './options.js';

const D = DEFAULT_PRETRAIN;

/** The corpus options with pre-training's defaults. */
const CORPUS = corpusOptions();
const withDefault = <K extends keyof typeof CORPUS>(k: K, v: string | number) => ({
  ...CORPUS[k],
  default: String(v),
});

export const spec = command({
  name: 'pretrain',
  summary: 'pre-training on a text corpus: masked-LM, or ELECTRA (replaced-token detection)',
  usage:
    'minnow pretrain (--preset NAME | --model DIR) --corpus FILE [--valid FILE] --out DIR [--tokens N] ...',
  options: {
    preset: { type: 'string', value: 'NAME', help: Object.keys(PRESETS).join(', ') },
    ...EMBEDDING_OPTIONS,
    model: {
      type: 'string',
      value: 'DIR',
      help: 'continue pre-training an existing model directory instead',
    },
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
    ...CORPUS,
    tokens: withDefault('tokens', D.tokens),
    'seq-len': withDefault('seq-len', D.seqLen),
    accumulation: withDefault('accumulation', D.accumulation),
    'mask-prob': withDefault('mask-prob', D.masking.probability),
    'eval-every': withDefault('eval-every', D.evalEvery),
    'valid-sequences': withDefault('valid-sequences', D.validSequences),
    'cache-dir': withDefault('cache-dir', D.cacheDir),
    ...batchSizeOption(D.batchSize, 'sequences per update'),
    ...optimiserOptions(D),
    'decoder-bias': {
      type: 'string',
      value: 'KIND',
      help: 'initial MLM output bias of a new model: zeros (BERT) or unigram (log piece frequencies of the corpus)',
      default: D.decoderBias,
      choices: ['zeros', 'unigram'],
    },
    objective: {
      type: 'string',
      value: 'NAME',
      help: 'mlm (masked-LM) or electra (a generator fills the masks, the model spots the replaced tokens; only the model is saved)',
      default: D.objective,
      choices: ['mlm', 'electra'],
    },
    'generator-hidden': {
      type: 'string',
      value: 'N',
      help: "electra: the generator's hidden size (default: half the model's)",
      number: { int: true, min: 1 },
    },
    'generator-layers': {
      type: 'string',
      value: 'N',
      help: "electra: the generator's layers (default: the model's)",
      number: { int: true, min: 1 },
    },
    'rtd-weight': {
      type: 'string',
      value: 'X',
      help: 'electra: lambda, the weight of the replaced-token loss against the generator MLM loss',
      default: String(DEFAULT_ELECTRA.rtdWeight),
      number: { above: 0 },
    },
    'sample-temperature': {
      type: 'string',
      value: 'T',
      help: "electra: softmax temperature of the generator's samples (default 1; above 1: odder replacements, an easier start for the discriminator)",
      number: { above: 0 },
    },
    ...runOptions(D),
    json: {
      type: 'boolean',
      help: 'print the result as one JSON object (the default output; kept for symmetry)',
    },
  },
});

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const out = required(p, 'out');
  const corpus = required(p, 'corpus');
  const presetName = str(p, 'preset');
  const modelDir = str(p, 'model');
  if (!presetName === !modelDir)
    throw new UserError('pretrain: give exactly one of --preset NAME or --model DIR');
  const decoderBias = choice(p, 'decoder-bias', ['zeros', 'unigram'] as const);
  if (decoderBias === 'unigram' && modelDir)
    throw new UserError('--decoder-bias unigram initialises a new model: use it with --preset, not --model');
  const seed = num(p, 'seed');
  const fresh = presetWithEmbedding(p, presetName); // bad embedding settings fail before any work
  const objective = choice(p, 'objective', ['mlm', 'electra'] as const);
  const electraOnly = (['generator-hidden', 'generator-layers', 'sample-temperature'] as const).filter(
    (k) => str(p, k) !== undefined,
  );
  if (objective !== 'electra' && electraOnly.length)
    throw new UserError(`--${electraOnly[0]} is an ELECTRA setting: add --objective electra`);
  const cfg: PretrainConfig = {
    out,
    corpus,
    valid: str(p, 'valid'),
    tokens: num(p, 'tokens'),
    seqLen: num(p, 'seq-len'),
    batchSize: num(p, 'batch-size'),
    accumulation: num(p, 'accumulation'),
    lr: num(p, 'lr'),
    warmup: num(p, 'warmup'),
    decay: choice(p, 'decay', DECAYS),
    weightDecay: num(p, 'weight-decay'),
    clipNorm: num(p, 'clip-norm'),
    masking: { ...D.masking, probability: num(p, 'mask-prob'), wholeWord: flag(p, 'whole-word') },
    seed,
    threads: num(p, 'threads'),
    evalEvery: num(p, 'eval-every'),
    validSequences: num(p, 'valid-sequences'),
    checkpointEvery: num(p, 'checkpoint-every'),
    resume: flag(p, 'resume'),
    cacheDir: str(p, 'cache-dir') ?? D.cacheDir,
    decoderBias,
    objective,
    electra: {
      generatorHidden: optionalNum(p, 'generator-hidden') ?? 0,
      generatorLayers: optionalNum(p, 'generator-layers') ?? 0,
      rtdWeight: num(p, 'rtd-weight'),
      sampleTemperature: optionalNum(p, 'sample-temperature') ?? DEFAULT_ELECTRA.sampleTemperature,
    },
  };
  checkOutDir(out);
  // On resume the model is rebuilt the same way and the checkpoint overwrites it.
  const model = pretrainModel(
    {
      preset: fresh,
      model: modelDir,
      vocab: str(p, 'vocab') ?? assetPath('bert-base-uncased-vocab.txt'),
    },
    seed,
  );
  const r = await pretrain(model, cfg);
  const res = { out, updates: r.updates, tokens_per_s: Math.round(r.tokensPerSecond), evals: r.evals };
  if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(res)}\n`);
  else {
    const last = r.evals.at(-1);
    const valid =
      last?.valid_mlm_loss !== undefined
        ? `; valid MLM loss ${last.valid_mlm_loss.toFixed(4)}, accuracy ${(100 * last.valid_mlm_accuracy).toFixed(2)}%`
        : last?.valid_rtd_accuracy !== undefined
          ? `; valid generator MLM loss ${last.valid_generator_mlm_loss.toFixed(4)}, replaced-token accuracy ${(100 * last.valid_rtd_accuracy).toFixed(2)}%`
          : '';
    process.stdout.write(
      `pretrain: ${r.updates} updates, ${(r.tokensPerSecond / 1000).toFixed(1)}k tokens/s${valid}; model written to ${out}\n`,
    );
  }
}

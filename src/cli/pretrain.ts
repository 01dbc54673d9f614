/** `minnow pretrain`: masked-LM or ELECTRA pre-training of a preset (or a model directory) on a text corpus. */
import { PRESETS } from '../model/config.js';
import {
  DEFAULT_PRETRAIN,
  PRETRAIN_SETTINGS,
  type PretrainConfig,
  pretrain,
  pretrainModel,
} from '../train/pretrain.js';
import { BERT_VOCAB } from '../util/assets.js';
import { checkOutDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { command, configOf, flag, type Parsed, required, settingOptions, str } from './args.js';
import { EMBEDDING_OPTIONS, presetWithEmbedding } from './options.js';

const D = DEFAULT_PRETRAIN;

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
    corpus: { type: 'string', value: 'FILE', help: 'training text (UTF-8, one passage per line)' },
    valid: { type: 'string', value: 'FILE', help: 'validation text (loss and accuracy are reported)' },
    ...settingOptions(PRETRAIN_SETTINGS, D),
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
  const cfg: PretrainConfig = {
    out,
    corpus,
    valid: str(p, 'valid'),
    ...configOf(p, PRETRAIN_SETTINGS, D),
  };
  if (cfg.decoderBias === 'unigram' && modelDir)
    throw new UserError('--decoder-bias unigram initialises a new model: use it with --preset, not --model');
  const fresh = presetWithEmbedding(p, presetName); // bad embedding settings fail before any work
  const electraOnly = (['generator-hidden', 'generator-layers', 'sample-temperature'] as const).filter(
    (k) => str(p, k) !== undefined,
  );
  if (cfg.objective !== 'electra' && electraOnly.length)
    throw new UserError(`--${electraOnly[0]} is an ELECTRA setting: add --objective electra`);
  checkOutDir(out);
  // On resume the model is rebuilt the same way and the checkpoint overwrites it.
  const model = pretrainModel(
    {
      preset: fresh,
      model: modelDir,
      vocab: str(p, 'vocab') ?? BERT_VOCAB,
    },
    cfg.seed,
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

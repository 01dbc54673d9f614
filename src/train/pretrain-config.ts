/**
 * Pre-training's config: its type (PretrainConfig), its defaults (DEFAULT_PRETRAIN) and its settings, each
 * declared once (PRETRAIN_SETTINGS, with CORPUS_SETTINGS shared by general distillation: field, flag, help,
 * range), from which the CLI builds its options and a refused --resume its names.
 */
import type { Decay } from '../runtime/schedule.js';
import { settingNames, settings } from '../util/settings.js';
import { DEFAULT_ELECTRA, type ElectraConfig } from './electra.js';
import { BERT_MASKING, type MaskingConfig } from './masking.js';
import { BATCH_SIZE, OPTIMISER_SETTINGS, RUN_SETTINGS } from './settings.js';

export interface PretrainConfig {
  out: string; // model directory to write (config.json, model.safetensors, vocab.txt, mlm_head.safetensors)
  corpus: string; // training text, one passage per line
  valid?: string; // validation text
  tokens: number; // training token budget (corpus pieces); updates = ceil(tokens / (batch * (seqLen - 2)))
  seqLen: number; // sequence length incl. [CLS] and [SEP] (128)
  batchSize: number; // sequences per update
  accumulation: number; // micro-batches per update (batchSize must divide by it)
  lr: number; // peak learning rate
  warmup: number; // fraction of updates spent warming up
  decay: Decay; // learning-rate decay after warmup (runtime/schedule.ts)
  weightDecay: number;
  clipNorm: number;
  masking: MaskingConfig;
  seed: number;
  threads: number;
  evalEvery: number; // updates between validation runs (0: end only)
  validSequences: number; // how many validation windows to score
  checkpointEvery: number; // updates between checkpoints
  resume: boolean;
  cacheDir: string; // where corpus token caches live
  /**
   * Initial MLM output bias: 'zeros' (BERT) or 'unigram', the log of the corpus' add-one-smoothed piece
   * frequencies (unigramLogPrior), so that the untrained model already predicts word frequencies. For hash
   * models the decoder table is frozen and the bias must learn those frequencies alone, which takes Adam
   * about (log-frequency range) / lr updates.
   */
  decoderBias?: 'zeros' | 'unigram';
  /** masked-LM (the default) or ELECTRA's replaced-token detection with a generator (electra.ts). */
  objective?: 'mlm' | 'electra';
  electra?: ElectraConfig;
  /** A time budget (Date.now() value): the run saves and stops there (minnow fit's --budget). */
  deadline?: number;
}

/** How a masked-LM run reads its corpus (pre-training, general distillation). */
export const CORPUS_SETTINGS = settings({
  tokens: { flag: 'tokens', value: 'N', help: 'training token budget', number: { int: true, min: 1 } },
  seqLen: {
    flag: 'seq-len',
    value: 'N',
    help: 'sequence length including [CLS] and [SEP]',
    number: { int: true, min: 8, max: 65536 },
  },
  accumulation: {
    flag: 'accumulation',
    value: 'N',
    help: 'micro-batches per update (bounds memory)',
    number: { int: true, min: 1 },
  },
  'masking.probability': {
    flag: 'mask-prob',
    value: 'P',
    help: 'fraction of tokens masked and predicted',
    number: { above: 0, max: 1 },
  },
  'masking.wholeWord': {
    flag: 'whole-word',
    help: 'mask whole words (all their pieces together)',
    boolean: true,
  },
  evalEvery: {
    flag: 'eval-every',
    value: 'N',
    help: 'updates between validation runs (0: only at the end)',
    number: { int: true, min: 0 },
  },
  validSequences: {
    flag: 'valid-sequences',
    value: 'N',
    help: 'validation windows scored',
    number: { int: true, min: 1 },
  },
  cacheDir: { flag: 'cache-dir', value: 'DIR', help: 'token caches of the corpora' },
});

/**
 * Pre-training's settings, each once (util/settings.ts); the values are DEFAULT_PRETRAIN's. The corpus,
 * validation text and --out are the command's inputs, not settings.
 */
export const PRETRAIN_SETTINGS = settings({
  ...CORPUS_SETTINGS,
  batchSize: { ...BATCH_SIZE, help: 'sequences per update' },
  ...OPTIMISER_SETTINGS,
  decoderBias: {
    flag: 'decoder-bias',
    value: 'KIND',
    help: 'initial MLM output bias of a new model: zeros (BERT) or unigram (log piece frequencies of the corpus)',
    choices: ['zeros', 'unigram'],
  },
  objective: {
    flag: 'objective',
    value: 'NAME',
    help: 'mlm (masked-LM) or electra (a generator fills the masks, the model spots the replaced tokens; only the model is saved)',
    choices: ['mlm', 'electra'],
  },
  'electra.generatorHidden': {
    flag: 'generator-hidden',
    value: 'N',
    help: "electra: the generator's hidden size",
    defaultText: "half the model's",
    number: { int: true, min: 1 },
  },
  'electra.generatorLayers': {
    flag: 'generator-layers',
    value: 'N',
    help: "electra: the generator's layers",
    defaultText: "the model's",
    number: { int: true, min: 1 },
  },
  'electra.rtdWeight': {
    flag: 'rtd-weight',
    value: 'X',
    help: 'electra: lambda, the weight of the replaced-token loss against the generator MLM loss',
    number: { above: 0 },
  },
  'electra.sampleTemperature': {
    flag: 'sample-temperature',
    value: 'T',
    help: "electra: softmax temperature of the generator's samples (above 1: odder replacements, an easier start for the discriminator)",
    // Shown, not set by the option table: a given flag without --objective electra is an error.
    defaultText: String(DEFAULT_ELECTRA.sampleTemperature),
    number: { above: 0 },
  },
  ...RUN_SETTINGS,
});

/** The flags behind pre-training's recipe, for the message of a refused --resume. */
export const PRETRAIN_SETTING_NAMES: Readonly<Record<string, string>> = Object.freeze({
  ...settingNames(PRETRAIN_SETTINGS),
  corpus: '--corpus',
  corpusDigest: "corpus content (--corpus: the file's tokens)",
  'schedule.totalSteps': 'updates (--tokens, --batch-size, --seq-len)',
});

/** Pre-training defaults (the README's recipe; the shipped models used batch 16 and two corpus passes). */
export const DEFAULT_PRETRAIN: Readonly<Omit<PretrainConfig, 'out' | 'corpus' | 'valid'>> = Object.freeze({
  tokens: 1_000_000,
  seqLen: 128,
  batchSize: 64,
  accumulation: 1,
  lr: 1e-3,
  warmup: 0.02,
  decay: 'linear',
  weightDecay: 0.01,
  clipNorm: 1,
  masking: BERT_MASKING,
  seed: 0,
  threads: 2,
  evalEvery: 0,
  validSequences: 512,
  checkpointEvery: 500,
  resume: false,
  cacheDir: '.minnow-cache',
  decoderBias: 'zeros',
  objective: 'mlm',
  electra: DEFAULT_ELECTRA,
});

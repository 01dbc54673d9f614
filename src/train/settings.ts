/**
 * The settings every training recipe shares, declared once (util/settings.ts): the optimiser and its
 * schedule, the batch size, the run (seed, threads, checkpoints, --resume). Each recipe's own table
 * (FINETUNE_SETTINGS, PRETRAIN_SETTINGS, TASK_DISTILL_SETTINGS, GENERAL_DISTILL_SETTINGS) spreads them; the
 * values are in its DEFAULT_* object.
 */
import { DECAYS } from '../runtime/schedule.js';
import { settings } from '../util/settings.js';

/** AdamW and the learning-rate schedule (runtime/schedule.ts), as the training loop records them. */
export const OPTIMISER_SETTINGS = settings({
  lr: { flag: 'lr', value: 'X', help: 'peak learning rate', number: { above: 0 }, recipe: 'optim.lr' },
  warmup: {
    flag: 'warmup',
    value: 'F',
    help: 'fraction of updates used for linear warmup',
    number: { min: 0, max: 1 },
    recipe: 'schedule.warmupSteps',
    recipeName: 'warmup updates (--warmup)',
  },
  decay: {
    flag: 'decay',
    value: 'KIND',
    help: `learning-rate decay after warmup: ${DECAYS.join(', ')}`,
    choices: DECAYS,
    recipe: 'schedule.decay',
  },
  weightDecay: {
    flag: 'weight-decay',
    value: 'X',
    help: 'AdamW decoupled weight decay',
    number: { min: 0 },
    recipe: 'optim.weightDecay',
  },
  clipNorm: {
    flag: 'clip-norm',
    value: 'X',
    help: 'global gradient-norm clip (0 = off)',
    number: { min: 0 },
    recipe: 'optim.clipNorm',
  },
});

/** How many examples (or sequences) one update takes; each recipe says which in its help. */
export const BATCH_SIZE = {
  flag: 'batch-size',
  value: 'N',
  help: 'examples per update',
  number: { int: true, min: 1, max: 65536 },
} as const;

/** Seeds are 32-bit: the seed-derivation helpers mix them as unsigned words. */
export const SEED_RULE = { int: true, min: 0, max: 2 ** 32 - 1 } as const;

/** What every training run has: a seed, threads, checkpoints, --resume. */
export const RUN_SETTINGS = settings({
  checkpointEvery: {
    flag: 'checkpoint-every',
    value: 'N',
    help: 'updates between checkpoints (0: at the end only)',
    number: { int: true, min: 0 },
  },
  resume: { flag: 'resume', help: 'continue from the latest checkpoint in OUT (bit-exact)', boolean: true },
  seed: { flag: 'seed', value: 'N', help: 'random seed (0 .. 2^32-1)', number: SEED_RULE },
  threads: {
    flag: 'threads',
    value: 'N',
    help: 'onnxruntime threads',
    number: { int: true, min: 1, max: 256 },
  },
});

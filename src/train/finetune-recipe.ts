/**
 * Fine-tuning's recipe when the user names none: the learning rate by model width, the epochs by the
 * number of updates an epoch makes, the maximum length from the training rows. The one place these rules
 * live; the CLI passes a value only when its flag was given.
 *
 * Measured (docs/quality-per-cpu-hour.md, README): every hidden-128 model in this repo fine-tunes at lr 1e-3,
 * batch 32; lr 1e-3 collapsed bert-mini (hidden 256) in pre-training, and its fine-tunes ran at 1e-4. On the
 * 2,000 rows of examples/sst2 (63 updates an epoch) 5 epochs at lr 1e-3 beat 3, 8 and 10; on all 67,349 rows
 * of SST-2, 3 epochs beat 5 (eelbert-tiny 81.08 against 79.47). Batches are padded to their longest row, so
 * a maximum length only matters for the rare long row: the 99th percentile (48 tokens on examples/sst2, 8
 * rows truncated) saved 3-5% of the time and scored 0.4 points lower (mean of 3 seeds, uno-eelbert); the
 * 99.9th truncates one row in a thousand and still caps a far tail (RTE: 256, not its longest 289).
 */
import type { BertConfig } from '../model/config.js';

export interface RecipeRule {
  /** [largest hidden_size, lr] by increasing width; the first that fits the model applies. */
  lrByHidden: readonly (readonly [number, number])[];
  /** Epochs enough for about this many updates, ... */
  updates: number;
  /** ... but never fewer epochs than this ... */
  minEpochs: number;
  /** ... nor more (early stopping, --patience, may end a run sooner). */
  maxEpochs: number;
  /** Maximum length: this percentile of the training rows' token counts, ... */
  lengthPercentile: number;
  /** ... rounded up to a multiple of this, ... */
  lengthMultiple: number;
  /** ... at least this, and at most the model's max_position_embeddings. */
  minLength: number;
  /**
   * Dev rows without --max-length are read at this length (capped by the model), as `minnow eval` reads
   * them by default, so that the dev score finetune reports is the one eval gives.
   */
  evalLength: number;
}

export const DEFAULT_RECIPE_RULE: Readonly<RecipeRule> = Object.freeze<RecipeRule>({
  lrByHidden: [
    [128, 1e-3],
    [256, 3e-4],
    [512, 1e-4],
    [Number.POSITIVE_INFINITY, 5e-5],
  ],
  updates: 300,
  minEpochs: 3,
  maxEpochs: 5,
  lengthPercentile: 99.9,
  lengthMultiple: 8,
  minLength: 16,
  evalLength: 128,
});

/** The learning rate for a model of this width. */
export function lrFor(
  config: Pick<BertConfig, 'hidden_size'>,
  rule: RecipeRule = DEFAULT_RECIPE_RULE,
): number {
  const row = rule.lrByHidden.find(([h]) => config.hidden_size <= h);
  return (row ?? rule.lrByHidden[rule.lrByHidden.length - 1])[1];
}

/** Epochs for `stepsPerEpoch` updates an epoch: enough for `rule.updates`, within [minEpochs, maxEpochs]. */
export function epochsFor(stepsPerEpoch: number, rule: RecipeRule = DEFAULT_RECIPE_RULE): number {
  const want = Math.ceil(rule.updates / Math.max(1, stepsPerEpoch));
  return Math.min(rule.maxEpochs, Math.max(rule.minEpochs, want));
}

/**
 * The maximum length for training rows of these token counts (each as long as the model allows, `cap`):
 * the rule's percentile (nearest rank), rounded up to its multiple, at least its minimum, at most `cap`.
 */
export function maxLengthFor(
  lengths: readonly number[],
  cap: number,
  rule: RecipeRule = DEFAULT_RECIPE_RULE,
): number {
  const sorted = [...lengths].sort((a, b) => a - b);
  // Nearest rank; the tolerance keeps 99.9% of 1,000 at rank 999 despite binary fractions.
  const rank = Math.ceil((rule.lengthPercentile / 100) * sorted.length - 1e-9);
  const p = sorted.length ? sorted[Math.max(0, rank - 1)] : 0;
  const rounded = Math.ceil(p / rule.lengthMultiple) * rule.lengthMultiple;
  return Math.min(cap, Math.max(rule.minLength, rounded));
}

/** What the user gave (undefined: chosen by the rule). */
export interface RecipeGiven {
  lr?: number;
  epochs?: number;
}

export interface Recipe {
  lr: number;
  epochs: number;
  /** How each value the user did not give was chosen, by field (empty when all were given). */
  chosen: Partial<Record<'lr' | 'epochs', string>>;
}

/** The run's lr and epochs: the given ones, the others by the rule for this model and epoch size. */
export function recipeFor(
  config: Pick<BertConfig, 'hidden_size'>,
  stepsPerEpoch: number,
  given: RecipeGiven,
  rule: RecipeRule = DEFAULT_RECIPE_RULE,
): Recipe {
  const chosen: Recipe['chosen'] = {};
  const lr = given.lr ?? lrFor(config, rule);
  if (given.lr === undefined) chosen.lr = `by model size (hidden_size ${config.hidden_size})`;
  const epochs = given.epochs ?? epochsFor(stepsPerEpoch, rule);
  if (given.epochs === undefined) chosen.epochs = `by data size (${stepsPerEpoch} updates an epoch)`;
  return { lr, epochs, chosen };
}

/** The rules in words, for --help. */
export function describeRule(rule: RecipeRule = DEFAULT_RECIPE_RULE) {
  const lr = rule.lrByHidden
    .map(([h, x], i) => (Number.isFinite(h) ? `hidden <= ${h}: ${x}` : i ? `larger: ${x}` : String(x)))
    .join(', ');
  return {
    lr: `by model size (${lr})`,
    epochs: `by data size: enough for ${rule.updates} updates, ${rule.minEpochs} to ${rule.maxEpochs}`,
    maxLength: `from the data: the ${rule.lengthPercentile}th percentile of the training rows' tokens, rounded up to a multiple of ${rule.lengthMultiple}, ${rule.minLength} to the model's maximum`,
  };
}

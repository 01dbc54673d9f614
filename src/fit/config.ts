/** `minnow fit`'s settings and their defaults, in one place. */
import { join } from 'node:path';
import { DEFAULT_FINETUNE } from '../train/finetune.js';
import { PACKAGE_ROOT } from '../util/assets.js';

export interface FitConfig {
  /** The fit's directory: OUT/stages/NAME per stage, OUT/export, OUT/fit.json. */
  out: string;
  /** The largest int8 model file a candidate may have to be picked (bytes). */
  maxBytes: number;
  /** Wall-clock seconds: a stage that would start after they are spent is skipped (the first always runs). */
  budgetSeconds: number;
  /** Continue the fit in `out`: finished stages are kept, an unfinished fine-tune resumes. */
  resume: boolean;
  /** One seed for every stage: the held-out dev rows, the n-gram hash, the fine-tunes' shuffles. */
  seed: number;
  threads: number;
  /** The user's own data without a dev file: the seeded fraction of the rows held out as dev. */
  devFraction: number;
  /**
   * Position rows a transformer keeps in its export (export's maxPositions): the runtime reads 128 tokens
   * by default and finetune scores dev rows at 128, so rows past it are bytes no default run reads (49 kB
   * of int8 for a 512-position width-128 model).
   */
  maxPositions: number;
  /** Continue each shipped model's masked-LM pre-training on the training texts before fine-tuning (tapt.ts). */
  tapt: boolean;
  /**
   * After the fine-tunes: distil the best models so far into a student (distill-stage.ts): the largest
   * shipped model that fits, or where the training rows are many a new word-table model.
   */
  distill: boolean;
  /** Shipped pre-trained models to fine-tune, by directory name under `modelsDir`; each is one stage. */
  models: readonly string[];
  modelsDir: string;
  /** The command as the user gave it, for the model card. */
  command?: string;
}

export const DEFAULT_FIT: Readonly<Omit<FitConfig, 'out' | 'command'>> = Object.freeze({
  maxBytes: 500_000,
  maxPositions: 128,
  budgetSeconds: 600,
  resume: false,
  seed: DEFAULT_FINETUNE.seed,
  threads: DEFAULT_FINETUNE.threads,
  devFraction: DEFAULT_FINETUNE.devFraction,
  tapt: true,
  distill: true,
  models: ['uno-eelbert', 'eelbert-tiny'],
  modelsDir: join(PACKAGE_ROOT, 'models'),
});

/** A stage's directory in a fit's. */
export function stageDir(out: string, stage: string): string {
  return join(out, 'stages', stage);
}

/** The export folder a fit ships. */
export function exportDir(out: string): string {
  return join(out, 'export');
}

/**
 * The learning-rate schedule of every training recipe: linear warmup over a fraction of the updates, then
 * linear or cosine decay to 0, or a constant rate. One definition: pre-training, fine-tuning and both kinds
 * of distillation build their schedule here from their `warmup` fraction and `decay` setting (--warmup,
 * --decay), and the training loop reads the rate from it.
 */

/** How the rate falls after warmup. */
export const DECAYS = ['linear', 'cosine', 'constant'] as const;
export type Decay = (typeof DECAYS)[number];

export interface Schedule {
  warmupSteps: number;
  totalSteps: number;
  decay: Decay;
}

/** The schedule of a run of `updates` updates: `warmup` is the fraction of them spent warming up. */
export function lrSchedule(updates: number, warmup: number, decay: Decay): Schedule {
  return { warmupSteps: Math.round(warmup * updates), totalSteps: updates, decay };
}

/** Multiplier on the peak lr at `step` (0-based): linear warmup, then linear/cosine decay to 0 or constant. */
export function lrFactor(step: number, s: Schedule): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (step + 1) / s.warmupSteps;
  if (s.decay === 'constant') return 1;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const t = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  return s.decay === 'linear' ? 1 - t : 0.5 * (1 + Math.cos(Math.PI * t));
}

/**
 * The best-scoring evaluation of a training run, with a copy of its weights: `best.safetensors` in the run
 * directory (the parameters, and the update and metrics in its metadata), written atomically whenever a
 * new best appears. The loop writes that update's checkpoint first, so the copy is never ahead of the
 * checkpoint a killed run resumes from, and a resumed run keeps the best it had. Also early stopping:
 * stop once `patience` evaluations in a row have not beaten the best, but not before update `notBefore`
 * (Keras' start_from_epoch): a tiny model's first epochs at a high learning rate are noisy, and a
 * degenerate one (every example in one class) can score best for a while before it learns.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ParamStore } from '../runtime/params.js';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import { ensureDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

export const BEST_FILE = 'best.safetensors';

export interface BestEval {
  update: number;
  /** The evaluation's metrics; `score` (higher is better) decides. */
  metrics: Record<string, number>;
}

/** A higher score is better; any score beats NaN; a tie keeps the earlier. */
export function beats(score: number, best: number | undefined): boolean {
  if (best === undefined) return true;
  if (Number.isNaN(best)) return !Number.isNaN(score);
  return score > best;
}

export interface EarlyStopping {
  /** Evaluations without a better score before the run stops (0: never). */
  patience: number;
  /** Updates between evaluations. */
  evalEvery: number;
  /** The first update at which the run may stop. */
  notBefore: number;
}

export class BestWeights {
  readonly path: string;
  best: BestEval | undefined;

  constructor(
    dir: string,
    private readonly store: ParamStore,
    private readonly stopping: EarlyStopping,
  ) {
    this.path = join(dir, BEST_FILE);
  }

  /** Whether these metrics beat the best so far. */
  isBetter(metrics: Record<string, number>): boolean {
    return beats(metrics.score, this.best?.metrics.score);
  }

  /**
   * Early stopping: whether the evaluation at `update` is the `patience`-th or later in a row not to beat
   * the best, at or after `notBefore`.
   */
  shouldStop(update: number, metrics: Record<string, number>): boolean {
    const { patience, evalEvery, notBefore } = this.stopping;
    if (patience <= 0 || update < notBefore || !this.best || this.isBetter(metrics)) return false;
    return update - this.best.update >= patience * evalEvery;
  }

  /** After the evaluation at `update` (its checkpoint written): a new best keeps the store's weights. */
  offer(update: number, metrics: Record<string, number>): void {
    if (!this.isBetter(metrics)) return;
    this.best = { update, metrics };
    ensureDir(dirname(this.path));
    writeSafetensors(this.path, this.store.toTensors(), {
      format: 'pt',
      update: String(update),
      metrics: JSON.stringify(metrics),
    });
  }

  /**
   * When the run starts at update `start` (0, or a resumed checkpoint's), with the evaluations its log
   * holds up to there. A new run drops a copy an earlier run left. A resumed one takes the copy's record,
   * unless the copy is from past `start` (checkpoints removed by hand: it is not this run's); and the
   * evaluation at `start` itself is offered again, with the checkpoint's weights now in the store, in case
   * the kill fell between that checkpoint and the copy.
   */
  start(start: number, evals: readonly Record<string, number>[]): void {
    this.best = undefined;
    if (start === 0) {
      rmSync(this.path, { force: true });
      return;
    }
    const saved = this.read();
    if (saved && saved.update <= start) this.best = saved;
    const atStart = evals.find((e) => e.update === start);
    if (atStart) this.offer(start, atStart);
  }

  /** The record of the copy on disk, without loading its weights; undefined when there is none. */
  read(): BestEval | undefined {
    return readBestRecord(this.path);
  }

  /** Put the best evaluation's weights in the store (a no-op when they are the store's: `current`). */
  restore(current: number): void {
    if (!this.best || this.best.update === current) return;
    this.store.load(readSafetensors(this.path), this.path);
  }
}

/** The update and metrics a best-weights copy records; undefined when the file does not exist. */
export function readBestRecord(path: string): BestEval | undefined {
  if (!existsSync(path)) return undefined;
  const { metadata } = readSafetensors(path);
  const update = Number(metadata.update);
  let metrics: unknown;
  try {
    metrics = JSON.parse(metadata.metrics ?? '');
  } catch {
    metrics = undefined;
  }
  if (!Number.isInteger(update) || typeof metrics !== 'object' || metrics === null)
    throw new UserError(`${path}: metadata "update" and "metrics" missing or malformed`);
  return { update, metrics: metrics as Record<string, number> };
}

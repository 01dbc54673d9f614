/**
 * The training loop shared by pre-training, fine-tuning and distillation: micro-batches with gradient
 * accumulation, AdamW with warmup + decay, progress on stderr, JSON-lines metrics, periodic evaluation,
 * periodic atomic checkpoints and bit-exact resume, optional early stopping. Batches come from a pure
 * function of the step, so a resumed run sees exactly the batches the uninterrupted run would have seen.
 */
import { join } from 'node:path';
import type { Batch } from '../data/batch.js';
import { AdamW, type AdamWConfig, GradAccumulator } from '../runtime/optim.js';
import { lrFactor, type Schedule } from '../runtime/schedule.js';
import type { ParamStore } from '../runtime/params.js';
import { ensureDir, removeStaleTemporaries } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { formatBytes, formatSeconds, info, JsonLog, Progress, readJsonLog } from '../util/progress.js';
import { cleanCheckpointDir, latestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { OPTIMISER_SETTINGS } from './settings.js';
import type { TrainStep } from './step.js';
import { settingNames } from '../util/settings.js';

export type { Batch } from '../data/batch.js';

export interface LoopOptions {
  label: string;
  out: string; // run directory: checkpoints/ and log.jsonl go here
  step: TrainStep;
  store: ParamStore;
  optim: AdamWConfig;
  schedule: Schedule; // totalSteps = optimizer updates
  accumulation: number; // micro-batches per update
  /** Micro-batch `micro` (0-based, global) — must be a pure function of its index. */
  batch: (micro: number) => Batch | Promise<Batch>;
  evaluate?: (update: number) => Promise<Record<string, number>>;
  evalEvery?: number; // updates; 0 = only at the end
  checkpointEvery?: number; // updates; 0 = only at the end
  resume?: boolean;
  /** Extra fields for every log line (e.g. the loss terms returned as step outputs). */
  logOutputs?: string[];
  /**
   * The caller's settings that decide what the run computes (seed, batch shape, masking, objective...).
   * With the loop's own (optimiser, schedule, accumulation) they are saved in every checkpoint, and
   * --resume refuses a checkpoint written with other values: a resumed run must replay the same run.
   */
  recipe?: Record<string, unknown>;
  /**
   * How a user sets each recipe setting (its leaf path -> a flag, e.g. `seqLen` -> `--seq-len`), for the
   * message of a refused --resume; joins LOOP_SETTING_NAMES. A setting not named prints its path.
   */
  settingNames?: Record<string, string>;
  /**
   * Called once the run is accepted (a resumed run's checkpoint loaded and its recipe checked), before the
   * first update: where a caller writes its run's settings, so that a refused --resume leaves them as
   * they were. `start` is the update the run starts from (0, or the checkpoint's), `evals` the
   * evaluations its log holds up to there.
   */
  onStart?: (run: { start: number; evals: readonly Record<string, number>[] }) => void;
  /**
   * Early stopping: after each evaluation, whether to end the run there. The checkpoint then written at
   * that update records the stop, so --resume of a stopped run trains no further.
   */
  stopEarly?: (update: number, metrics: Record<string, number>) => boolean;
  /**
   * A time budget: once Date.now() passes it, the run evaluates (when it can), saves and stops, as a
   * stopEarly stop (a wall-clock stop cannot be replayed bit-exactly; --resume trains no further).
   */
  deadline?: number;
  /**
   * After each evaluation, once that update's checkpoint is written (given this hook, the loop writes one
   * at every evaluation): where a caller saves what goes with those weights (e.g. a copy of the best
   * ones), so that it is never ahead of the checkpoint a killed run resumes from. Also called for the
   * evaluation of a finished run's weights when --resume finds nothing left to train.
   */
  onEval?: (update: number, metrics: Record<string, number>) => void;
}

export interface LoopResult {
  /** The updates the run made: the schedule's, or fewer when it stopped early. */
  updates: number;
  /** The run was stopped early (stopEarly), at `updates`. */
  stopped: boolean;
  tokensPerSecond: number;
  lastLoss: number;
  evals: Record<string, number>[];
}

export async function runTraining(o: LoopOptions): Promise<LoopResult> {
  ensureDir(o.out);
  const ckptDir = join(o.out, 'checkpoints');
  const log = new JsonLog(join(o.out, 'log.jsonl'));
  // Killed runs leave half-written checkpoints and atomic-write temps behind; drop those of dead processes.
  const stale = [cleanCheckpointDir(ckptDir), removeStaleTemporaries(o.out)];
  const staleCount = stale.reduce((n, c) => n + c.removed.length, 0);
  if (staleCount > 0) {
    const bytes = stale.reduce((n, c) => n + c.bytes, 0);
    info(
      `${o.label}: removed ${staleCount} stale ${staleCount === 1 ? 'temporary' : 'temporaries'} left by killed runs in ${o.out} (${formatBytes(bytes)})`,
    );
  }
  const optim = await AdamW.create(o.step.params, o.optim);
  const recipe = { optim: o.optim, schedule: o.schedule, accumulation: o.accumulation, ...o.recipe };
  const evals: Record<string, number>[] = [];
  let start = 0;
  let stopped = false;
  if (o.resume) {
    const path = latestCheckpoint(ckptDir);
    if (path) {
      const state = loadCheckpoint(path, o.store, optim);
      checkSameRecipe(o.label, path, state.recipe, recipe, { ...LOOP_SETTING_NAMES, ...o.settingNames });
      start = state.step;
      stopped = state.stopped === true;
      info(
        `${o.label}: resumed from ${path} at update ${start}${stopped ? ' (where it stopped early)' : ''}`,
      );
      evals.push(...earlierEvals(join(o.out, 'log.jsonl'), start));
    } else {
      info(`${o.label}: --resume given but no checkpoint in ${ckptDir}; starting from scratch`);
    }
  }
  o.onStart?.({ start, evals: [...evals] });
  const total = o.schedule.totalSteps;
  let end = stopped ? start : total; // the update the run ends at
  const progress = new Progress(o.label, total);
  const acc = new GradAccumulator();
  let tokens = 0;
  let lastLoss = Number.NaN;
  let emaLoss = Number.NaN;
  const t0 = performance.now();
  const save = (update: number, stop: boolean) =>
    saveCheckpoint(ckptDir, o.store, optim, { step: update, recipe, ...(stop ? { stopped: true } : {}) });
  for (let update = start; update < end; update++) {
    let lossSum = 0;
    const extras: Record<string, number> = {};
    for (let k = 0; k < o.accumulation; k++) {
      const micro = update * o.accumulation + k;
      const b = await o.batch(micro);
      const res = await o.step.run(b.feeds, b.sizes, micro);
      if (!Number.isFinite(res.loss)) {
        const kept = latestCheckpoint(ckptDir);
        throw new UserError(
          `${o.label}: loss is ${res.loss} at update ${update} (diverged: try a lower --lr or check the data); ` +
            (kept ? `the last good checkpoint is ${kept}` : 'no checkpoint was written'),
        );
      }
      acc.add(res.grads);
      lossSum += res.loss;
      tokens += b.tokens;
      for (const name of o.logOutputs ?? [])
        extras[name] = (extras[name] ?? 0) + Number(res.outputs[name].data[0]) / o.accumulation;
    }
    const { grads, count } = acc.take();
    const lr = o.optim.lr * lrFactor(update, o.schedule);
    const gradNorm = optim.update(grads, lr, 1 / count);
    lastLoss = lossSum / count;
    emaLoss = Number.isNaN(emaLoss) ? lastLoss : 0.98 * emaLoss + 0.02 * lastLoss;
    const elapsed = (performance.now() - t0) / 1000;
    const tps = tokens / elapsed;
    progress.update(update + 1, {
      loss: emaLoss.toFixed(4),
      lr: lr.toExponential(2),
      'tok/s': `${(tps / 1000).toFixed(1)}k`,
    });
    const done = update + 1;
    if (done % 50 === 0 || done === total) {
      log.write({
        event: 'train',
        update: done,
        loss: lastLoss,
        loss_ema: emaLoss,
        lr,
        grad_norm: gradNorm,
        tokens_per_s: tps,
        ...extras,
      });
    }
    const evalNow = o.evaluate && ((o.evalEvery && done % o.evalEvery === 0) || done === total);
    let metrics: Record<string, number> | undefined;
    if (evalNow) {
      metrics = await o.evaluate!(done);
      evals.push({ update: done, ...metrics });
      log.write({ event: 'eval', update: done, ...metrics });
      progress.done();
      info(
        `${o.label}: update ${done}/${total} ${Object.entries(metrics)
          .map(([k, v]) => `${k} ${v.toFixed(4)}`)
          .join('  ')}`,
      );
    }
    let stop = metrics !== undefined && done < total && (o.stopEarly?.(done, metrics) ?? false);
    const late = !stop && done < total && o.deadline !== undefined && Date.now() >= o.deadline;
    if (late) {
      if (!metrics && o.evaluate) {
        metrics = await o.evaluate(done);
        evals.push({ update: done, ...metrics });
        log.write({ event: 'eval', update: done, ...metrics });
      }
      progress.done();
      info(`${o.label}: the time budget is spent: stopping at update ${done}/${total}`);
      stop = true;
    }
    if (
      (o.checkpointEvery && done % o.checkpointEvery === 0) ||
      done === total ||
      stop ||
      (metrics && o.onEval)
    )
      save(done, stop);
    if (metrics) o.onEval?.(done, metrics);
    if (stop) {
      progress.done();
      if (!late) info(`${o.label}: stopped early at update ${done}/${total}`);
      end = done;
      stopped = true;
    }
  }
  progress.done();
  // A finished run resumed: nothing to train, but the caller still gets its final weights' scores.
  if (start === end && end > 0 && o.evaluate && evals.at(-1)?.update !== end) {
    const metrics = await o.evaluate(end);
    evals.push({ update: end, ...metrics });
    o.onEval?.(end, metrics);
    info(`${o.label}: already at update ${end}/${total}; evaluated its final weights`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const tokensPerSecond = tokens / seconds;
  if (end > start)
    info(
      `${o.label}: ${end - start} updates in ${formatSeconds(seconds)}, ${(tokensPerSecond / 1000).toFixed(1)}k tokens/s`,
    );
  return { updates: end, stopped, tokensPerSecond, lastLoss, evals };
}

/**
 * The evaluations a resumed run made before its checkpoint, from its log.jsonl: the last record for each
 * update up to `upTo` (a killed run may have logged past its checkpoint, and a replay logs again). Lines a
 * kill cut short are skipped.
 */
function earlierEvals(path: string, upTo: number): Record<string, number>[] {
  const byUpdate = new Map<number, Record<string, number>>();
  for (const { event, time: _, ...rest } of readJsonLog(path))
    if (event === 'eval' && typeof rest.update === 'number' && rest.update <= upTo)
      byUpdate.set(rest.update, rest as Record<string, number>);
  return [...byUpdate.values()].sort((a, b) => a.update - b.update);
}

/**
 * The flags behind the loop's own settings, as every training command spells them. The update count has
 * no flag of its own: the caller's budget (--tokens, --epochs) and batch size decide it.
 */
export const LOOP_SETTING_NAMES: Readonly<Record<string, string>> = Object.freeze({
  ...settingNames(OPTIMISER_SETTINGS),
  'schedule.totalSteps': 'updates',
  accumulation: '--accumulation',
});

/** `{ a: { b: 1 } }` -> `a.b` = `1`: every leaf of a settings object as JSON text. */
function leaves(x: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (x !== null && typeof x === 'object' && !Array.isArray(x))
    for (const [k, v] of Object.entries(x)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  else if (x !== undefined) out.set(prefix, JSON.stringify(x));
  return out;
}

/**
 * A resumed run must be the run that wrote the checkpoint: the same settings, or the replay is not the
 * run it claims to be. Checkpoints from before recipes were saved carry none and are not checked.
 */
function checkSameRecipe(
  label: string,
  path: string,
  saved: unknown,
  now: Record<string, unknown>,
  names: Record<string, string>,
): void {
  if (saved === undefined) return;
  const [was, is] = [leaves(saved), leaves(now)];
  // A setting the checkpoint has no record of was added to the recipe after it was written: not checked.
  const differ = [...was.keys()].filter((k) => was.get(k) !== is.get(k));
  if (differ.length)
    throw new UserError(
      `${label}: --resume: ${path} was written with other settings (${differ
        .map((k) => `${names[k] ?? k} ${was.get(k) ?? 'unset'} there, ${is.get(k) ?? 'unset'} now`)
        .join('; ')}); resume with the same settings, or start a new run in another --out`,
    );
}

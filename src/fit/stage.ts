/**
 * What a stage of `minnow fit` is: the context it runs in, what it returns, the record fit writes of it
 * (OUT/stages/NAME/result.json), and a stage left out of the plan. The list of stages is stages.ts.
 */
import { join } from 'node:path';
import type { DataSource } from '../data/task.js';
import type { FitConfig } from './config.js';
import type { FitData } from './data.js';
import type { Int8Size } from './sizes.js';

export interface StageContext {
  /** The stage's own directory, OUT/stages/NAME (created before `run`). */
  dir: string;
  config: FitConfig;
  src: DataSource;
  dev: DataSource | undefined;
  data: FitData;
  /** Date.now() at which the --budget is spent: a stage's training stops there (the first stage's too). */
  deadline: number;
  /** The directory holds an unfinished run of this stage (a killed fit): resume it where the stage can. */
  unfinished: boolean;
  /** The finished stages before this one (this run's and earlier runs'), in order, by name. */
  earlier: ReadonlyMap<string, StageResult>;
}

/** A model that could ship: its directory (relative to the stage's), kind and int8 model file. */
export interface Candidate {
  model: string;
  /** A hybrid is a transformer with an n-gram path added (minnow hybrid). */
  kind: 'ngram' | 'transformer' | 'hybrid';
  int8: Int8Size;
}

export interface StageOutput {
  /** The dev score in points (the task's main metric), for a stage that makes or checks a model. */
  score?: number;
  metrics?: Record<string, number | undefined>;
  candidate?: Candidate;
  /** One line for the summary and the model card: what the stage made. */
  note: string;
  /** Anything else worth recording (settings chosen, epochs run ...). */
  details?: Record<string, unknown>;
}

/** OUT/stages/NAME/result.json. */
export interface StageResult extends StageOutput {
  stage: string;
  seconds: number;
  /** CPU seconds of the whole process (onnxruntime's threads included) while the stage ran. */
  cpuSeconds: number;
  finishedAt: string;
  /** The stage's key when it ran (see Stage.key). */
  key?: string;
}

export interface Stage {
  name: string;
  /** What the stage does, in a few words (progress lines, the model card). */
  what: string;
  /** Whether --budget may skip the stage (export always runs: there must be something to ship). */
  budgeted: boolean;
  /**
   * What of the earlier results the stage's work depends on (absent: nothing). A finished stage whose
   * recorded key differs from the current one is run again on --resume.
   */
  key?(ctx: Pick<StageContext, 'earlier' | 'config'>): string;
  run(ctx: StageContext): Promise<StageOutput>;
}

/**
 * The model directory an earlier stage `from` left (its details.model, e.g. task-adaptive pre-training's),
 * or `otherwise` where that stage did not run or left none.
 */
export function modelLeftBy(
  earlier: ReadonlyMap<string, StageResult>,
  stageDirOf: (stage: string) => string,
  from: string | undefined,
  otherwise: string,
): { dir: string; from?: string } {
  const model = from ? earlier.get(from)?.details?.model : undefined;
  return typeof model === 'string' ? { dir: join(stageDirOf(from!), model), from } : { dir: otherwise };
}

/** A stage left out of the plan before anything ran, and why (e.g. its int8 file is over --max-bytes). */
export interface Excluded {
  stage: string;
  reason: string;
  int8?: Int8Size;
}

/** The plan of a fit, in order: the stages to run and, where they would have been, those left out. */
export type Plan = (Stage | Excluded)[];

export function isExcluded(e: Stage | Excluded): e is Excluded {
  return 'reason' in e;
}

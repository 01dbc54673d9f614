/**
 * What a stage of `minnow fit` is, and the list fit runs. A stage works in its own directory
 * (OUT/stages/NAME) and returns what it made; fit times it and writes OUT/stages/NAME/result.json
 * atomically when it finishes, so a finished stage is never run again by --resume. A stage that makes a
 * candidate (a model that could ship) says so in its result; the export stage ships the best one.
 *
 * A new recipe (distillation from an ensemble of the fine-tunes, a hybrid transformer + n-gram student,
 * task-adaptive pre-training) is one more entry in `fitStages`: it reads the earlier stages' results
 * (`ctx.earlier`) and, through `key`, is run again when the results it used have changed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from '../data/task.js';
import { DEFAULT_BASELINE } from '../train/baseline.js';
import { baselineStage, finetuneStage, hybridStage } from './candidates.js';
import type { FitConfig } from './config.js';
import type { FitData } from './data.js';
import { exportStage } from './export-stage.js';
import { baselineBuckets, hybridRoomMin, type Int8Size, transformerInt8 } from './sizes.js';

export interface StageContext {
  /** The stage's own directory, OUT/stages/NAME (created before `run`). */
  dir: string;
  config: FitConfig;
  src: DataSource;
  dev: DataSource | undefined;
  data: FitData;
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

/** The model directory of a shipped model's name. */
export function shippedModel(c: Pick<FitConfig, 'modelsDir'>, name: string): string {
  return join(c.modelsDir, name);
}

/**
 * The stages of a fit, in order: the n-gram baseline (its buckets sized to --max-bytes), a default-recipe
 * fine-tune of each shipped model whose int8 file fits --max-bytes, each followed by its hybrid with a word
 * n-gram path where the bytes left allow one, and the export of the winner.
 */
export function fitStages(data: FitData, c: FitConfig): Plan {
  const plan: Plan = [baselineStage(baselineBuckets(c.maxBytes, data.head, DEFAULT_BASELINE.ngram.buckets))];
  for (const name of c.models) {
    const stage = `finetune-${name}`;
    const dir = shippedModel(c, name);
    if (!existsSync(join(dir, 'config.json'))) {
      plan.push({ stage, reason: `${dir}: not found` });
      continue;
    }
    const int8 = transformerInt8(dir, data.head);
    plan.push(
      int8.bytes > c.maxBytes
        ? {
            stage,
            reason: `its int8 file, ${int8.bytes.toLocaleString('en-US')} bytes, is over --max-bytes ${c.maxBytes.toLocaleString('en-US')}`,
            int8,
          }
        : finetuneStage(name, dir, int8),
    );
    // With bytes left under --max-bytes: the fine-tune plus a word n-gram path in them.
    if (int8.bytes + hybridRoomMin(data.head) <= c.maxBytes) plan.push(hybridStage(stage));
  }
  plan.push(exportStage);
  return plan;
}

/**
 * The list of stages `minnow fit` runs (stage.ts says what a stage is). A stage works in its own directory
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
import { DEFAULT_BASELINE } from '../train/baseline.js';
import { baselineStage, finetuneStage, hybridStage } from './candidates.js';
import type { FitConfig } from './config.js';
import type { FitData } from './data.js';
import { exportStage } from './export-stage.js';
import { baselineBuckets, hybridRoomMin, transformerInt8 } from './sizes.js';
import type { Plan } from './stage.js';

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
    const int8 = transformerInt8(dir, data.head, c.maxPositions);
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

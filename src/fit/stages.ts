/**
 * The list of stages `minnow fit` runs (stage.ts says what a stage is). A stage works in its own directory
 * (OUT/stages/NAME) and returns what it made; fit times it and writes OUT/stages/NAME/result.json
 * atomically when it finishes, so a finished stage is never run again by --resume. A stage that makes a
 * candidate (a model that could ship) says so in its result; the export stage ships the best one.
 *
 * A new recipe (e.g. distillation from an ensemble of the fine-tunes) is one more entry in `fitStages`: it reads the earlier stages' results
 * (`ctx.earlier`) and, through `key`, is run again when the results it used have changed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BASELINE } from '../train/baseline.js';
import { baselineStage, finetuneStage, hybridStage } from './candidates.js';
import type { FitConfig } from './config.js';
import { type FitData, hasPairs, imbalanced } from './data.js';
import { exportStage } from './export-stage.js';
import { baselineBuckets, hybridRoomMin, type Int8Size, transformerInt8 } from './sizes.js';
import { distillStage } from './distill-stage.js';
import { taptStage } from './tapt.js';
import type { Plan } from './stage.js';

/** The model directory of a shipped model's name. */
export function shippedModel(c: Pick<FitConfig, 'modelsDir'>, name: string): string {
  return join(c.modelsDir, name);
}

/**
 * The stages of a fit, in order: the n-gram baseline (its buckets sized to --max-bytes; for text pairs also
 * one with pair similarity features; for imbalanced classes also one that weighs them equally), a default-recipe
 * fine-tune of each shipped model whose int8 file fits --max-bytes (after task-adaptive pre-training on the
 * training texts, unless c.tapt is off), each followed by its hybrid with an n-gram path where the bytes
 * left allow one; the largest of those models distilled from the best models so far, and its hybrid (unless
 * c.distill is off); and the export of the winner.
 */
export function fitStages(data: FitData, c: FitConfig): Plan {
  const buckets = baselineBuckets(c.maxBytes, data.head, DEFAULT_BASELINE.ngram.buckets);
  const plan: Plan = [baselineStage(buckets)];
  // Text pairs: a baseline that also sees how alike the two texts are (STS-B, MRPC and RTE gain 3-34 points).
  const pairs = hasPairs(data);
  if (pairs) plan.push(baselineStage(buckets, { pairs }));
  // Imbalanced classes: a baseline that weighs them equally (CoLA's Matthews correlation gains from it).
  if (imbalanced(data)) plan.push(baselineStage(buckets, { pairs, balanced: true }));
  const fits: { name: string; dir: string; int8: Int8Size }[] = [];
  for (const name of c.models) {
    const stage = `finetune-${name}`;
    const dir = shippedModel(c, name);
    if (!existsSync(join(dir, 'config.json'))) {
      plan.push({ stage, reason: `${dir}: not found` });
      continue;
    }
    const int8 = transformerInt8(dir, data.head, c.maxPositions);
    if (int8.bytes > c.maxBytes) {
      plan.push({
        stage,
        reason: `its int8 file, ${int8.bytes.toLocaleString('en-US')} bytes, is over --max-bytes ${c.maxBytes.toLocaleString('en-US')}`,
        int8,
      });
      continue;
    }
    if (c.tapt) plan.push(taptStage(name, dir), finetuneStage(name, dir, int8, `tapt-${name}`));
    else plan.push(finetuneStage(name, dir, int8));
    fits.push({ name, dir, int8 });
    // With bytes left under --max-bytes: the fine-tune plus an n-gram path in them.
    if (int8.bytes + hybridRoomMin(data.head) <= c.maxBytes) plan.push(hybridStage(stage, pairs));
  }
  // Then the largest model that fits learns from the best of them all, and gets its own n-gram path.
  const student = fits.sort((a, b) => b.int8.bytes - a.int8.bytes)[0];
  if (c.distill && student) {
    const { name, dir, int8 } = student;
    plan.push(distillStage(name, dir, int8, c.tapt ? `tapt-${name}` : undefined));
    if (int8.bytes + hybridRoomMin(data.head) <= c.maxBytes) plan.push(hybridStage(`distill-${name}`, pairs));
  }
  plan.push(exportStage);
  return plan;
}

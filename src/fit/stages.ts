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
import { baselineBuckets, hybridFits, type Int8Size, modelInt8, transformerInt8 } from './sizes.js';
import {
  distillStage,
  type FitDistillConfig,
  randomModel,
  type Student,
  WORD_TABLE_STUDENT,
  wordTableConfig,
} from './distill-stage.js';
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
 * left allow one; a student distilled from the best models so far (the largest of those models, or where
 * the training rows are many a new word-table model), and its hybrid (unless c.distill is off); and the
 * export of the winner.
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
    if (hybridFits(c.maxBytes, int8.bytes, data.head)) plan.push(hybridStage(stage, pairs));
  }
  // Then a student learns from the best of them all, and gets its own n-gram path.
  const student = c.distill ? studentOf(data, c, fits) : undefined;
  if (student) {
    const stage = distillStage(student.student, student.int8, student.distill);
    plan.push(stage);
    if (hybridFits(c.maxBytes, student.int8.bytes, data.head)) plan.push(hybridStage(stage.name, pairs));
  }
  plan.push(exportStage);
  return plan;
}

/**
 * The distillation's student: where the training rows are many (WORD_TABLE_STUDENT.minRows) a new
 * word-table model, if its int8 file fits; else the largest shipped model that fits, after its
 * task-adaptive pre-training. None where no shipped model fits (the word-table model is larger than
 * uno-eelbert, so it would not fit either).
 */
function studentOf(
  data: FitData,
  c: FitConfig,
  fits: { name: string; dir: string; int8: Int8Size }[],
): { student: Student; int8: Int8Size; distill?: FitDistillConfig } | undefined {
  if (fits.length === 0) return undefined;
  const w = WORD_TABLE_STUDENT;
  if (data.train.examples.length >= w.minRows) {
    const config = wordTableConfig(w);
    const int8 = modelInt8(randomModel(config, 0, data.head.numLabels), data.head, c.maxPositions);
    if (int8.bytes <= c.maxBytes) return { student: { name: w.name, config }, int8, distill: w.distill };
  }
  const { name, dir, int8 } = fits.reduce((a, b) => (b.int8.bytes > a.int8.bytes ? b : a));
  return { student: { name, dir, from: c.tapt ? `tapt-${name}` : undefined }, int8 };
}

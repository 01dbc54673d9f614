/**
 * Ensemble distillation with augmentation, as models/sst2-sentiment was made, for any task: the best
 * candidates fit has made so far (the n-gram baseline, the fine-tunes, their hybrids: models of different
 * kinds, whose mistakes differ) are averaged into one teacher (Hinton et al. 2015), which labels the training
 * rows and WordNet-synonym copies of them (TinyBERT's augmentation, without its masked-LM candidates); the
 * student fine-tunes on those soft targets and the labels (Hinton's loss). The teachers need not fit
 * --max-bytes: only the student ships.
 *
 * The student is a shipped model after task-adaptive pre-training or, where the training rows are many, a
 * new word-table model (WORD_TABLE_STUDENT) that learns from the teacher alone: its int8 file is smaller,
 * which leaves its hybrid a larger n-gram path (docs/baseline-and-fit.md measures both on SST-2).
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Example } from '../data/tabular.js';
import { augmentExamples } from '../distill/augment.js';
import { ensembleLogits } from '../distill/ensemble.js';
import { loadClassifier } from '../infer/load.js';
import { type BertConfig, preset } from '../model/config.js';
import { createModel, type Model, saveModel } from '../model/io.js';
import { stackRows } from '../infer/predict.js';
import { type Classifier, classifierInput } from '../infer/runtime.js';
import { wordnetSynonyms } from '../knowledge/load.js';
import { readVocabFile } from '../text/vocab-file.js';
import { DEFAULT_FINETUNE, finetune } from '../train/finetune.js';
import { BERT_VOCAB } from '../util/assets.js';
import { info } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { stageDir } from './config.js';
import { type CandidateResult, isCandidate } from './pick.js';
import type { Int8Size } from './sizes.js';
import { modelLeftBy, type Stage, type StageContext, type StageOutput, type StageResult } from './stage.js';

/** The BERT uncased vocabulary: the WordNet copies' word pieces, and a new student's vocabulary. */

export interface FitDistillConfig {
  /** The best candidates by dev score that teach (as one ensemble). */
  teachers: number;
  /** WordNet-synonym copies of each training row (TinyBERT's augmentation: p, k) ... */
  copies: number;
  p: number;
  k: number;
  /** ... fewer where the rows and copies would pass this many. */
  maxRows: number;
  temperature: number;
  /** Weight of the soft targets; the labels get 1 - alpha. */
  alpha: number;
  /** Epochs at most (early stopping keeps the best); undefined: finetune's recipe by data size. */
  epochs?: number;
  /**
   * The hard label a WordNet copy trains on: its row's ('row'), or the teacher's answer on the copy
   * ('teacher': a synonym can change what a sentence says). Classification only.
   */
  copyLabels?: 'row' | 'teacher';
}

/** scripts/sst2-distill.ts's measured recipe (T 2, alpha 0.5, WordNet copies), with fewer copies for time. */
export const DEFAULT_FIT_DISTILL: Readonly<FitDistillConfig> = Object.freeze({
  teachers: 3,
  copies: 2,
  p: 0.4,
  k: 15,
  maxRows: 200_000,
  temperature: 2,
  alpha: 0.5,
});

/**
 * Who learns: a shipped model in `dir` (the model the stage `from`, its task-adaptive pre-training, left
 * where that ran), or a new model made in the stage from `config` with random weights (seeded).
 */
export type Student = { name: string; dir: string; from?: string } | { name: string; config: BertConfig };

/**
 * The student where the training rows are many: a new one-layer model (uno-lowrank) whose embedding is a
 * 30,522 x 4 word table and a 4 -> 128 projection, distilled on 4 WordNet copies of each row. Its int8 file
 * (377 kB at 128 positions) leaves its hybrid 59,296 buckets under 500 kB where eelbert-tiny's leaves 14,091;
 * on SST-2 (67,349 rows) its hybrid shipped 84.14 in int8 (mean of seeds 0-2, results/fit.md) where
 * eelbert-tiny's shipped 83.60 (results/fit-v3.md). With one copy a row it learned no more than eelbert-tiny:
 * a random table needs rows. Its copies train on the teacher's answers (the student alone +0.27 on SST-2's
 * mean, every seed up, against the copies' own rows' labels). Measured on SST-2 only; below `minRows`
 * (every other GLUE task in ../shared has 8,551 rows or fewer) the pre-trained shipped model stays the
 * student.
 */
export const WORD_TABLE_STUDENT = Object.freeze({
  name: 'uno-lowrank',
  preset: 'uno-lowrank',
  lowrankDim: 4,
  /** Training rows (after the dev hold-out) from which it replaces the shipped student. */
  minRows: 50_000,
  distill: Object.freeze({
    ...DEFAULT_FIT_DISTILL,
    copies: 4,
    maxRows: 350_000,
    copyLabels: 'teacher' as const,
  }),
});

/** The word-table student's config: its preset with its code width. */
export function wordTableConfig(s: typeof WORD_TABLE_STUDENT = WORD_TABLE_STUDENT): BertConfig {
  return { ...preset(s.preset), lowrank_dim: s.lowrankDim };
}

/** The teachers: the best `n` finished candidates by dev score (any size). */
export function teachersOf(earlier: ReadonlyMap<string, StageResult>, n: number): CandidateResult[] {
  return [...earlier.values()]
    .filter(isCandidate)
    .sort((a, b) => b.score - a.score)
    .slice(0, n);
}

/** Copies per row so that rows x (1 + copies) stays within maxRows. */
export function copiesFor(rows: number, c: FitDistillConfig): number {
  return Math.max(0, Math.min(c.copies, Math.floor(c.maxRows / Math.max(1, rows)) - 1));
}

/**
 * Distil the ensemble of the best candidates into `student`, whose int8 file measures `int8` (for a new
 * student, measured on an untrained model of its config: the bytes depend on its shapes only).
 */
export function distillStage(
  student: Student,
  int8: Int8Size,
  c: FitDistillConfig = DEFAULT_FIT_DISTILL,
): Stage {
  const from = 'dir' in student ? student.from : undefined;
  return {
    name: `distill-${student.name}`,
    what: `distil the ensemble of the best ${c.teachers} models so far into ${'dir' in student ? student.name : `a new ${student.name} model`}, on the training rows and WordNet copies of them`,
    budgeted: true,
    key: ({ earlier }) =>
      [...earlier.values()]
        .filter((r) => isCandidate(r) || r.stage === from)
        .map((r) => `${r.stage}@${r.finishedAt}`)
        .join(','),
    async run(ctx: StageContext): Promise<StageOutput> {
      const teachers = teachersOf(ctx.earlier, c.teachers);
      if (teachers.length === 0) return { note: 'no model to learn from' };
      const fc = ctx.config;
      const start =
        'dir' in student
          ? modelLeftBy(ctx.earlier, (s) => stageDir(fc.out, s), from, student.dir).dir
          : newStudent(join(ctx.dir, 'init'), student.config, fc.seed);
      const regression = ctx.data.head.regression;
      const K = ctx.data.head.numLabels;
      let copies = 0;
      const teach = async (rows: readonly Example[]): Promise<Float32Array> => {
        const members: Float32Array[] = [];
        const inputs = rows.map(classifierInput);
        for (const t of teachers) {
          info(`fit: teacher ${t.stage} (dev ${t.score.toFixed(2)}) labels ${rows.length} rows`);
          const clf: Classifier = await loadClassifier(join(stageDir(fc.out, t.stage), t.candidate.model), {
            threads: fc.threads,
            maxLength: 128,
          });
          members.push(stackRows(await clf.logits(clf.encode(inputs), 64), K));
          await clf.release();
        }
        return ensembleLogits(members, K, c.temperature, regression);
      };
      // The copies and the teacher's logits for them, where copyLabels asked for them first.
      let made: { rows: Example[]; logits?: Float32Array } = { rows: [] };
      const extra = async (train: readonly Example[]): Promise<Example[]> => {
        copies = copiesFor(train.length, c);
        if (copies === 0) return [];
        info(`fit: ${train.length} training rows x ${copies} WordNet copies`);
        const rows: Example[] = [];
        await augmentExamples(
          readVocabFile(BERT_VOCAB),
          train,
          { words: wordnetSynonyms(c.k) },
          { k: c.k, p: c.p, n: copies, seed: fc.seed, maxLength: 512 },
          (_, __, out) => rows.push(...out),
        );
        if (c.copyLabels !== 'teacher' || regression) return (made = { rows }).rows;
        const logits = await teach(rows);
        made = { rows: teacherLabelled(rows, logits, K), logits };
        return made.rows;
      };
      const logits = async (rows: readonly Example[]): Promise<Float32Array> => {
        if (!made.logits) return teach(rows);
        const own = await teach(rows.slice(0, rows.length - made.rows.length));
        const all = new Float32Array(rows.length * K);
        all.set(own);
        all.set(made.logits, own.length);
        return all;
      };
      const out = join(ctx.dir, 'model');
      const res = await finetune(start, ctx.src, ctx.dev, {
        ...DEFAULT_FINETUNE,
        out,
        seed: fc.seed,
        threads: fc.threads,
        devFraction: fc.devFraction,
        deadline: ctx.deadline,
        resume: ctx.unfinished && existsSync(join(out, 'checkpoints')),
        teacher: { extra, logits, temperature: c.temperature, alpha: c.alpha },
        ...(c.epochs !== undefined ? { epochs: c.epochs } : {}),
      });
      const names = teachers.map((t) => t.stage).join(', ');
      return {
        score: res.score,
        metrics: res.metrics,
        candidate: { model: 'model', kind: 'transformer', int8 },
        note: `from ${names}; ${res.trainExamples.toLocaleString('en-US')} rows (${copies} copies each${made.logits ? ', labelled by the teacher' : ''}), epoch ${res.bestEpoch} of ${res.epochsRun} kept`,
        details: {
          model: student.name,
          from: start,
          teachers: teachers.map((t) => ({ stage: t.stage, score: t.score })),
          copies,
          copyLabels: made.logits ? 'teacher' : 'row',
          recipe: res.recipe,
          bestEpoch: res.bestEpoch,
          perEpoch: res.perEpoch,
          trainExamples: res.trainExamples,
        },
      };
    },
  };
}

/**
 * A new model from `config` with seeded random weights in `dir` (kept: a resumed stage starts from the
 * same one), and the BERT uncased vocabulary beside it.
 */
function newStudent(dir: string, config: BertConfig, seed: number): string {
  if (existsSync(dir)) return dir;
  const m = randomModel(config, seed);
  // Written beside and renamed: a fit killed while writing leaves no half a model to resume from.
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  saveModel(tmp, m);
  renameSync(tmp, dir);
  info(`fit: a new ${config.minnow_preset ?? 'model'} student (random weights, seed ${seed}) in ${dir}`);
  return dir;
}

/** A model from `config` with seeded random weights and the BERT uncased vocabulary (and a head of `numLabels`). */
export function randomModel(config: BertConfig, seed: number, numLabels?: number): Model {
  return createModel(structuredClone(config), BERT_VOCAB, new Rng(seed), numLabels ? { numLabels } : {});
}

/** `rows` with the teacher's answer as their label: the largest of each row's K logits. */
export function teacherLabelled(rows: readonly Example[], logits: Float32Array, K: number): Example[] {
  return rows.map((e, i) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
    return { ...e, label: best };
  });
}

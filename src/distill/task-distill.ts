/**
 * Task-specific distillation: a fine-tuned teacher trains a student (any preset or model directory,
 * table or hash embeddings) on a task's training set.
 *
 * - Hinton KD: soft targets at temperature T mixed with the hard labels (one stage).
 * - TinyBERT: stage 1 matches intermediate layers (embedding output, hidden states through learned
 *   projections, attention scores) with the mapping given as data (mapping.ts); stage 2 distils the
 *   prediction layer. Shapes are checked before the first step.
 *
 * Teacher logits are computed once, cached on disk (OUT/teacher_cache or --teacher-cache, keyed by teacher
 * and data) and reused by every epoch, stage and student. Intermediate teacher states are recomputed per batch: caching them would take
 * examples x tokens x width x layers floats (gigabytes for SST-2), more than the teacher forward costs.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Graph } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import { mse } from '../graph/losses.js';
import { bertInputs, classifier, encoder } from '../model/bert.js';
import { Dropout } from '../runtime/dropout.js';
import { type Weights } from '../runtime/weights.js';
import { createModel, loadModel, type Model, readConfig, saveModel } from '../model/io.js';
import { modelEncoder } from '../model/model.js';
import { DEFAULT_ADAMW } from '../runtime/optim.js';
import { lrSchedule } from '../runtime/schedule.js';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import type { Tensor } from '../runtime/session.js';
import { ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { type Batch, runTraining } from '../train/loop.js';
import { evaluateOn, scoreLogits } from '../infer/evaluate.js';
import { predictLogits, stackRows } from '../infer/predict.js';
import { reportedMetrics } from '../eval/task-metrics.js';
import { examplesDigest, type TaskData } from '../data/task.js';
import { encodeAll, type Encoded, epochBatches, padBatch } from '../data/batch.js';
import type { TaskMetrics } from '../eval/glue-score.js';
import { TrainStep } from '../train/step.js';
import { headFor, readTaskFor, setHead, taskHead } from '../infer/task-head.js';
import { devSplit, withKnowledge } from '../train/finetune.js';
import { ensembleLogits } from './ensemble.js';
import { initFromTeacher } from './init.js';
import { initProjections, intermediateTerms, teacherStates } from './intermediate.js';
import { sumTerms, type TermSource } from './loss-terms.js';
import { hintonLoss, softCrossEntropy } from './kd-losses.js';
import { describePlan, type ResolvedPlan, resolveMapping } from './mapping.js';
import { DEFAULT_TASK_DISTILL, type DistillOptions, TASK_DISTILL_SETTING_NAMES } from './task-config.js';

export {
  DEFAULT_TASK_DISTILL,
  type DistillOptions,
  TASK_DISTILL_SETTINGS,
  TASK_METHODS,
  type TaskMethod,
} from './task-config.js';

export interface DistillResult {
  task: string;
  metrics: TaskMetrics;
  score: number;
  stages: { stage: string; evals: Record<string, number>[] }[];
  /** The teacher (an ensemble: their mean softmax) on the same dev data, reported like the student. */
  teacher: { metrics: TaskMetrics; score: number };
  /** With an ensemble: each teacher alone on the dev data, in --teacher order. */
  members?: { dir: string; metrics: TaskMetrics; score: number }[];
}

/** The prediction layer's terms against the teacher's logits: Hinton KD, or TinyBERT's soft cross-entropy. */
function predictionTerms(
  plan: ResolvedPlan,
  numLabels: number,
  regression: boolean,
  method: 'hinton' | 'tinybert',
): TermSource {
  return ({ g, w, config, x, out, drop }) => {
    const logits = classifier(w, config, out, numLabels, drop, x.ngram);
    const teacherLogits = g.input('teacher_logits', 'float32', ['B', numLabels]);
    const labels = g.input('labels', regression ? 'float32' : 'int64', ['B']);
    if (method === 'hinton') {
      const h = hintonLoss(logits, teacherLogits, labels, plan.temperature, plan.alpha, regression);
      return [
        { name: 'loss_soft', value: h.soft },
        { name: 'loss_hard', value: h.hard },
        { name: 'loss_prediction', value: h.loss, weight: plan.predictionWeight },
      ];
    }
    // TinyBERT: soft cross-entropy on logits; regression distils on the gold scores (its code's choice).
    const value = regression
      ? mse(o.reshape(logits, [-1]), labels)
      : softCrossEntropy(logits, teacherLogits, plan.temperature);
    return [{ name: 'loss_prediction', value, weight: plan.predictionWeight }];
  };
}

/** The student's training graph for one stage: its loss terms, their weighted sum as the loss. */
function studentGraph(
  s: Model,
  t: Model,
  plan: ResolvedPlan,
  numLabels: number,
  regression: boolean,
  stage: 'intermediate' | 'prediction',
  method: 'hinton' | 'tinybert',
) {
  const terms =
    stage === 'intermediate'
      ? intermediateTerms(t.config, plan)
      : predictionTerms(plan, numLabels, regression, method);
  return (g: Graph, w: Weights, drop: Dropout) => {
    const x = bertInputs(g, !!s.config.knowledge, !!s.config.ngram);
    const out = encoder(w, s.config, x, drop);
    const { loss, logged } = sumTerms(g, terms({ g, w, config: s.config, x, out, drop }));
    if (!loss)
      throw new UserError(
        `distill: stage "${stage}" has no loss terms (check "intermediate" in the distill config)`,
      );
    return { loss, outputs: logged };
  };
}

/**
 * The cache key of a teacher's logits: sha256 over the loaded teacher (config and every stored parameter, by
 * name), the label count and every encoded example (ids and token types). Two students distilled from the
 * same teacher on the same data share it; a re-trained teacher, edited data or another tokenizer or length
 * limit changes it, so stale logits are never reused. The weights are hashed from memory: no second read.
 */
export function teacherCacheKey(t: Model, items: Encoded[], numLabels: number): string {
  const h = createHash('sha256');
  h.update(`minnow-teacher-logits/2 labels=${numLabels} examples=${items.length}\n`);
  h.update(`${JSON.stringify(t.config)}\n`);
  for (const p of t.store.params) {
    if (p.derived) continue;
    h.update(`${p.name} ${p.shape.join('x')}\n`);
    h.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  }
  for (const x of items) {
    h.update(new Uint8Array(Int32Array.from([x.ids.length]).buffer));
    h.update(new Uint8Array(x.ids.buffer, x.ids.byteOffset, x.ids.byteLength));
    h.update(new Uint8Array(x.types.buffer, x.types.byteOffset, x.types.byteLength));
  }
  return h.digest('hex');
}

/**
 * Teacher logits for every training example, computed once and cached in `dir` as
 * logits-KEY.safetensors (KEY: teacherCacheKey, also stored in the file's metadata and checked on read).
 */
export async function teacherLogits(
  t: Model,
  items: Encoded[],
  numLabels: number,
  dir: string,
  threads: number,
): Promise<{ logits: Float32Array; file: string; reused: boolean }> {
  const key = teacherCacheKey(t, items, numLabels);
  const file = join(dir, `logits-${key.slice(0, 16)}.safetensors`);
  if (existsSync(file)) {
    const f = readSafetensors(file);
    const cached = f.tensors.get('logits');
    if (
      f.metadata.key === key &&
      cached &&
      cached.shape[0] === items.length &&
      cached.shape[1] === numLabels
    ) {
      info(`distill: teacher logits from ${file}`);
      return { logits: cached.data as Float32Array, file, reused: true };
    }
    info(`${file}: cache does not match this teacher and data; recomputing`);
  }
  info(`distill: computing teacher logits for ${items.length} examples (cached in ${file})`);
  const all = stackRows(await predictLogits(t, items, numLabels, 128, threads), numLabels);
  ensureDir(dir);
  writeSafetensors(file, { logits: { dtype: 'F32', shape: [items.length, numLabels], data: all } }, { key });
  return { logits: all, file, reused: false };
}

/**
 * The teachers' dev metrics: each alone and, for several, their ensemble (the mean softmax at T = 1,
 * or the mean prediction for regression); one teacher is its own ensemble.
 */
async function teacherDevMetrics(
  teachers: Model[],
  task: TaskData,
  devOf: (t: Model) => Encoded[],
  numLabels: number,
  threads: number,
): Promise<{ members: Record<string, number>[]; ensemble: Record<string, number> }> {
  const regression = task.labels === null;
  let gold: number[] = [];
  const flat: Float32Array[] = [];
  const members: Record<string, number>[] = [];
  for (const t of teachers) {
    const items = devOf(t);
    gold = items.map((x) => x.label); // the same rows, in the same order, for every teacher
    const rows = await predictLogits(t, items, numLabels, 128, threads);
    members.push(scoreLogits(task, rows, gold));
    flat.push(stackRows(rows, numLabels));
  }
  if (teachers.length === 1) return { members, ensemble: members[0] };
  const mean = ensembleLogits(flat, numLabels, 1, regression);
  const rows = Array.from({ length: gold.length }, (_, i) =>
    mean.subarray(i * numLabels, (i + 1) * numLabels),
  );
  return { members, ensemble: scoreLogits(task, rows, gold) };
}

export async function distill(o_: DistillOptions): Promise<DistillResult> {
  if (o_.intermediateEpochs <= 0 && o_.predictionEpochs <= 0)
    throw new UserError(
      `distill: nothing to train: --epochs ${o_.predictionEpochs} and no intermediate stage (--intermediate-epochs ${o_.intermediateEpochs})`,
    );
  // The teacher's head decides the classes; a task it was not fine-tuned on is refused before any work.
  const tHead = taskHead(readConfig(o_.teacher), join(o_.teacher, 'config.json'));
  const all = readTaskFor(tHead, o_.src, 'train', `--teacher ${o_.teacher}`);
  const head = headFor(all);
  const { train, devData } = devSplit(all, o_.src, o_.dev, tHead, {
    devFraction: o_.devFraction,
    seed: o_.seed,
  });
  const { numLabels, regression } = tHead;
  const teacher = loadModel(o_.teacher, { numLabels });
  const others = (o_.ensemble ?? []).map((dir) => {
    const h = taskHead(readConfig(dir), join(dir, 'config.json'));
    const what = (x: typeof h) => (x.regression ? 'regression' : `classes ${x.names!.join(', ')}`);
    if (what(h) !== what(tHead))
      throw new UserError(
        `distill: teacher ${dir} was fine-tuned for ${what(h)}, teacher ${o_.teacher} for ${what(tHead)}; an ensemble needs one task`,
      );
    return loadModel(dir, { numLabels });
  });
  const teachers = [teacher, ...others];
  const teacherDirs = [o_.teacher, ...(o_.ensemble ?? [])];
  let student: Model;
  if ('dir' in o_.student) student = loadModel(o_.student.dir, { numLabels, rng: new Rng(o_.seed) });
  else student = createModel(o_.student.config, o_.vocab, new Rng(o_.seed), { numLabels });
  if (o_.initLayers)
    info(
      `distill: initialised ${initFromTeacher(student, teacher, o_.initLayers).length} student tensors from teacher layers ${o_.initLayers.join(', ')}`,
    );
  teachers.forEach((t, i) => {
    if (student.tokenizer.vocabulary.join('\n') !== t.tokenizer.vocabulary.join('\n'))
      throw new UserError(
        `distill: teacher ${teacherDirs[i]} and student use different vocabularies; logit and token-level distillation need the same tokenizer`,
      );
  });
  const plan = resolveMapping(o_.config, teacher.config, student.config, 'distill config');
  info(describePlan(plan));
  setHead(student.config, head);
  const maxLength = Math.min(
    o_.maxLength,
    student.config.max_position_embeddings,
    teacher.config.max_position_embeddings,
  );
  if (o_.knowledge) withKnowledge(student, o_.knowledge);
  const method = plan.matches.length > 0 || o_.intermediateEpochs > 0 ? 'tinybert' : 'hinton';
  if (method === 'tinybert' && (student.config.knowledge || teacher.config.knowledge))
    throw new UserError(
      'distill: with knowledge (K-BERT) only --method hinton: intermediate layers need the same tokens in teacher and student',
    );
  if (method === 'tinybert' && others.length)
    throw new UserError(
      `distill: several teachers (${teacherDirs.join(', ')}) only with --method hinton: an ensemble has soft targets but no one set of intermediate layers`,
    );
  // Each model reads the text its own way (a K-BERT model as sentence trees); the examples line up.
  const encode = (m: Model, examples: typeof train.examples) =>
    encodeAll(m.tokenizer, examples, maxLength, modelEncoder(m, maxLength), m.config.ngram);
  const items = encode(student, train.examples);
  const devItems = encode(student, devData.examples);
  /** Each teacher reads the examples its own way (a K-BERT teacher as sentence trees); the rows line up. */
  const itemsOf = (t: Model, examples: typeof train.examples, own: Encoded[]) =>
    t.config.knowledge ? encode(t, examples) : own;
  ensureDir(o_.out);
  const memberLogits: Float32Array[] = [];
  for (const t of teachers)
    memberLogits.push(
      (
        await teacherLogits(
          t,
          itemsOf(t, train.examples, items),
          numLabels,
          o_.teacherCache ?? join(o_.out, 'teacher_cache'),
          o_.threads,
        )
      ).logits,
    );
  const cached =
    teachers.length === 1
      ? memberLogits[0]
      : ensembleLogits(memberLogits, numLabels, o_.config.temperature, regression);
  const dev = await teacherDevMetrics(
    teachers,
    train,
    (t) => itemsOf(t, devData.examples, devItems),
    numLabels,
    o_.threads,
  );
  const teacherMetrics = dev.ensemble;
  dev.members.forEach((m, i) => info(`distill: teacher ${teacherDirs[i]} dev score ${m.score.toFixed(2)}`));
  info(
    `distill: ${teachers.length > 1 ? `ensemble of ${teachers.length} teachers` : 'teacher'} dev score ${teacherMetrics.score.toFixed(2)}`,
  );
  const { stepsPerEpoch, indicesOf } = epochBatches(items.length, o_.batchSize, o_.seed);
  const evaluate = () => evaluateOn(student, train, devItems, numLabels, o_.threads);
  const stages: DistillResult['stages'] = [];
  initProjections(student.store, plan, o_.seed, student.config.initializer_range);
  const run = async (stage: 'intermediate' | 'prediction', epochs: number) => {
    if (epochs <= 0) return;
    const build = studentGraph(student, teacher, plan, numLabels, regression, stage, method);
    const step = await TrainStep.create(build, student.store, { seed: o_.seed, threads: o_.threads });
    // The teacher's intermediate states, recomputed per batch (stage 1 only).
    const tFwd = await teacherStates(teacher, stage === 'intermediate' ? plan.matches : [], o_.threads);
    const terms = step.graph.outputs.map((v) => v.name).filter((n) => n.startsWith('loss_'));
    const updates = epochs * stepsPerEpoch;
    const result = await runTraining({
      onStart: () =>
        writeFileAtomic(join(o_.out, 'distill_config.json'), `${JSON.stringify({ ...o_, plan }, null, 2)}\n`),
      label: `distill ${stage}`,
      out: join(o_.out, stage),
      step,
      store: student.store,
      optim: {
        ...DEFAULT_ADAMW,
        lr: o_.lr,
        weightDecay: o_.weightDecay ?? DEFAULT_TASK_DISTILL.weightDecay,
        clipNorm: o_.clipNorm ?? DEFAULT_TASK_DISTILL.clipNorm,
      },
      schedule: lrSchedule(updates, o_.warmup, o_.decay ?? DEFAULT_TASK_DISTILL.decay),
      accumulation: 1,
      batch: async (k): Promise<Batch> => {
        const idx = indicesOf(k);
        const b = padBatch(
          idx.map((j) => items[j]),
          regression,
          student.tokenizer.padId,
        );
        if (stage === 'prediction') {
          const tl = new Float32Array(idx.length * numLabels);
          idx.forEach((j, r) => tl.set(cached.subarray(j * numLabels, (j + 1) * numLabels), r * numLabels));
          b.feeds.teacher_logits = { data: tl, shape: [idx.length, numLabels] } as Tensor;
        }
        if (tFwd) {
          const { labels: _, ...inputs } = b.feeds;
          Object.assign(b.feeds, await tFwd.run(inputs, b.sizes));
        }
        return b;
      },
      evaluate: stage === 'prediction' && devItems.length ? evaluate : undefined,
      evalEvery: stepsPerEpoch,
      checkpointEvery: o_.checkpointEvery,
      resume: o_.resume,
      logOutputs: terms,
      recipe: {
        teacher: teacherDirs.map((d) => basename(d)).join(','),
        task: train.task,
        data: basename(train.file),
        trainExamples: items.length,
        trainDigest: examplesDigest(train.examples),
        seed: o_.seed,
        batchSize: o_.batchSize,
        maxLength,
        knowledge: student.config.knowledge?.source ?? 'none',
        distill: o_.config,
      },
      settingNames: TASK_DISTILL_SETTING_NAMES,
    });
    await step.release();
    await tFwd?.release();
    stages.push({ stage, evals: result.evals });
  };
  await run('intermediate', o_.intermediateEpochs);
  await run('prediction', o_.predictionEpochs);
  student.store.remove((n) => n.startsWith('distill.'));
  saveModel(o_.out, student);
  // The prediction stage already evaluated the final weights at its last update.
  const final = stages.at(-1)?.stage === 'prediction' ? stages.at(-1)!.evals.at(-1) : undefined;
  const finalValues = final ?? (await evaluate());
  const metrics = reportedMetrics(train, finalValues);
  const res: DistillResult = {
    task: train.task,
    metrics,
    score: finalValues.score,
    stages,
    teacher: { metrics: reportedMetrics(train, teacherMetrics), score: teacherMetrics.score },
    ...(others.length && {
      members: dev.members.map((m, i) => ({
        dir: teacherDirs[i],
        metrics: reportedMetrics(train, m),
        score: m.score,
      })),
    }),
  };
  writeFileAtomic(join(o_.out, 'eval_results.json'), `${JSON.stringify(res, null, 2)}\n`);
  return res;
}

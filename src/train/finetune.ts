/**
 * Fine-tuning of a classification or regression head (and the encoder) on a task: dynamic padding per
 * batch, seeded per-epoch shuffles (batches are a pure function of the step, so --resume is bit-exact),
 * the task's metrics on the dev split after every epoch, the best epoch's weights kept and saved (early
 * stopping after --patience epochs without a better dev score). The learning rate, epochs and maximum
 * length the user does not give are chosen by finetune-recipe.ts's rules.
 */
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { type DataSource, examplesDigest, holdOut, readTask, type TaskData } from '../data/task.js';
import { type Encoded, encodeAll, epochBatches, padBatch } from '../data/batch.js';
import type { Example } from '../data/tabular.js';
import { headFor, readTaskFor, setHead, type TaskHead } from '../infer/task-head.js';
import type { TaskMetrics } from '../eval/glue-score.js';
import { reportedMetrics } from '../eval/task-metrics.js';
import { evaluateOn } from '../infer/evaluate.js';
import { loadModel, type Model, saveModel } from '../model/io.js';
import { DEFAULT_ADAMW } from '../runtime/optim.js';
import { type Decay, lrSchedule } from '../runtime/schedule.js';
import { checkOutIsNotInput, ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import type { Tensor } from '../runtime/session.js';
import { headGraph, type SoftTargetLoss } from './head-graph.js';
import type { KnowledgeConfig } from '../knowledge/config.js';
import { type KnowledgeSettings, loadKnowledge } from '../knowledge/load.js';
import { modelEncoder } from '../model/model.js';
import { BestWeights } from './best-epoch.js';
import { DEFAULT_RECIPE_RULE, describeRule, maxLengthFor, recipeFor } from './finetune-recipe.js';
import { runTraining } from './loop.js';
import { BATCH_SIZE, OPTIMISER_SETTINGS, RUN_SETTINGS } from './settings.js';
import { settingNames, settings } from '../util/settings.js';
import { TrainStep } from './step.js';

export interface FinetuneConfig {
  out: string;
  /** Passes over the training data; undefined: by the data's size (finetune-recipe.ts). */
  epochs?: number;
  batchSize: number;
  /** Peak learning rate; undefined: by the model's size (finetune-recipe.ts). */
  lr?: number;
  warmup: number; // fraction of updates
  /** Learning-rate decay after warmup (runtime/schedule.ts); undefined: linear. */
  decay?: Decay;
  weightDecay: number;
  clipNorm: number;
  /** Maximum tokens per example; undefined: from the training rows' lengths (finetune-recipe.ts). */
  maxLength?: number;
  /** With dev data: stop after this many epochs without a better dev score (0: never). */
  patience: number;
  /** Date.now() past which training evaluates, keeps its best epoch so far and stops (fit's --budget). */
  deadline?: number;
  dropout?: number; // override the model's dropout
  /** Without a dev file for the user's own data: the seeded fraction of the training rows held out as dev. */
  devFraction: number;
  /** K-BERT: inject this knowledge (recorded in config.json; a model fine-tuned with it keeps it). */
  knowledge?: KnowledgeSettings;
  seed: number;
  threads: number;
  resume: boolean;
  checkpointEvery: number;
  /** Distillation (minnow fit): more training rows and a teacher's soft targets for every row. */
  teacher?: FinetuneTeacher;
}

/** A teacher for fine-tuning: its logits for the training rows (and rows it adds, e.g. augmented copies). */
export interface FinetuneTeacher extends SoftTargetLoss {
  /** Rows to train on besides the data's own (after the dev rows are held out), e.g. augmented copies. */
  extra?: (train: readonly Example[]) => Promise<Example[]>;
  /** The teacher's logits for `rows`, row-major (rows x numLabels). */
  logits: (rows: readonly Example[]) => Promise<Float32Array>;
}

/**
 * Fine-tuning defaults: batch 32, 10% warmup then linear decay, early stopping after 2 epochs without a better dev score (not
 * in the first half of the epochs); the learning rate, epochs and maximum length are left to
 * finetune-recipe.ts's rules (by model and data).
 */
export const DEFAULT_FINETUNE: Readonly<
  Omit<FinetuneConfig, 'out' | 'dropout' | 'epochs' | 'lr' | 'maxLength'> & { decay: Decay }
> = Object.freeze({
  batchSize: 32,
  warmup: 0.1,
  decay: 'linear',
  weightDecay: 0.01,
  clipNorm: 1,
  patience: 2,
  devFraction: 0.1,
  seed: 0,
  threads: 2,
  resume: false,
  checkpointEvery: 0,
});

const RULE = describeRule();

/**
 * Fine-tuning's settings, each once (util/settings.ts): field, flag, help and range; the values are
 * DEFAULT_FINETUNE's, or chosen by finetune-recipe.ts's rules where it has none (`defaultText`). The data,
 * --out and the K-BERT knowledge are the command's inputs, not settings.
 */
export const FINETUNE_SETTINGS = settings({
  devFraction: {
    flag: 'dev-fraction',
    value: 'F',
    help: 'own data without --dev: seeded fraction of the training rows held out as dev (0: no dev metrics)',
    number: { min: 0, below: 1 },
  },
  epochs: {
    flag: 'epochs',
    value: 'N',
    help: 'passes over the training data (at most: see --patience)',
    defaultText: RULE.epochs,
    number: { int: true, min: 1 },
  },
  patience: {
    flag: 'patience',
    value: 'N',
    help: "with dev data: stop after N epochs without a better dev score, not in the first half of the epochs (0: never); the best epoch's weights are saved",
    number: { int: true, min: 0 },
  },
  batchSize: BATCH_SIZE,
  ...OPTIMISER_SETTINGS,
  lr: { ...OPTIMISER_SETTINGS.lr, defaultText: RULE.lr },
  maxLength: {
    flag: 'max-length',
    value: 'N',
    help: 'maximum tokens per training example (pairs truncated longest-first)',
    defaultText: RULE.maxLength,
    number: { int: true, min: 3 },
  },
  dropout: {
    flag: 'dropout',
    value: 'P',
    help: "override the model's dropout",
    number: { min: 0, below: 1 },
  },
  ...RUN_SETTINGS,
});

/** The flags behind fine-tuning's recipe, for the message of a refused --resume. */
export const FINETUNE_SETTING_NAMES: Readonly<Record<string, string>> = Object.freeze({
  ...settingNames(FINETUNE_SETTINGS),
  task: '--task',
  data: '--data',
  trainExamples: 'training rows (--data, --dev-fraction)',
  trainDigest: "training rows' content (--data, --dev-fraction)",
  'schedule.totalSteps': 'updates (--epochs, --batch-size)',
  knowledge: '--knowledge',
  relations: '--relations',
  maxEntities: '--max-entities',
  maxBranchTokens: '--max-branch-tokens',
  visibleMatrix: '--visible-matrix',
  teacher: "the teacher's soft targets (minnow fit's distillation)",
});

export interface FinetuneResult {
  task: string;
  /** The saved epoch's dev metrics (the best epoch's; without dev data, none). */
  metrics: TaskMetrics;
  score: number;
  /** The epoch whose weights were saved (1-based): the best on dev, or the last without dev data. */
  bestEpoch: number;
  /** Epochs trained: the recipe's, or fewer when early stopping ended the run. */
  epochsRun: number;
  /** The recipe run: given, or chosen by the rules (`chosen` says how, by field). */
  recipe: FinetuneRecipe;
  perEpoch: Record<string, number>[];
  tokensPerSecond: number;
  /** Mean tokens per training example (with knowledge: the sentence trees, branches included). */
  tokensPerExample: number;
  trainExamples: number;
  devExamples: number;
  /** Where the dev examples came from: a dev file, held out of the training file, or none at all. */
  devSource: DevSource;
}

export type DevSource = 'file' | 'held-out' | 'none';

export interface FinetuneRecipe {
  lr: number;
  epochs: number;
  maxLength: number;
  patience: number;
  chosen: Partial<Record<'lr' | 'epochs' | 'maxLength', string>>;
}

/**
 * The dev data of a run: the --dev file (read in the training classes, so a label training never saw is an
 * error), GLUE's dev split, or, for the user's own data without a dev file, a seeded fraction of the
 * training rows held out (never scored as dev while also trained on).
 */
export function devSplit(
  all: TaskData,
  src: DataSource,
  dev: DataSource | undefined,
  head: TaskHead,
  c: { devFraction: number; seed: number },
): { train: TaskData; devData: TaskData; devSource: DevSource } {
  if (dev) {
    const devData = readTaskFor(head, dev, 'dev', `--dev ${dev.data}`);
    if (devData.examples.length > 0 && examplesDigest(devData.examples) === examplesDigest(all.examples))
      info(
        `warning: --dev ${dev.data} holds the same rows as the training data: its dev scores are training scores (give another file, or leave --dev out to hold out a fraction)`,
      );
    return { train: all, devData, devSource: 'file' };
  }
  if (!src.textColumn) return { train: all, devData: readTask(src, 'dev'), devSource: 'file' };
  if (c.devFraction <= 0 || all.examples.length < 2) {
    info(
      `${all.task}: no dev data (no --dev file, --dev-fraction ${c.devFraction}): no dev metrics are reported`,
    );
    return { train: all, devData: { ...all, examples: [] }, devSource: 'none' };
  }
  const { train, dev: held } = holdOut(all, c.devFraction, c.seed);
  info(
    `${all.task}: no --dev file: holding out ${held.examples.length} of ${all.examples.length} rows of ${all.file} as dev (--dev-fraction ${c.devFraction}, seed ${c.seed})`,
  );
  return { train, devData: held, devSource: 'held-out' };
}

/** One line on what the injection did to the training data: tokens per example with the branches. */
function knowledgeSummary(k: KnowledgeConfig, tokensPerExample: number): string {
  return `knowledge ${k.source}: ${tokensPerExample.toFixed(1)} tokens per training example with the injected branches (max ${k.max_entities} per word, ${k.max_branch_tokens} pieces each, visible matrix ${k.visible_matrix ? 'on' : 'off'})`;
}

/** Whether a sentence tree has a branch: its soft positions go back at least once (a trunk counts up). */
function hasBranch(x: Encoded): boolean {
  const p = x.positions;
  if (!p) return false;
  for (let i = 1; i < p.length; i++) if (p[i] <= p[i - 1]) return true;
  return false;
}

/** Give `m` the knowledge the settings name (K-BERT); recorded in its config.json when saved. */
export function withKnowledge(m: Model, s: KnowledgeSettings): void {
  const { graph, config } = loadKnowledge(s);
  m.config.knowledge = config;
  m.knowledge = graph;
}

/**
 * The training rows encoded, and their maximum length: `given` (capped by the model), or, without it, the
 * rule's percentile of their lengths (each encoded as long as the model allows; the longer ones encoded
 * again, truncated).
 */
function trainingRows(
  m: Model,
  examples: Example[],
  given: number | undefined,
): { items: Encoded[]; maxLength: number; chosen?: string } {
  const cap = m.config.max_position_embeddings;
  const encodeAt = (n: number, rows: Example[]) =>
    encodeAll(m.tokenizer, rows, n, modelEncoder(m, n), m.config.ngram);
  if (given !== undefined) {
    const maxLength = Math.min(given, cap);
    return { items: encodeAt(maxLength, examples), maxLength };
  }
  const full = encodeAt(cap, examples);
  const maxLength = maxLengthFor(
    full.map((x) => x.ids.length),
    cap,
  );
  const long = full.flatMap((x, i) => (x.ids.length > maxLength ? [i] : []));
  const cut = encodeAt(
    maxLength,
    long.map((i) => examples[i]),
  );
  long.forEach((i, k) => (full[i] = cut[k]));
  const r = DEFAULT_RECIPE_RULE;
  const chosen = `from the data (${r.lengthPercentile}th percentile of the training rows' tokens; ${long.length} of ${examples.length} rows truncated)`;
  return { items: full, maxLength, chosen };
}

/** Fine-tune `modelDir` on `src` (train split) and evaluate on its dev split (or `dev` source). */
export async function finetune(
  modelDir: string,
  src: DataSource,
  dev: DataSource | undefined,
  c: FinetuneConfig,
): Promise<FinetuneResult> {
  checkOutIsNotInput(c.out, { '--model': modelDir }); // before any data is read
  const all = readTask(src, 'train');
  if (all.examples.length === 0) throw new UserError(`${all.file}: no training examples`);
  const head = headFor(all);
  const { train, devData, devSource } = devSplit(all, src, dev, head, c);
  const { numLabels, regression } = head;
  const m = loadModel(modelDir, { numLabels, rng: new Rng(c.seed) });
  if (c.dropout !== undefined) {
    m.config.hidden_dropout_prob = c.dropout;
    m.config.attention_probs_dropout_prob = c.dropout;
  }
  setHead(m.config, head);
  if (c.knowledge) withKnowledge(m, c.knowledge);
  const rows = c.teacher?.extra
    ? [...train.examples, ...(await c.teacher.extra(train.examples))]
    : train.examples;
  const targets = c.teacher ? await c.teacher.logits(rows) : undefined;
  if (targets && targets.length !== rows.length * numLabels)
    throw new Error(`finetune: ${targets.length} teacher logits for ${rows.length} rows x ${numLabels}`);
  const { items, maxLength, chosen: lengthChosen } = trainingRows(m, rows, c.maxLength);
  // Dev rows are read as `minnow eval` reads them: at the given --max-length, else at eval's default.
  const devLength =
    c.maxLength === undefined
      ? Math.min(DEFAULT_RECIPE_RULE.evalLength, m.config.max_position_embeddings)
      : maxLength;
  const devItems = encodeAll(
    m.tokenizer,
    devData.examples,
    devLength,
    modelEncoder(m, devLength),
    m.config.ngram,
  );
  const tokensPerExample = items.reduce((a, x) => a + x.ids.length, 0) / Math.max(1, items.length);
  if (m.config.knowledge) info(knowledgeSummary(m.config.knowledge, tokensPerExample));
  if (m.config.knowledge && !items.some(hasBranch))
    info(
      `warning: --knowledge ${m.config.knowledge.source}: no fact matched any training sentence, so the model trains as without knowledge (check the subjects against the data's words)`,
    );
  const { stepsPerEpoch, indicesOf } = epochBatches(items.length, c.batchSize, c.seed);
  const { lr, epochs, chosen } = recipeFor(m.config, stepsPerEpoch, { lr: c.lr, epochs: c.epochs });
  const recipe: FinetuneRecipe = {
    lr,
    epochs,
    maxLength,
    patience: c.patience,
    chosen: { ...chosen, ...(lengthChosen ? { maxLength: lengthChosen } : {}) },
  };
  const updates = stepsPerEpoch * epochs;
  const how = (k: keyof FinetuneRecipe['chosen']) => (recipe.chosen[k] ? ` ${recipe.chosen[k]}` : '');
  const stopping = devItems.length
    ? c.patience > 0
      ? `, early stopping after ${c.patience} epochs without a better dev score (not before epoch ${Math.ceil(epochs / 2)})`
      : ', no early stopping'
    : '';
  info(
    `finetune ${train.task}: ${items.length} train / ${devItems.length} dev (${devSource}) examples, ${epochs} epochs${how('epochs')} x ${stepsPerEpoch} steps, lr ${lr}${how('lr')}, max length ${maxLength}${how('maxLength')}${stopping}`,
  );
  const evaluate = () => evaluateOn(m, train, devItems, numLabels, c.threads);
  // With dev data the best epoch's weights are kept (best.safetensors) and saved as the model.
  // Early stopping waits for half the epochs: until then the learning rate is above half its peak.
  const best = devItems.length
    ? new BestWeights(c.out, m.store, {
        patience: c.patience,
        evalEvery: stepsPerEpoch,
        notBefore: Math.ceil(epochs / 2) * stepsPerEpoch,
      })
    : undefined;
  const step = await TrainStep.create(headGraph(m.config, numLabels, regression, c.teacher), m.store, {
    seed: c.seed,
    threads: c.threads,
  });
  ensureDir(c.out);
  const result = await runTraining({
    onStart: (run) => {
      writeFileAtomic(
        join(c.out, 'finetune_config.json'),
        `${JSON.stringify({ ...c, ...recipe, src, dev, model: modelDir }, null, 2)}\n`,
      );
      best?.start(run.start, run.evals);
    },
    label: `finetune ${train.task}`,
    out: c.out,
    step,
    store: m.store,
    optim: { ...DEFAULT_ADAMW, lr, weightDecay: c.weightDecay, clipNorm: c.clipNorm },
    schedule: lrSchedule(updates, c.warmup, c.decay ?? DEFAULT_FINETUNE.decay),
    accumulation: 1,
    batch: (k) => {
      const idx = indicesOf(k);
      const b = padBatch(
        idx.map((j) => items[j]),
        regression,
        m.tokenizer.padId,
      );
      if (targets) {
        const t = new Float32Array(idx.length * numLabels);
        idx.forEach((j, r) => t.set(targets.subarray(j * numLabels, (j + 1) * numLabels), r * numLabels));
        b.feeds.teacher_logits = { data: t, shape: [idx.length, numLabels] } as Tensor;
      }
      return b;
    },
    evaluate: devItems.length ? evaluate : undefined,
    evalEvery: stepsPerEpoch,
    stopEarly: best && ((update, metrics) => best.shouldStop(update, metrics)),
    deadline: c.deadline,
    onEval: best && ((update, metrics) => best.offer(update, metrics)),
    checkpointEvery: c.checkpointEvery,
    resume: c.resume,
    recipe: {
      task: train.task,
      data: basename(train.file),
      trainExamples: items.length,
      trainDigest: examplesDigest(rows),
      teacher: targets
        ? `${createHash('sha256')
            .update(new Uint8Array(targets.buffer, targets.byteOffset, targets.byteLength))
            .digest('hex')
            .slice(0, 16)} T ${c.teacher!.temperature} alpha ${c.teacher!.alpha}`
        : null,
      seed: c.seed,
      batchSize: c.batchSize,
      maxLength,
      patience: best ? c.patience : null,
      dropout: c.dropout ?? null,
      knowledge: m.config.knowledge?.source ?? 'none',
      relations: m.config.knowledge?.relations ?? null,
      maxEntities: m.config.knowledge?.max_entities ?? null,
      maxBranchTokens: m.config.knowledge?.max_branch_tokens ?? null,
      visibleMatrix: m.config.knowledge?.visible_matrix ?? null,
    },
    settingNames: FINETUNE_SETTING_NAMES,
  });
  await step.release();
  best?.restore(result.updates);
  saveModel(c.out, m);
  const kept = best?.best;
  const epochOf = (update: number) => Math.ceil(update / stepsPerEpoch);
  const res: FinetuneResult = {
    task: train.task,
    metrics: reportedMetrics(train, kept?.metrics ?? {}),
    score: kept?.metrics.score ?? Number.NaN,
    bestEpoch: epochOf(kept?.update ?? result.updates),
    epochsRun: epochOf(result.updates),
    recipe,
    perEpoch: result.evals,
    tokensPerSecond: result.tokensPerSecond,
    tokensPerExample,
    trainExamples: items.length,
    devExamples: devItems.length,
    devSource,
  };
  writeFileAtomic(join(c.out, 'eval_results.json'), `${JSON.stringify(res, null, 2)}\n`);
  return res;
}

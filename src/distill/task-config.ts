/**
 * Task distillation's config: its options (DistillOptions), each method's distill config (TASK_METHODS),
 * the defaults (DEFAULT_TASK_DISTILL) and its settings, each declared once (TASK_DISTILL_SETTINGS: field,
 * flag, help, range), from which the CLI builds its options and a refused --resume its names.
 */
import type { DataSource } from '../data/task.js';
import type { KnowledgeSettings } from '../knowledge/load.js';
import type { Decay } from '../runtime/schedule.js';
import { FINETUNE_SETTING_NAMES } from '../train/finetune.js';
import { BATCH_SIZE, OPTIMISER_SETTINGS, RUN_SETTINGS } from '../train/settings.js';
import { settingNames, settings } from '../util/settings.js';
import { numberRule } from './config-schema.js';
import type { StudentSpec } from './init.js';
import { DEFAULT_DISTILL, DISTILL_SCHEMA, type DistillConfig } from './mapping.js';

export interface DistillOptions {
  teacher: string; // fine-tuned teacher model directory
  /**
   * More fine-tuned teachers of the same task (Hinton KD only): the student learns the mean of all the
   * teachers' softmaxes at T (src/distill/ensemble.ts). The first, `teacher`, decides classes and vocabulary.
   */
  ensemble?: string[];
  student: StudentSpec;
  /** DistilBERT-style: copy these 0-based teacher layers (and the embeddings) into the student first. */
  initLayers?: number[];
  vocab: string; // vocab.txt for a preset student
  src: DataSource;
  dev?: DataSource;
  out: string;
  config: DistillConfig;
  /** Epochs of the intermediate-layer stage (TinyBERT stage 1); 0 skips it. */
  intermediateEpochs: number;
  /** Epochs of the prediction-layer stage (Hinton KD, or TinyBERT stage 2). */
  predictionEpochs: number;
  batchSize: number;
  lr: number;
  warmup: number;
  /** Learning-rate decay after warmup, in each stage (runtime/schedule.ts); undefined: linear. */
  decay?: Decay;
  /** AdamW's decoupled weight decay and gradient-norm clip; undefined: DEFAULT_TASK_DISTILL's. */
  weightDecay?: number;
  clipNorm?: number;
  maxLength: number;
  seed: number;
  threads: number;
  /** Where the teacher's logits are cached (default OUT/teacher_cache); students of one teacher can share it. */
  teacherCache?: string;
  /** K-BERT for the student (Hinton KD only): the teacher reads text as it was trained to. */
  knowledge?: KnowledgeSettings;
  /** Own data without a dev file: the seeded fraction of the training rows held out as dev. */
  devFraction: number;
  /** Continue each stage from its latest checkpoint in OUT/<stage>/checkpoints. */
  resume: boolean;
  checkpointEvery: number; // updates between checkpoints (0: end of each stage only)
}

type TaskDistillSettings = Omit<
  DistillOptions,
  'teacher' | 'ensemble' | 'student' | 'initLayers' | 'vocab' | 'src' | 'dev' | 'out' | 'teacherCache'
>;

export type TaskMethod = 'hinton' | 'tinybert';

/**
 * What each task method distils (mapping.ts's config), when no distill config file is given. Hinton KD:
 * soft targets at T = 2 mixed with the labels (alpha 0.5), no intermediate layers. TinyBERT: the uniform
 * mapping with attention (heads averaged where the counts differ), then the prediction layer by soft
 * cross-entropy at T = 1 alone (alpha 1: no hard-label term).
 */
export const TASK_METHODS: Readonly<Record<TaskMethod, DistillConfig>> = Object.freeze({
  hinton: Object.freeze({ ...DEFAULT_DISTILL, temperature: 2, intermediate: [] }),
  tinybert: Object.freeze({
    ...DEFAULT_DISTILL,
    temperature: 1,
    alpha: 1,
    intermediate: { uniform: { attention: true } },
    averageHeads: true,
  }),
});

/**
 * Task distillation defaults: Hinton KD (TASK_METHODS.hinton), TinyBERT's stage lengths at minnow's
 * scale, fine-tuning's optimiser.
 */
export const DEFAULT_TASK_DISTILL: Readonly<
  TaskDistillSettings & { method: TaskMethod; decay: Decay; weightDecay: number; clipNorm: number }
> = Object.freeze({
  method: 'hinton',
  config: TASK_METHODS.hinton,
  intermediateEpochs: 3,
  predictionEpochs: 3,
  batchSize: 32,
  lr: 2e-4,
  warmup: 0.1,
  decay: 'linear',
  weightDecay: 0.01,
  clipNorm: 1,
  maxLength: 128,
  devFraction: 0.1,
  seed: 0,
  threads: 2,
  resume: false,
  checkpointEvery: 0,
});

/**
 * Task distillation's settings, each once (util/settings.ts); the values are DEFAULT_TASK_DISTILL's, the
 * temperature's and alpha's those of the method's config (TASK_METHODS) or of a distill config file.
 */
export const TASK_DISTILL_SETTINGS = settings({
  devFraction: {
    flag: 'dev-fraction',
    value: 'F',
    help: 'own data without --dev: seeded fraction of the training rows held out as dev',
    number: { min: 0, below: 1 },
  },
  'config.temperature': {
    flag: 'temperature',
    value: 'T',
    help: DISTILL_SCHEMA.temperature.doc,
    number: numberRule(DISTILL_SCHEMA.temperature),
    recipe: 'distill.temperature',
  },
  'config.alpha': {
    flag: 'alpha',
    value: 'A',
    help: `hinton: ${DISTILL_SCHEMA.alpha.doc}`,
    number: numberRule(DISTILL_SCHEMA.alpha),
    recipe: 'distill.alpha',
  },
  predictionEpochs: {
    flag: 'epochs',
    value: 'N',
    help: 'epochs of prediction-layer distillation',
    number: { int: true, min: 0 },
  },
  intermediateEpochs: {
    flag: 'intermediate-epochs',
    value: 'N',
    help: 'tinybert: epochs of intermediate-layer distillation first',
    number: { int: true, min: 0 },
  },
  maxLength: {
    flag: 'max-length',
    value: 'N',
    help: 'maximum tokens per example',
    number: { int: true, min: 3 },
  },
  batchSize: BATCH_SIZE,
  ...OPTIMISER_SETTINGS,
  ...RUN_SETTINGS,
  // 0: at the end of each stage.
  checkpointEvery: { ...RUN_SETTINGS.checkpointEvery, help: 'updates between checkpoints' },
});

/** The flags behind task distillation's recipe, for the message of a refused --resume. */
export const TASK_DISTILL_SETTING_NAMES: Readonly<Record<string, string>> = Object.freeze({
  ...FINETUNE_SETTING_NAMES,
  ...settingNames(TASK_DISTILL_SETTINGS),
  teacher: '--teacher',
  'schedule.totalSteps': "updates (the stage's epochs, --batch-size)",
});

/**
 * General (corpus) distillation's config: its options (GeneralDistillOptions), DistilBERT's loss settings
 * from one schema (DISTILBERT_SCHEMA: the "distilbert" section of a config file and its flags), each
 * method's mapping, the defaults (DEFAULT_GENERAL_DISTILL) and its settings, each declared once
 * (GENERAL_DISTILL_SETTINGS), from which the CLI builds its options and a refused --resume its names.
 */
import {
  CORPUS_SETTINGS,
  DEFAULT_PRETRAIN,
  PRETRAIN_SETTING_NAMES,
  type PretrainConfig,
} from '../train/pretrain.js';
import { BATCH_SIZE, OPTIMISER_SETTINGS, RUN_SETTINGS } from '../train/settings.js';
import { UserError } from '../util/errors.js';
import { settingNames, settings } from '../util/settings.js';
import { defaults, numberRule, parseSection, schema, type Values } from './config-schema.js';
import type { StudentSpec } from './init.js';
import { DEFAULT_DISTILL, type DistillConfig, parseDistillConfig } from './mapping.js';

export type GeneralMethod = 'distilbert' | 'tinybert';
/** DistilBERT's triple loss (docs/methods.md §3.2): weights, temperature, and where L_ce is computed. */
export const DISTILBERT_SCHEMA = schema({
  alphaCe: {
    kind: 'number',
    default: 5,
    min: 0,
    doc: 'weight of the soft cross-entropy (T^2 KL) with the teacher',
  },
  alphaMlm: { kind: 'number', default: 2, min: 0, doc: "weight of the student's own MLM loss" },
  alphaCos: { kind: 'number', default: 1, min: 0, doc: 'weight of the cosine loss on last hidden states' },
  temperature: {
    kind: 'number',
    default: 2,
    min: 0,
    minExclusive: true,
    doc: 'softmax temperature of both MLM distributions',
  },
  positions: {
    kind: 'choice',
    default: 'masked',
    values: ['masked', 'all'],
    doc: "where the soft cross-entropy is taken: the masked positions, or all non-padding ones (DistilBERT's default; ~4x slower, more memory)",
  },
});

export type DistilbertSettings = Values<typeof DISTILBERT_SCHEMA>;
export type CePositions = DistilbertSettings['positions'];

export const DEFAULT_DISTILBERT: Readonly<DistilbertSettings> = Object.freeze(defaults(DISTILBERT_SCHEMA));

/** The default mapping of each corpus method: none for DistilBERT, TinyBERT's uniform one with attention. */
export function defaultGeneralConfig(method: GeneralMethod): DistillConfig {
  return method === 'distilbert'
    ? { ...DEFAULT_DISTILL, intermediate: [], predictionWeight: 0 }
    : {
        ...DEFAULT_DISTILL,
        intermediate: { uniform: { attention: true } },
        averageHeads: true,
        predictionWeight: 0,
      };
}

const PREDICTION_KEYS = ['temperature', 'alpha', 'predictionWeight'] as const;

/**
 * A distill config JSON for corpus mode: the mapping keys of parseDistillConfig ("intermediate",
 * "averageHeads", "projectionSharing", ...) plus a "distilbert" section
 *   { "alphaCe": 5, "alphaMlm": 2, "alphaCos": 1, "temperature": 2, "positions": "masked" | "all" }.
 * The prediction-layer keys (temperature, alpha, predictionWeight) belong to task distillation and are
 * refused here. Without "intermediate", DistilBERT adds no intermediate terms and TinyBERT uses the
 * uniform mapping (embeddings + hidden states; set {"uniform": {"attention": true}} for attention).
 */
export function parseGeneralConfig(
  raw: unknown,
  source: string,
  method: GeneralMethod,
): { config: DistillConfig; distilbert: DistilbertSettings } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UserError(`${source}: expected a JSON object`);
  const { distilbert: section, ...rest } = raw as Record<string, unknown>;
  for (const k of PREDICTION_KEYS) {
    if (k in rest)
      throw new UserError(
        `${source}: "${k}" is a prediction-layer (task distillation) setting; general distillation with --corpus has no prediction layer` +
          (k === 'temperature'
            ? ' (DistilBERT\'s temperature goes in "distilbert": {"temperature": T})'
            : ''),
      );
  }
  const config = { ...parseDistillConfig(rest, source), predictionWeight: 0 };
  if (!('intermediate' in rest) && method === 'distilbert') config.intermediate = [];
  const distilbert =
    section === undefined
      ? defaults(DISTILBERT_SCHEMA)
      : parseSection(DISTILBERT_SCHEMA, section, source, 'distilbert');
  return { config, distilbert };
}

/**
 * The corpus, optimiser and checkpoint settings are pre-training's (PretrainConfig); masking is DistilBERT's
 * only. --decoder-bias and the ELECTRA objective are pre-training's only.
 */
export interface GeneralDistillOptions extends Omit<PretrainConfig, 'decoderBias' | 'objective' | 'electra'> {
  /** Pre-trained teacher model directory (minnow, or a Hugging Face BERT directory in that layout). */
  teacher: string;
  student: StudentSpec;
  /** DistilBERT-style: copy these 0-based teacher layers (and the embeddings) into the student first. */
  initLayers?: number[];
  /** vocab.txt for a preset student when the teacher directory has none (it names a shipped one). */
  vocab: string;
  method: GeneralMethod;
  /** Intermediate-layer mapping (TinyBERT; extra terms for DistilBERT). Prediction keys are ignored. */
  config: DistillConfig;
  distilbert: DistilbertSettings;
}

/** The flag of a DistilBERT number: its meaning and range are the schema's. */
function distilbertFlag<const F extends string, const V extends string>(
  key: 'alphaCe' | 'alphaMlm' | 'alphaCos' | 'temperature',
  flag: F,
  value: V,
) {
  const f = DISTILBERT_SCHEMA[key];
  return { flag, value, help: `distilbert: ${f.doc}`, number: numberRule(f) };
}

/**
 * General distillation's settings, each once (util/settings.ts): pre-training's corpus, optimiser and run
 * settings and DistilBERT's loss; the values are DEFAULT_GENERAL_DISTILL's (or a distill config file's).
 */
export const GENERAL_DISTILL_SETTINGS = settings({
  ...CORPUS_SETTINGS,
  batchSize: { ...BATCH_SIZE, help: 'sequences per update' },
  ...OPTIMISER_SETTINGS,
  'distilbert.alphaCe': distilbertFlag('alphaCe', 'alpha-ce', 'X'),
  'distilbert.alphaMlm': distilbertFlag('alphaMlm', 'alpha-mlm', 'X'),
  'distilbert.alphaCos': distilbertFlag('alphaCos', 'alpha-cos', 'X'),
  'distilbert.temperature': distilbertFlag('temperature', 'temperature', 'T'),
  'distilbert.positions': {
    flag: 'ce-positions',
    value: 'masked|all',
    help: `distilbert: ${DISTILBERT_SCHEMA.positions.doc}`,
    choices: DISTILBERT_SCHEMA.positions.values,
  },
  ...RUN_SETTINGS,
  checkpointEvery: { ...RUN_SETTINGS.checkpointEvery, help: 'updates between checkpoints' },
});

/** The flags behind general distillation's recipe, for the message of a refused --resume. */
export const GENERAL_DISTILL_SETTING_NAMES: Readonly<Record<string, string>> = Object.freeze({
  ...PRETRAIN_SETTING_NAMES,
  ...settingNames(GENERAL_DISTILL_SETTINGS),
  teacher: '--teacher',
  method: '--method',
});

/** Pre-training's defaults less its own objective (general distillation has the teacher's). */
const { decoderBias: _bias, objective: _objective, electra: _electra, ...PRETRAIN_RUN } = DEFAULT_PRETRAIN;

/**
 * General distillation defaults: pre-training's corpus and run settings, with DistilBERT's gentler
 * optimiser (lr 5e-4, 5% warmup) and batch 32; the mapping is defaultGeneralConfig(method)'s.
 */
export const DEFAULT_GENERAL_DISTILL: Readonly<
  Omit<
    GeneralDistillOptions,
    'teacher' | 'student' | 'initLayers' | 'vocab' | 'config' | 'out' | 'corpus' | 'valid'
  >
> = Object.freeze({
  ...PRETRAIN_RUN,
  method: 'distilbert',
  distilbert: DEFAULT_DISTILBERT,
  batchSize: 32,
  lr: 5e-4,
  warmup: 0.05,
});

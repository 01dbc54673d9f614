/**
 * Distillation config, "mapping as data": which teacher feature each student feature learns from, with
 * which loss and weight, plus the prediction-layer settings. Pure data and checks; no engine code; the
 * key-by-key parsing is config-schema.ts's.
 *
 * Layer numbering (the thing users get wrong most often, docs/methods.md §4.1). On both sides:
 *   - layer 0 is the EMBEDDING OUTPUT (word + position + token-type embeddings, after the embedding
 *     LayerNorm). For a hash-embedding student (EELBERT, embedding_type 'hash') it is likewise the
 *     embedding output after LayerNorm; the hash function itself has no trainable table.
 *   - layers 1..L are the outputs of transformer layers 1..L (hidden states), and layer l's attention is
 *     that layer's pre-softmax scores QK^T/sqrt(d_k), shape (batch, heads, seq, seq). Attention exists
 *     only for layers 1..L.
 * This is TinyBERT's numbering (docs/methods.md §4.1): `hidden_states[0]` is the embedding output.
 *
 * Features and losses (docs/methods.md §2-4):
 *   - 'embedding' pairs layer 0 with layer 0. 'hidden' pairs hidden states of layers 1..L.
 *   - hidden/embedding take 'mse' (TinyBERT: MSE(H_S W, H_T)) or 'cosine' (DistilBERT: 1 - cos).
 *     Where the widths differ, an mse match goes through a learned linear projection from the student
 *     width to the teacher width (TinyBERT's `fit_dense`, with bias). Unlike TinyBERT's code, which
 *     applies fit_dense even when the widths are equal (docs/methods.md §4.2), minnow creates one only
 *     where the widths differ. Cosine needs equal widths and never gets a projection.
 *   - 'attention' takes 'mse' only and needs equal head counts (TinyBERT) unless `averageHeads` is set:
 *     then both sides' scores are averaged over heads before the MSE. That is minnow's deviation from
 *     TinyBERT, for students with fewer heads than the teacher (all the Turc et al. miniatures).
 *   - Projection sharing: 'shared' (default, as TinyBERT's code: one fit_dense for every hidden state,
 *     embeddings included) or 'per-layer' (one projection per student layer, named by the student layer).
 *
 * Prediction layer (Hinton): loss = predictionWeight * (alpha * T^2 * KL(p_T^T || p_S^T) + (1 - alpha) * CE(y, p_S)).
 * TinyBERT uses T = 1; Hinton-style KD typically uses T in 2..4.
 *
 * A JSON config: the keys of DISTILL_SCHEMA, each optional (its kind, default and meaning are there; `minnow
 * distill --help` prints them), e.g. { "temperature": 2, "alpha": 0.5, "intermediate": "uniform" },
 * where "intermediate" is "uniform" (embeddings + hidden states, see `uniform`), {"uniform": {options}}
 * (e.g. {"uniform": {"attention": true}} for TinyBERT's full recipe), or a list of matches
 *   [{ "teacherLayer": 0, "studentLayer": 0, "feature": "embedding", "loss": "mse", "weight": 1 }, ...]
 * ("loss" defaults to "mse", "weight" to 1).
 */
import type { BertConfig } from '../model/config.js';
import { UserError } from '../util/errors.js';
import {
  bool,
  checkObject,
  checkValues,
  defaults,
  fail,
  num,
  oneOf,
  parseSection,
  schema,
  show,
  type Values,
} from './config-schema.js';

export type Feature = 'embedding' | 'hidden' | 'attention';
/** hidden/embedding: 'mse' (TinyBERT) or 'cosine' (DistilBERT); attention: 'mse' only. */
export type MatchLoss = 'mse' | 'cosine';
export type ProjectionSharing = 'shared' | 'per-layer';

export interface IntermediateMatch {
  /** 0 = embedding output; 1..N = teacher transformer layers. */
  teacherLayer: number;
  /** 0 = embedding output; 1..M = student transformer layers. */
  studentLayer: number;
  feature: Feature;
  loss: MatchLoss;
  weight: number;
}

/** Options of TinyBERT's uniform mapping. Defaults: embedding and hidden on, attention off, weight 1. */
export interface UniformOptions {
  attention?: boolean;
  hidden?: boolean;
  embedding?: boolean;
  weight?: number;
}

/** Explicit matches, or the uniform mapping, expanded by resolveMapping once the layer counts are known. */
export type IntermediateSpec = IntermediateMatch[] | 'uniform' | { uniform: UniformOptions };

/**
 * The distill config, key by key (config-schema.ts): kind, default and meaning. The keys of a config file,
 * DistillConfig, DEFAULT_DISTILL, the parsing and the description all come from here.
 */
export const DISTILL_SCHEMA = schema({
  temperature: {
    kind: 'number',
    default: 1,
    min: 0,
    minExclusive: true,
    doc: 'prediction-layer temperature T (TinyBERT: 1; Hinton: typically 2..4)',
  },
  alpha: {
    kind: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    doc: 'weight of the soft (KD) loss; the hard-label loss gets 1 - alpha (Hinton)',
  },
  predictionWeight: {
    kind: 'number',
    default: 1,
    min: 0,
    doc: 'weight of the whole prediction-layer loss (0: intermediate layers only, TinyBERT stage 1)',
  },
  intermediate: {
    kind: 'parsed',
    default: 'uniform' as IntermediateSpec,
    parse: (v, source) => parseIntermediate(v, source),
    shape:
      '"uniform", {"uniform": {"attention", "hidden", "embedding", "weight"}} or a list of matches [{"teacherLayer", "studentLayer", "feature", "loss", "weight"}]',
    doc: 'which teacher feature each student feature learns from',
  },
  averageHeads: {
    kind: 'boolean',
    default: false,
    doc: 'allow attention matches between different head counts by averaging the heads of both sides',
  },
  projection: {
    kind: 'choice',
    default: 'linear',
    values: ['linear'],
    doc: 'kind of the learned student -> teacher width projection (linear, with bias)',
  },
  projectionSharing: {
    kind: 'choice',
    default: 'shared',
    values: ['shared', 'per-layer'],
    doc: "one projection for all matched states (shared, TinyBERT's code) or one per student layer",
  },
});

export type DistillConfig = Values<typeof DISTILL_SCHEMA>;

export const DEFAULT_DISTILL: DistillConfig = Object.freeze(defaults(DISTILL_SCHEMA)) as DistillConfig;

/** Whether a config distils intermediate layers (TinyBERT-style): a non-empty list, or the uniform mapping. */
export function hasIntermediate(cfg: DistillConfig): boolean {
  return Array.isArray(cfg.intermediate) ? cfg.intermediate.length > 0 : true;
}

/** A learned linear map (weight to x from, plus bias) from the student width to the teacher width. */
export interface Projection {
  /** Weight parameter name, e.g. `distill.fit_dense.weight` or `distill.fit_dense.3.weight`. */
  name: string;
  /** Bias parameter name, e.g. `distill.fit_dense.bias`. */
  bias: string;
  /** Student width. */
  from: number;
  /** Teacher width. */
  to: number;
}

export type ResolvedMatch = IntermediateMatch & {
  /** Present where a hidden/embedding mse match has different widths. */
  projection?: Projection;
  /** Present where an attention match compares head-averaged scores (head counts differ). */
  headAverage?: { teacherHeads: number; studentHeads: number };
};

export interface ModelShape {
  layers: number;
  hidden: number;
  heads: number;
}

/** The config's settings with its mapping resolved against the two models. */
export type ResolvedPlan = Omit<DistillConfig, 'intermediate'> & {
  matches: ResolvedMatch[];
  /** Each distinct projection once, in order of first use. */
  projections: Projection[];
  teacher: ModelShape;
  student: ModelShape;
};

// ------------------------------------------------------------------------------------------------
// Uniform mapping

/** Integer round-half-up of m * N / M, exact (no floating point). */
function roundedLayer(m: number, M: number, N: number): number {
  return Math.floor((2 * m * N + M) / (2 * M));
}

/**
 * TinyBERT's uniform mapping g(m) = m * N / M for an M-layer student and an N-layer teacher:
 *   - 0 <-> 0 embeddings (feature 'embedding'), when `embedding` (default on);
 *   - student layer m <-> teacher layer g(m), m = 1..M, feature 'hidden' (default on) and 'attention'
 *     (default OFF: it needs equal head counts or averageHeads; TinyBERT's full recipe turns it on).
 * When N is not divisible by M, g(m) = round(m * N / M) with halves rounded up, and at least 1: e.g.
 * M = 3, N = 4 gives teacher layers 1, 3, 4. The last student layer always maps to the last teacher layer.
 * If M > N, several student layers share a teacher layer. All matches use 'mse' with the given weight.
 */
export function uniform(
  studentLayers: number,
  teacherLayers: number,
  opts: UniformOptions = {},
): IntermediateMatch[] {
  for (const [what, n] of [
    ['student', studentLayers],
    ['teacher', teacherLayers],
  ] as const) {
    if (!Number.isInteger(n) || n < 1) {
      throw new UserError(`uniform mapping: ${what} layer count must be a positive integer, got ${show(n)}`);
    }
  }
  const weight = opts.weight ?? 1;
  if (!Number.isFinite(weight) || weight < 0) {
    throw new UserError(`uniform mapping: weight must be a number >= 0, got ${show(weight)}`);
  }
  const out: IntermediateMatch[] = [];
  const match = (teacherLayer: number, studentLayer: number, feature: Feature): IntermediateMatch => ({
    teacherLayer,
    studentLayer,
    feature,
    loss: 'mse',
    weight,
  });
  if (opts.embedding ?? true) out.push(match(0, 0, 'embedding'));
  for (let m = 1; m <= studentLayers; m++) {
    const n = Math.max(1, roundedLayer(m, studentLayers, teacherLayers));
    if (opts.hidden ?? true) out.push(match(n, m, 'hidden'));
    if (opts.attention ?? false) out.push(match(n, m, 'attention'));
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Parsing

const MATCH_KEYS = ['teacherLayer', 'studentLayer', 'feature', 'loss', 'weight'] as const;
const UNIFORM_KEYS = ['attention', 'hidden', 'embedding', 'weight'] as const;
const FEATURES: readonly Feature[] = ['embedding', 'hidden', 'attention'];
const LOSSES: readonly MatchLoss[] = ['mse', 'cosine'];

function parseMatch(raw: unknown, source: string | undefined, path: string): IntermediateMatch {
  const r = checkObject(raw, source, path, MATCH_KEYS);
  for (const k of ['teacherLayer', 'studentLayer', 'feature'] as const) {
    if (r[k] === undefined)
      fail(source, path, `missing key "${k}" (required: teacherLayer, studentLayer, feature)`);
  }
  return {
    teacherLayer: num(r.teacherLayer, source, `${path}.teacherLayer`, { min: 0, integer: true }),
    studentLayer: num(r.studentLayer, source, `${path}.studentLayer`, { min: 0, integer: true }),
    feature: oneOf(r.feature, source, `${path}.feature`, FEATURES),
    loss: r.loss === undefined ? 'mse' : oneOf(r.loss, source, `${path}.loss`, LOSSES),
    weight: r.weight === undefined ? 1 : num(r.weight, source, `${path}.weight`, { min: 0 }),
  };
}

function parseUniform(raw: unknown, source: string | undefined, path: string): UniformOptions {
  const r = checkObject(raw, source, path, UNIFORM_KEYS);
  const out: UniformOptions = {};
  for (const k of ['attention', 'hidden', 'embedding'] as const) {
    if (r[k] !== undefined) out[k] = bool(r[k], source, `${path}.${k}`);
  }
  if (r.weight !== undefined) out.weight = num(r.weight, source, `${path}.weight`, { min: 0 });
  return out;
}

function parseIntermediate(raw: unknown, source: string | undefined): IntermediateSpec {
  if (raw === 'uniform') return 'uniform';
  if (Array.isArray(raw))
    return raw.map((m, i) => {
      const match = parseMatch(m, source, `intermediate[${i}]`);
      checkMatchForm(match, source, `intermediate[${i}]`);
      return match;
    });
  if (typeof raw === 'object' && raw !== null && 'uniform' in raw) {
    checkObject(raw, source, 'intermediate', ['uniform']);
    return { uniform: parseUniform((raw as { uniform: unknown }).uniform, source, 'intermediate.uniform') };
  }
  fail(
    source,
    'intermediate',
    `expected "uniform", {"uniform": {...}} or a list of matches ` +
      `[{"teacherLayer", "studentLayer", "feature", "loss", "weight"}], got ${show(raw)}`,
  );
}

/** Check the layer-independent parts of a match: integer layers, feature vs layer 0, loss vs feature. */
function checkMatchForm(m: IntermediateMatch, source: string | undefined, path: string): void {
  num(m.teacherLayer, source, `${path}.teacherLayer`, { min: 0, integer: true });
  num(m.studentLayer, source, `${path}.studentLayer`, { min: 0, integer: true });
  oneOf(m.feature, source, `${path}.feature`, FEATURES);
  oneOf(m.loss, source, `${path}.loss`, LOSSES);
  num(m.weight, source, `${path}.weight`, { min: 0 });
  const pair = `teacher layer ${m.teacherLayer} <-> student layer ${m.studentLayer}`;
  if (m.feature === 'embedding') {
    if (m.teacherLayer !== 0 || m.studentLayer !== 0) {
      fail(
        source,
        path,
        `feature "embedding" pairs the embedding outputs, which are layer 0 on both sides; got ${pair} ` +
          `(use "hidden" or "attention" for transformer layers 1..L)`,
      );
    }
    return;
  }
  for (const [side, layer] of [
    ['teacher', m.teacherLayer],
    ['student', m.studentLayer],
  ] as const) {
    if (layer === 0) {
      fail(
        source,
        `${path}.${side}Layer`,
        `${side} layer 0 is the embedding output, which has no ${m.feature === 'attention' ? 'attention' : 'hidden state of a transformer layer'}; ` +
          `feature "${m.feature}" needs layers 1..L (pair embeddings with {"teacherLayer": 0, "studentLayer": 0, "feature": "embedding"})`,
      );
    }
  }
  if (m.feature === 'attention' && m.loss !== 'mse') {
    fail(
      source,
      `${path}.loss`,
      `attention matches use "mse" only (TinyBERT), got ${show(m.loss)} for ${pair}`,
    );
  }
}

/**
 * Read a distillation config from parsed JSON (DISTILL_SCHEMA). Missing keys take DEFAULT_DISTILL's values.
 * Unknown keys (with the closest valid key suggested), wrong types and out-of-range values are UserErrors
 * naming `source` and the field path, e.g. `distill.json: intermediate[2].feature: expected "embedding",
 * "hidden" or "attention", got "hiden" (did you mean "hidden"?)`. "uniform" stays a marker; layer
 * ranges, widths and heads are checked by resolveMapping, which knows the models.
 */
export function parseDistillConfig(raw: unknown, source: string): DistillConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${source}: expected a JSON object, got ${show(raw)}`);
  }
  return parseSection(DISTILL_SCHEMA, raw, source);
}

// ------------------------------------------------------------------------------------------------
// Resolution against the two models

function shapeOf(c: BertConfig): ModelShape {
  return { layers: c.num_hidden_layers, hidden: c.hidden_size, heads: c.num_attention_heads };
}

/**
 * Expand "uniform" and check every match against the teacher and student configs, before any training:
 * layer ranges (0 = embeddings, 1..L hidden/attention), feature vs layer, widths (projection where an mse
 * match's widths differ; cosine needs equal widths), head counts for attention (equal, or averageHeads),
 * the shared vocabulary (one tokenizer feeds both models), and equal num_labels / problem_type for
 * prediction-layer KD when both models have a task head. Errors are UserErrors naming both layers and
 * both shapes. Projection names are deterministic: `distill.fit_dense.weight` when shared,
 * `distill.fit_dense.<student layer>.weight` per layer (biases alike, `.bias`).
 */
export function resolveMapping(
  cfg: DistillConfig,
  teacher: BertConfig,
  student: BertConfig,
  source?: string,
): ResolvedPlan {
  checkValues(DISTILL_SCHEMA, cfg, source);
  const T = shapeOf(teacher);
  const S = shapeOf(student);
  if (teacher.vocab_size !== student.vocab_size) {
    fail(
      source,
      '',
      `teacher vocab_size ${teacher.vocab_size} != student vocab_size ${student.vocab_size}: distillation feeds ` +
        `the same token ids to both models, so they must share one tokenizer and vocabulary`,
    );
  }
  if (cfg.predictionWeight > 0 && teacher.num_labels !== undefined && student.num_labels !== undefined) {
    if (teacher.num_labels !== student.num_labels) {
      fail(
        source,
        'predictionWeight',
        `teacher head has ${teacher.num_labels} labels but student head has ${student.num_labels}: ` +
          `prediction-layer KD needs the same task (or set "predictionWeight": 0)`,
      );
    }
    if ((teacher.problem_type ?? null) !== (student.problem_type ?? null)) {
      fail(
        source,
        'predictionWeight',
        `teacher problem_type ${show(teacher.problem_type)} != student problem_type ${show(student.problem_type)}: ` +
          `prediction-layer KD needs the same task (or set "predictionWeight": 0)`,
      );
    }
  }

  const spec = cfg.intermediate;
  let list: IntermediateMatch[];
  let label: (i: number) => string;
  if (Array.isArray(spec)) {
    list = spec;
    label = (i) => `intermediate[${i}]`;
  } else if (spec === 'uniform' || (typeof spec === 'object' && spec !== null && 'uniform' in spec)) {
    const opts = spec === 'uniform' ? {} : spec.uniform;
    list = uniform(S.layers, T.layers, opts);
    label = (i) => `intermediate (uniform, pair ${i})`;
  } else {
    fail(
      source,
      'intermediate',
      `expected "uniform", {"uniform": {...}} or a list of matches, got ${show(spec)}`,
    );
  }
  if (list.length === 0 && cfg.predictionWeight === 0) {
    fail(source, '', 'nothing to distil: "intermediate" is empty and "predictionWeight" is 0');
  }

  const projections: Projection[] = [];
  const projectionFor = (studentLayer: number): Projection => {
    const stem =
      cfg.projectionSharing === 'shared' ? 'distill.fit_dense' : `distill.fit_dense.${studentLayer}`;
    let p = projections.find((q) => q.name === `${stem}.weight`);
    if (!p) {
      p = { name: `${stem}.weight`, bias: `${stem}.bias`, from: S.hidden, to: T.hidden };
      projections.push(p);
    }
    return p;
  };

  const seen = new Map<string, string>();
  const matches: ResolvedMatch[] = list.map((m, i) => {
    const path = label(i);
    checkMatchForm(m, source, path);
    for (const [side, layer, L] of [
      ['teacher', m.teacherLayer, T.layers],
      ['student', m.studentLayer, S.layers],
    ] as const) {
      if (layer > L) {
        fail(
          source,
          `${path}.${side}Layer`,
          `${side} layer ${layer} is out of range: the ${side} has ${L} layers, so ${m.feature} layers are ` +
            `1..${L} (layer 0 = embeddings)`,
        );
      }
    }
    const key = `${m.feature} ${m.teacherLayer} ${m.studentLayer}`;
    const first = seen.get(key);
    if (first !== undefined) {
      fail(
        source,
        path,
        `duplicate ${m.feature} match teacher layer ${m.teacherLayer} <-> student layer ${m.studentLayer} (also ${first})`,
      );
    }
    seen.set(key, path);

    const out: ResolvedMatch = { ...m };
    if (m.feature === 'attention') {
      if (T.heads !== S.heads) {
        if (!cfg.averageHeads) {
          fail(
            source,
            path,
            `attention match teacher layer ${m.teacherLayer} (${T.heads} heads) <-> student layer ${m.studentLayer} ` +
              `(${S.heads} heads): head counts differ; set "averageHeads": true to compare head-averaged scores` +
              (Array.isArray(spec) ? '' : ', or use {"uniform": {"attention": false}}'),
          );
        }
        out.headAverage = { teacherHeads: T.heads, studentHeads: S.heads };
      }
    } else if (T.hidden !== S.hidden) {
      if (m.loss === 'cosine') {
        fail(
          source,
          path,
          `cosine ${m.feature} match teacher layer ${m.teacherLayer} (width ${T.hidden}) <-> student layer ` +
            `${m.studentLayer} (width ${S.hidden}): cosine needs equal widths; use "loss": "mse", which learns ` +
            `a ${S.hidden} -> ${T.hidden} projection`,
        );
      }
      out.projection = projectionFor(m.studentLayer);
    }
    return out;
  });

  const { intermediate: _, ...settings } = cfg;
  return { matches, projections, ...settings, teacher: T, student: S };
}

// ------------------------------------------------------------------------------------------------
// Logging

/** A short table of the plan for logs. States explicitly that layer 0 is the embedding output. */
export function describePlan(plan: ResolvedPlan): string {
  const { teacher: T, student: S } = plan;
  const layer = (n: number) => (n === 0 ? '0 (embeddings)' : String(n));
  const rows = plan.matches.map((m) => [
    layer(m.studentLayer),
    layer(m.teacherLayer),
    m.feature,
    m.loss,
    String(m.weight),
    m.projection
      ? `${m.projection.name} (${m.projection.from} -> ${m.projection.to})`
      : m.headAverage
        ? `heads averaged (${m.headAverage.studentHeads} vs ${m.headAverage.teacherHeads})`
        : '-',
  ]);
  const header = ['student', 'teacher', 'feature', 'loss', 'weight', 'projection'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((s, c) => (c === cells.length - 1 ? s : s.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const lines = [
    `distillation: teacher ${T.layers} layers, width ${T.hidden}, ${T.heads} heads -> ` +
      `student ${S.layers} layers, width ${S.hidden}, ${S.heads} heads`,
    `layer 0 = embeddings (embedding output after LayerNorm); layers 1..L = transformer layer outputs`,
  ];
  if (rows.length === 0) lines.push('  no intermediate matches');
  else lines.push(line(header), ...rows.map(line));
  if (plan.projections.length > 0) {
    lines.push(
      `projections (${plan.projectionSharing}): ` +
        plan.projections.map((p) => `${p.name} + ${p.bias} (${p.from} -> ${p.to})`).join(', '),
    );
  }
  lines.push(
    plan.predictionWeight > 0
      ? `prediction layer: weight ${plan.predictionWeight}, T = ${plan.temperature}, ` +
          `soft (KD) ${plan.alpha} + hard ${+(1 - plan.alpha).toFixed(6)}`
      : 'prediction layer: off (predictionWeight 0)',
  );
  return lines.join('\n');
}

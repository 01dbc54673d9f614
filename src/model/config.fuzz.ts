/**
 * Fuzzing config.json reading (readConfig / validateConfig) with fast-check. Inputs are valid configs
 * (minnow's own, and as transformers 4.x and 5.x write them) with random field mutations (wrong types,
 * negative, zero, huge and non-integer numbers, missing fields, null, nested garbage, a hidden size
 * the heads do not divide, broken id2label / hash_embedding / minnow_pretraining), and raw text that is
 * mostly not JSON. Each must either give a config whose invariants hold or throw a one-line UserError
 * that starts with the file's path and names the field; any other exception is a failure.
 *
 * `CONFIG_FUZZ` is a list of fuzz targets (src/util/fuzzing.ts): config.fuzz.test.ts runs it with a few
 * hundred cases, bench/fuzz.ts with many.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { writeSafetensors } from '../runtime/safetensors-file.js';
import { UserError } from '../util/errors.js';
import { fuzzTarget } from '../util/fuzzing.js';
import { type BertConfig, PRESETS, validateConfig } from './config.js';
import { HASH } from './embeddings/hash.js';
import { LOWRANK } from './embeddings/lowrank.js';
import { embeddingKinds } from './embeddings/registry.js';
import { readConfig } from './io.js';

/** One input: config.json's text, and whether model.safetensors beside it has a classifier. */
export interface ConfigCase {
  text: string;
  hasClassifier: boolean;
}

// ---------------------------------------------------------------------------------------------
// Valid configs to start from.

const hf = (version: 4 | 5, labels?: string[], problemType?: string) => ({
  architectures: ['BertForSequenceClassification'],
  attention_probs_dropout_prob: 0.1,
  classifier_dropout: null,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 128,
  ...(labels ? { id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])) } : {}),
  ...(labels ? { label2id: Object.fromEntries(labels.map((l, i) => [l, i])) } : {}),
  initializer_range: 0.02,
  intermediate_size: 512,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 2,
  num_hidden_layers: 2,
  pad_token_id: 0,
  ...(problemType ? { problem_type: problemType } : {}),
  ...(version === 4
    ? { position_embedding_type: 'absolute', torch_dtype: 'float32', gradient_checkpointing: false }
    : { dtype: 'float32', is_decoder: false, add_cross_attention: false }),
  transformers_version: version === 4 ? '4.46.3' : '5.0.0',
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 30522,
});

const record = {
  corpus: 'gutenberg_train.txt',
  tokens: 47355840,
  updates: 23490,
  batch_size: 16,
  seq_len: 128,
  lr: 0.001,
  valid_mlm_loss: 6.07,
  valid_mlm_accuracy: 0.14,
  date: '2026-11-22T16:43:45.588Z',
};

const BASES: Record<string, unknown>[] = [
  ...Object.entries(PRESETS).map(([name, p]) => ({ ...p, minnow_preset: name })),
  { ...PRESETS['uno-eelbert'], minnow_pretraining: [record], minnow_vocab: 'bert-base-uncased' },
  {
    ...PRESETS['bert-tiny'],
    num_labels: 3,
    problem_type: 'single_label_classification',
    id2label: { 0: 'contradiction', 1: 'entailment', 2: 'neutral' },
    finetuning_task: 'mnli',
  },
  { ...PRESETS['eelbert-tiny'], num_labels: 1, problem_type: 'regression', finetuning_task: 'stsb' },
  hf(4, ['LABEL_0', 'LABEL_1']),
  hf(4, ['neg', 'neutral', 'pos'], 'single_label_classification'),
  hf(4, ['LABEL_0'], 'regression'),
  hf(5),
  hf(5, ['neg', 'neutral', 'pos']),
];

// ---------------------------------------------------------------------------------------------
// Mutations.

/** Numbers JSON can carry, including ones JSON.stringify cannot write (1e400 parses as Infinity). */
const RAW = '@@raw@@';
const rawNumbers = ['1e400', '-1e400', '1e-400', '-0', '9007199254740993', '1.0', '2e0', '1E2'];

const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.integer(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e300, -1e300, 0.5, 1.5, 127.9999, 1e-320),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(...rawNumbers).map((n) => `${RAW}${n}`),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', 'gelu', 'bert', 'hash', 'table', 'regression', '128', '__proto__', 'absolute'),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom([], {}, [1, 2], { 0: 'a' }, [[[[[]]]]]),
);

const FIELDS = [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'hidden_act',
  'hidden_dropout_prob',
  'attention_probs_dropout_prob',
  'max_position_embeddings',
  'type_vocab_size',
  'initializer_range',
  'layer_norm_eps',
  'embedding_type',
  'hash_embedding',
  'num_labels',
  'problem_type',
  'id2label',
  'label2id',
  'finetuning_task',
  'minnow_preset',
  'minnow_vocab',
  'minnow_pretraining',
  'model_type',
  'architectures',
  'position_embedding_type',
  'classifier_dropout',
  'is_decoder',
  'add_cross_attention',
  'dtype',
  'pad_token_id',
];

type Mutation = (c: Record<string, unknown>) => void;

/** A nested object field of `c`, created if absent or not an object. */
function sub(c: Record<string, unknown>, k: string): Record<string, unknown> {
  const v = c[k];
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  return (c[k] = {});
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A known field set to something odd, or removed.
  fc.tuple(fc.constantFrom(...FIELDS), weird).map(
    ([k, v]): Mutation =>
      (c) =>
        void (c[k] = v),
  ),
  fc.constantFrom(...FIELDS).map(
    (k): Mutation =>
      (c) =>
        void delete c[k],
  ),
  // Any key at all (unknown fields are kept).
  fc.tuple(fc.string({ maxLength: 8 }), weird).map(
    ([k, v]): Mutation =>
      (c) =>
        void (c[k] = v),
  ),
  // Sizes the heads may not divide.
  fc.tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 20 })).map(
    ([h, a]): Mutation =>
      (c) =>
        void Object.assign(c, { hidden_size: h, num_attention_heads: a }),
  ),
  // Labels: counts, keys and values.
  fc.integer({ min: -1, max: 5 }).map(
    (n): Mutation =>
      (c) =>
        void (c.num_labels = n),
  ),
  fc.array(fc.tuple(fc.constantFrom('0', '1', '2', '3', '01', '-1', 'x', ''), weird), { maxLength: 4 }).map(
    (es): Mutation =>
      (c) =>
        void (c.id2label = Object.fromEntries(es)),
  ),
  fc.tuple(fc.constantFrom('0', '1', '2', '5'), weird).map(
    ([k, v]): Mutation =>
      (c) =>
        void (sub(c, 'id2label')[k] = v),
  ),
  fc.constantFrom('regression', 'single_label_classification', 'multi_label_classification', null).map(
    (p): Mutation =>
      (c) =>
        void (c.problem_type = p),
  ),
  // Hash embedding and pre-training records.
  fc.tuple(fc.constantFrom('ngramMin', 'ngramMax', 'seed', 'partition', 'hash', 'extra'), weird).map(
    ([k, v]): Mutation =>
      (c) =>
        void (sub(c, 'hash_embedding')[k] = v),
  ),
  fc.tuple(fc.constantFrom(...Object.keys(record), 'extra'), weird).map(
    ([k, v]): Mutation =>
      (c) =>
        void (c.minnow_pretraining = [{ ...record, [k]: v }]),
  ),
);

/** Valid configs with mutations, as JSON text (with JSON.stringify's layout or compact). */
const mutatedConfig: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...BASES), fc.array(mutation, { maxLength: 4 }), fc.constantFrom(0, 2), fc.boolean())
  .map(([base, mutations, indent, bom]) => {
    const c = structuredClone(base);
    for (const m of mutations) m(c);
    const text = JSON.stringify(c, null, indent).replace(/"@@raw@@([^"]*)"/g, '$1');
    return (bom ? '\ufeff' : '') + text;
  });

/** Text that is mostly not a JSON object: anything, cut-off JSON, other JSON values. */
const rawText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '1', 'e', '-', ' ', '\n', 'a', '\\'),
    maxLength: 30,
  }),
  fc
    .tuple(mutatedConfig, fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([t, f]) => t.slice(0, Math.floor(t.length * f))),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.constantFrom('', ' ', 'null', '[]', '"config"', '42', '{}', '{"hidden_size": 128}', '\ufeff{}'),
);

export const configCase: fc.Arbitrary<ConfigCase> = fc.record({
  text: fc.oneof({ weight: 4, arbitrary: mutatedConfig }, { weight: 1, arbitrary: rawText }),
  hasClassifier: fc.boolean(),
});

// ---------------------------------------------------------------------------------------------
// The property.

let dirs: { plain: string; classifier: string } | undefined;

/** Two scratch model directories (removed at exit): one whose model.safetensors has a classifier. */
function scratch(): { plain: string; classifier: string } {
  if (dirs) return dirs;
  const root = mkdtempSync(join(tmpdir(), 'minnow-config-fuzz-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const plain = join(root, 'plain');
  const classifier = join(root, 'classifier');
  mkdirSync(plain);
  mkdirSync(classifier);
  const w = { dtype: 'F32' as const, shape: [1, 1], data: new Float32Array(1) };
  writeSafetensors(join(classifier, 'model.safetensors'), { 'classifier.weight': w });
  return (dirs = { plain, classifier });
}

const SIZES = [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'max_position_embeddings',
  'type_vocab_size',
] as const;

/** The invariants a validated config holds. */
export function checkConfigInvariants(
  c: BertConfig,
  raw: Record<string, unknown>,
  hasClassifier: boolean,
): void {
  for (const k of SIZES) assert.ok(Number.isSafeInteger(c[k]) && c[k] >= 1, `${k} = ${c[k]}`);
  assert.equal(c.hidden_size % c.num_attention_heads, 0, 'hidden_size % num_attention_heads');
  for (const k of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const)
    assert.ok(c[k] >= 0 && c[k] < 1, `${k} = ${c[k]}`);
  assert.ok(
    c.layer_norm_eps > 0 && Number.isFinite(c.layer_norm_eps),
    `layer_norm_eps = ${c.layer_norm_eps}`,
  );
  assert.ok(c.initializer_range >= 0 && Number.isFinite(c.initializer_range), 'initializer_range');
  // The embedding: a registered kind, its own fields set, every other kind's absent.
  const kind = embeddingKinds().find((k) => k.name === c.embedding_type);
  assert.ok(kind, 'embedding_type');
  for (const other of embeddingKinds())
    for (const f of other.fields)
      assert.equal(
        f in c,
        other === kind,
        `${f} ${other === kind ? 'set' : 'absent'} for ${c.embedding_type}`,
      );
  if (kind === HASH) assert.equal(typeof c.hash_embedding, 'object', 'hash_embedding');
  if (kind === LOWRANK)
    assert.ok(
      Number.isInteger(c.lowrank_dim) && c.lowrank_dim! >= 1 && c.lowrank_dim! <= c.hidden_size,
      'lowrank_dim',
    );
  for (const k of ['minnow_vocab', 'finetuning_task'] as const)
    assert.ok(c[k] === undefined || typeof c[k] === 'string', k);
  assert.ok(c.minnow_pretraining === undefined || Array.isArray(c.minnow_pretraining), 'minnow_pretraining');
  // The head: all three fields or none, consistent with each other and with what transformers reads.
  const head = [c.num_labels, c.problem_type, c.id2label].filter((x) => x !== undefined).length;
  assert.ok(head === 0 || head === 3, `num_labels, problem_type, id2label: ${head} of 3 set`);
  const expectHead = (raw.num_labels ?? null) !== null || hasClassifier;
  assert.equal(
    head === 3,
    expectHead,
    'a head exactly when num_labels is given or the checkpoint has a classifier',
  );
  if (c.num_labels === undefined) return;
  assert.ok(Number.isSafeInteger(c.num_labels) && c.num_labels >= 1, `num_labels = ${c.num_labels}`);
  assert.deepEqual(
    Object.keys(c.id2label!),
    Array.from({ length: c.num_labels }, (_, i) => String(i)),
    'id2label has num_labels entries "0".."n-1"',
  );
  assert.ok(
    Object.values(c.id2label!).every((v) => typeof v === 'string'),
    'id2label values are strings',
  );
  assert.equal(c.problem_type, c.num_labels === 1 ? 'regression' : 'single_label_classification');
  if ((raw.id2label ?? null) !== null) assert.deepEqual(c.id2label, raw.id2label, 'id2label as given');
  if ((raw.num_labels ?? null) === null && (raw.id2label ?? null) === null) assert.equal(c.num_labels, 2);
}

/** One line, starting with the file's path, naming the field (or saying the file is not a JSON object). */
const NAMES_FIELD =
  /^: (field "[a-z_0-9]+"|hidden_size \d+ is not divisible by num_attention_heads \d+$|hash_embedding: |invalid JSON \(|not a JSON object$)/;

export function checkConfigCase({ text, hasClassifier }: ConfigCase): void {
  const { plain, classifier } = scratch();
  const dir = hasClassifier ? classifier : plain;
  const file = join(dir, 'config.json');
  writeFileSync(file, text);
  let c: BertConfig;
  try {
    c = readConfig(dir);
  } catch (e) {
    if (!(e instanceof UserError))
      throw new Error(`expected a config or a UserError, got ${String(e)}`, { cause: e });
    assert.ok(e.message.startsWith(file), `message does not start with the file: ${e.message}`);
    assert.ok(!/[\r\n]/.test(e.message), `message is not one line: ${JSON.stringify(e.message)}`);
    assert.match(e.message.slice(file.length), NAMES_FIELD, 'message names the field');
    return;
  }
  const raw = JSON.parse(text.replace(/^\ufeff/, '')) as Record<string, unknown>;
  checkConfigInvariants(c, raw, hasClassifier);
  // What saveModel writes reads back the same.
  const again = validateConfig(JSON.parse(JSON.stringify(c)), file, { hasClassifier });
  assert.deepEqual(again, JSON.parse(JSON.stringify(c)), 'the config reads back as itself');
}

/** The config.json fuzz target(s), in the fuzz harness's FuzzTarget shape. */
export const CONFIG_FUZZ = [
  fuzzTarget({
    name: 'config.json: readConfig on mutated and raw configs',
    arbitrary: configCase,
    predicate: checkConfigCase,
    weight: 10, // cheap cases, many ways to be wrong
  }),
];

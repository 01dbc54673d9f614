import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { SafeTensor } from '../runtime/safetensors.js';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { preset } from './config.js';
import { createModel, loadModel, type Model, modelBytes, readConfig, saveModel } from './io.js';
import { modelFiles } from './model.js';

const VOCAB = 'assets/bert-base-uncased-vocab.txt';
const tmp = mkdtempSync(join(tmpdir(), 'minnow-io-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('model directories', () => {
  test('EELBERT: no V x H table on disk, table recomputed at load, <= 2.0 MB (eelbert-tiny)', () => {
    const m = createModel(preset('eelbert-tiny'), VOCAB, new Rng(1), { mlm: true });
    const dir = join(tmp, 'eel');
    saveModel(dir, m);
    const file = readSafetensors(join(dir, 'model.safetensors'));
    assert.ok(!file.tensors.has('bert.embeddings.word_embeddings.weight'));
    assert.ok(![...file.tensors.keys()].some((k) => k.startsWith('cls.')), 'MLM head lives in its own file');
    assert.ok(modelBytes(dir).weights <= 2.0e6, `${modelBytes(dir).weights} bytes`);
    const back = loadModel(dir, { mlm: true });
    for (const p of m.store.params) assert.deepEqual(back.store.get(p.name).data, p.data, p.name);
    assert.equal(back.config.embedding_type, 'hash');
  });

  test('uno-eelbert is <= 1.2 MB and bert-tiny stores its 30,522 x 128 table (~17.6 MB)', () => {
    const uno = join(tmp, 'uno');
    saveModel(uno, createModel(preset('uno-eelbert'), VOCAB, new Rng(1)));
    assert.ok(modelBytes(uno).weights <= 1.2e6, `${modelBytes(uno).weights}`);
    const tiny = join(tmp, 'tiny');
    saveModel(tiny, createModel(preset('bert-tiny'), VOCAB, new Rng(1)));
    const t = readSafetensors(join(tiny, 'model.safetensors')).tensors.get(
      'bert.embeddings.word_embeddings.weight',
    );
    assert.deepEqual(t?.shape, [30522, 128]);
    assert.ok(Math.abs(modelBytes(tiny).weights - 17.6e6) < 0.2e6, `${modelBytes(tiny).weights}`);
  });

  test('a directory without vocab.txt can name the shipped vocabulary', () => {
    const dir = join(tmp, 'shipped');
    const m = createModel(preset('uno-eelbert'), VOCAB, new Rng(3));
    saveModel(dir, m, { shippedVocab: 'bert-base-uncased', mlmHead: false });
    assert.equal(modelBytes(dir).total, modelBytes(dir).weights + statSync(join(dir, 'config.json')).size);
    const back = loadModel(dir);
    assert.equal(back.tokenizer.vocabSize, 30522);
    assert.deepEqual(
      back.store.get('bert.encoder.layer.0.output.dense.weight').data,
      m.store.get('bert.encoder.layer.0.output.dense.weight').data,
    );
  });

  test('a model read from an exported folder saves as a model directory, not as an export', () => {
    const dir = join(tmp, 'from-export');
    const m = createModel(preset('uno-eelbert'), VOCAB, new Rng(3));
    (m.config as { minnow_export?: unknown }).minnow_export = {
      format: 1,
      files: { portable: 'onnx/model.onnx' },
    };
    saveModel(dir, m, { mlmHead: false });
    assert.equal('minnow_export' in readConfig(dir), false);
    assert.equal(modelFiles(m)['config.json'].includes('minnow_export'), false);
  });

  test('clear errors: missing directory, missing config.json, bad JSON, bad field', () => {
    assert.throws(() => readConfig(join(tmp, 'nope')), /nope: model directory not found/);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    assert.throws(() => readConfig(empty), /empty\/config\.json: missing/);
    writeFileSync(join(empty, 'config.json'), '{ not json');
    assert.throws(() => readConfig(empty), /config\.json: invalid JSON/);
    writeFileSync(
      join(empty, 'config.json'),
      JSON.stringify({ ...preset('bert-tiny'), num_attention_heads: 3 }),
    );
    assert.throws(() => readConfig(empty), /hidden_size 128 is not divisible by num_attention_heads 3/);
    writeFileSync(join(empty, 'config.json'), JSON.stringify({ ...preset('bert-tiny'), vocab_size: -1 }));
    assert.throws(() => readConfig(empty), /field "vocab_size" must be a positive integer/);
  });
});

/** A small table-embedding model on the 62-entry fixture vocabulary (fast to build and save). */
const SMALL_VOCAB = 'test/fixtures/general-vocab.txt';
function small(layers = 1, parts: { numLabels?: number; mlm?: boolean } = {}, seed = 1) {
  const c = {
    ...preset('bert-tiny'),
    num_hidden_layers: layers,
    hidden_size: 16,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 32,
  };
  return createModel(c, SMALL_VOCAB, new Rng(seed), parts);
}

/** Write a model directory by hand: config.json as given, vocab.txt, model.safetensors from tensors. */
function writeDir(dir: string, config: object, tensors: Map<string, SafeTensor>, vocab: readonly string[]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
}

describe('unexpected tensors', () => {
  test('a 1-layer config.json beside a 2-layer model.safetensors is an error naming the file and tensors', () => {
    const two = small(2);
    const dir = join(tmp, 'layers');
    saveModel(dir, two);
    const one = small(1);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(one.config));
    assert.throws(
      () => loadModel(dir),
      (e: Error) =>
        e instanceof UserError &&
        e.message.includes(join(dir, 'model.safetensors')) &&
        /16 unexpected tensors/.test(e.message) &&
        e.message.includes('"bert.encoder.layer.1.attention.output.LayerNorm.bias"') &&
        /and 13 more/.test(e.message),
    );
  });

  test('known optional tensors load: cls.*, position_ids, a classifier without a task head, a hash table', () => {
    const m = small(1, { numLabels: 2, mlm: true });
    const tensors = m.store.toTensors();
    tensors.set('bert.embeddings.position_ids', {
      dtype: 'I64',
      shape: [1, 32],
      data: BigInt64Array.from({ length: 32 }, (_, i) => BigInt(i)),
    });
    const dir = join(tmp, 'optional');
    writeDir(dir, m.config, tensors, m.tokenizer.vocabulary); // without a task head asked for, the classifier is not read
    const back = loadModel(dir);
    assert.equal(back.store.has('classifier.weight'), false);
    assert.deepEqual(
      back.store.get('bert.pooler.dense.weight').data,
      m.store.get('bert.pooler.dense.weight').data,
    );
    // A classifier of another size is re-initialised when fine-tuning for another task.
    assert.equal(
      loadModel(dir, { numLabels: 3, rng: new Rng(2) }).store.get('classifier.weight').shape[0],
      3,
    );

    const eel = createModel(preset('uno-eelbert'), VOCAB, new Rng(1));
    const hashDir = join(tmp, 'hash-with-table');
    writeDir(hashDir, eel.config, eel.store.toTensors(), eel.tokenizer.vocabulary);
    const t = readSafetensors(join(hashDir, 'model.safetensors'));
    assert.ok(!t.tensors.has('bert.embeddings.word_embeddings.weight'), 'derived table is not saved');
    const withTable = eel.store.toTensors();
    const table = eel.store.get('bert.embeddings.word_embeddings.weight');
    withTable.set(table.name, { dtype: 'F32', shape: table.shape, data: table.data });
    writeSafetensors(join(hashDir, 'model.safetensors'), withTable);
    assert.deepEqual(loadModel(hashDir).store.get(table.name).data, table.data);
  });
});

describe('non-finite weights', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    test(`a ${bad} weight is refused, naming the file, the tensor and the count`, () => {
      const m = small(1, { numLabels: 2 });
      const dir = join(tmp, `nonfinite-${bad}`);
      saveModel(dir, {
        ...m,
        config: { ...m.config, num_labels: 2, problem_type: 'single_label_classification' },
      });
      const tensors = readSafetensors(join(dir, 'model.safetensors')).tensors;
      const w = tensors.get('bert.encoder.layer.0.attention.self.query.weight')!.data as Float32Array;
      w[3] = bad;
      w[7] = bad;
      writeSafetensors(join(dir, 'model.safetensors'), tensors);
      assert.throws(
        () => loadModel(dir, { numLabels: 2 }),
        (e: Error) =>
          e instanceof UserError &&
          e.message.includes(join(dir, 'model.safetensors')) &&
          e.message.includes('"bert.encoder.layer.0.attention.self.query.weight"') &&
          /2 non-finite values/.test(e.message),
      );
    });
  }
});

/**
 * config.json as transformers writes it for BertForSequenceClassification.save_pretrained: 4.x keeps
 * `torch_dtype`, `position_embedding_type`, `gradient_checkpointing` and (in the versions that do) the
 * default id2label/label2id; 5.x writes `dtype`, omits id2label for the default 2 labels and no longer
 * saves the `position_ids` buffer. Neither writes num_labels; problem_type only once set.
 */
function hfConfig(m: Model, version: 4 | 5, labels?: readonly string[], problemType?: string): object {
  const c = m.config;
  const id2label = labels && Object.fromEntries(labels.map((l, i) => [String(i), l]));
  const label2id = labels && Object.fromEntries(labels.map((l, i) => [l, i]));
  return {
    ...(version === 4 ? { _name_or_path: 'prajjwal1/bert-tiny' } : {}),
    architectures: ['BertForSequenceClassification'],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    ...(version === 5 ? { dtype: 'float32' } : { gradient_checkpointing: false }),
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: c.hidden_size,
    ...(id2label ? { id2label } : {}),
    initializer_range: 0.02,
    intermediate_size: c.intermediate_size,
    ...(label2id ? { label2id } : {}),
    layer_norm_eps: 1e-12,
    max_position_embeddings: c.max_position_embeddings,
    model_type: 'bert',
    num_attention_heads: c.num_attention_heads,
    num_hidden_layers: c.num_hidden_layers,
    pad_token_id: 0,
    ...(version === 4 ? { position_embedding_type: 'absolute' } : {}),
    ...(problemType ? { problem_type: problemType } : {}),
    ...(version === 4 ? { torch_dtype: 'float32' } : {}),
    transformers_version: version === 4 ? '4.46.3' : '5.0.0',
    type_vocab_size: 2,
    use_cache: true,
    vocab_size: c.vocab_size,
  };
}

describe('Hugging Face transformers classifiers', () => {
  const cases = [
    { version: 4, n: 2, labels: ['LABEL_0', 'LABEL_1'], problemType: undefined },
    { version: 5, n: 2, labels: undefined, problemType: undefined },
    {
      version: 4,
      n: 3,
      labels: ['negative', 'neutral', 'positive'],
      problemType: 'single_label_classification',
    },
    { version: 5, n: 3, labels: ['negative', 'neutral', 'positive'], problemType: undefined },
  ] as const;
  for (const { version, n, labels, problemType } of cases) {
    test(`transformers ${version}.x BertForSequenceClassification, ${n} labels${labels ? ` (id2label ${labels.join(', ')})` : ' (no id2label)'}`, () => {
      const m = small(2, { numLabels: n }, 7);
      const tensors = m.store.toTensors();
      if (version === 4) {
        tensors.set('bert.embeddings.position_ids', {
          dtype: 'I64',
          shape: [1, m.config.max_position_embeddings],
          data: BigInt64Array.from({ length: m.config.max_position_embeddings }, (_, i) => BigInt(i)),
        });
      }
      const dir = join(tmp, `hf${version}-${n}`);
      writeDir(
        dir,
        hfConfig(m, version, labels ? [...labels] : undefined, problemType),
        tensors,
        m.tokenizer.vocabulary,
      );
      // As `minnow predict` and `minnow eval` do: read the head size from the config, then load with it.
      const m0 = loadModel(dir);
      assert.equal(m0.config.num_labels, n);
      assert.equal(m0.config.problem_type, 'single_label_classification');
      const expected = labels ?? Array.from({ length: n }, (_, i) => `LABEL_${i}`);
      assert.deepEqual(m0.config.id2label, Object.fromEntries(expected.map((l, i) => [String(i), l])));
      const back = loadModel(dir, { numLabels: m0.config.num_labels });
      for (const p of m.store.params) assert.deepEqual(back.store.get(p.name).data, p.data, p.name);
      assert.equal(back.store.get('classifier.weight').shape[0], n);
    });
  }
});

test('saveModel writes an id2label that fits num_labels (a classifier re-fine-tuned for regression)', () => {
  const m = small(1, { numLabels: 1 });
  m.config.num_labels = 1;
  m.config.problem_type = 'regression';
  m.config.id2label = { '0': 'negative', '1': 'positive' }; // left over from the classification task
  const dir = join(tmp, 'stale-labels');
  saveModel(dir, m);
  const back = loadModel(dir, { numLabels: 1 });
  assert.deepEqual(back.config.id2label, { '0': 'LABEL_0' });
  assert.equal(back.config.problem_type, 'regression');
});

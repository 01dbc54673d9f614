/**
 * The Hugging Face remote code in model directories and export folders (no Python here; hf-python.test.ts
 * runs transformers on them): which models get it, what config.json says, and that minnow still reads
 * its older directories (model_type "bert" with hash embeddings) and the new ones.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_EXPORT, exportModel } from '../infer/export-folder.js';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import { assetPath } from '../util/assets.js';
import { Rng } from '../util/rng.js';
import { preset } from './config.js';
import {
  AUTO_MAP,
  HASH_GUARD_ROWS,
  REMOTE_CODE_FILES,
  REMOTE_MODEL_TYPE,
  remoteFields,
} from './hf-remote.js';
import { createModel, loadModel, type Model, saveModel } from './io.js';
import { WORD_TABLE } from './model.js';

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'minnow-hf-remote-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const VOCAB = assetPath('bert-base-uncased-vocab.txt');
const config = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));

function model(name: string, parts: { numLabels?: number; mlm?: boolean } = {}): Model {
  const m = createModel(preset(name), VOCAB, new Rng(1), parts);
  if (parts.numLabels) {
    m.config.num_labels = parts.numLabels;
    m.config.problem_type = 'single_label_classification';
    m.config.id2label = { '0': 'no', '1': 'yes' };
  }
  return m;
}

test('hash and low-rank directories carry the remote code; a table directory stays plain BERT', () => {
  const cases = [
    { name: 'uno-eelbert', parts: { numLabels: 2 }, arch: 'MinnowForSequenceClassification' },
    { name: 'uno-lowrank', parts: { mlm: true }, arch: 'MinnowForMaskedLM' },
    { name: 'uno-eelbert', parts: {}, arch: 'MinnowModel' },
  ];
  for (const [i, c] of cases.entries()) {
    const dir = join(tmp, `remote-${i}`);
    saveModel(dir, model(c.name, c.parts));
    const cfg = config(dir);
    assert.equal(cfg.model_type, REMOTE_MODEL_TYPE);
    assert.deepEqual(cfg.auto_map, AUTO_MAP);
    assert.deepEqual(cfg.architectures, [c.arch]);
    for (const f of REMOTE_CODE_FILES)
      assert.equal(
        readFileSync(join(dir, f), 'utf8'),
        readFileSync(join(import.meta.dirname, '..', '..', 'python', f), 'utf8'),
      );
    assert.equal(
      JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')).tokenizer_class,
      'BertTokenizer',
    );
    // minnow reads what it wrote.
    const back = loadModel(dir, { numLabels: c.parts.numLabels });
    assert.equal(back.config.embedding_type, preset(c.name).embedding_type);
  }
  const table = join(tmp, 'table');
  saveModel(table, model('bert-tiny', { numLabels: 2 }));
  assert.equal(config(table).model_type, 'bert');
  assert.equal(config(table).auto_map, undefined);
  for (const f of REMOTE_CODE_FILES) assert.ok(!existsSync(join(table, f)), f);
  assert.equal(remoteFields(preset('bert-tiny')), undefined);
});

test('a hybrid (n-gram path) gets the remote code, so plain BERT cannot drop its path silently', () => {
  const c = { ...preset('bert-tiny'), ngram: { buckets: 16 } } as never;
  assert.equal(remoteFields(c)?.model_type, REMOTE_MODEL_TYPE);
});

test('minnow reads an older hash directory (model_type bert, no auto_map) as before', () => {
  const dir = join(tmp, 'old-hash');
  const m = model('uno-eelbert', { numLabels: 2 });
  saveModel(dir, m);
  const cfg = config(dir);
  cfg.model_type = 'bert';
  delete cfg.auto_map;
  delete cfg.architectures;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  for (const f of REMOTE_CODE_FILES) rmSync(join(dir, f));
  const back = loadModel(dir, { numLabels: 2 });
  assert.deepEqual(back.store.get(WORD_TABLE).data, m.store.get(WORD_TABLE).data);
  assert.deepEqual(back.store.get('classifier.weight').data, m.store.get('classifier.weight').data);
});

test('a hash export keeps model_type bert for transformers.js, maps the remote code, and guards the word table', async () => {
  const src = join(tmp, 'export-src');
  saveModel(src, model('uno-eelbert', { numLabels: 2 }));
  const out = join(tmp, 'export-out');
  await exportModel(src, out, { ...DEFAULT_EXPORT, quantize: 'none', threads: 1 });
  const cfg = config(out);
  assert.equal(cfg.model_type, 'bert');
  assert.deepEqual(cfg.architectures, ['BertForSequenceClassification']);
  assert.deepEqual(cfg.auto_map, AUTO_MAP);
  for (const f of REMOTE_CODE_FILES) assert.ok(existsSync(join(out, f)), f);
  const guard = readSafetensors(join(out, 'model.safetensors')).tensors.get(WORD_TABLE);
  assert.deepEqual(guard?.shape, [HASH_GUARD_ROWS, 128]);
  // The folder is still a minnow model directory: the guard is not read.
  const back = loadModel(out, { numLabels: 2 });
  assert.equal(back.store.get(WORD_TABLE).shape[0], 30522);
});

test('a masked-LM model saved by transformers (its head in model.safetensors) loads with its head', () => {
  const m = model('uno-lowrank', { mlm: true });
  const bias = m.store.get('cls.predictions.bias').data;
  for (let i = 0; i < bias.length; i++) bias[i] = (i % 7) / 7;
  const dir = join(tmp, 'mlm-in-model');
  saveModel(dir, m, { mlmHead: false });
  writeSafetensors(join(dir, 'model.safetensors'), m.store.toTensors(), { format: 'pt' });
  assert.ok(!existsSync(join(dir, 'mlm_head.safetensors')));
  const back = loadModel(dir, { mlm: true });
  assert.deepEqual(back.store.get('cls.predictions.bias').data, bias);
  for (const name of ['cls.predictions.transform.dense.weight', 'cls.predictions.transform.LayerNorm.weight'])
    assert.deepEqual(back.store.get(name).data, m.store.get(name).data, name);
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readSafetensors } from '../runtime/safetensors.js';
import { Rng } from '../util/rng.js';
import { preset } from './config.js';
import { createModel, loadModel, modelBytes, readConfig, saveModel } from './io.js';

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

/**
 * Export: the exported ONNX gives the training graph's logits (fp32, portable and compact, table and
 * hash models), int8 stays close to fp32, the folder is complete and written atomically, the accuracy
 * gate keeps a failing int8 file out, and broken inputs fail with one clear line.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readTask } from '../data/task.js';
import { encodeAll } from '../data/batch.js';
import { preset } from '../model/config.js';
import { createModel, loadModel, saveModel } from '../model/io.js';
import { readOnnx } from '../graph/onnx.js';
import { writeSafetensors } from '../runtime/safetensors-file.js';
import { DEFAULT_FINETUNE, finetune } from '../train/finetune.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_EXPORT, exportModel, writeFolderAtomic } from './export-folder.js';
import { folderReader, loadClassifier, nodeOrt } from './load.js';
import { predictLogits } from './predict.js';
import { Classifier } from './runtime.js';

const DATA = join('test', 'fixtures', 'glue-mini');
const VOCAB = join('assets', 'bert-base-uncased-vocab.txt');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-export-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const models = { hash: join(tmp, 'hash'), table: join(tmp, 'table') };
const dev = readTask({ task: 'sst2', data: DATA }, 'dev');
const texts = dev.examples.map((e) => e.text);

async function runtimeLogits(dir: string, variant: 'compact' | 'portable', quantized = false) {
  const clf = await Classifier.load(folderReader(dir), { ort: nodeOrt, variant, quantized, threads: 1 });
  const out = await clf.logits(clf.encode(texts), 16);
  await clf.release();
  return out;
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, k) => (m = Math.max(m, Math.abs(v - b[i][k])))));
  return m;
}

const argmax = (l: Float32Array) => (l[1] > l[0] ? 1 : 0);

describe('minnow export', () => {
  before(async () => {
    // Two quickly fine-tuned classifiers: an EELBERT (hash) one and a table one.
    for (const [kind, name] of [
      ['hash', 'uno-eelbert'],
      ['table', 'bert-tiny'],
    ] as const) {
      const init = join(tmp, `${kind}-init`);
      saveModel(init, createModel(preset(name), VOCAB, new Rng(1)));
      await finetune(init, { task: 'sst2', data: DATA }, undefined, {
        ...DEFAULT_FINETUNE,
        out: models[kind],
        epochs: 2,
        lr: 1e-3,
        batchSize: 16,
        threads: 1,
      });
    }
  });

  test('fp32 ONNX gives the training graph logits (<= 1e-5), portable and compact, hash and table', async () => {
    for (const kind of ['hash', 'table'] as const) {
      const out = join(tmp, `${kind}-export`);
      const res = await exportModel(models[kind], out, { ...DEFAULT_EXPORT, threads: 1 });
      const m = loadModel(models[kind], { numLabels: 2 });
      const ref = await predictLogits(m, encodeAll(m.tokenizer, dev.examples, 128), 2, 16, 1);
      const portable = await runtimeLogits(out, 'portable');
      assert.ok(maxDiff(portable, ref) <= 1e-5, `${kind} portable: max |diff| ${maxDiff(portable, ref)}`);
      if (kind === 'hash') {
        const compact = await runtimeLogits(out, 'compact');
        assert.ok(maxDiff(compact, ref) <= 1e-5, `compact: max |diff| ${maxDiff(compact, ref)}`);
      }
      const files = readdirSync(join(out, 'onnx')).sort();
      assert.deepEqual(
        files,
        kind === 'hash'
          ? ['model.onnx', 'model_compact.onnx', 'model_compact_quantized.onnx', 'model_quantized.onnx']
          : ['model.onnx', 'model_quantized.onnx'],
      );
      for (const f of [
        'config.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'vocab.txt',
        'model.safetensors',
      ])
        assert.ok(existsSync(join(out, f)), f);
      // The folder is also a minnow model directory: the same weights load from it.
      const again = loadModel(out, { numLabels: 2 });
      for (const p of m.store.params) assert.deepEqual(again.store.get(p.name).data, p.data, p.name);
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      assert.equal(config.model_type, 'bert');
      assert.deepEqual(config.id2label, { 0: 'negative', 1: 'positive' });
      assert.deepEqual(config.label2id, { negative: 0, positive: 1 });
      // The portable graph takes what transformers.js and onnxruntime users feed a BERT classifier.
      const g = readOnnx(readFileSync(join(out, 'onnx', 'model.onnx')));
      assert.deepEqual(
        g.inputs.map((i) => [i.name, i.dtype, i.shape]),
        [
          ['input_ids', 'int64', ['B', 'T']],
          ['attention_mask', 'int64', ['B', 'T']],
          ['token_type_ids', 'int64', ['B', 'T']],
        ],
      );
      assert.deepEqual(
        g.outputs.map((o) => o.name),
        ['logits'],
      );
      assert.ok(!g.ops.includes('Dropout'));
      if (kind === 'hash') {
        const compact = res.variants.find((v) => v.variant === 'compact_quantized')!;
        const portable8 = res.variants.find((v) => v.variant === 'portable_quantized')!;
        assert.ok(compact.bytes < 0.4e6, `compact int8 ${compact.bytes} bytes`);
        assert.ok(portable8.bytes < res.variants.find((v) => v.variant === 'portable')!.bytes / 3);
        const ops = readOnnx(readFileSync(join(out, 'onnx', 'model_compact_quantized.onnx'))).ops;
        // Nothing to calibrate static int8 on here: weight-only, int8 weights dequantised, float products.
        assert.ok(ops.includes('DequantizeLinear') && !ops.includes('MatMulInteger'), ops.join(' '));
      }
    }
  });

  test('int8 agrees with fp32: labels on the fixture set, logits close', async () => {
    const out = join(tmp, 'hash-export');
    for (const variant of ['compact', 'portable'] as const) {
      const fp32 = await runtimeLogits(out, variant);
      const int8 = await runtimeLogits(out, variant, true);
      const agree = fp32.filter((l, i) => argmax(l) === argmax(int8[i])).length / fp32.length;
      assert.ok(agree >= 0.95, `${variant}: int8 agrees with fp32 on ${agree}`);
      const scale = Math.max(...fp32.map((l) => Math.max(Math.abs(l[0]), Math.abs(l[1]))));
      assert.ok(
        maxDiff(fp32, int8) <= 0.1 * scale,
        `${variant}: max |diff| ${maxDiff(fp32, int8)} of ${scale}`,
      );
    }
  });

  test('static int8: calibrated on anchors.txt, else the check texts; integer products; close to fp32', async () => {
    // No texts to calibrate on: static is refused when asked for, and the default falls back to weight-only.
    await assert.rejects(
      exportModel(models.hash, join(tmp, 'static-none'), {
        ...DEFAULT_EXPORT,
        staticFallback: false,
        threads: 1,
      }),
      (e: Error) => e instanceof UserError && /nothing to calibrate on.*--check/.test(e.message),
    );
    const withCheck = join(tmp, 'static-check');
    const res = await exportModel(models.hash, withCheck, {
      ...DEFAULT_EXPORT,
      threads: 1,
      check: { src: { task: 'sst2', data: DATA }, split: 'dev' },
    });
    assert.deepEqual(res.int8, {
      scheme: 'static',
      note: `static: int8 products, activations quantised with fixed calibrated ranges, calibrated on ${dev.examples.length} texts of the check data`,
    });
    const count = (ops: string[], op: string) => ops.filter((x) => x === op).length;
    for (const file of ['model_quantized.onnx', 'model_compact_quantized.onnx']) {
      const ops = readOnnx(readFileSync(join(withCheck, 'onnx', file))).ops;
      assert.ok(ops.includes('QuantizeLinear') && ops.includes('MatMulIntegerToFloat'), ops.join(' '));
      assert.ok(!ops.includes('Gemm') && !ops.includes('DynamicQuantizeLinear'), ops.join(' '));
      // Dense layers' bias Adds are the op's bias input: one Add fewer per dense layer than weight-only.
      const weightOnly = readOnnx(readFileSync(join(tmp, 'hash-export', 'onnx', file))).ops;
      assert.equal(count(weightOnly, 'Add') - count(ops, 'Add'), count(ops, 'MatMulIntegerToFloat'));
    }
    const fp32 = await runtimeLogits(withCheck, 'compact');
    const weightOnly = await runtimeLogits(join(tmp, 'hash-export'), 'compact', true);
    for (const variant of ['compact', 'portable'] as const) {
      const int8 = await runtimeLogits(withCheck, variant, true);
      const agree = fp32.filter((l, i) => argmax(l) === argmax(int8[i])).length / fp32.length;
      assert.ok(agree >= 0.95, `${variant}: static int8 agrees with fp32 on ${agree}`);
      const scale = Math.max(...fp32.map((l) => Math.max(Math.abs(l[0]), Math.abs(l[1]))));
      assert.ok(
        maxDiff(fp32, int8) <= 0.1 * scale,
        `${variant}: max |diff| ${maxDiff(fp32, int8)} of ${scale}`,
      );
      // Within a few times weight-only int8's error (the activations' rounding adds to the weights').
      assert.ok(maxDiff(fp32, int8) <= 5 * maxDiff(fp32, weightOnly) + 1e-3, `${variant}`);
    }
    // A model directory with anchors.txt is calibrated on it (the texts the model reads, without labels).
    const anchored = join(tmp, 'hash-anchored');
    cpSync(models.hash, anchored, { recursive: true });
    writeFileSync(join(anchored, 'anchors.txt'), `${texts.slice(0, 7).join('\n')}\n\n`);
    const a = await exportModel(anchored, join(tmp, 'static-anchors'), { ...DEFAULT_EXPORT, threads: 1 });
    assert.match(a.int8!.note, /calibrated on 7 texts of anchors\.txt$/);
    assert.ok(existsSync(join(tmp, 'static-anchors', 'anchors.txt')));
  });

  test('the accuracy gate: an int8 file that loses more than maxDrop is not written', async () => {
    const out = join(tmp, 'gated');
    const res = await exportModel(models.hash, out, {
      ...DEFAULT_EXPORT,
      threads: 1,
      check: { src: { task: 'sst2', data: DATA }, split: 'dev' },
      maxDrop: -1, // any int8 file "drops" more than -1 points
    });
    assert.deepEqual(res.refused.sort(), ['compact_quantized', 'portable_quantized']);
    for (const v of res.variants) assert.ok(v.score !== undefined && v.score >= 0, v.variant);
    assert.deepEqual(readdirSync(join(out, 'onnx')).sort(), ['model.onnx', 'model_compact.onnx']);
    const files = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).minnow_export.files;
    assert.deepEqual(Object.keys(files).sort(), ['compact', 'portable']);
    // With room for the drop, all files are written and the fp32 scores equal the runtime's on the data.
    const ok = await exportModel(models.hash, out, {
      ...DEFAULT_EXPORT,
      threads: 1,
      check: { src: { task: 'sst2', data: DATA }, split: 'dev' },
      maxDrop: 100,
    });
    assert.deepEqual(ok.refused, []);
    assert.equal(readdirSync(join(out, 'onnx')).length, 4);
  });

  test('predict on an exported folder equals predict on the model directory', async () => {
    const a = await loadClassifier(models.hash, { threads: 1, maxLength: 128 });
    const b = await loadClassifier(join(tmp, 'hash-export'), { threads: 1, maxLength: 128 });
    const ra = await a.classify(texts.slice(0, 8));
    const rb = await b.classify(texts.slice(0, 8));
    assert.deepEqual(
      ra.map((r) => r.label),
      rb.map((r) => r.label),
    );
    ra.forEach((r, i) => assert.ok(Math.abs(r.score - rb[i].score) < 1e-6));
    await a.release();
    await b.release();
  });

  test('a classifier saved by transformers (5.x layout) exports and gives its logits', async () => {
    const m = createModel(preset('bert-tiny'), join('test', 'fixtures', 'general-vocab.txt'), new Rng(5), {
      numLabels: 3,
    });
    const dir = join(tmp, 'hf5');
    mkdirSync(dir, { recursive: true });
    const c = m.config;
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        architectures: ['BertForSequenceClassification'],
        attention_probs_dropout_prob: 0.1,
        dtype: 'float32',
        hidden_act: 'gelu',
        hidden_dropout_prob: 0.1,
        hidden_size: c.hidden_size,
        id2label: { 0: 'neg', 1: 'neu', 2: 'pos' },
        initializer_range: 0.02,
        intermediate_size: c.intermediate_size,
        label2id: { neg: 0, neu: 1, pos: 2 },
        layer_norm_eps: 1e-12,
        max_position_embeddings: c.max_position_embeddings,
        model_type: 'bert',
        num_attention_heads: c.num_attention_heads,
        num_hidden_layers: c.num_hidden_layers,
        pad_token_id: 0,
        transformers_version: '5.0.0',
        type_vocab_size: 2,
        vocab_size: c.vocab_size,
      }),
    );
    writeFileSync(join(dir, 'vocab.txt'), `${m.tokenizer.vocabulary.join('\n')}\n`);
    writeSafetensors(join(dir, 'model.safetensors'), m.store.toTensors());
    const out = join(tmp, 'hf5-export');
    await exportModel(dir, out, { ...DEFAULT_EXPORT, threads: 1 });
    const ref = await predictLogits(m, encodeAll(m.tokenizer, dev.examples, 128), 3, 16, 1);
    assert.ok(maxDiff(await runtimeLogits(out, 'portable'), ref) <= 1e-5);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).id2label, {
      0: 'neg',
      1: 'neu',
      2: 'pos',
    });
  });

  test('a folder whose config.json has id2label but no num_labels (as transformers writes it) loads', async () => {
    const src = join(tmp, 'hash-export');
    const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
    delete config.num_labels;
    delete config.problem_type;
    const reader = folderReader(src);
    const clf = await Classifier.load(
      async (name) =>
        name === 'config.json' ? new TextEncoder().encode(JSON.stringify(config)) : reader(name),
      { ort: nodeOrt, variant: 'portable' },
    );
    assert.deepEqual(clf.labels, ['negative', 'positive']);
    assert.equal(clf.regression, false);
    assert.equal((await clf.classify(['a joy'])).length, 1);
    await clf.release();
  });

  test('a compact folder exported by an earlier minnow (format 1, inputs_embeds) is refused: export again', async () => {
    const src = join(tmp, 'hash-export');
    const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
    assert.equal(config.minnow_export.format, 2);
    config.minnow_export.format = 1;
    const reader = folderReader(src);
    const old = async (name: string) =>
      name === 'config.json' ? new TextEncoder().encode(JSON.stringify(config)) : reader(name);
    await assert.rejects(
      Classifier.load(old, { ort: nodeOrt, variant: 'compact' }),
      (e: Error) =>
        e instanceof UserError && /earlier minnow \(format 1\); run minnow export again/.test(e.message),
    );
    // Its portable files did not change: they still load.
    const clf = await Classifier.load(old, { ort: nodeOrt, variant: 'portable' });
    assert.equal((await clf.classify(['a joy'])).length, 1);
    await clf.release();
  });

  test('bad input: no task head, a corrupt ONNX file, an out that is a file: one clear line', async () => {
    const headless = join(tmp, 'headless');
    saveModel(headless, createModel(preset('uno-eelbert'), VOCAB, new Rng(2)));
    await assert.rejects(
      exportModel(headless, join(tmp, 'x'), { ...DEFAULT_EXPORT, threads: 1 }),
      (e: Error) => e instanceof UserError && /no task head/.test(e.message) && !e.message.includes('\n'),
    );
    assert.ok(!existsSync(join(tmp, 'x')), 'nothing written');
    const broken = join(tmp, 'broken');
    await exportModel(models.hash, broken, { ...DEFAULT_EXPORT, quantize: 'none', threads: 1 });
    const file = join(broken, 'onnx', 'model.onnx');
    writeFileSync(file, readFileSync(file).subarray(0, 5000));
    await assert.rejects(
      Classifier.load(folderReader(broken), { ort: nodeOrt, variant: 'portable' }),
      (e: Error) => e instanceof UserError && /model\.onnx: not a model onnxruntime can load/.test(e.message),
    );
    const aFile = join(tmp, 'a-file');
    writeFileSync(aFile, 'x');
    await assert.rejects(
      exportModel(models.hash, aFile, { ...DEFAULT_EXPORT, threads: 1 }),
      (e: Error) => e instanceof UserError && /is a file/.test(e.message),
    );
  });

  test('the folder is written all or nothing', () => {
    const out = join(tmp, 'atomic');
    writeFolderAtomic(out, {
      'config.json': '{"minnow_export":{}}',
      'onnx/model.onnx': new Uint8Array([1, 2]),
    });
    // A write that fails half way leaves the earlier export as it was and no temporary folder.
    assert.throws(() =>
      writeFolderAtomic(out, { 'config.json': '{"minnow_export":{}}', 'a/b': 'x', 'a/b/c': 'y' }),
    );
    assert.deepEqual(readdirSync(out).sort(), ['config.json', 'onnx']);
    assert.deepEqual(
      readdirSync(tmp).filter((f) => f.startsWith('atomic.')),
      [],
    );
    // A directory that is not an earlier export is never replaced.
    const other = join(tmp, 'other');
    writeFolderAtomic(join(other, 'inner'), { 'x.txt': 'x' });
    assert.throws(
      () => writeFolderAtomic(other, { 'config.json': '{}' }),
      (e: Error) => e instanceof UserError && /not an earlier export/.test(e.message),
    );
  });
});

/**
 * Few-step personalisation (teach.ts), the page's fine-tuning: it trains (the loss falls on the taught
 * sentences), 'head' trains the head only, onnxruntime-web gives onnxruntime-node's losses, and the
 * taught model's files (model.ts) load back to the same weights and predictions.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readTask } from '../data/task.js';
import { nodeOrt } from '../infer/load.js';
import { modelClassifier } from '../infer/model-classifier.js';
import { preset } from '../model/config.js';
import { createModel } from '../model/io.js';
import { type Model, modelFiles, modelFromFiles } from '../model/model.js';
import type { OrtBackend } from '../runtime/session.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_TEACH, type TeachExample, teach } from './teach.js';

/** onnxruntime-web, or why not (a variable specifier: this file compiles without the package). */
const WEB_PACKAGE = 'onnxruntime-web';
const web = await import(WEB_PACKAGE).then(
  (m) => ({ ort: m as OrtBackend & { env: { wasm: { numThreads?: number } } }, why: '' }),
  (e: Error) => ({ ort: undefined, why: `onnxruntime-web is not resolvable (${e.message.split('\n')[0]})` }),
);

function model(): Model {
  const m = createModel(preset('uno-eelbert'), join('assets', 'bert-base-uncased-vocab.txt'), new Rng(7), {
    numLabels: 2,
  });
  m.config.num_labels = 2;
  m.config.id2label = { 0: 'negative', 1: 'positive' };
  return m;
}

const examples: TeachExample[] = readTask(
  { task: 'sst2', data: join('test', 'fixtures', 'glue-mini') },
  'train',
)
  .examples.slice(0, 12)
  .map((e) => ({ text: e.text, label: e.label }));

const snapshot = (m: Model) => new Map(m.store.params.map((p) => [p.name, Float32Array.from(p.data)]));

describe('teach: a few fine-tuning steps on labelled sentences', () => {
  test('the whole model trains: the loss on the taught sentences falls', async () => {
    const m = model();
    const seen: number[] = [];
    const losses = await teach(
      m,
      examples,
      { ...DEFAULT_TEACH, steps: 12 },
      { onStep: (k, l) => seen.push(l) },
    );
    assert.equal(losses.length, 12);
    assert.deepEqual(seen, losses);
    assert.ok(losses.every(Number.isFinite));
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    assert.ok(mean(losses.slice(-3)) < mean(losses.slice(0, 3)), `losses ${losses.map((l) => l.toFixed(3))}`);
  });

  test("part 'head' changes the pooler and the classifier only", async () => {
    const m = model();
    const before = snapshot(m);
    await teach(m, examples, { ...DEFAULT_TEACH, steps: 3, part: 'head' });
    for (const p of m.store.params) {
      const same = p.data.every((x, i) => x === before.get(p.name)![i]);
      const head = p.name.startsWith('classifier.') || p.name.startsWith('bert.pooler.');
      assert.equal(same, !head, `${p.name} ${same ? 'unchanged' : 'changed'}`);
    }
    assert.ok(
      m.store.params.every((p) => !p.frozen || p.derived),
      'freezing is undone after the step is built',
    );
  });

  test('the taught model saves to files that load back to the same weights and predictions', async () => {
    const m = model();
    await teach(m, examples, { ...DEFAULT_TEACH, steps: 2 });
    const back = modelFromFiles(modelFiles(m), 'taught/', { numLabels: 2 });
    for (const p of m.store.params) assert.deepEqual(back.store.get(p.name).data, p.data, p.name);
    assert.deepEqual(back.config.id2label, { 0: 'negative', 1: 'positive' });
    const texts = examples.slice(0, 4).map((e) => e.text);
    const a = await (await modelClassifier(m, { ort: nodeOrt })).classify(texts);
    const b = await (await modelClassifier(back, { ort: nodeOrt })).classify(texts);
    assert.deepEqual(b, a);
  });

  test('bad examples are one clear error', async () => {
    await assert.rejects(
      teach(model(), [], DEFAULT_TEACH),
      (e) => e instanceof UserError && /no examples/.test(e.message),
    );
    await assert.rejects(
      teach(model(), [{ text: 'fine', label: 2 }], DEFAULT_TEACH),
      (e) => e instanceof UserError && /example 1: label 2 is not a class 0..1/.test(e.message),
    );
    const headless = model();
    delete headless.config.num_labels;
    await assert.rejects(teach(headless, examples, DEFAULT_TEACH), /no task head/);
  });

  test(
    'onnxruntime-web gives the losses of onnxruntime-node (within 1e-3; dropout and AdamW included)',
    { skip: web.why || false },
    async () => {
      web.ort!.env.wasm.numThreads = 1;
      const node = await teach(model(), examples, DEFAULT_TEACH);
      const wasm = await teach(model(), examples, DEFAULT_TEACH, { backend: web.ort });
      const diff = Math.max(...node.map((l, i) => Math.abs(l - wasm[i])));
      console.log(
        `# losses node ${node.map((l) => l.toFixed(5)).join(' ')}; max |web - node| ${diff.toExponential(2)}`,
      );
      assert.ok(diff <= 1e-3, `max |loss difference| ${diff}`);
    },
  );
});

/**
 * Teaching a few sentences (teach.ts), the page's fine-tuning and `minnow teach`: it trains (the loss falls
 * on the taught sentences), 'head' and 'top' train only their part, onnxruntime-web gives onnxruntime-node's
 * losses, and the taught model's files (model.ts) load back to the same weights and predictions. On the
 * shipped sentiment model: the defaults teach five sentences while keeping its answers on its anchors
 * (plain fine-tuning does not), stop once the taught sentences are right, and a diverging run (lr 10) is
 * rolled back with the model unchanged.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readTask } from '../data/task.js';
import { nodeOrt } from '../infer/load.js';
import { modelClassifier } from '../infer/model-classifier.js';
import { preset } from '../model/config.js';
import { createModel, loadModel } from '../model/io.js';
import { type Model, modelFiles, modelFromFiles } from '../model/model.js';
import type { OrtBackend } from '../runtime/session.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_TEACH, PLAIN_TEACH, parseTeachExamples, type TeachExample, teach, trains } from './teach.js';

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
    const { losses } = await teach(
      m,
      examples,
      { ...DEFAULT_TEACH, steps: 12, stopWhenRight: false },
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
    await teach(m, examples, {
      ...DEFAULT_TEACH,
      steps: 3,
      part: 'head',
      stopWhenRight: false,
      divergence: Infinity,
    });
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

  test("part 'top' also trains the last encoder layer, and nothing below it", async () => {
    const m = createModel(preset('bert-tiny'), join('assets', 'bert-base-uncased-vocab.txt'), new Rng(7), {
      numLabels: 2,
    });
    m.config.num_labels = 2;
    const before = snapshot(m);
    await teach(m, examples, {
      ...DEFAULT_TEACH,
      steps: 2,
      part: 'top',
      stopWhenRight: false,
      divergence: Infinity,
    });
    const changed = m.store.params
      .filter((p) => !p.derived && p.data.some((x, i) => x !== before.get(p.name)![i]))
      .map((p) => p.name);
    assert.ok(changed.some((n) => n.startsWith('bert.encoder.layer.1.')));
    assert.deepEqual(
      changed.filter((n) => !trains('top', n, 2)),
      [],
    );
    assert.ok(
      !changed.some((n) => n.startsWith('bert.encoder.layer.0.') || n.startsWith('bert.embeddings.')),
    );
  });

  test('the taught model saves to files that load back to the same weights and predictions', async () => {
    const m = model();
    await teach(m, examples, { ...DEFAULT_TEACH, steps: 2, stopWhenRight: false, divergence: Infinity });
    const back = modelFromFiles(modelFiles(m), 'taught/', { numLabels: 2 });
    for (const p of m.store.params) assert.deepEqual(back.store.get(p.name).data, p.data, p.name);
    assert.deepEqual(back.config.id2label, { 0: 'negative', 1: 'positive' });
    const texts = examples.slice(0, 4).map((e) => e.text);
    const a = await (await modelClassifier(m, { ort: nodeOrt })).classify(texts);
    const b = await (await modelClassifier(back, { ort: nodeOrt })).classify(texts);
    assert.deepEqual(b, a);
  });

  test('a regression head learns target values, keeping its values on anchors (MSE toward the originals)', async () => {
    const m = createModel(preset('uno-eelbert'), join('assets', 'bert-base-uncased-vocab.txt'), new Rng(7), {
      numLabels: 1,
    });
    Object.assign(m.config, { num_labels: 1, problem_type: 'regression' });
    const taught = examples.slice(0, 4).map((e, i) => ({ text: e.text, label: i % 2 ? 4.5 : 0.5 }));
    const r = await teach(
      m,
      taught,
      { ...DEFAULT_TEACH, steps: 40, margin: 1 },
      {
        anchors: examples.slice(4).map((e) => e.text),
      },
    );
    assert.ok(r.losses.every(Number.isFinite), `${r.losses}`);
    assert.notEqual(r.status, 'diverged', r.message);
    assert.ok(r.losses.at(-1)! < r.losses[0], `losses ${r.losses[0]} -> ${r.losses.at(-1)}`);
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
      const config = { ...DEFAULT_TEACH, steps: 10, stopWhenRight: false, dropout: true };
      const anchors = examples.map((e) => `${e.text} , really`);
      const node = (await teach(model(), examples, config, { anchors })).losses;
      const wasm = (await teach(model(), examples, config, { backend: web.ort, anchors })).losses;
      const diff = Math.max(...node.map((l, i) => Math.abs(l - wasm[i])));
      console.log(
        `# losses node ${node.map((l) => l.toFixed(5)).join(' ')}; max |web - node| ${diff.toExponential(2)}`,
      );
      assert.ok(diff <= 1e-3, `max |loss difference| ${diff}`);
    },
  );
});

/** The shipped sentiment model, its anchors, and five sentences it gets wrong or right by less than 0.2. */
const SHIPPED = join('models', 'sst2-sentiment');
const shipped = () => loadModel(SHIPPED, { numLabels: 2 });
const ANCHORS = readFileSync(join(SHIPPED, 'anchors.txt'), 'utf8').trim().split('\n');
const TAUGHT: TeachExample[] = [
  { text: 'the app crashes constantly', label: 0 },
  { text: 'not bad at all', label: 1 },
  { text: 'the film is not without its charms', label: 1 },
  { text: 'i expected to hate it , but it won me over', label: 1 },
  { text: 'oh great , another two hours of my life i will never get back', label: 0 },
];

async function probabilities(m: Model, texts: readonly string[]): Promise<number[][]> {
  const clf = await modelClassifier(m, { ort: nodeOrt, threads: 1 });
  try {
    return (await clf.classify(texts)).map((c) => c.scores);
  } finally {
    await clf.release();
  }
}
const argmax = (p: number[]) => p.indexOf(Math.max(...p));

describe('teach on models/sst2-sentiment: learn five sentences, keep the other answers', () => {
  test('the defaults flip every taught sentence and keep the anchors; plain fine-tuning does not', async (t) => {
    const base = shipped();
    const before = (await probabilities(base, ANCHORS)).map(argmax);
    const taughtBefore = await probabilities(
      base,
      TAUGHT.map((e) => e.text),
    );
    assert.ok(
      TAUGHT.every((e, i) => taughtBefore[i][e.label] < 0.6),
      'each taught sentence starts wrong or right by less than 0.2',
    );
    const changedBy = async (config: typeof DEFAULT_TEACH) => {
      const m = shipped();
      const r = await teach(m, TAUGHT, config, { anchors: ANCHORS });
      const after = await probabilities(
        m,
        TAUGHT.map((e) => e.text),
      );
      const guard = (await probabilities(m, ANCHORS)).map(argmax);
      return {
        r,
        right: TAUGHT.filter((e, i) => argmax(after[i]) === e.label).length,
        changed: guard.filter((y, i) => y !== before[i]).length,
      };
    };
    const now = await changedBy(DEFAULT_TEACH);
    const plain = await changedBy(PLAIN_TEACH);
    t.diagnostic(
      `defaults: ${now.right}/5 right, ${now.changed}/${ANCHORS.length} anchors changed, ${now.r.updates} steps; ` +
        `plain: ${plain.right}/5 right, ${plain.changed} anchors changed`,
    );
    assert.equal(now.r.status, 'right', now.r.message);
    assert.equal(now.right, 5);
    assert.ok(now.changed <= 5, `${now.changed} anchor labels changed`);
    assert.ok(plain.changed > 3 * Math.max(now.changed, 5), `plain fine-tuning changed ${plain.changed}`);
  });

  test('it stops as soon as the taught sentences are right by the margin, and not before', async () => {
    const m = shipped();
    const r = await teach(m, TAUGHT, DEFAULT_TEACH, { anchors: ANCHORS });
    assert.equal(r.status, 'right');
    assert.ok(r.updates > 0 && r.updates < DEFAULT_TEACH.steps, `${r.updates} steps`);
    assert.equal(r.losses.length, r.updates);
    assert.match(r.message, new RegExp(`every taught example is right after ${r.updates} steps`));
    const after = await probabilities(
      m,
      TAUGHT.map((e) => e.text),
    );
    TAUGHT.forEach((e, i) => assert.ok(after[i][e.label] >= 0.6, `${e.text}: ${after[i]}`));
    // One step fewer leaves one of them short of the margin.
    const short = shipped();
    await teach(short, TAUGHT, { ...DEFAULT_TEACH, steps: r.updates - 1 }, { anchors: ANCHORS });
    const p = await probabilities(
      short,
      TAUGHT.map((e) => e.text),
    );
    assert.ok(TAUGHT.some((e, i) => p[i][e.label] < 0.6));
    // Already right: no step at all.
    const again = await teach(m, TAUGHT, DEFAULT_TEACH, { anchors: ANCHORS });
    assert.deepEqual([again.status, again.updates], ['right', 0]);
    assert.match(again.message, /already right: nothing to teach/);
  });

  test('a diverging run (lr 10) is rolled back: the model is unchanged and the result says so', async () => {
    const m = shipped();
    const before = snapshot(m);
    const r = await teach(m, TAUGHT, { ...DEFAULT_TEACH, lr: 10 }, { anchors: ANCHORS });
    assert.equal(r.status, 'diverged');
    assert.match(
      r.message,
      /^teaching diverged \(.+\): rolled back, the model is unchanged; lower the learning rate \(10\)$/,
    );
    assert.equal(r.updates, 0);
    for (const p of m.store.params)
      assert.ok(
        p.data.every((x, i) => x === before.get(p.name)![i]),
        p.name,
      );
  });
});

describe('taught examples', () => {
  test('a regression label 0x10 is refused, not read as 16', () => {
    const head = { problem_type: 'regression' };
    assert.deepEqual(parseTeachExamples('1.5 | a good film', head), [{ text: 'a good film', label: 1.5 }]);
    assert.throws(
      () => parseTeachExamples('0x10 | a good film', head),
      /line 1: unknown label "0x10" \(a number\)/,
    );
  });
});

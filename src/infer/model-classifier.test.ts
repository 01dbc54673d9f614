/**
 * The runtime computes a hash model's vectors as training does, for every hash variant: the compact graph's
 * logits (runtime-computed table added to the graph at load) equal the training graph's (the store's table).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeAll } from '../data/batch.js';
import { preset } from '../model/config.js';
import { createModel } from '../model/io.js';
import { assetPath } from '../util/assets.js';
import { Rng } from '../util/rng.js';
import { nodeOrt } from './load.js';
import { classifierGraph, classifierOnnx } from './export-graph.js';
import { modelClassifier } from './model-classifier.js';
import { Classifier } from './runtime.js';
import { predictLogits } from './predict.js';

const TEXTS = ['a warm , charming delight', 'the ##ing of unbelievable things', 'x', 'dull [MASK] mess'];

for (const variant of [
  {},
  { wholeToken: 0.25 },
  { boundaries: true },
  { wholeToken: 0.1, boundaries: true, ngramMax: 4 },
  { projection: true, wholeToken: 0.25 },
])
  test(`hash variant ${JSON.stringify(variant)}: the runtime's compact graph gives the training graph's logits`, async () => {
    const c = preset('uno-eelbert');
    c.hash_embedding = { ...c.hash_embedding!, ...variant };
    const m = createModel(c, assetPath('bert-base-uncased-vocab.txt'), new Rng(5), { numLabels: 2 });
    m.config.num_labels = 2;
    // Move a projection off its identity start, so that leaving it out would show.
    for (const p of m.store.params)
      if (p.name.includes('word_projection'))
        p.data.forEach((x, i) => (p.data[i] = x + 0.1 * Math.sin(i + 1)));
    const items = encodeAll(
      m.tokenizer,
      TEXTS.map((text, i) => ({ text, label: 0, line: i + 1 })),
      64,
    );
    const ref = await predictLogits(m, items, 2, 4, 1);
    const clf = await modelClassifier(m, { ort: nodeOrt, threads: 1, variant: 'compact' });
    const got = await clf.classify(TEXTS);
    await clf.release();
    let diff = 0;
    got.forEach((r, i) => r.logits.forEach((x, k) => (diff = Math.max(diff, Math.abs(x - ref[i][k])))));
    assert.ok(diff <= 1e-5, `max |diff| ${diff}`);
  });

test('a lowrank model (learned codes + projection): portable fp32 equals the training graph; int8 runs, its codes scaled per column', async () => {
  const m = createModel(preset('uno-lowrank'), assetPath('bert-base-uncased-vocab.txt'), new Rng(5), {
    numLabels: 2,
  });
  m.config.num_labels = 2;
  const items = encodeAll(
    m.tokenizer,
    TEXTS.map((text, i) => ({ text, label: 0, line: i + 1 })),
    64,
  );
  const ref = await predictLogits(m, items, 2, 4, 1);
  const clf = await modelClassifier(m, { ort: nodeOrt, threads: 1 });
  const got = await clf.classify(TEXTS);
  await clf.release();
  let diff = 0;
  got.forEach((r, i) => r.logits.forEach((x, k) => (diff = Math.max(diff, Math.abs(x - ref[i][k])))));
  assert.ok(diff <= 1e-5, `max |diff| ${diff}`);
  const int8 = await Classifier.create(
    { ...m.config },
    m.tokenizer.vocabulary,
    classifierOnnx(m, 2, { compact: false, quantize: 'int8', scheme: 'dynamic' }),
    { ort: nodeOrt, threads: 1, variant: 'portable' },
  );
  const q = await int8.classify(TEXTS);
  await int8.release();
  const qdiff = Math.max(...q.flatMap((r, i) => r.logits.map((x, k) => Math.abs(x - ref[i][k]))));
  assert.ok(Number.isFinite(qdiff) && qdiff < 0.05, `int8 max |diff| ${qdiff}`);
  // The V x k codes carry k float32 scales, not a float16 scale per row.
  const g = classifierGraph(m, 2, { compact: false, quantize: 'int8', scheme: 'dynamic' });
  const k = m.config.lowrank_dim!;
  const shapes = new Map([...g.constants].map(([v, t]) => [v.name, t.shape]));
  assert.deepEqual(shapes.get('bert.embeddings.word_embeddings.weight_scale'), [k]);
  assert.deepEqual(shapes.get('bert.embeddings.word_embeddings.weight_int8'), [m.config.vocab_size, k]);
  assert.equal(shapes.has('bert.embeddings.word_embeddings.weight_scale16'), false);
});

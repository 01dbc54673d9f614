/**
 * predictLogits: rows in input order whatever the length batching, and no limit on how many. A teacher's
 * logits over an augmented training set (200,000 rows for SST-2 with two copies) once overflowed the call
 * stack.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeAll } from '../data/batch.js';
import { smallPreset } from '../model/config.testkit.js';
import { createModel } from '../model/io.js';
import { assetPath } from '../util/assets.js';
import { Rng } from '../util/rng.js';
import { predictLogits } from './predict.js';

test('200,000 examples: one row each, in input order (each equal to the row of its own text)', async () => {
  const m = createModel(
    smallPreset('uno-eelbert', { num_hidden_layers: 1, max_position_embeddings: 8 }),
    assetPath('bert-base-uncased-vocab.txt'),
    new Rng(3),
    { numLabels: 2 },
  );
  m.config.num_labels = 2;
  const WORDS = ['good', 'bad', 'a b', 'film', 'the long one'];
  const texts = Array.from({ length: 200_000 }, (_, i) => WORDS[(i * 7) % WORDS.length]);
  const items = encodeAll(
    m.tokenizer,
    texts.map((text, i) => ({ text, label: 0, line: i + 1 })),
    8,
  );
  const rows = await predictLogits(m, items, 2, 8192, 1);
  assert.equal(rows.length, texts.length);
  const alone = await predictLogits(
    m,
    encodeAll(
      m.tokenizer,
      WORDS.map((text, i) => ({ text, label: 0, line: i + 1 })),
      8,
    ),
    2,
    1,
    1,
  );
  for (const i of [0, 1, 2, 3, 4, 99_999, 199_999]) {
    const want = alone[WORDS.indexOf(texts[i])];
    rows[i].forEach((x, k) => assert.ok(Math.abs(x - want[k]) < 1e-5, `row ${i}: ${x} vs ${want[k]}`));
  }
});

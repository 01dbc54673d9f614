/** withPositions: a model cut to its first positions computes what the whole model does on short rows. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeAll } from '../data/batch.js';
import { predictLogits } from '../infer/predict.js';
import { assetPath } from '../util/assets.js';
import { Rng } from '../util/rng.js';
import { preset } from './config.js';
import { createModel } from './io.js';
import { POSITION_TABLE, withPositions } from './model.js';

test('withPositions(16): the table keeps its first 16 rows, and short rows get the same logits', async () => {
  const m = createModel(
    { ...preset('bert-tiny'), num_labels: 2 },
    assetPath('bert-base-uncased-vocab.txt'),
    new Rng(3),
    {
      numLabels: 2,
    },
  );
  const cut = withPositions(m, 16);
  assert.equal(cut.config.max_position_embeddings, 16);
  assert.equal(m.config.max_position_embeddings, 512, 'the model itself is left as it was');
  const table = cut.store.get(POSITION_TABLE);
  assert.deepEqual(table.shape, [16, 128]);
  assert.deepEqual([...table.data], [...m.store.get(POSITION_TABLE).data.slice(0, 16 * 128)]);
  const rows = [
    { text: 'a short one', label: 0, line: 1 },
    { text: 'and another , a little longer', label: 1, line: 2 },
  ];
  const items = encodeAll(m.tokenizer, rows, 16);
  const [a, b] = [await predictLogits(m, items, 2, 8, 1), await predictLogits(cut, items, 2, 8, 1)];
  a.forEach((row, i) => assert.deepEqual([...row], [...b[i]]));
  assert.equal(withPositions(m, 512), m, 'as many positions as it has: the same model');
  assert.throws(() => withPositions(m, 2), /positions: expected an integer of 3 or more/);
});

/** Fine-tuning's recipe rules: lr by model width, epochs by updates an epoch, maximum length from the rows. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PRESETS } from '../model/config.js';
import {
  DEFAULT_RECIPE_RULE,
  describeRule,
  epochsFor,
  lrFor,
  maxLengthFor,
  recipeFor,
} from './finetune-recipe.js';

describe('fine-tuning recipe rules', () => {
  test('lr by model size: 1e-3 for every hidden-128 preset, BERT-like rates for wider ones', () => {
    for (const name of ['bert-tiny', 'eelbert-tiny', 'uno-eelbert', 'lowrank-tiny', 'uno-lowrank'])
      assert.equal(lrFor(PRESETS[name]), 1e-3, name);
    // lr 1e-3 collapsed bert-mini (hidden 256) in pre-training.
    assert.equal(lrFor(PRESETS['bert-mini']), 3e-4);
    assert.equal(lrFor(PRESETS['eelbert-mini']), 3e-4);
    assert.equal(lrFor(PRESETS['bert-small']), 1e-4);
    assert.equal(lrFor({ hidden_size: 768 }), 5e-5);
    assert.equal(lrFor({ hidden_size: 32 }), 1e-3);
  });

  test('epochs by updates an epoch: small data gets 5, SST-2-sized data 3', () => {
    assert.equal(epochsFor(63), 5); // examples/sst2: 2,000 rows at batch 32
    assert.equal(epochsFor(6), 5); // never more than 5
    assert.equal(epochsFor(75), 4); // 300 updates in 4 epochs
    assert.equal(epochsFor(100), 3);
    assert.equal(epochsFor(2105), 3); // all of SST-2 (67,349 rows): never fewer than 3
    assert.equal(epochsFor(0), 5);
  });

  test('maximum length: the 99.9th percentile of hand-made row lengths, rounded up to 8, 16 to the cap', () => {
    const rows = [...Array.from({ length: 999 }, (_, i) => 10 + (i % 11)), 400]; // 10..20 and one outlier
    assert.equal(maxLengthFor(rows, 512), 24); // the 999th of 1,000 is 20 (the outlier is the 1,000th)
    assert.equal(maxLengthFor([...rows, 400], 512), 400); // 2 outliers in 1,001 rows: the 1,000th is one
    assert.equal(maxLengthFor([...rows, 400], 128), 128); // capped by the model's positions
    assert.equal(maxLengthFor(rows.slice(0, 500), 512), 24); // under 1,000 rows: the longest
    assert.equal(maxLengthFor([5, 6, 7], 512), 16); // never below 16
    assert.equal(maxLengthFor([17], 512), 24);
    assert.equal(maxLengthFor([24], 512), 24); // a multiple of 8 stays
    assert.equal(maxLengthFor([], 512), 16);
    assert.equal(maxLengthFor([40, 30, 50, 20], 512), 56); // order does not matter: the max of 4
    assert.equal(maxLengthFor([40, 30, 50, 20], 20), 20);
  });

  test('recipeFor: given values are kept, the others chosen and said so', () => {
    assert.deepEqual(recipeFor({ hidden_size: 128 }, 63, { lr: 2e-4, epochs: 2 }), {
      lr: 2e-4,
      epochs: 2,
      chosen: {},
    });
    const r = recipeFor({ hidden_size: 128 }, 63, {});
    assert.equal(r.lr, 1e-3);
    assert.equal(r.epochs, 5);
    assert.match(r.chosen.lr!, /by model size \(hidden_size 128\)/);
    assert.match(r.chosen.epochs!, /by data size \(63 updates an epoch\)/);
    const big = recipeFor({ hidden_size: 512 }, 2105, { epochs: 4 });
    assert.deepEqual([big.lr, big.epochs, Object.keys(big.chosen)], [1e-4, 4, ['lr']]);
  });

  test('--help describes the rules from the same table', () => {
    const d = describeRule();
    assert.equal(
      d.lr,
      'by model size (hidden <= 128: 0.001, hidden <= 256: 0.0003, hidden <= 512: 0.0001, larger: 0.00005)',
    );
    assert.match(d.epochs, new RegExp(`${DEFAULT_RECIPE_RULE.updates} updates, 3 to 5`));
    assert.match(d.maxLength, /99\.9th percentile/);
  });
});

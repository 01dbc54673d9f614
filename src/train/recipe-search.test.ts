/** The recipe search: grids parsed (and refused) as written, every run recorded, the best copied, reruns reused. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { preset } from '../model/config.js';
import { createModel, loadModel, saveModel } from '../model/io.js';
import { assetPath } from '../util/assets.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_FINETUNE } from './finetune.js';
import { parseGrid, recipeName, searchFinetune } from './recipe-search.js';

describe('parseGrid', () => {
  test('every combination, the last key fastest', () => {
    const g = parseGrid('lr=1e-4,1e-3  batch=16,32 epochs=3');
    assert.deepEqual(g, [
      { lr: 1e-4, batch: 16, epochs: 3 },
      { lr: 1e-4, batch: 32, epochs: 3 },
      { lr: 1e-3, batch: 16, epochs: 3 },
      { lr: 1e-3, batch: 32, epochs: 3 },
    ]);
    assert.equal(recipeName(g[3]), 'lr0.001_batch32_epochs3');
  });

  test('bad grids are one clear error naming the key', () => {
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['lr', /"lr" should be KEY=V1,V2/],
      ['rate=1e-3', /"rate=1e-3" should be KEY=V1,V2,\.\.\. with KEY one of lr, batch/],
      ['lr=1e-3,abc', /lr=abc: a number > 0/],
      ['batch=16,0.5', /batch=0\.5: a whole number >= 1/],
      ['dropout=1.5', /dropout=1\.5: a number in \[0, 1\)/],
      ['lr=1e-3 lr=1e-4', /lr given twice/],
      ['epochs=3,3', /epochs repeats a value/],
      ['lr=1,2,3,4,5,6,7,8,9 batch=1,2,3,4,5,6,7,8', /72 runs; at most 64/],
    ];
    for (const [spec, re] of bad)
      assert.throws(
        () => parseGrid(spec),
        (e) => e instanceof UserError && re.test(e.message),
        spec,
      );
  });
});

describe('searchFinetune', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'minnow-search-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('runs the grid with one seed, records every run, copies the best; a second search reuses the runs', async () => {
    const base = join(tmp, 'base');
    saveModel(base, createModel(preset('uno-eelbert'), assetPath('bert-base-uncased-vocab.txt'), new Rng(1)));
    const data = { task: 'sst2', data: join('test', 'fixtures', 'glue-mini') };
    const out = join(tmp, 'out');
    const config = { ...DEFAULT_FINETUNE, out, threads: 1, epochs: 1, batchSize: 16 };
    const grid = parseGrid('lr=1e-5,3e-3');
    const res = await searchFinetune(base, data, undefined, config, grid);
    assert.deepEqual(
      res.runs.map((r) => recipeName(r.recipe)),
      ['lr0.00001', 'lr0.003'],
    );
    assert.equal(res.best.score, Math.max(...res.runs.map((r) => r.score)));
    const saved = JSON.parse(readFileSync(join(out, 'search.json'), 'utf8'));
    assert.equal(saved.runs.length, 2);
    assert.match(saved.note, /optimistic/);
    // OUT holds the best run's model: the same weights.
    const a = loadModel(out, { numLabels: 2 });
    const b = loadModel(res.best.dir, { numLabels: 2 });
    for (const p of a.store.params) assert.deepEqual(p.data, b.store.get(p.name).data, p.name);
    assert.ok(existsSync(join(out, 'eval_results.json')));
    const again = await searchFinetune(base, data, undefined, config, grid);
    assert.ok(again.runs.every((r) => r.reused));
    assert.deepEqual(
      again.runs.map((r) => r.score),
      res.runs.map((r) => r.score),
    );
    // Runs made with another seed, model or task are not this search's: refused, not reported as its own.
    await assert.rejects(
      searchFinetune(base, data, undefined, { ...config, seed: 3 }, grid),
      /^UserError: --out .*: .*lr0\.00001 was made with another seed \(0 there, 3 now\)/,
    );
    const other = join(tmp, 'other');
    saveModel(
      other,
      createModel(preset('uno-eelbert'), assetPath('bert-base-uncased-vocab.txt'), new Rng(2)),
    );
    await assert.rejects(searchFinetune(other, data, undefined, config, grid), /was made with another model/);
    await assert.rejects(
      searchFinetune(base, { ...data, task: 'cola' }, undefined, config, grid),
      /was made with another data/,
    );
  });
});

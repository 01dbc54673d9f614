/** Task-adaptive pre-training's token budget, and the stage on glue-mini: the texts, never the dev rows. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readConfig } from '../model/io.js';
import { DEFAULT_FIT } from './config.js';
import { readFitData } from './data.js';
import { shippedModel } from './stages.js';
import { DEFAULT_TAPT, taptStage, taptTokens } from './tapt.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-tapt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('tapt', () => {
  test('tokens: 4 passes, at least 1M (at most 20 passes), at most 3M', () => {
    assert.equal(taptTokens(500_000), 2_000_000); // 4 passes
    assert.equal(taptTokens(100_000), 1_000_000); // 10 passes to reach the floor
    assert.equal(taptTokens(1_000), 20_000); // tiny data: 20 passes, not 1,000
    assert.equal(taptTokens(5_000_000), DEFAULT_TAPT.maxTokens);
  });

  test('the stage pre-trains the shipped model further on the training texts and records it; too few texts, not', async () => {
    const src = { task: 'sst2', data: join('test', 'fixtures', 'glue-mini') };
    const data = readFitData(src, undefined, DEFAULT_FIT);
    const dir = join(tmp, 'tapt');
    mkdirSync(dir);
    const model = shippedModel(DEFAULT_FIT, 'uno-eelbert');
    const run = (c = DEFAULT_TAPT) =>
      taptStage('uno-eelbert', model, c).run({
        dir,
        config: { ...DEFAULT_FIT, out: tmp, threads: 1 },
        src,
        dev: undefined,
        data,
        deadline: Infinity,
        unfinished: false,
        earlier: new Map(),
      });
    // By default glue-mini's few hundred tokens are too few: nothing is pre-trained, no model is left.
    const skipped = await run();
    assert.match(skipped.note, /^not run: [\d,]+ tokens of training texts, fewer than 100,000 /);
    assert.equal(skipped.details?.model, undefined);
    const res = await run({ ...DEFAULT_TAPT, minCorpusTokens: 0 });
    const corpus = readFileSync(join(dir, 'corpus.txt'), 'utf8').trim().split('\n');
    assert.deepEqual(
      corpus,
      data.train.examples.map((e) => e.text),
      'the training texts, a line each (the dev rows are not among them)',
    );
    const d = res.details as { model: string; corpusTokens: number; tokens: number };
    assert.equal(d.tokens, taptTokens(d.corpusTokens));
    const record = readConfig(join(dir, d.model)).minnow_pretraining!;
    assert.equal(record.length, (readConfig(model).minnow_pretraining ?? []).length + 1);
    assert.equal(record[record.length - 1].tokens, d.tokens);
  });
});

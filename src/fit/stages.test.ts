import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_FIT } from './config.js';
import { readFitData } from './data.js';
import { fitStages } from './stages.js';

const fixture = (task: string, dir: string) => ({ task, data: join('test', 'fixtures', dir) });
const planOf = (task: string, dir: string) =>
  fitStages(readFitData(fixture(task, dir), undefined, { devFraction: 0.1, seed: 0 }), {
    ...DEFAULT_FIT,
    out: 'unused',
  }).map((s) => ('name' in s ? s.name : s.stage));

describe('fit: the plan', () => {
  test('text pairs get a second baseline with pair similarity features; single texts do not', () => {
    const pairs = planOf('rte', 'glue-mini-rte');
    assert.deepEqual(pairs.slice(0, 2), ['baseline', 'baseline-pairs']);
    const single = planOf('sst2', 'glue-mini');
    assert.equal(single[0], 'baseline');
    assert.ok(!single.includes('baseline-pairs'));
    // The rest of the plan is the same for both.
    assert.deepEqual(pairs.slice(2), single.slice(1));
  });
});

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_FIT } from './config.js';
import { imbalanced, readFitData } from './data.js';
import { fitStages } from './stages.js';

const fixture = (task: string, dir: string) => ({ task, data: join('test', 'fixtures', dir) });
const dataOf = (task: string, dir: string) =>
  readFitData(fixture(task, dir), undefined, { devFraction: 0.1, seed: 0 });
const planFor = (data: ReturnType<typeof dataOf>) =>
  fitStages(data, { ...DEFAULT_FIT, out: 'unused' }).map((s) => ('name' in s ? s.name : s.stage));
const planOf = (task: string, dir: string) => planFor(dataOf(task, dir));

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

  test('imbalanced classes (one holds 60% of the rows or more) get a baseline that weighs them equally', () => {
    const data = dataOf('sst2', 'glue-mini');
    assert.ok(!imbalanced(data));
    assert.ok(!planFor(data).includes('baseline-balanced'));
    // The same rows with 60% of them labelled 1, then half.
    const n = data.train.examples.length;
    const relabel = (share: number) => ({
      ...data,
      train: {
        ...data.train,
        examples: data.train.examples.map((e, i) => ({ ...e, label: i < Math.ceil(share * n) ? 1 : 0 })),
      },
    });
    assert.ok(imbalanced(relabel(0.6)));
    const plan = planFor(relabel(0.6));
    assert.deepEqual(plan.slice(0, 2), ['baseline', 'baseline-balanced']);
    assert.ok(!imbalanced(relabel(0.5)));
    // Regression never.
    assert.ok(!imbalanced({ ...relabel(0.9), head: { ...data.head, regression: true } }));
  });
});

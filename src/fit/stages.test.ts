import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_FIT, type FitConfig } from './config.js';
import { type FitData, imbalanced, readFitData } from './data.js';
import { WORD_TABLE_STUDENT } from './distill-stage.js';
import { fitStages } from './stages.js';

const fixture = (task: string, dir: string) => ({ task, data: join('test', 'fixtures', dir) });
const dataOf = (task: string, dir: string) =>
  readFitData(fixture(task, dir), undefined, { devFraction: 0.1, seed: 0 });
const planFor = (data: FitData, o: Partial<FitConfig> = {}) =>
  fitStages(data, { ...DEFAULT_FIT, out: 'unused', ...o }).map((s) => ('name' in s ? s.name : s.stage));
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

  test('the student: a new word-table model from 50,000 training rows (where its file fits), else the largest shipped model', () => {
    const data = dataOf('sst2', 'glue-mini');
    const rows = (n: number): FitData => ({
      ...data,
      train: { ...data.train, examples: Array.from({ length: n }, (_, i) => data.train.examples[i % 96]) },
    });
    const students = (plan: string[]) => plan.filter((s) => s.includes('distill'));
    const { minRows } = WORD_TABLE_STUDENT;
    assert.equal(minRows, 50_000);
    assert.deepEqual(students(planFor(rows(minRows))), ['distill-uno-lowrank', 'hybrid-distill-uno-lowrank']);
    assert.deepEqual(students(planFor(rows(minRows - 1))), [
      'distill-eelbert-tiny',
      'hybrid-distill-eelbert-tiny',
    ]);
    assert.deepEqual(students(planFor(data)), ['distill-eelbert-tiny', 'hybrid-distill-eelbert-tiny']);
    // Under 377 kB the word-table model does not fit, nor eelbert-tiny (468 kB): uno-eelbert (253 kB) learns.
    assert.deepEqual(students(planFor(rows(minRows), { maxBytes: 350_000 })), [
      'distill-uno-eelbert',
      'hybrid-distill-uno-eelbert',
    ]);
    assert.deepEqual(students(planFor(rows(minRows), { distill: false })), []);
  });
});

/**
 * The budget curve adds to its record: recorded points stand when scored the same way, a point measured
 * now replaces its recorded self, the others are carried, and the order does not depend on which is which.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeCurve, type Point, pointKey, recordedPoints } from './curve-record.js';

/** A point with a GLUE average (the other fields do not matter here). */
const point = (model: string, objective: string, minutes: number, glue_avg: number): Point => ({
  model,
  objective,
  minutes,
  glue_avg,
  tokens: minutes * 1000,
  wall_s: minutes * 60,
  valid: null,
  scores: {},
  seed_scores: {},
  metrics: {},
});
const scoring = { tasks: ['sst2', 'stsb'], finetune_seeds: [0, 1], sst2_train: 20_000 };

describe('recordedPoints', () => {
  test('no record: nothing to carry', () => {
    assert.deepEqual(recordedPoints(undefined, scoring), { points: [] });
    assert.deepEqual(recordedPoints({ ...scoring, points: [] }, scoring), { points: [] });
  });

  test('a record scored the same way is carried whole', () => {
    const points = [point('bert-tiny', 'none', 0, 44.8), point('bert-tiny', 'mlm', 5, 45.4)];
    assert.deepEqual(recordedPoints({ ...scoring, points }, scoring), { points });
  });

  test('a record scored with other seeds or tasks is set aside, naming what differs', () => {
    const points = [point('bert-tiny', 'mlm', 5, 45.4)];
    const r = recordedPoints({ ...scoring, finetune_seeds: [0], points }, scoring);
    assert.deepEqual(r.points, []);
    assert.equal(r.setAside, 'its 1 points were scored with other finetune_seeds ([0] there, [0,1] now)');
    const t = recordedPoints({ ...scoring, tasks: ['sst2'], sst2_train: 67_349, points }, scoring);
    assert.match(
      t.setAside!,
      /tasks \(\["sst2"\] there, \["sst2","stsb"\] now\), sst2_train \(67349 there, 20000 now\)/,
    );
    // A record from before the scoring was written down is not taken on trust either.
    assert.match(recordedPoints({ points }, scoring).setAside!, /tasks \(undefined there/);
  });
});

describe('mergeCurve', () => {
  const recorded = [
    point('bert-tiny', 'none', 0, 44.8),
    point('bert-tiny', 'mlm', 5, 45.4),
    point('bert-tiny', 'mlm', 60, 46.5),
    point('uno-eelbert', 'mlm', 5, 40.3),
    point('lowrank-k4', 'mlm', 15, 42.0),
  ];

  test('a point measured now replaces its record; the other recorded points are carried', () => {
    const measured = [point('bert-tiny', 'mlm', 5, 45.9), point('uno-eelbert', 'electra-t2', 5, 40.1)];
    const r = mergeCurve(measured, recorded, ['bert-tiny', 'uno-eelbert'], ['mlm', 'electra-t2']);
    assert.equal(r.points.length, 6);
    assert.equal(r.points.find((p) => pointKey(p) === 'bert-tiny mlm 5')!.glue_avg, 45.9);
    assert.deepEqual(r.carried.map(pointKey), [
      'bert-tiny none 0',
      'bert-tiny mlm 60',
      'uno-eelbert mlm 5',
      'lowrank-k4 mlm 15',
    ]);
  });

  test('the order is by model, budget and objective, the named ones first, whichever were measured', () => {
    const measured = [point('uno-eelbert', 'electra-t2', 5, 40.1), point('bert-tiny', 'electra', 60, 42.5)];
    const r = mergeCurve(measured, recorded, ['uno-eelbert', 'bert-tiny'], ['electra', 'electra-t2']);
    assert.deepEqual(r.models, ['uno-eelbert', 'bert-tiny', 'lowrank-k4']);
    assert.deepEqual(r.objectives, ['electra', 'electra-t2', 'mlm']);
    assert.deepEqual(r.points.map(pointKey), [
      'uno-eelbert electra-t2 5',
      'uno-eelbert mlm 5',
      'bert-tiny none 0',
      'bert-tiny mlm 5',
      'bert-tiny electra 60',
      'bert-tiny mlm 60',
      'lowrank-k4 mlm 15',
    ]);
    // Nothing measured: the record comes back as it was, in the same order.
    const again = mergeCurve([], r.points, r.models, r.objectives);
    assert.deepEqual(again.points.map(pointKey), r.points.map(pointKey));
    assert.equal(again.carried.length, r.points.length);
  });
});

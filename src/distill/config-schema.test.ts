/**
 * The distill config from one schema: a new number is one entry, and its default, its parsing and range
 * check, the unknown-key suggestion, the description and the resolved plan all follow.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { preset } from '../model/config.js';
import { UserError } from '../util/errors.js';
import { checkValues, defaults, describeSchema, numberRule, parseSection, schema } from './config-schema.js';
import { DEFAULT_DISTILL, DISTILL_SCHEMA, parseDistillConfig, resolveMapping } from './mapping.js';

const refused = (f: () => unknown, message: string) =>
  assert.throws(f, (e: Error) => e instanceof UserError && e.message === message);

describe('config schema', () => {
  test('the distill config is its schema: keys, defaults and description', () => {
    assert.deepEqual(defaults(DISTILL_SCHEMA), DEFAULT_DISTILL);
    assert.deepEqual(parseDistillConfig({}, 'd.json'), DEFAULT_DISTILL);
    const lines = describeSchema(DISTILL_SCHEMA);
    assert.deepEqual(
      lines.map((l) => l.trim().split('"')[1]),
      Object.keys(DISTILL_SCHEMA),
    );
    assert.match(lines[1], /^ {2}"alpha": a number in \[0, 1\], default 0\.5: weight of the soft/);
    // Every key but the parsed mapping is a plan setting once resolved.
    const t = preset('bert-tiny');
    const plan = resolveMapping({ ...DEFAULT_DISTILL, temperature: 3 }, t, t);
    for (const k of Object.keys(DISTILL_SCHEMA).filter((k) => k !== 'intermediate'))
      assert.equal(plan[k as keyof typeof plan], k === 'temperature' ? 3 : DEFAULT_DISTILL[k as 'alpha']);
  });

  test('a new number is one entry: parsed, range-checked, suggested for a typo, described', () => {
    const S = schema({
      ...DISTILL_SCHEMA,
      pooledWeight: { kind: 'number', default: 0, min: 0, doc: 'weight of a pooled-output MSE' },
    });
    assert.equal(parseSection(S, {}, 'd.json').pooledWeight, 0);
    assert.equal(parseSection(S, { pooledWeight: 2 }, 'd.json').pooledWeight, 2);
    refused(
      () => parseSection(S, { pooledWeight: -1 }, 'd.json'),
      'd.json: pooledWeight: expected a number >= 0, got -1',
    );
    refused(
      () => parseSection(S, { pooledWeigth: 1 }, 'd.json'),
      'd.json: unknown key "pooledWeigth" (did you mean "pooledWeight"?)',
    );
    refused(
      () => checkValues(S, { ...defaults(S), pooledWeight: Number.NaN }, undefined),
      'pooledWeight: expected a number >= 0, got NaN',
    );
    assert.equal(
      describeSchema(S).at(-1),
      '  "pooledWeight": a number >= 0, default 0: weight of a pooled-output MSE',
    );
    // The flag that sets a number checks the schema's range.
    assert.deepEqual(numberRule(S.pooledWeight), { min: 0 });
    assert.deepEqual(numberRule(DISTILL_SCHEMA.temperature), { above: 0 });
    assert.deepEqual(numberRule(DISTILL_SCHEMA.alpha), { min: 0, max: 1 });
  });

  test('nested sections name their path; defaults are copies, not shared', () => {
    refused(
      () => parseSection(DISTILL_SCHEMA, { averageHeads: 1 }, 'g.json', 'distill'),
      'g.json: distill.averageHeads: expected true or false, got 1',
    );
    const a = defaults(DISTILL_SCHEMA);
    (a as { intermediate: unknown }).intermediate = [];
    assert.equal(defaults(DISTILL_SCHEMA).intermediate, 'uniform');
  });
});

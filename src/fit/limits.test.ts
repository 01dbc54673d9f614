/** --max-bytes and --budget as a user writes them, refused in one line otherwise; the budget's clock. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { Budget, budgetText, bytesText, parseBudget, parseBytes } from './limits.js';

const refused = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));

describe('parseBytes', () => {
  test('bytes, k and m in decimal units, any case', () => {
    assert.equal(parseBytes('500k'), 500_000);
    assert.equal(parseBytes('1.5m'), 1_500_000);
    assert.equal(parseBytes('500000'), 500_000);
    assert.equal(parseBytes('500kB'), 500_000);
    assert.equal(parseBytes('1.1K'), 1_100);
    assert.equal(parseBytes(' 2MB '), 2_000_000);
  });

  test('anything else is one line naming the flag', () => {
    refused(() => parseBytes('5x'), /^--max-bytes 5x: expected a size such as 500000, 500k or 1\.5m/);
    refused(() => parseBytes(''), /expected a size/);
    refused(() => parseBytes('-1k'), /expected a size/);
    refused(() => parseBytes('1e6'), /expected a size/);
    refused(() => parseBytes('0'), /at least 1/);
    refused(() => parseBytes('1.5'), /whole number of bytes/);
  });

  test('written back as the flag takes it', () => {
    assert.equal(bytesText(500_000), '500k');
    assert.equal(bytesText(1_500_000), '1.5m');
    assert.equal(bytesText(123_456), '123456');
    for (const b of [500_000, 1_500_000, 123_456, 999]) assert.equal(parseBytes(bytesText(b)), b);
  });
});

describe('parseBudget', () => {
  test('seconds, minutes, hours; a bare number is seconds', () => {
    assert.equal(parseBudget('30m'), 1800);
    assert.equal(parseBudget('90s'), 90);
    assert.equal(parseBudget('1.5h'), 5400);
    assert.equal(parseBudget('45'), 45);
    assert.equal(parseBudget('0.5s'), 0.5);
  });

  test('0 and other words are refused in one line', () => {
    refused(() => parseBudget('0'), /^--budget 0: must be more than 0/);
    refused(() => parseBudget('0m'), /must be more than 0/);
    refused(() => parseBudget('ten minutes'), /^--budget ten minutes: expected a duration such as 30m/);
    refused(() => parseBudget('-5m'), /expected a duration/);
    refused(() => parseBudget('5d'), /expected a duration/);
  });

  test('written back as the flag takes it', () => {
    assert.equal(budgetText(600), '10m');
    assert.equal(budgetText(90), '1.5m');
    assert.equal(budgetText(5400), '1.5h');
    assert.equal(budgetText(7), '7s');
    for (const s of [600, 90, 5400, 7]) assert.equal(parseBudget(budgetText(s)), s);
  });
});

describe('Budget', () => {
  test('spent once its seconds have passed on its clock', () => {
    let t = 100;
    const b = new Budget(60, () => t);
    assert.equal(b.spent(), false);
    t = 159.9;
    assert.equal(b.spent(), false);
    t = 160;
    assert.equal(b.spent(), true);
    assert.equal(b.describe(), '1m00s of the 1m budget');
  });
});

/** Numbers as written in data files: decimal only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDecimal } from './decimal.js';

test('decimal numbers parse; hexadecimal, binary, octal, Infinity and empty text do not', () => {
  for (const [s, v] of [
    ['1.5', 1.5],
    [' -2 ', -2],
    ['+.5', 0.5],
    ['3.', 3],
    ['1e-3', 0.001],
    ['0', 0],
  ] as const)
    assert.equal(parseDecimal(s), v, s);
  for (const s of ['0x10', '0b11', '0o7', 'Infinity', '-Infinity', 'NaN', '', ' ', '1_000', '1,5', 'e3', '.'])
    assert.ok(Number.isNaN(parseDecimal(s)), s);
});

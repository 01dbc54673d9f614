/** The bounded reader of text inputs: limits checked while reading, UTF-16 decoded, errors name the input. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isBlank } from './blank.js';
import { readTextInput } from './text-input.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-text-input-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, data: string | Uint8Array): string {
  const f = join(tmp, name);
  writeFileSync(f, data);
  return f;
}

describe('readTextInput', () => {
  test('reads UTF-8 as it is, and stops at the bounds on total size and line length', () => {
    const f = file('a.txt', 'héllo\nwörld\n');
    assert.equal(readTextInput(f, f), 'héllo\nwörld\n');
    const limits = { maxBytes: 100, maxLineBytes: 10 };
    assert.equal(readTextInput(file('ok.txt', '0123456789\n0123456789\n'), 'ok', limits).length, 22);
    assert.throws(
      () => readTextInput(file('long.txt', 'short\n0123456789x\n'), '--input long.txt', limits),
      /^UserError: --input long\.txt:2: a line longer than/,
    );
    assert.throws(
      () => readTextInput(file('big.txt', '012345678\n'.repeat(11)), 'big.txt', limits),
      /^UserError: big\.txt: larger than .* MiB; split it/,
    );
    assert.throws(
      () => readTextInput(join(tmp, 'none'), '--input none'),
      /^UserError: --input none: cannot read \(ENOENT\)/,
    );
  });

  test(
    '/dev/zero ends at the line bound at once instead of filling memory',
    { skip: !existsSync('/dev/zero') },
    () => {
      const t0 = performance.now();
      assert.throws(
        () => readTextInput('/dev/zero', '--input /dev/zero'),
        /--input \/dev\/zero:1: a line longer than 1 MiB/,
      );
      assert.ok(performance.now() - t0 < 5000);
    },
  );

  test('UTF-16 with a byte-order mark, little or big endian, is decoded: no NUL characters', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('good\nbad\n', 'utf16le')]);
    assert.equal(readTextInput(file('le.txt', le), 'le'), 'good\nbad\n');
    const be = Buffer.from(Buffer.from('good\nbad\n', 'utf16le')).swap16();
    assert.equal(
      readTextInput(file('be.txt', Buffer.concat([Buffer.from([0xfe, 0xff]), be])), 'be'),
      'good\nbad\n',
    );
  });
});

describe('isBlank', () => {
  test('nothing to read: whitespace, control, zero-width and format characters; a letter is text', () => {
    for (const s of [
      '',
      '  \t',
      '\u0000',
      '\u0000\u0000\r',
      '\u200b',
      '\u200d\ufeff',
      '\u0007\u001b',
      '\u00a0\u3000',
    ])
      assert.ok(isBlank(s), JSON.stringify(s));
    for (const s of ['a', ' . ', '\u0000x', '😀', '\u200bhi']) assert.ok(!isBlank(s), JSON.stringify(s));
  });
});

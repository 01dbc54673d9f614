/** User-data readers: CSV (RFC 4180), TSV, JSONL, label vocabularies and the bad-row policy. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { labelVocabulary, parseDelimited, readTabular } from './tabular.js';

const dir = mkdtempSync(join(tmpdir(), 'minnow-tabular-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fixture(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function throwsUser(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    for (const p of patterns) assert.match(e.message, p);
    assert.ok(!/[\r\n]/.test(e.message), 'message is one line');
    return true;
  });
}

test('CSV parser: quoted commas, doubled quotes, newlines inside quotes, CRLF, BOM, no final newline', () => {
  const csv = '\ufeffa,b\r\n"x, y","say ""hi"""\r\n"two\nlines",z\n\nlast,"" \n"q"tail,p';
  assert.deepEqual(parseDelimited(csv, ',', true), [
    { fields: ['a', 'b'], line: 1 },
    { fields: ['x, y', 'say "hi"'], line: 2 },
    { fields: ['two\nlines', 'z'], line: 3 }, // spans lines 3-4
    { fields: ['last', ' '], line: 6 }, // line 5 is blank
    { fields: ['qtail', 'p'], line: 7 }, // text after a closing quote is kept, as Python's csv does
  ]);
  assert.deepEqual(parseDelimited('a,"open\nnever closed', ',', true), [
    {
      fields: ['a', 'open\nnever closed'],
      line: 1,
      error: 'unterminated quoted field (a " with no closing ")',
    },
  ]);
  // Without quoting, quotes are data.
  assert.deepEqual(parseDelimited('"a\tb"\r\n', '\t', false), [{ fields: ['"a', 'b"'], line: 1 }]);
});

test('CSV file: text, pair and label columns by header name; sorted label vocabulary', () => {
  const f = fixture(
    'pairs.csv',
    'id,premise,hypothesis,label\n1,"A man, tall.","He is ""tall"".",pos\n2,"Line one\nline two",Short.,neg\n3,Third.,Fourth.,pos',
  );
  const d = readTabular(f, { textColumn: 'premise', textPairColumn: 'hypothesis', labelColumn: 'label' });
  assert.equal(d.format, 'csv');
  assert.deepEqual(d.labels, ['neg', 'pos']);
  assert.deepEqual(d.examples, [
    { text: 'A man, tall.', pair: 'He is "tall".', label: 1, line: 2 },
    { text: 'Line one\nline two', pair: 'Short.', label: 0, line: 3 },
    { text: 'Third.', pair: 'Fourth.', label: 1, line: 5 },
  ]);
});

test('label vocabulary: numeric order for numbers, code-unit order otherwise; caller list wins', () => {
  assert.deepEqual(labelVocabulary(['10', '2', '1', '2']), ['1', '2', '10']);
  assert.deepEqual(labelVocabulary(['b', 'B', 'a']), ['B', 'a', 'b']);
  const f = fixture('given.tsv', 'text\tlabel\nfine\tpositive\nbad\tnegative\n');
  const d = readTabular(f, { textColumn: 'text', labelColumn: 'label', labels: ['positive', 'negative'] });
  assert.deepEqual(
    d.examples.map((e) => e.label),
    [0, 1],
  );
  throwsUser(
    () => readTabular(f, { textColumn: 'text', labelColumn: 'label', labels: ['positive', 'neutral'] }),
    /given\.tsv:3: field "label": unknown label "negative" \(expected one of positive, neutral\)/,
  );
});

test('regression labels are floats; a non-number is an error with file:line', () => {
  const f = fixture('scores.csv', 'sentence,score\nA,0.5\nB,4\nC,-1e-1\n');
  const d = readTabular(f, { textColumn: 'sentence', labelColumn: 'score', regression: true });
  assert.equal(d.labels, null);
  assert.deepEqual(
    d.examples.map((e) => e.label),
    [0.5, 4, -0.1],
  );
  const bad = fixture('scores-bad.csv', 'sentence,score\nA,0.5\nB,high\n');
  throwsUser(
    () => readTabular(bad, { textColumn: 'sentence', labelColumn: 'score', regression: true }),
    /scores-bad\.csv:3: field "score": not a number: "high"/,
  );
});

test('no label column: labels are NaN', () => {
  const f = fixture('unlabelled.csv', 'text\nhello\n');
  const d = readTabular(f, { textColumn: 'text' });
  assert.equal(d.labels, null);
  assert.ok(Number.isNaN(d.examples[0].label));
});

test('TSV: quotes are data unless tsvQuotes', () => {
  const f = fixture('q.tsv', 'text\tlabel\n"quoted\tx\n');
  assert.equal(readTabular(f, { textColumn: 'text', labelColumn: 'label' }).examples[0].text, '"quoted');
  const g = fixture('q2.tsv', 'text\tlabel\n"a\tb"\tx\n');
  assert.equal(
    readTabular(g, { textColumn: 'text', labelColumn: 'label', tsvQuotes: true }).examples[0].text,
    'a\tb',
  );
});

test('JSONL: keys as columns, numeric labels, blank lines ignored', () => {
  const f = fixture(
    'data.jsonl',
    '{"text": "good \\"film\\"", "label": 1}\r\n\n{"text": "bad, film", "label": 0, "extra": true}\n{"text": "ok", "label": 1}',
  );
  const d = readTabular(f, { textColumn: 'text', labelColumn: 'label' });
  assert.equal(d.format, 'jsonl');
  assert.deepEqual(d.labels, ['0', '1']);
  assert.deepEqual(d.examples, [
    { text: 'good "film"', label: 1, line: 1 },
    { text: 'bad, film', label: 0, line: 3 },
    { text: 'ok', label: 1, line: 4 },
  ]);
});

test('JSONL bad rows: invalid JSON, missing key, non-string text', () => {
  const opts = { textColumn: 'text', labelColumn: 'label' };
  throwsUser(
    () => readTabular(fixture('j1.jsonl', '{"text": "a", "label": 1}\n{"text": oops}\n'), opts),
    /j1\.jsonl:2: invalid JSON/,
  );
  throwsUser(
    () => readTabular(fixture('j2.jsonl', '{"text": "a", "label": 1}\n{"text": "b"}\n'), opts),
    /j2\.jsonl:2: field "label": missing/,
  );
  throwsUser(
    () => readTabular(fixture('j3.jsonl', '{"text": "a", "label": 1}\n{"text": 5, "label": 1}\n'), opts),
    /j3\.jsonl:2: field "text": expected a string, got number/,
  );
  throwsUser(() => readTabular(fixture('j4.jsonl', '[1, 2]\n'), opts), /j4\.jsonl:1: expected a JSON object/);
});

test('missing column names the file, the column and the available columns', () => {
  const f = fixture('cols.csv', 'sentence,label\na,b\n');
  throwsUser(
    () => readTabular(f, { textColumn: 'text', labelColumn: 'label' }),
    /cols\.csv:1: no column "text" \(available: sentence, label\)/,
  );
  const j = fixture('cols.jsonl', '{"sentence": "a", "y": 1}\n');
  throwsUser(
    () => readTabular(j, { textColumn: 'sentence', labelColumn: 'label' }),
    /cols\.jsonl:1: no column "label" \(available: sentence, y\)/,
  );
});

test('messages quoting file content stay on one line (fuzz regressions)', () => {
  // A lone CR is data in CSV, so it can end up in a header name and from there in the message.
  throwsUser(
    () => readTabular(fixture('cr-header.csv', 'sen\rtence,label\na,1\n'), { textColumn: 'text' }),
    /cr-header\.csv:1: no column "text" \(available: sen\\rtence, label\)/,
  );
  // V8's JSON.parse message quotes the line, CR included; also when the row is skipped.
  const j = fixture('cr-json.jsonl', '}\r{\n{"text": "ok"}\n');
  throwsUser(() => readTabular(j, { textColumn: 'text' }), /cr-json\.jsonl:1: invalid JSON .*\\r/);
  const d = readTabular(j, { textColumn: 'text', onBadRow: 'skip' });
  assert.equal(d.skipped.length, 1);
  assert.match(d.skipped[0].reason, /^invalid JSON .*\\r/);
  assert.doesNotMatch(d.skipped[0].reason, /[\r\n]/);
});

test('JSONL: inherited properties are not columns (fuzz regression)', () => {
  const f = fixture('inherited.jsonl', '{"text": "a", "label": 1}\n');
  for (const name of ['constructor', 'toString', '__proto__']) {
    throwsUser(
      () => readTabular(f, { textColumn: 'text', labelColumn: name }),
      new RegExp(`inherited\\.jsonl:1: no column "${name}"`),
    );
  }
  // An own "__proto__" key (JSON.parse makes one) is a column like any other.
  const g = fixture('own-proto.jsonl', '{"text": "a", "__proto__": "x"}\n');
  assert.equal(readTabular(g, { textColumn: '__proto__' }).examples[0].text, 'x');
});

test('CSV bad rows: wrong column count, empty text, empty label, unterminated quote', () => {
  const opts = { textColumn: 'text', labelColumn: 'label' };
  throwsUser(
    () => readTabular(fixture('b1.csv', 'text,label\na,1\nb,1,extra\n'), opts),
    /b1\.csv:3: row has 3 columns, expected 2/,
  );
  throwsUser(
    () => readTabular(fixture('b2.csv', 'text,label\n" ",1\n'), opts),
    /b2\.csv:2: field "text": empty text/,
  );
  throwsUser(
    () => readTabular(fixture('b3.csv', 'text,label\na,\n'), opts),
    /b3\.csv:2: field "label": empty label/,
  );
  throwsUser(
    () => readTabular(fixture('b4.csv', 'text,label\na,1\n"b,1\nc,0\n'), opts),
    /b4\.csv:3: unterminated quoted field/,
  );
});

test("onBadRow: 'skip' records skipped rows in line order and keeps the rest", () => {
  const f = fixture('skip.csv', 'text,label\na,x\n,y\nb,1,2\nc,zz\nd,x\n');
  const d = readTabular(f, {
    textColumn: 'text',
    labelColumn: 'label',
    labels: ['x', 'y'],
    onBadRow: 'skip',
  });
  assert.deepEqual(
    d.examples.map((e) => [e.text, e.label, e.line]),
    [
      ['a', 0, 2],
      ['d', 0, 6],
    ],
  );
  assert.deepEqual(d.skipped, [
    { line: 3, reason: 'field "text": empty text' },
    { line: 4, reason: 'row has 3 columns, expected 2' },
    { line: 5, reason: 'field "label": unknown label "zz" (expected one of x, y)' },
  ]);
});

test('format: extension, override, unknown extension, missing file', () => {
  const f = fixture('data.txt', 'text,label\na,1\n');
  throwsUser(
    () => readTabular(f, { textColumn: 'text' }),
    /data\.txt: cannot tell the format from the extension "\.txt"/,
  );
  assert.equal(readTabular(f, { textColumn: 'text', format: 'csv' }).examples[0].text, 'a');
  throwsUser(() => readTabular(join(dir, 'absent.csv'), { textColumn: 'text' }), /absent\.csv: no such file/);
  throwsUser(() => readTabular(fixture('empty.csv', ''), { textColumn: 'text' }), /empty\.csv: empty file/);
});

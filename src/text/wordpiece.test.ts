import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import { BertTokenizer, isCjkCodePoint, isPunctuation, truncateLengths } from './wordpiece.js';
import { readVocabFile } from './vocab-file.js';

const VOCAB = fileURLToPath(new URL('../../assets/bert-base-uncased-vocab.txt', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../test/fixtures/tokenizer-golden.json', import.meta.url));

interface Golden {
  vocabMd5: string;
  singles: { text: string; ids: number[] }[];
  pairs: { a: string; b: string; ids: number[]; typeIds: number[] }[];
  singleTruncated: { of: number; maxLength: number; ids: number[] }[];
  pairTruncated: { of: number; maxLength: number; ids: number[]; typeIds: number[] }[];
}

const tok = readVocabFile(VOCAB);
const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Golden;

/** Compares every case and reports the first mismatch with both sequences. */
function checkAll<T>(
  name: string,
  cases: T[],
  run: (c: T) => { got: number[]; want: number[]; gotTypes?: number[]; wantTypes?: number[]; input: string },
): void {
  let fails = 0;
  let first = '';
  for (const c of cases) {
    const r = run(c);
    const ok =
      r.got.length === r.want.length &&
      r.got.every((v, i) => v === r.want[i]) &&
      (r.wantTypes === undefined || JSON.stringify(r.gotTypes) === JSON.stringify(r.wantTypes));
    if (!ok) {
      fails++;
      if (!first) {
        first =
          `input: ${r.input}\n  want ids:   ${JSON.stringify(r.want)}\n  got ids:    ${JSON.stringify(r.got)}` +
          (r.wantTypes
            ? `\n  want types: ${JSON.stringify(r.wantTypes)}\n  got types:  ${JSON.stringify(r.gotTypes)}`
            : '') +
          `\n  want tokens: ${JSON.stringify(r.want.map((id) => tok.tokenOf(id)))}` +
          `\n  got tokens:  ${JSON.stringify(r.got.map((id) => tok.tokenOf(id)))}`;
      }
    }
  }
  assert.equal(fails, 0, `${name}: ${fails}/${cases.length} cases differ; first:\n${first}`);
}

describe('BertTokenizer golden (reference: Hugging Face bert-base-uncased)', () => {
  test('fixture is large and matches the shipped vocabulary', () => {
    assert.ok(golden.singles.length >= 2000, `${golden.singles.length} single cases`);
    assert.ok(golden.pairs.length >= 1000, `${golden.pairs.length} pair cases`);
    assert.ok(golden.pairTruncated.length >= 100);
    assert.equal(tok.vocabSize, 30522);
  });

  test('single texts: ids equal, type ids all 0', () => {
    checkAll('singles', golden.singles, (c) => {
      const e = tok.encode(c.text);
      assert.ok(e.typeIds.every((t) => t === 0));
      return { got: e.ids, want: c.ids, input: JSON.stringify(c.text) };
    });
  });

  test('pairs: ids and type ids equal', () => {
    checkAll('pairs', golden.pairs, (c) => {
      const e = tok.encode(c.a, c.b);
      return {
        got: e.ids,
        want: c.ids,
        gotTypes: e.typeIds,
        wantTypes: c.typeIds,
        input: JSON.stringify([c.a, c.b]),
      };
    });
  });

  test('truncated single texts', () => {
    checkAll('singleTruncated', golden.singleTruncated, (c) => {
      const text = golden.singles[c.of].text;
      const e = tok.encode(text, undefined, { maxLength: c.maxLength });
      return { got: e.ids, want: c.ids, input: `${JSON.stringify(text)} maxLength ${c.maxLength}` };
    });
  });

  test('truncated pairs (longest_first)', () => {
    checkAll('pairTruncated', golden.pairTruncated, (c) => {
      const { a, b } = golden.pairs[c.of];
      const e = tok.encode(a, b, { maxLength: c.maxLength });
      return {
        got: e.ids,
        want: c.ids,
        gotTypes: e.typeIds,
        wantTypes: c.typeIds,
        input: `${JSON.stringify([a, b])} maxLength ${c.maxLength}`,
      };
    });
  });

  test('tokenize() equals the golden pieces as strings', () => {
    for (const c of golden.singles.slice(0, 300)) {
      assert.deepEqual(
        tok.tokenize(c.text),
        c.ids.slice(1, -1).map((id) => tok.tokenOf(id)),
      );
    }
  });
});

describe('BertTokenizer behaviour', () => {
  test('special ids', () => {
    assert.deepEqual([tok.padId, tok.unkId, tok.clsId, tok.sepId, tok.maskId], [0, 100, 101, 102, 103]);
    assert.equal(tok.idOf('the'), 1996);
    assert.equal(tok.tokenOf(1996), 'the');
    assert.equal(tok.idOf('no-such-token'), undefined);
    assert.equal(tok.tokenOf(999999), undefined);
  });

  test('lower-casing, accents and combining marks', () => {
    assert.deepEqual(tok.tokenize('Hello WORLD'), ['hello', 'world']);
    assert.deepEqual(tok.tokenize('Café naïve'), ['cafe', 'naive']);
    assert.deepEqual(tok.tokenize('Cafe\u0301'), ['cafe']);
    assert.deepEqual(tok.tokenize('İstanbul'), ['istanbul']);
  });

  test('punctuation is split off, one character per word', () => {
    assert.deepEqual(tok.tokenize("don't stop!!"), ['don', "'", 't', 'stop', '!', '!']);
    assert.deepEqual(tok.tokenize('a$b^c`d'), ['a', '$', 'b', '^', 'c', '`', 'd']);
    assert.deepEqual(tok.tokenize('“quoted”—dash'), ['“', 'quoted', '”', '—', 'dash']);
    assert.ok(isPunctuation('~'.codePointAt(0)!) && isPunctuation('¿'.codePointAt(0)!));
    assert.ok(!isPunctuation('€'.codePointAt(0)!) && !isPunctuation('a'.codePointAt(0)!));
  });

  test('whitespace and control characters', () => {
    assert.deepEqual(tok.tokenize(' a\tb\nc\r\nd\u00a0e\u3000f '), ['a', 'b', 'c', 'd', 'e', 'f']);
    // Controls (Cc, Cf) are deleted, joining their neighbours, as in HF clean_text.
    assert.deepEqual(tok.tokenize('a\u0000b\u200bc\ufffdd th\u0007e'), ['abc', '##d', 'the']);
    assert.deepEqual(tok.tokenize(''), []);
    assert.deepEqual(tok.tokenize(' \t\n'), []);
  });

  test('CJK ideographs are single words; kana and hangul are not', () => {
    assert.deepEqual(tok.tokenize('中文abc'), ['中', '文', 'abc']);
    assert.ok(isCjkCodePoint(0x4e2d) && isCjkCodePoint(0x20000) && isCjkCodePoint(0xf900));
    assert.ok(!isCjkCodePoint(0x3042) && !isCjkCodePoint(0xac00));
    // Supplementary-plane ideographs are split too (HF Python and Rust; transformers.js misses these).
    assert.deepEqual(tok.basicTokenize('a\u{20000}b'), ['a', '\u{20000}', 'b']);
    assert.deepEqual(tok.tokenize('a\u{20000}b'), ['a', '[UNK]', 'b']);
  });

  test('unknown and over-long words become one [UNK]', () => {
    assert.deepEqual(tok.tokenize('hello ☃☃ world'), ['hello', '[UNK]', 'world']);
    assert.deepEqual(tok.tokenize('a'.repeat(101)), ['[UNK]']);
    assert.equal(tok.tokenize('a'.repeat(100)).length > 1, true);
    assert.deepEqual(tok.tokenize('unaffable'), ['una', '##ffa', '##ble']);
  });

  test('special tokens written in the text stay whole, case-sensitively', () => {
    assert.deepEqual(tok.tokenize('x[MASK]y [cls]'), ['x', '[MASK]', 'y', '[', 'cl', '##s', ']']);
    assert.deepEqual(tok.encode('[CLS]').ids, [101, 101, 102]);
  });

  test('encode: template, type ids, word ids', () => {
    const e = tok.encode('Hello, worldly!', 'Unaffable here');
    assert.deepEqual(e.tokens, [
      '[CLS]',
      'hello',
      ',',
      'world',
      '##ly',
      '!',
      '[SEP]',
      'una',
      '##ffa',
      '##ble',
      'here',
      '[SEP]',
    ]);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert.deepEqual(e.wordIds, [-1, 0, 1, 2, 2, 3, -1, 4, 4, 4, 5, -1]);
    assert.deepEqual(
      e.ids,
      e.tokens.map((t) => tok.idOf(t)),
    );
    const empty = tok.encode('', '');
    assert.deepEqual(empty.tokens, ['[CLS]', '[SEP]', '[SEP]']);
    assert.deepEqual(empty.typeIds, [0, 0, 1]);
  });

  test('encodeWordPieces on pre-split words', () => {
    const r = tok.encodeWordPieces(['unaffable', 'here', '[MASK]']);
    assert.deepEqual(r.tokens, ['una', '##ffa', '##ble', 'here', '[MASK]']);
    assert.deepEqual(r.wordIds, [0, 0, 0, 1, 2]);
  });

  test('truncation longest_first', () => {
    const a = 'one two three four five six';
    const b = 'alpha beta gamma';
    // Only the longer needs cutting: it keeps budget - shorter.
    let e = tok.encode(a, b, { maxLength: 3 + 7 });
    assert.deepEqual(e.tokens, [
      '[CLS]',
      'one',
      'two',
      'three',
      'four',
      '[SEP]',
      'alpha',
      'beta',
      'gamma',
      '[SEP]',
    ]);
    // Both need cutting: halves, the longer keeps the odd one.
    e = tok.encode(a, b, { maxLength: 3 + 5 });
    assert.deepEqual(e.tokens, ['[CLS]', 'one', 'two', 'three', '[SEP]', 'alpha', 'beta', '[SEP]']);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
    assert.deepEqual(e.wordIds, [-1, 0, 1, 2, -1, 6, 7, -1]);
    // Equal lengths: the second keeps the odd one (Hugging Face tokenizers).
    e = tok.encode(b, b, { maxLength: 3 + 5 });
    assert.deepEqual(e.tokens, ['[CLS]', 'alpha', 'beta', '[SEP]', 'alpha', 'beta', 'gamma', '[SEP]']);
    assert.deepEqual(truncateLengths(3, 3, 5), [2, 3]);
    assert.deepEqual(truncateLengths(10, 4, 9), [5, 4]);
    assert.deepEqual(truncateLengths(10, 20, 9), [4, 5]);
    assert.deepEqual(truncateLengths(2, 20, 9), [2, 7]);
    assert.deepEqual(truncateLengths(20, undefined, 9), [9, 0]);
    assert.deepEqual(truncateLengths(5, 5, 0), [0, 0]);
    // A single text keeps [CLS] ... [SEP].
    e = tok.encode(a, undefined, { maxLength: 4 });
    assert.deepEqual(e.tokens, ['[CLS]', 'one', 'two', '[SEP]']);
    // No cut when it fits.
    assert.deepEqual(tok.encode(a, b, { maxLength: 128 }).ids, tok.encode(a, b).ids);
  });

  test('truncation only_first / only_second', () => {
    const a = 'one two three four five six';
    const b = 'alpha beta gamma';
    let e = tok.encode(a, b, { maxLength: 8, truncation: 'only_first' });
    assert.deepEqual(e.tokens, ['[CLS]', 'one', 'two', '[SEP]', 'alpha', 'beta', 'gamma', '[SEP]']);
    e = tok.encode(a, b, { maxLength: 10, truncation: 'only_second' });
    assert.deepEqual(e.tokens, [
      '[CLS]',
      'one',
      'two',
      'three',
      'four',
      'five',
      'six',
      '[SEP]',
      'alpha',
      '[SEP]',
    ]);
    assert.throws(() => tok.encode(a, b, { maxLength: 8, truncation: 'only_second' }), UserError);
    assert.throws(() => tok.encode(a, undefined, { maxLength: 4, truncation: 'only_second' }), UserError);
    assert.throws(() => tok.encode(a, b, { maxLength: 2 }), /maxLength/);
  });

  test('whitespace set equals JavaScript \\s over all code points', () => {
    // Guards the table-driven fast path against the regex definition it replaces.
    const ws = /^\s$/u;
    for (let cp = 0; cp < 0x30000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (/^[\p{Cc}\p{Cf}]$/u.test(ch)) continue;
      const words = tok.basicTokenize(`a${ch}b`);
      if (ws.test(ch)) assert.deepEqual(words, ['a', 'b'], `U+${cp.toString(16)}`);
    }
  });
});

describe('BertTokenizer vocabulary errors', () => {
  test('missing file names the path', () => {
    const path = join(tmpdir(), 'minnow-no-such-vocab.txt');
    assert.throws(
      () => readVocabFile(path),
      (e: unknown) => e instanceof UserError && e.message.includes(path) && /not found/.test(e.message),
    );
  });

  test('empty file and missing special tokens', () => {
    const dir = mkdtempSync(join(tmpdir(), 'minnow-vocab-'));
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    assert.throws(
      () => readVocabFile(empty),
      (e: unknown) => e instanceof UserError && e.message.includes(empty) && /empty/.test(e.message),
    );
    const partial = join(dir, 'partial.txt');
    writeFileSync(partial, '[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n');
    assert.throws(
      () => readVocabFile(partial),
      (e: unknown) => e instanceof UserError && e.message.includes(partial) && e.message.includes('[MASK]'),
    );
  });

  test('a small vocabulary from lines, CRLF tolerated', () => {
    const t = new BertTokenizer(
      BertTokenizer.parseVocab('[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nun\r\n##aff\r\n##able\r\n'),
    );
    assert.equal(t.vocabSize, 8);
    assert.deepEqual(t.encode('Unaffable unknown').tokens, [
      '[CLS]',
      'un',
      '##aff',
      '##able',
      '[UNK]',
      '[SEP]',
    ]);
  });
});

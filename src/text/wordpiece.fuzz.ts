/**
 * Fuzz targets for the WordPiece tokenizer (wordpiece.ts) with the shipped bert-base-uncased
 * vocabulary, and for vocabulary files; run by wordpiece.fuzz.test.ts and bench/fuzz.ts.
 *
 * Inputs: arbitrary Unicode (full range, graphemes, lone surrogates, controls, BOMs), texts built from
 * vocabulary words, special tokens (exact and near misses), combining marks, CJK (BMP and beyond),
 * case-changing letters and very long words, as single texts and pairs, with and without `maxLength`
 * and a truncation strategy. Checked: encode succeeds, or throws a one-line UserError only for a bad
 * `maxLength` or a truncation that cannot fit; ids are integers in [0, vocabSize) and match the tokens;
 * `[CLS] a [SEP] (b [SEP])` with type ids 0 then 1 and word ids -1 on the added tokens; at most
 * `maxLength` long; the truncated pieces are prefixes of the untruncated ones; repeat calls agree.
 */
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import {
  anyText,
  check,
  expectUserErrorOrSuccess,
  fuzzTarget,
  hugeRun,
  ODD_CHARS,
  type SomeFuzzTarget,
} from '../util/fuzzing.js';
import { BertTokenizer, type EncodeOptions, type Encoding, type TruncationStrategy } from './wordpiece.js';
import { readVocabFile } from './vocab-file.js';

const VOCAB = fileURLToPath(new URL('../../assets/bert-base-uncased-vocab.txt', import.meta.url));
let shipped: BertTokenizer | undefined;

/** The shipped bert-base-uncased tokenizer, loaded on first use. */
function tokenizer(): BertTokenizer {
  shipped ??= readVocabFile(VOCAB);
  return shipped;
}

const PIECES = [
  'un',
  '##able',
  'unaffable',
  'hello',
  'world',
  "don't",
  '[CLS]',
  '[SEP]',
  '[MASK]',
  '[PAD]',
  '[UNK]',
  '[cls]',
  '[CLS',
  '[[SEP]]',
  '##',
  '#',
  '中国',
  '\u{20000}',
  '\u{2f800}',
  'İstanbul',
  'ΣΑΣ',
  'ß',
  'ﬁ',
  'e\u0301',
  '\u0301',
  '👩‍👩‍👧',
  '🇫🇷',
  'a\u200db',
  ' ',
  '\t',
  '\r\n',
  '\u3000',
  '\u00a0',
  '.',
  '¿',
  '…',
  '-',
  ...ODD_CHARS,
];

const longWord = fc.oneof(
  fc.integer({ min: 95, max: 105 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 45, max: 55 }).map((n) => '😀'.repeat(n)),
  fc.integer({ min: 30, max: 40 }).map((n) => 'ab\u0301'.repeat(n)),
  fc.integer({ min: 1, max: 60 }).map((n) => 'unaffable'.repeat(n)),
);

const builtText = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...PIECES) },
      { weight: 2, arbitrary: anyText(6) },
      { weight: 1, arbitrary: longWord },
    ),
    { maxLength: 30 },
  )
  .chain((parts) => fc.constantFrom(parts.join(''), parts.join(' ')));

const textArb = fc.oneof(
  { weight: 4, arbitrary: anyText(120) },
  { weight: 4, arbitrary: builtText },
  { weight: 1, arbitrary: hugeRun(100_000) },
);

interface EncodeCase {
  text: string;
  pair?: string;
  maxLength?: number;
  truncation?: TruncationStrategy;
}

const encodeCaseArb: fc.Arbitrary<EncodeCase> = fc.record(
  {
    text: textArb,
    pair: textArb,
    maxLength: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 2, max: 64 }) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 600 }) },
      { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, 1e9) },
    ),
    truncation: fc.constantFrom<TruncationStrategy>(
      'longest_first',
      'only_first',
      'only_second',
      'bogus' as TruncationStrategy,
    ),
  },
  { requiredKeys: ['text'] },
);

function checkEncoding(tok: BertTokenizer, e: Encoding, withPair: boolean): { a: number[]; b: number[] } {
  const n = e.ids.length;
  check(
    e.typeIds.length === n && e.tokens.length === n && e.wordIds.length === n,
    'ids, typeIds, tokens and wordIds differ in length',
  );
  for (let i = 0; i < n; i++) {
    const id = e.ids[i];
    check(
      Number.isInteger(id) && id >= 0 && id < tok.vocabSize,
      () => `id ${id} at ${i} not in [0, ${tok.vocabSize})`,
    );
    check(e.tokens[i] === tok.tokenOf(id), () => `token ${i} does not match its id`);
  }
  check(
    n >= (withPair ? 3 : 2) && e.ids[0] === tok.clsId && e.ids[n - 1] === tok.sepId,
    'not [CLS] ... [SEP]',
  );
  const sep = e.ids.indexOf(tok.sepId, 1);
  // The first [SEP] the template added is the one with word id -1.
  let firstSep = -1;
  for (let i = 1; i < n; i++) {
    if (e.ids[i] === tok.sepId && e.wordIds[i] === -1) {
      firstSep = i;
      break;
    }
  }
  check(sep >= 1 && firstSep >= 1, 'no [SEP]');
  const endA = withPair ? firstSep : n - 1;
  check(!withPair || firstSep < n - 1, 'pair without a second [SEP]');
  let prevWord = -1;
  for (let i = 0; i < n; i++) {
    const special = i === 0 || i === endA || i === n - 1;
    check(special === (e.wordIds[i] === -1), () => `word id ${e.wordIds[i]} at ${i}`);
    check(e.typeIds[i] === (i > endA ? 1 : 0), () => `type id ${e.typeIds[i]} at ${i}`);
    if (!special) {
      check(Number.isInteger(e.wordIds[i]) && e.wordIds[i] >= prevWord, 'word ids decrease');
      prevWord = e.wordIds[i];
    }
  }
  return { a: e.ids.slice(1, endA), b: withPair ? e.ids.slice(endA + 1, n - 1) : [] };
}

function isPrefix(p: number[], of: number[]): boolean {
  return p.length <= of.length && p.every((v, i) => v === of[i]);
}

function checkEncode(tok: BertTokenizer, c: EncodeCase): void {
  const withPair = c.pair !== undefined;
  const full = tok.encode(c.text, c.pair);
  const parts = checkEncoding(tok, full, withPair);
  const again = tok.encode(c.text, c.pair);
  check(JSON.stringify(again) === JSON.stringify(full), 'encoding the same input twice differs');
  check(
    JSON.stringify(tok.tokenize(c.text)) === JSON.stringify(full.tokens.slice(1, 1 + parts.a.length)),
    'tokenize differs from encode',
  );
  if (c.maxLength === undefined && c.truncation === undefined) return;
  const opts: EncodeOptions = {};
  if (c.maxLength !== undefined) opts.maxLength = c.maxLength;
  if (c.truncation !== undefined) opts.truncation = c.truncation;
  const out = expectUserErrorOrSuccess(() => tok.encode(c.text, c.pair, opts));
  if (!out.ok) {
    check(
      /^(maxLength|truncation)/.test(out.error.message),
      () => `unexpected UserError from encode: ${out.error.message}`,
    );
    return;
  }
  const cut = checkEncoding(tok, out.value, withPair);
  if (c.maxLength !== undefined) {
    check(
      out.value.ids.length <= c.maxLength,
      () => `${out.value.ids.length} ids > maxLength ${c.maxLength}`,
    );
    if (full.ids.length <= c.maxLength)
      check(JSON.stringify(out.value) === JSON.stringify(full), 'cut although it fit');
  }
  check(
    isPrefix(cut.a, parts.a) && isPrefix(cut.b, parts.b),
    'truncated pieces are not prefixes of the full ones',
  );
}

/** A vocabulary file: some of the special tokens, some words and continuation pieces, odd lines. */
const vocabArb = fc.record({
  specials: fc.subarray(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']),
  required: fc.boolean(),
  words: fc.array(
    fc.oneof(fc.constantFrom('a', 'b', 'ab', '##b', '##', '#', '', ' ', 'é', '[CLS]'), anyText(6)),
    {
      maxLength: 20,
    },
  ),
  eol: fc.constantFrom('\n', '\r\n'),
  finalEol: fc.boolean(),
  maxInputCharsPerWord: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
  texts: fc.array(fc.oneof(anyText(30), builtText), { maxLength: 3 }),
});

export const WORDPIECE_FUZZ: SomeFuzzTarget[] = [
  fuzzTarget({
    name: 'wordpiece: encode texts and pairs (shipped vocabulary)',
    arbitrary: encodeCaseArb,
    predicate: (c) => checkEncode(tokenizer(), c),
    weight: 2,
  }),
  fuzzTarget({
    name: 'wordpiece: vocabulary files',
    arbitrary: vocabArb,
    predicate: (v) => {
      const lines = v.required
        ? ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...v.words]
        : [...v.specials, ...v.words];
      const content = lines.join(v.eol) + (v.finalEol ? v.eol : '');
      const built = expectUserErrorOrSuccess(
        () =>
          new BertTokenizer(BertTokenizer.parseVocab(content), {
            source: 'fuzz-vocab.txt',
            maxInputCharsPerWord: v.maxInputCharsPerWord,
          }),
        { prefix: 'fuzz-vocab.txt' },
      );
      if (!built.ok) {
        check(!v.required, () => `a vocabulary with every special token was refused: ${built.error.message}`);
        return;
      }
      for (const text of v.texts) checkEncode(built.value, { text, pair: text, maxLength: 8 });
    },
  }),
];

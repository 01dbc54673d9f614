import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { UserError } from '../util/errors.js';
import { tokenizerConfigJson, tokenizerJson } from './tokenizer-files.js';
import { BertTokenizer } from './wordpiece.js';
import { readVocabFile } from './vocab-file.js';

const BERT_VOCAB = fileURLToPath(new URL('../../assets/bert-base-uncased-vocab.txt', import.meta.url));
const SMALL_VOCAB = fileURLToPath(new URL('../../test/fixtures/general-vocab.txt', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../test/fixtures/tokenizer-golden.json', import.meta.url));
/** Hugging Face's tokenizer.json for bert-base-uncased; only in a checkout with ../shared beside it. */
const REFERENCE = fileURLToPath(
  new URL('../../../shared/data/vocab/bert-base-uncased-tokenizer.json', import.meta.url),
);

interface Golden {
  singles: { text: string; ids: number[] }[];
  pairs: { a: string; b: string; ids: number[]; typeIds: number[] }[];
}

const bert = readVocabFile(BERT_VOCAB);
const small = readVocabFile(SMALL_VOCAB);
const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Golden;

/**
 * About `count` elements evenly spread over all but the last `tail`, then the last `tail` (the
 * fixture's hand-written cases).
 */
function spread<T>(xs: T[], count: number, tail: number): T[] {
  const body = xs.slice(0, xs.length - tail);
  const stride = Math.max(1, Math.floor(body.length / count));
  const out: T[] = [];
  for (let i = 0; i < body.length && out.length < count; i += stride) out.push(body[i]);
  return out.concat(xs.slice(xs.length - tail));
}

// 220 + 60 singles and 80 + 6 pairs of the golden fixture. Its hand-written cases come last: the
// singles' last 60 are empty and blank texts, punctuation runs, controls, CJK, emoji, accents, other
// scripts, surrogates, over-long words and special tokens written in the text.
const goldenSingles = spread(golden.singles, 220, 60).map((c) => c.text);
const goldenPairs = spread(golden.pairs, 80, 6).map((c): [string, string] => [c.a, c.b]);

/** Odd strings, mostly for the small vocabulary, whose pieces are whole words of film reviews. */
const ODD: string[] = [
  'The film was really great',
  'THE FILM WAS REALLY GREAT!!!',
  'the film , the story . the joy',
  'Café déjà vu: the Film WAS Délightful',
  'e\u0301 cafe\u0301 Ångström naïve ΟΔΟΣ σοφός',
  '中文the film好 ひらがな カタカナ 한국어',
  'compat \uf900\uf901 ideographs and ext A \u3400',
  'great 😀 film 👍🏽 family 👨‍👩‍👧 🇫🇷',
  'emoji🙂inside🙃words',
  '!!!...,,, ?!?! ---the---film--- (((a))) [[b]] {{c}}',
  '¿Qué? ¡Olé! «film» “story” — ‘joy’ … • ™',
  '\u0000the\u0007 film\u200b was\ufffd great\u0085 \u00ad',
  'tab\tnew\nline\r\ncr\rend \u00a0nbsp \u3000ideographic \u2028sep',
  'lone \ud800 high and \udc00 low surrogates',
  '',
  ' ',
  '\t\n\r ',
  '\u200b\u200c\u200d\ufeff',
  '.',
  'a'.repeat(100),
  'a'.repeat(101),
  'the'.repeat(34),
  `${'film '.repeat(5)}${'x'.repeat(150)} film`,
  'é'.repeat(101),
  'e\u0301'.repeat(101),
  '[CLS] the film [SEP] was [MASK] [PAD] [UNK] great',
  '[cls] lower [sep] case [Mask] [MASK[SEP]]',
  'the[MASK]film[CLS][SEP]',
  "don't can't it's O'Neill 3.14 1,000 $100 50% #tag @user",
  'a\u0301\u0302\u0303 combining only \u0301\u0302',
  'fullwidth ＦＩＬＭ ＧＲＥＡＴ！ and 𝐅𝐢𝐥𝐦',
];
// Left out: supplementary-plane CJK ideographs (U+20000...), which transformers.js does not split
// (a documented difference of minnow's tokenizer, see wordpiece.ts).

function oddPairs(): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < ODD.length; i++) {
    const b = ODD[(i * 7 + 3) % ODD.length];
    // transformers.js reads an empty second text as no second text; minnow (like HF Python and
    // Rust) encodes `[CLS] a [SEP] [SEP]`. Compared only where b is non-empty.
    if (b !== '') out.push([ODD[i], b]);
  }
  return out;
}

interface HfEncoding {
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
}
type HfTokenizer = (
  text: string,
  opts: { text_pair?: string | null; return_tensor: false; truncation?: boolean | null },
) => HfEncoding;

let workDir = '';

/** Writes tokenizer.json and tokenizer_config.json for a vocabulary into a new folder. */
function writeFolder(name: string, vocabulary: readonly string[]): string {
  const dir = join(workDir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocabulary)));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfigJson(vocabulary), null, 2));
  return dir;
}

/** Loads a folder with transformers.js from the file system only. */
async function load(dir: string): Promise<HfTokenizer> {
  return (await AutoTokenizer.from_pretrained(dir)) as unknown as HfTokenizer;
}

/**
 * Compares transformers.js and minnow on untruncated encodings only: when truncating, transformers.js
 * cuts the concatenation, final [SEP] included (documented in test/fixtures/tokenizer-golden.json and
 * wordpiece.ts), while minnow truncates the pieces as Hugging Face tokenizers does.
 */
function compare(hf: HfTokenizer, tok: BertTokenizer, singles: string[], pairs: [string, string][]): number {
  const fails: string[] = [];
  const check = (a: string, b: string | undefined) => {
    const got = hf(a, { text_pair: b ?? null, return_tensor: false, truncation: false });
    const want = tok.encode(a, b);
    const wantMask = want.ids.map(() => 1);
    if (
      JSON.stringify(got.input_ids) !== JSON.stringify(want.ids) ||
      JSON.stringify(got.token_type_ids) !== JSON.stringify(want.typeIds) ||
      JSON.stringify(got.attention_mask) !== JSON.stringify(wantMask)
    ) {
      fails.push(
        `${JSON.stringify(b === undefined ? a : [a, b])}\n    transformers.js: ${JSON.stringify(got)}` +
          `\n    minnow: ${JSON.stringify({ input_ids: want.ids, token_type_ids: want.typeIds })}`,
      );
    }
  };
  for (const s of singles) check(s, undefined);
  for (const [a, b] of pairs) check(a, b);
  const n = singles.length + pairs.length;
  assert.equal(
    fails.length,
    0,
    `${fails.length}/${n} encodings differ; first:\n  ${fails.slice(0, 3).join('\n  ')}`,
  );
  return n;
}

before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'minnow-tokenizer-files-'));
  // Nothing may touch the network: local files only, no cache, and a fetch that fails loudly.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.fetch = async (input: string | URL) => {
    throw new Error(`test tried to fetch ${String(input)}`);
  };
});

after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('tokenizerJson', () => {
  test(
    'equals Hugging Face tokenizer.json for bert-base-uncased',
    { skip: !existsSync(REFERENCE) && `no ${REFERENCE}` },
    () => {
      const reference = JSON.parse(readFileSync(REFERENCE, 'utf8')) as Record<string, unknown>;
      const ours = tokenizerJson(bert.vocabulary) as unknown as Record<string, unknown>;
      assert.deepEqual(Object.keys(ours), Object.keys(reference));
      for (const key of Object.keys(reference)) assert.deepEqual(ours[key], reference[key], key);
      // The same after a trip through a file.
      assert.deepEqual(JSON.parse(JSON.stringify(ours)), reference);
    },
  );

  test('special token ids come from the vocabulary', () => {
    const j = tokenizerJson(small.vocabulary);
    assert.deepEqual(
      j.added_tokens.map((t) => [t.content, t.id]),
      [
        ['[PAD]', 0],
        ['[UNK]', 1],
        ['[CLS]', 2],
        ['[SEP]', 3],
        ['[MASK]', 4],
      ],
    );
    assert.deepEqual(j.post_processor.special_tokens['[CLS]'].ids, [2]);
    assert.deepEqual(j.post_processor.special_tokens['[SEP]'].ids, [3]);
    assert.equal(Object.keys(j.model.vocab).length, 62);
    assert.equal(j.model.vocab.film, small.idOf('film'));
    assert.equal(j.truncation, null);
  });

  test('options: lowercase, maxLength (truncation)', () => {
    const j = tokenizerJson(small.vocabulary, { lowercase: false, maxLength: 128 });
    assert.equal(j.normalizer.lowercase, false);
    assert.deepEqual(j.truncation, {
      direction: 'Right',
      max_length: 128,
      strategy: 'LongestFirst',
      stride: 0,
    });
    assert.throws(
      () => tokenizerJson(small.vocabulary, { maxLength: 2 }),
      /maxLength: must be an integer >= 3, got 2/,
    );
    assert.throws(() => tokenizerJson(small.vocabulary, { maxLength: 1.5 }), UserError);
  });

  test('odd pieces: a repeated piece keeps its last id; "__proto__" and "0" are plain keys', () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'x', '__proto__', '0', 'x', 'y'];
    const j = tokenizerJson(vocab);
    const round = JSON.parse(JSON.stringify(j)) as typeof j;
    assert.deepEqual(round.model.vocab, {
      '[PAD]': 0,
      '[UNK]': 1,
      '[CLS]': 2,
      '[SEP]': 3,
      ['__proto__']: 5,
      0: 6,
      x: 7,
      y: 8,
    });
    assert.ok(Object.hasOwn(round.model.vocab, '__proto__'));
    assert.equal(Object.getPrototypeOf(j.model.vocab), Object.prototype);
  });

  test('a vocabulary without [MASK] is fine; without [UNK], [CLS], [SEP] or [PAD] it is a one-line UserError', () => {
    const noMask = small.vocabulary.filter((t) => t !== '[MASK]');
    assert.deepEqual(
      tokenizerJson(noMask).added_tokens.map((t) => t.content),
      ['[PAD]', '[UNK]', '[CLS]', '[SEP]'],
    );
    assert.equal(tokenizerConfigJson(noMask).mask_token, null);

    const without = (...tokens: string[]) => small.vocabulary.filter((t) => !tokens.includes(t));
    const cases: [string[], RegExp][] = [
      [
        without('[UNK]'),
        /^vocabulary: vocabulary has no \[UNK\] token; a BERT tokenizer needs \[PAD\] \[UNK\] \[CLS\] \[SEP\]$/,
      ],
      [without('[CLS]'), /^vocabulary: vocabulary has no \[CLS\] token;/],
      [without('[UNK]', '[CLS]'), /^vocabulary: vocabulary has no \[UNK\] and \[CLS\] tokens;/],
      [
        without('[PAD]', '[SEP]', '[UNK]'),
        /^vocabulary: vocabulary has no \[PAD\], \[UNK\] and \[SEP\] tokens;/,
      ],
    ];
    for (const [vocab, message] of cases) {
      for (const make of [() => tokenizerJson(vocab), () => tokenizerConfigJson(vocab)]) {
        assert.throws(make, (e: unknown) => {
          assert.ok(e instanceof UserError);
          assert.match(e.message, message);
          assert.ok(!e.message.includes('\n'));
          return true;
        });
      }
    }
    assert.throws(
      () => tokenizerJson(without('[UNK]'), { source: 'model/vocab.txt' }),
      /^UserError: model\/vocab.txt: vocabulary has no \[UNK\]/,
    );
    assert.throws(() => tokenizerJson([]), /vocabulary is empty/);
  });
});

describe('tokenizerConfigJson', () => {
  test('BertTokenizer with its special tokens and model_max_length', () => {
    assert.deepEqual(tokenizerConfigJson(bert.vocabulary), {
      clean_up_tokenization_spaces: true,
      cls_token: '[CLS]',
      do_lower_case: true,
      mask_token: '[MASK]',
      model_max_length: 512,
      pad_token: '[PAD]',
      sep_token: '[SEP]',
      strip_accents: null,
      tokenize_chinese_chars: true,
      tokenizer_class: 'BertTokenizer',
      unk_token: '[UNK]',
    });
    const c = tokenizerConfigJson(small.vocabulary, { maxLength: 64, lowercase: false });
    assert.equal(c.model_max_length, 64);
    assert.equal(c.do_lower_case, false);
    assert.throws(() => tokenizerConfigJson(small.vocabulary, { maxLength: 0 }), UserError);
  });
});

describe('transformers.js loads the files and encodes as minnow does', () => {
  test('bert-base-uncased vocabulary (30,522 pieces): golden sample', async () => {
    const hf = await load(writeFolder('bert', bert.vocabulary));
    const n = compare(hf, bert, goldenSingles, goldenPairs);
    assert.ok(n >= 340, `${n} compared`);
    // model_max_length reaches transformers.js: truncation: true cuts to it.
    const long = hf('film '.repeat(600), { return_tensor: false, truncation: true });
    assert.equal(long.input_ids.length, 512);
  });

  test('bert-base-uncased vocabulary: odd strings', async () => {
    const hf = await load(join(workDir, 'bert'));
    compare(hf, bert, ODD, oddPairs());
  });

  test('small vocabulary (62 pieces): golden sample and odd strings', async () => {
    const hf = await load(writeFolder('small', small.vocabulary));
    const n = compare(hf, small, [...goldenSingles, ...ODD], [...goldenPairs, ...oddPairs()]);
    assert.ok(n >= 400, `${n} compared`);
    // The small vocabulary really is in use: whole words of it, [UNK] for the rest.
    const e = hf('The film was DELIGHTFUL, zebra!', { return_tensor: false });
    assert.deepEqual(e.input_ids, small.encode('The film was DELIGHTFUL, zebra!').ids);
    assert.deepEqual(
      e.input_ids.map((id) => small.tokenOf(id)),
      ['[CLS]', 'the', 'film', 'was', 'delightful', ',', '[UNK]', '[UNK]', '[SEP]'],
    );
  });

  test('a vocabulary without [MASK] loads too', async () => {
    const vocab = small.vocabulary.filter((t) => t !== '[MASK]');
    const hf = (await AutoTokenizer.from_pretrained(
      writeFolder('no-mask', vocab),
    )) as unknown as HfTokenizer & {
      mask_token_id: number | undefined;
    };
    assert.equal(hf.mask_token_id, undefined);
    const e = hf('the film', { text_pair: 'was great', return_tensor: false });
    assert.deepEqual(
      e.input_ids.map((id) => vocab[id]),
      ['[CLS]', 'the', 'film', '[SEP]', 'was', 'great', '[SEP]'],
    );
    assert.deepEqual(e.token_type_ids, [0, 0, 0, 0, 1, 1, 1]);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { assetPath } from '../util/assets.js';
import { UserError } from '../util/errors.js';
import { parseTokenizerJson, tokenizerFromJson } from './tokenizer-json.js';
import { tokenizerJson } from './tokenizer-files.js';
import { BertTokenizer } from './wordpiece.js';

const VOCAB = BertTokenizer.parseVocab(readFileSync(assetPath('bert-base-uncased-vocab.txt'), 'utf8'));

test('the tokenizer.json minnow writes reads back as the same vocabulary and tokenizer', () => {
  const text = JSON.stringify(tokenizerJson(VOCAB));
  const s = parseTokenizerJson(text, 'tokenizer.json');
  assert.deepEqual(s.vocabulary, VOCAB);
  assert.equal(s.maxInputCharsPerWord, 100);
  const a = tokenizerFromJson(text, 'tokenizer.json').encode('Naïve café, 中文 [MASK] owners!');
  const b = new BertTokenizer(VOCAB).encode('Naïve café, 中文 [MASK] owners!');
  assert.deepEqual(a.ids, b.ids);
});

test('what minnow cannot tokenize as it was trained is refused, naming the field', () => {
  const base = tokenizerJson(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', '##b']);
  const refuse = (change: (t: Record<string, any>) => void, pattern: RegExp) => {
    const t = structuredClone(base) as Record<string, any>;
    change(t);
    assert.throws(
      () => parseTokenizerJson(JSON.stringify(t), 'dir/tokenizer.json'),
      (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, pattern);
        return true;
      },
    );
  };
  refuse((t) => (t.normalizer.lowercase = false), /^dir\/tokenizer\.json: normalizer\.lowercase is false/);
  refuse((t) => (t.normalizer.strip_accents = false), /normalizer\.strip_accents is false/);
  refuse((t) => (t.normalizer = { type: 'NFC' }), /normalizer is not BertNormalizer/);
  refuse((t) => (t.pre_tokenizer = { type: 'Whitespace' }), /pre_tokenizer is not BertPreTokenizer/);
  refuse((t) => (t.model.type = 'Unigram'), /model\.type is "Unigram"/);
  refuse((t) => (t.model.continuing_subword_prefix = '@@'), /continuing_subword_prefix/);
  refuse((t) => (t.model.vocab.a = 9), /model\.vocab\["a"\] is 9; ids must be 0\.\.6/);
  refuse((t) => (t.model.vocab.a = 6), /model\.vocab\["(a|##b)"\] repeats id 6/);
  refuse((t) => delete t.model.vocab, /model\.vocab is missing/);
  // A vocabulary without BERT's special tokens: the tokenizer says which one.
  const t = structuredClone(base) as Record<string, any>;
  t.model.vocab = { a: 0, b: 1 };
  assert.throws(
    () => tokenizerFromJson(JSON.stringify(t), 'x/tokenizer.json'),
    /x\/tokenizer\.json: vocabulary has no \[CLS\]/,
  );
});

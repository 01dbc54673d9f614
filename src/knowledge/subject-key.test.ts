import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BertTokenizer } from '../text/wordpiece.js';
import { isOwnKey, oneSpace, subjectKey, subjectWords } from './subject-key.js';

describe('subjectWords', () => {
  test('lower-cases, strips accents, splits on whitespace and punctuation like BERT', () => {
    assert.deepEqual(subjectWords('  New\tYork  '), ['new', 'york']);
    assert.deepEqual(subjectWords('Pye-Dog'), ['pye', '-', 'dog']);
    assert.deepEqual(subjectWords('Café au lait'), ['cafe', 'au', 'lait']);
    assert.deepEqual(subjectWords("U.S. o'clock"), ['u', '.', 's', '.', 'o', "'", 'clock']);
    assert.equal(subjectKey('NEW   york'), 'new york');
    assert.equal(subjectKey(' \t '), '');
    assert.ok(
      isOwnKey('new york 2') && !isOwnKey('New york') && !isOwnKey('new  york') && !isOwnKey('pye-dog'),
    );
    assert.equal(oneSpace(' is\t a \n'), 'is a');
  });

  test("agrees with the tokenizer's basic words", () => {
    const tok = new BertTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    for (const text of [
      'Hot-Dog stand',
      "Mötley Crüe's  ROCK\u00a0n' roll",
      'e.g. 3.5kg',
      '東京 tower',
      'a\u200bb',
    ]) {
      assert.deepEqual(subjectWords(text), tok.basicTokenize(text), text);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_NGRAM,
  type NgramConfig,
  ngramFeatures,
  ngramBlocks,
  ngramFeeds,
  PAIR_FEATURES,
  pairSimilarity,
  validateNgramConfig,
} from './features.js';
import { basicWords } from '../text/wordpiece.js';

const words: NgramConfig = { ...DEFAULT_NGRAM, buckets: 1 << 20 };

describe('n-gram features', () => {
  test('word 1-2-grams: one bucket per distinct n-gram, tf = 1 + ln(count)', () => {
    // "a b a b": unigrams a, b (twice each), bigrams "a b" (twice), "b a" (once).
    const r = ngramFeatures('A b a B', undefined, words);
    assert.equal(r.ids.length, 4);
    const tf = [...r.tf].sort();
    const two = 1 + Math.log(2);
    assert.deepEqual(
      tf.map((x) => +x.toFixed(6)),
      [1, two, two, two].map((x) => +x.toFixed(6)).sort(),
    );
    assert.deepEqual(
      [...r.ids],
      [...r.ids].sort((x, y) => x - y),
      'ids increase',
    );
  });

  test('the same text gives the same features; case and accents do not matter (BERT basic tokenizer)', () => {
    assert.deepEqual(
      ngramFeatures('Café au lait!', undefined, words),
      ngramFeatures('cafe AU lait !', undefined, words),
    );
    assert.notDeepEqual(
      ngramFeatures('good film', undefined, words),
      ngramFeatures('film good', undefined, words),
    );
  });

  test('word order of a bigram matters, "ab c" and "a bc" differ', () => {
    const a = ngramFeatures('ab c', undefined, { ...words, word_ngrams: 2 });
    const b = ngramFeatures('a bc', undefined, { ...words, word_ngrams: 2 });
    assert.notDeepEqual([...a.ids], [...b.ids]);
  });

  test('character n-grams within padded words: " ab " has 3 bigrams and 2 trigrams', () => {
    const r = ngramFeatures('ab', undefined, { ...words, word_ngrams: 0, char_ngrams: [2, 3] });
    assert.equal(r.ids.length, 5);
  });

  test('pairs: one bag of both texts, where a shared n-gram counts twice and no bigram spans the two', () => {
    const apart = ngramFeatures('the cat', 'a dog', words);
    // 3 n-grams of each text; "cat a" is not one.
    assert.equal(apart.ids.length, 6);
    assert.deepEqual(
      apart,
      ngramFeatures('a dog', 'the cat', words),
      'the order of the texts does not matter',
    );
    const shared = ngramFeatures('the cat', 'the dog', words);
    assert.equal(shared.ids.length, 5, '"the" once');
    assert.equal(Math.max(...shared.tf), Math.fround(1 + Math.log(2)), 'counted twice');
    assert.equal(Math.max(...apart.tf), 1);
  });

  test('probes: each feature counts in that many rows', () => {
    assert.equal(ngramFeatures('the cat', undefined, { ...words, probes: 3 }).ids.length, 9);
  });

  test('words and characters: words in the first half of the rows, characters in the second', () => {
    const both: NgramConfig = { ...words, buckets: 1000, char_ngrams: [2, 3] };
    const ids = [...ngramFeatures('good film', undefined, both).ids];
    assert.equal(ids.filter((x) => x < 500).length, 3, 'good, film, good film');
    assert.equal(
      ids.filter((x) => x >= 500).length,
      18,
      '" good " and " film ": 5 + 5 bigrams, 4 + 4 trigrams',
    );
  });

  test('empty text: no features; feeds pad to at least one column of zeros', () => {
    const e = ngramFeatures('', undefined, words);
    assert.equal(e.ids.length, 0);
    const f = ngramFeeds([e, ngramFeatures('x y', undefined, words)]);
    assert.equal(f.N, 3);
    assert.deepEqual([...f.tf.slice(0, 3)], [0, 0, 0]);
    assert.equal(ngramFeeds([e]).N, 1);
  });

  test('buckets bound the ids', () => {
    const r = ngramFeatures('one two three four five six seven', undefined, { ...words, buckets: 7 });
    assert.ok([...r.ids].every((x) => x >= 0 && x < 7));
  });

  test('validation names the field', () => {
    assert.throws(() => validateNgramConfig({ ...words, buckets: 0 }, 'c.json'), /c\.json: ngram\.buckets/);
    assert.throws(
      () => validateNgramConfig({ ...words, char_ngrams: [3, 2] }, 'c.json'),
      /ngram\.char_ngrams/,
    );
    assert.throws(
      () => validateNgramConfig({ ...words, word_ngrams: 0, char_ngrams: null }, 'c.json'),
      /no features/,
    );
    assert.deepEqual(validateNgramConfig({ ...words }, 'c.json'), words);
    assert.throws(
      () => validateNgramConfig({ ...words, pair_features: 'yes' }, 'c.json'),
      /c\.json: ngram\.pair_features: expected true or false, got "yes"/,
    );
    assert.throws(
      () => validateNgramConfig({ ...words, buckets: 16, pair_features: true }, 'c.json'),
      /ngram\.buckets: 16 leaves no rows for hashed features beside the 16 pair features/,
    );
    assert.deepEqual(validateNgramConfig({ ...words, pair_features: false }, 'c.json'), words);
  });
});

describe('pair similarity features', () => {
  const sim = (a: string, b: string) => pairSimilarity(basicWords(a), basicWords(b));
  const close = (got: number[], want: number[]) => {
    assert.equal(got.length, PAIR_FEATURES);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-4, `feature ${i}: ${g} vs ${want[i]}`));
  };

  test('the same words (case and punctuation aside): every overlap is 1, the numbers agree', () => {
    close(
      sim('Cats sleep 3 hours', 'cats SLEEP 3 hours !'),
      [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0],
    );
  });

  test('a hand-computed pair: "the cat sat" against "the cat sat on 2 mats"', () => {
    // Words: 3 shared of 6 (0.5: the middle hat). Character trigrams: 8 shared of 15 (0.533: between the
    // hats at 1/2 and 3/4). Bigrams 2 of 5; all of the shorter text's words shared; no long word shared
    // ("mats" alone); 3 words against 6; a number in one text only.
    const t = 8 / 15;
    close(sim('the cat sat', 'the cat sat on 2 mats'), [
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      1 - (t - 0.5) * 4,
      1 - (0.75 - t) * 4,
      0,
      0.4,
      1,
      0,
      0.5,
      0,
      1,
    ]);
  });

  test('nothing in common, or an empty text: the overlaps are 0 (the hat at 0 is 1)', () => {
    close(sim('sun rises', 'cold fog'), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    close(sim('', 'cold fog'), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('in the features: the last 16 rows hold the nonzero values, after every hashed id; single texts have none', () => {
    const c: NgramConfig = { ...DEFAULT_NGRAM, buckets: 4096, char_ngrams: [2, 4], pair_features: true };
    const { denseStart, charStart } = ngramBlocks(c);
    assert.deepEqual([denseStart, charStart], [4096 - 16, (4096 - 16) / 2]);
    const row = ngramFeatures('the cat sat', 'the cat sat on 2 mats', c);
    const dense = [...row.ids].flatMap((id, j) => (id >= denseStart! ? [[id - denseStart!, row.tf[j]]] : []));
    const want = sim('the cat sat', 'the cat sat on 2 mats').flatMap((v, k) => (v ? [[k, v]] : []));
    assert.deepEqual(
      dense.map(([k]) => k),
      want.map(([k]) => k),
    );
    dense.forEach(([, v], i) => assert.ok(Math.abs(v - want[i][1]) < 1e-6));
    assert.ok(
      [...row.ids].every((id, j) => j === 0 || id > row.ids[j - 1]),
      'ids increase',
    );
    assert.ok(ngramFeatures('the cat sat', undefined, c).ids.every((id) => id < denseStart!));
  });
});

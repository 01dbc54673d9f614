import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENGLISH_STOPWORDS, morphy } from './english.js';

describe('morphy', () => {
  test("WordNet's suffix rules, most likely first", () => {
    assert.deepEqual(morphy('dogs'), ['dog']);
    assert.deepEqual(morphy('movies'), ['movie', 'movy', 'movi']);
    assert.deepEqual(morphy('boxes'), ['boxe', 'box']);
    assert.deepEqual(morphy('churches'), ['churche', 'church']);
    assert.deepEqual(morphy('women'), ['woman']);
    assert.deepEqual(morphy('loved'), ['love', 'lov']);
    assert.deepEqual(morphy('barking'), ['barke', 'bark']);
    assert.deepEqual(morphy('running'), ['runne', 'runn', 'run']);
    assert.deepEqual(morphy('hotter'), ['hott', 'hot', 'hotte']);
  });

  test('nothing shorter than 3 characters, no plural of a word in -ss, not the word itself', () => {
    assert.deepEqual(morphy('was'), []);
    assert.deepEqual(morphy('has'), []);
    assert.deepEqual(morphy('glass'), []);
    assert.deepEqual(morphy('dog'), []);
  });

  test('the stop list holds function words only', () => {
    for (const w of ['a', 'the', 'is', 'was', 'in', 'it', 'not']) assert.ok(ENGLISH_STOPWORDS.has(w), w);
    for (const w of ['dog', 'good', 'bad', 'film']) assert.ok(!ENGLISH_STOPWORDS.has(w), w);
  });
});

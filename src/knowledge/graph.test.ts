import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { GRAPH_FORMAT, GraphBuilder, KnowledgeGraph, type Triple } from './graph.js';

const t = (subject: string, relation: string, object: string): Triple => ({ subject, relation, object });

const TRIPLES = [
  t('dog', 'is a', 'canine'),
  t('Dog', 'is a', 'pet'),
  t('dog', 'is a', 'canine'), // repeated: dropped
  t('dog', 'similar to', 'DOG'), // its own subject: dropped
  t('New  York', 'is a', 'city'),
  t('new york city', 'is a', 'city'),
  t('new', 'opposite of', 'old'),
  t('hot dog', 'is a', 'sandwich'),
  t('Pye-Dog', 'is a', 'cur'),
];

describe('KnowledgeGraph', () => {
  const g = KnowledgeGraph.fromTriples(TRIPLES);

  test('keeps facts in order, once, and never the subject as its own object', () => {
    assert.deepEqual(g.facts('dog'), [
      { relation: 'is a', object: 'canine' },
      { relation: 'is a', object: 'pet' },
    ]);
    assert.deepEqual(g.facts('DOG', 1), [{ relation: 'is a', object: 'canine' }]);
    assert.deepEqual(g.facts('new york'), [{ relation: 'is a', object: 'city' }]);
    assert.deepEqual(g.facts('pye - dog'), [{ relation: 'is a', object: 'cur' }]);
    assert.deepEqual(g.facts('cat'), []);
    assert.deepEqual(g.facts('canine'), [], 'an object is not a subject');
    assert.equal(g.subjects, 6);
    assert.equal(g.size, 7);
    assert.equal(g.maxSubjectWords, 3);
    assert.deepEqual(g.relations, ['is a', 'opposite of']);
  });

  test('maxFacts keeps the first facts of each subject', () => {
    const small = KnowledgeGraph.fromTriples(TRIPLES, { maxFacts: 1 });
    assert.deepEqual(small.facts('dog'), [{ relation: 'is a', object: 'canine' }]);
    assert.equal(small.size, 6);
  });

  test('matches the longest subject first, left to right, case-insensitively', () => {
    const words = ['I', 'saw', 'a', 'hot', 'dog', 'in', 'new', 'york', 'city', 'and', 'new', 'york', '.'];
    assert.deepEqual(g.match(words), [
      { start: 3, end: 5, subject: 'hot dog' },
      { start: 6, end: 9, subject: 'new york city' },
      { start: 10, end: 12, subject: 'new york' },
    ]);
    assert.deepEqual(g.match(['new', 'dog']), [
      { start: 0, end: 1, subject: 'new' },
      { start: 1, end: 2, subject: 'dog' },
    ]);
    assert.deepEqual(g.match(['pye', '-', 'dog']), [{ start: 0, end: 3, subject: 'pye - dog' }]);
  });

  test('skip leaves out lone words only; lemmatize tries candidates of a word that is no subject', () => {
    const skip = new Set(['new', 'dog']);
    assert.deepEqual(g.match(['new', 'york', 'new', 'dog'], { skip }), [
      { start: 0, end: 2, subject: 'new york' },
    ]);
    const lemmatize = (w: string) => (w.endsWith('s') ? [w.slice(0, -2), w.slice(0, -1)] : []);
    assert.deepEqual(g.match(['dogs', 'cats'], { lemmatize }), [{ start: 0, end: 1, subject: 'dog' }]);
    assert.deepEqual(g.match(['dogs'], { lemmatize, skip: new Set(['dog']) }), []);
  });

  test('serialises to text and back', () => {
    const text = g.serialize();
    assert.ok(text.startsWith(`${GRAPH_FORMAT}\n`));
    const back = KnowledgeGraph.parse(text);
    assert.equal(back.serialize(), text);
    assert.deepEqual(back.strings, g.strings);
    for (const s of ['dog', 'new york', 'new york city', 'new', 'hot dog', 'pye - dog']) {
      assert.deepEqual(back.facts(s), g.facts(s));
    }
    assert.deepEqual(back.match(['hot', 'dog']), g.match(['hot', 'dog']));
    const meta = KnowledgeGraph.fromTriples(TRIPLES, { meta: { source: 'test' } });
    assert.deepEqual(KnowledgeGraph.parse(meta.serialize()).meta, { source: 'test' });
  });

  test('an empty graph round-trips', () => {
    const empty = new GraphBuilder().build();
    assert.equal(empty.subjects, 0);
    assert.deepEqual(empty.match(['dog']), []);
    assert.equal(KnowledgeGraph.parse(empty.serialize()).size, 0);
  });

  test('bad input is a UserError naming what is wrong', () => {
    assert.throws(() => KnowledgeGraph.fromTriples([t(' ', 'is a', 'x')]), /empty subject/);
    assert.throws(() => KnowledgeGraph.fromTriples([t('x', '', 'y')]), /empty relation/);
    assert.throws(() => KnowledgeGraph.fromTriples([t('x', 'is a', ' \n')]), /empty object/);
    const text = g.serialize();
    assert.throws(
      () => KnowledgeGraph.parse('hello', 'g.kg'),
      (e: unknown) => {
        return e instanceof UserError && /^g\.kg:1: not a knowledge graph/.test(e.message);
      },
    );
    const lines = text.split('\n');
    const dogLine = lines.findIndex((l) => l.startsWith('dog\t'));
    lines[dogLine] = 'dog\t0:99999';
    assert.throws(
      () => KnowledgeGraph.parse(lines.join('\n'), 'g.kg'),
      new RegExp(`g\\.kg:${dogLine + 1}: bad fact`),
    );
    assert.throws(() => KnowledgeGraph.parse(text.slice(0, -5), 'g.kg'), /expected \d+ strings/);
  });
});

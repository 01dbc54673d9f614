/** `minnow explain-tree` and the --knowledge flags end to end (built dist/): the tree printed, one-line errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { failsWith, minnow } from './cli.testkit.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-tree-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('minnow explain-tree and --knowledge', () => {
  const triples = join(tmp, 'facts.tsv');
  writeFileSync(triples, 'subject\tpredicate\tobject\nnew york\tis a\tcity\npizza\tis a\tfood\n');

  test('prints the tree: branches after their anchors, soft positions, segments, the visible matrix', () => {
    const r = minnow('explain-tree', '--knowledge', triples, 'pizza in new york');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.equal(lines[0], '[CLS] pizza {is a food} in new york {is a city} [SEP]');
    const rows = lines
      .filter((l) => /^\s*\d+\s+[[a-z#]/i.test(l))
      .map((l) => l.trim().split(/\s+/).slice(1, 4));
    // token, soft position, segment: branches continue from their anchor; the trunk resumes after it.
    assert.deepEqual(
      rows.map((r) => r.slice(0, 3)),
      [
        ['[CLS]', '0', '0'],
        ['pizza', '1', '0'],
        ['is', '2', '1'],
        ['a', '3', '1'],
        ['food', '4', '1'],
        ['in', '2', '0'],
        ['new', '3', '0'],
        ['york', '4', '0'],
        ['is', '5', '1'],
        ['a', '6', '1'],
        ['city', '7', '1'],
        ['[SEP]', '5', '0'],
      ],
    );
  });

  test('bad input: one clear line each', () => {
    failsWith(minnow('explain-tree', 'a text'), /give exactly one of --model DIR or --knowledge/);
    failsWith(
      minnow('explain-tree', '--knowledge', join(tmp, 'nope.tsv'), 'x'),
      /nope\.tsv: knowledge file not found/,
    );
    failsWith(
      minnow('explain-tree', '--knowledge', 'wordnet', '--relations', 'hypernym,cousin', 'x'),
      /unknown WordNet relation "cousin"/,
    );
    failsWith(
      minnow('explain-tree', '--knowledge', triples, '--relations', 'hypernym', 'x'),
      /--relations: only for --knowledge wordnet/,
    );
    const bad = join(tmp, 'bad.tsv');
    writeFileSync(bad, 'pizza\tis a\tfood\npasta\tis a\n');
    failsWith(minnow('explain-tree', '--knowledge', bad, 'x'), /bad\.tsv:2: /);
    failsWith(
      minnow(
        'finetune',
        '--preset',
        'uno-eelbert',
        '--task',
        'sst2',
        '--data',
        'examples/sst2',
        '--out',
        join(tmp, 'o'),
        '--max-entities',
        '3',
      ),
      /--max-entities: only with --knowledge/,
    );
    failsWith(
      minnow('explain-tree', '--knowledge', triples, '--visible-matrix', 'maybe', 'x'),
      /visible-matrix/,
    );
  });
});

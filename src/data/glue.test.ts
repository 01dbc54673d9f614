/** GLUE readers on small synthetic fixtures for every task layout, plus an optional real-data check. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { GLUE_TASK_NAMES, GLUE_TASKS, glueTask, readGlue } from './glue.js';

const dir = mkdtempSync(join(tmpdir(), 'minnow-glue-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Write a fixture file (rows joined with `\n`, final newline unless `eol` says otherwise). */
function fixture(name: string, rows: string[], eol = '\n', finalNewline = true): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, rows.join(eol) + (finalNewline ? eol : ''));
  return path;
}

const tsv = (...cols: string[]) => cols.join('\t');

/** Assert that `fn` throws a UserError whose message matches every pattern. */
function throwsUser(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    for (const p of patterns) assert.match(e.message, p);
    assert.ok(!/[\r\n]/.test(e.message), 'message is one line');
    return true;
  });
}

test('task table: names, aliases and label order of the HF/BERT processors', () => {
  assert.deepEqual(GLUE_TASK_NAMES, [
    'cola',
    'sst2',
    'mrpc',
    'stsb',
    'qqp',
    'mnli',
    'mnli-mm',
    'qnli',
    'rte',
    'wnli',
  ]);
  for (const [alias, name] of [
    ['SST-2', 'sst2'],
    ['sst-2', 'sst2'],
    ['STS-B', 'stsb'],
    ['sts_b', 'stsb'],
    ['CoLA', 'cola'],
    ['MNLI', 'mnli'],
    ['MNLI-m', 'mnli'],
    ['mnli-matched', 'mnli'],
    ['MNLI-mm', 'mnli-mm'],
    ['mnli_mismatched', 'mnli-mm'],
    ['Rte', 'rte'],
  ]) {
    assert.equal(glueTask(alias).name, name, alias);
  }
  assert.deepEqual(GLUE_TASKS.cola.labels, ['0', '1']);
  assert.deepEqual(GLUE_TASKS.sst2.labels, ['0', '1']);
  assert.deepEqual(GLUE_TASKS.mrpc.labels, ['0', '1']);
  assert.deepEqual(GLUE_TASKS.qqp.labels, ['0', '1']);
  assert.deepEqual(GLUE_TASKS.wnli.labels, ['0', '1']);
  assert.deepEqual(GLUE_TASKS.mnli.labels, ['contradiction', 'entailment', 'neutral']);
  assert.deepEqual(GLUE_TASKS['mnli-mm'].labels, ['contradiction', 'entailment', 'neutral']);
  assert.deepEqual(GLUE_TASKS.qnli.labels, ['entailment', 'not_entailment']);
  assert.deepEqual(GLUE_TASKS.rte.labels, ['entailment', 'not_entailment']);
  assert.equal(GLUE_TASKS.stsb.labels, null);
  assert.deepEqual(GLUE_TASKS.cola.metrics, ['mcc']);
  assert.deepEqual(GLUE_TASKS.mrpc.metrics, ['f1', 'accuracy']);
  assert.deepEqual(GLUE_TASKS.stsb.metrics, ['pearson', 'spearman']);
  assert.equal(GLUE_TASKS.mnli.files.dev, 'dev_matched.tsv');
  assert.equal(GLUE_TASKS['mnli-mm'].files.dev, 'dev_mismatched.tsv');
  assert.equal(GLUE_TASKS.rte.files.dev, 'dev.tsv');
});

test('unknown task name lists the valid names', () => {
  throwsUser(
    () => glueTask('squad'),
    /unknown GLUE task "squad"/,
    /valid: cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli/,
  );
});

test('SST-2: header sentence/label, quotes are data', () => {
  const f = fixture('sst2.tsv', [
    tsv('sentence', 'label'),
    tsv("it 's a charming journey . ", '1'),
    tsv('"quoted start and a lone " in the middle', '0'),
    tsv('he said "bleak" , twice', '0'),
  ]);
  const d = readGlue('SST-2', f);
  assert.equal(d.task, 'sst2');
  assert.deepEqual(d.examples, [
    { text: "it 's a charming journey . ", label: 1, line: 2 },
    { text: '"quoted start and a lone " in the middle', label: 0, line: 3 },
    { text: 'he said "bleak" , twice', label: 0, line: 4 },
  ]);
  assert.deepEqual(d.skipped, []);
});

test('CoLA: no header, 4 columns, no final newline; test file has a header', () => {
  const f = fixture(
    'CoLA/dev.tsv',
    [
      tsv('gj04', '1', '', 'The sailors rode the breeze.'),
      tsv('gj04', '0', '*', 'The rope stretched "over".'),
    ],
    '\n',
    false,
  );
  const d = readGlue('cola', join(dir, 'CoLA'), { split: 'dev' });
  assert.equal(d.file, f);
  assert.deepEqual(d.examples, [
    { text: 'The sailors rode the breeze.', label: 1, line: 1 },
    { text: 'The rope stretched "over".', label: 0, line: 2 },
  ]);
  fixture('CoLA/test.tsv', [tsv('index', 'sentence'), tsv('0', 'Bill whistled past the house.')]);
  const t = readGlue('cola', join(dir, 'CoLA'), { split: 'test' });
  assert.equal(t.examples.length, 1);
  assert.equal(t.examples[0].text, 'Bill whistled past the house.');
  assert.ok(Number.isNaN(t.examples[0].label));
});

test('MRPC: header with a UTF-8 BOM, sentence pairs, label in the Quality column', () => {
  const f = fixture('mrpc.tsv', [
    tsv('\ufeffQuality', '#1 ID', '#2 ID', '#1 String', '#2 String'),
    tsv(
      '1',
      '702876',
      '702977',
      'Amrozi accused his brother, "the witness".',
      'Referring to him as "the witness".',
    ),
    tsv('0', '2108705', '2108831', 'Yucaipa owned it.', 'Yucaipa bought it.'),
  ]);
  const d = readGlue('mrpc', f);
  assert.deepEqual(d.examples[0], {
    text: 'Amrozi accused his brother, "the witness".',
    pair: 'Referring to him as "the witness".',
    label: 1,
    line: 2,
  });
  assert.equal(d.examples[1].label, 0);
  // The test file has `index` instead of Quality: read it without labels.
  const t = fixture('mrpc-test.tsv', [
    tsv('index', '#1 ID', '#2 ID', '#1 String', '#2 String'),
    tsv('0', '1', '2', 'a', 'b'),
  ]);
  assert.deepEqual(readGlue('mrpc', t, { labels: false }).examples[0].pair, 'b');
  throwsUser(() => readGlue('mrpc', t), /mrpc-test\.tsv:1: no column "Quality"/, /pass \{ labels: false \}/);
});

test('STS-B: 10 columns, float score in the last', () => {
  const head = tsv(
    'index',
    'genre',
    'filename',
    'year',
    'old_index',
    'source1',
    'source2',
    'sentence1',
    'sentence2',
    'score',
  );
  const f = fixture('stsb.tsv', [
    head,
    tsv(
      '0',
      'main-captions',
      'MSRvid',
      '2012test',
      '0001',
      'none',
      'none',
      'A plane is taking off.',
      'An air plane is taking off.',
      '5.000',
    ),
    tsv(
      '1',
      'main-captions',
      'MSRvid',
      '2012test',
      '0004',
      'none',
      'none',
      'A man plays a flute.',
      'A man plays.',
      '3.800',
    ),
  ]);
  const d = readGlue('STS-B', f);
  assert.equal(d.labels, null);
  assert.deepEqual(
    d.examples.map((e) => [e.text, e.pair, e.label]),
    [
      ['A plane is taking off.', 'An air plane is taking off.', 5],
      ['A man plays a flute.', 'A man plays.', 3.8],
    ],
  );
  const bad = fixture('stsb-bad.tsv', [head, tsv('0', 'g', 'f', 'y', 'o', 's', 's', 'a', 'b', 'high')]);
  throwsUser(() => readGlue('stsb', bad), /stsb-bad\.tsv:2: field "score": not a number: "high"/);
});

test('QQP: id qid1 qid2 question1 question2 is_duplicate', () => {
  const f = fixture('QQP/train.tsv', [
    tsv('id', 'qid1', 'qid2', 'question1', 'question2', 'is_duplicate'),
    tsv(
      '133273',
      '213221',
      '213222',
      'How is the life of a math student?',
      'Which level of math is "hard"?',
      '0',
    ),
    tsv(
      '402555',
      '536040',
      '536041',
      'How do I control my horny emotions?',
      'How do you control your horniness?',
      '1',
    ),
  ]);
  const d = readGlue('qqp', f);
  assert.deepEqual(d.examples[0], {
    text: 'How is the life of a math student?',
    pair: 'Which level of math is "hard"?',
    label: 0,
    line: 2,
  });
  assert.equal(d.examples[1].label, 1);
});

test('MNLI: label is the last column (gold_label); matched and mismatched dev files', () => {
  const parses = ['( a )', '( b )', '(ROOT a)', '(ROOT b)'];
  fixture('MNLI/train.tsv', [
    tsv(
      'index',
      'promptID',
      'pairID',
      'genre',
      'sentence1_binary_parse',
      'sentence2_binary_parse',
      'sentence1_parse',
      'sentence2_parse',
      'sentence1',
      'sentence2',
      'label1',
      'gold_label',
    ),
    tsv(
      '0',
      '31193',
      '31193n',
      'government',
      ...parses,
      'Conceptually cream skimming.',
      'Product and geography.',
      'neutral',
      'neutral',
    ),
    tsv(
      '1',
      '101457',
      '101457e',
      'telephone',
      ...parses,
      'you know during the season',
      'You lose the things.',
      'entailment',
      'entailment',
    ),
    tsv(
      '2',
      '134793',
      '134793e',
      'fiction',
      ...parses,
      'One of our number',
      'A member of my team',
      'contradiction',
      'contradiction',
    ),
  ]);
  const devHead = tsv(
    'index',
    'promptID',
    'pairID',
    'genre',
    'sentence1_binary_parse',
    'sentence2_binary_parse',
    'sentence1_parse',
    'sentence2_parse',
    'sentence1',
    'sentence2',
    'label1',
    'label2',
    'label3',
    'label4',
    'label5',
    'gold_label',
  );
  // label1 says neutral but the gold label (last column) is contradiction.
  fixture('MNLI/dev_matched.tsv', [
    devHead,
    tsv(
      '0',
      '63735',
      '63735n',
      'slate',
      ...parses,
      'The new rights',
      'Everyone loves them.',
      'neutral',
      'contradiction',
      'contradiction',
      'neutral',
      'contradiction',
      'contradiction',
    ),
  ]);
  fixture('MNLI/dev_mismatched.tsv', [
    devHead,
    tsv(
      '0',
      '75290',
      '75290c',
      'letters',
      ...parses,
      'Your contribution helped.',
      'It did not help.',
      'contradiction',
      'contradiction',
      'contradiction',
      'contradiction',
      'contradiction',
      'entailment',
    ),
  ]);
  const train = readGlue('mnli', join(dir, 'MNLI'));
  assert.deepEqual(
    train.examples.map((e) => e.label),
    [2, 1, 0], // contradiction 0, entailment 1, neutral 2
  );
  assert.equal(train.examples[0].text, 'Conceptually cream skimming.');
  assert.equal(train.examples[0].pair, 'Product and geography.');
  // From the GLUE root folder: <root>/MNLI/dev_matched.tsv.
  const m = readGlue('MNLI-m', dir, { split: 'dev' });
  assert.equal(m.file, join(dir, 'MNLI', 'dev_matched.tsv'));
  assert.deepEqual(m.examples[0], {
    text: 'The new rights',
    pair: 'Everyone loves them.',
    label: 0,
    line: 2,
  });
  const mm = readGlue('MNLI-mm', join(dir, 'MNLI'), { split: 'dev' });
  assert.equal(mm.task, 'mnli-mm');
  assert.equal(mm.file, join(dir, 'MNLI', 'dev_mismatched.tsv'));
  assert.equal(mm.examples[0].label, 1);
});

test('QNLI: index question sentence label', () => {
  const f = fixture('qnli.tsv', [
    tsv('index', 'question', 'sentence', 'label'),
    tsv(
      '0',
      'What came into force after the new constitution?',
      'As of that day, the new constitution "entered".',
      'entailment',
    ),
    tsv(
      '1',
      'What is the first major city?',
      'The most important tributaries are the Tisza.',
      'not_entailment',
    ),
  ]);
  const d = readGlue('qnli', f);
  assert.deepEqual(d.labels, ['entailment', 'not_entailment']);
  assert.deepEqual(
    d.examples.map((e) => [e.text.slice(0, 8), e.pair?.slice(0, 8), e.label]),
    [
      ['What cam', 'As of th', 0],
      ['What is ', 'The most', 1],
    ],
  );
});

test('RTE: entailment/not_entailment with CRLF line endings', () => {
  const f = fixture(
    'rte.tsv',
    [
      tsv('index', 'sentence1', 'sentence2', 'label'),
      tsv('0', 'No Weapons of Mass Destruction Found in Iraq Yet.', 'Weapons Found.', 'not_entailment'),
      tsv('1', 'A place of sorrow.', 'Pope Benedict XVI is the new leader.', 'entailment'),
    ],
    '\r\n',
  );
  const d = readGlue('rte', f);
  assert.deepEqual(
    d.examples.map((e) => [e.pair, e.label, e.line]),
    [
      ['Weapons Found.', 1, 2],
      ['Pope Benedict XVI is the new leader.', 0, 3],
    ],
  );
});

test('WNLI: index sentence1 sentence2 label; directory + split; blank lines ignored', () => {
  fixture('WNLI/train.tsv', [
    tsv('index', 'sentence1', 'sentence2', 'label'),
    tsv('0', 'I stuck a pin through a carrot.', 'The carrot had a hole.', '1'),
    '',
    tsv('1', 'John could not see the stage.', 'John is so short.', '0'),
  ]);
  const d = readGlue('wnli', join(dir, 'WNLI'));
  assert.deepEqual(
    d.examples.map((e) => [e.label, e.line]),
    [
      [1, 2],
      [0, 4],
    ],
  );
});

test('bad rows throw one-line UserErrors with file:line', () => {
  const head = tsv('index', 'sentence1', 'sentence2', 'label');
  const cases: [string, string, RegExp][] = [
    [
      'bad-label.tsv',
      tsv('0', 'a', 'b', 'foo'),
      /bad-label\.tsv:2: field "label": unknown label "foo" \(expected one of entailment, not_entailment\)/,
    ],
    ['bad-cols.tsv', tsv('0', 'a', 'b'), /bad-cols\.tsv:2: row has 3 tab-separated columns, expected 4/],
    ['bad-empty.tsv', tsv('0', '  ', 'b', 'entailment'), /bad-empty\.tsv:2: field "sentence1": empty text/],
    ['bad-pair.tsv', tsv('0', 'a', '', 'entailment'), /bad-pair\.tsv:2: field "sentence2": empty text/],
  ];
  for (const [name, row, pattern] of cases) {
    const f = fixture(name, [head, row]);
    throwsUser(() => readGlue('rte', f), pattern);
  }
  const cola = fixture('cola-bad.tsv', [tsv('gj04', '1', '', 'Fine.'), tsv('gj04', '2', '', 'Not fine.')]);
  throwsUser(
    () => readGlue('cola', cola),
    /cola-bad\.tsv:2: field "label": unknown label "2" \(expected one of 0, 1\)/,
  );
  const sst = fixture('sst-bad.tsv', [tsv('sentence', 'label'), 'no tab here']);
  throwsUser(() => readGlue('sst2', sst), /sst-bad\.tsv:2: row has 1 tab-separated columns, expected 2/);
});

test('a CR inside a header name is escaped in the one-line message (fuzz regression)', () => {
  const f = fixture('cr-head.tsv', ['sen\rtence\tlabel', tsv('a', '1')]);
  throwsUser(
    () => readGlue('sst2', f),
    /cr-head\.tsv:1: no column "sentence" in the header \(columns: sen\\rtence, label\)/,
  );
});

test("onBadRow: 'skip' drops bad rows and records line and reason", () => {
  const f = fixture('skip.tsv', [
    tsv('index', 'sentence1', 'sentence2', 'label'),
    tsv('0', 'a', 'b', 'entailment'),
    tsv('1', 'a', 'b', 'maybe'),
    tsv('2', 'a', 'b'),
    tsv('3', 'c', 'd', 'not_entailment'),
  ]);
  const d = readGlue('rte', f, { onBadRow: 'skip' });
  assert.deepEqual(
    d.examples.map((e) => e.line),
    [2, 5],
  );
  assert.deepEqual(d.skipped, [
    { line: 3, reason: 'field "label": unknown label "maybe" (expected one of entailment, not_entailment)' },
    { line: 4, reason: 'row has 3 tab-separated columns, expected 4' },
  ]);
});

test('missing file or split names the path', () => {
  throwsUser(() => readGlue('rte', join(dir, 'nope.tsv')), /nope\.tsv: no such file or directory/);
  throwsUser(
    () => readGlue('rte', join(dir, 'WNLI'), { split: 'dev' }),
    /no GLUE RTE dev file: looked for .*WNLI\/dev\.tsv and .*WNLI\/RTE\/dev\.tsv/,
  );
});

test('empty file gives no examples', () => {
  assert.deepEqual(readGlue('sst2', fixture('empty.tsv', [], '\n', false)).examples, []);
});

// Optional: the real shared GLUE files, when present (not on users' machines or CI).
const shared = new URL('../../../shared/data/glue', import.meta.url).pathname;
test(
  'real GLUE files: train/dev row counts match the README',
  {
    skip: !existsSync(shared) && 'no shared GLUE data',
  },
  () => {
    const counts: [string, number, number][] = [
      ['sst2', 67349, 872],
      ['cola', 8551, 1043],
      ['mrpc', 3668, 408],
      ['rte', 2490, 277],
      ['stsb', 5749, 1500],
      ['wnli', 635, 71],
    ];
    for (const [task, train, dev] of counts) {
      const t = readGlue(task, shared, { split: 'train' });
      const d = readGlue(task, shared, { split: 'dev' });
      assert.deepEqual(
        [task, t.examples.length, d.examples.length, t.skipped.length + d.skipped.length],
        [task, train, dev, 0],
      );
      const test = readGlue(task, shared, { split: 'test' });
      assert.ok(test.examples.length > 0 && test.examples.every((e) => Number.isNaN(e.label)));
    }
  },
);

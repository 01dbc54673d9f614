/**
 * TinyBERT data augmentation: the algorithm with a fake candidate function (p = 0 and p = 1, multi-piece
 * words, forbidden candidates, seeds, pairs, labels, chunking), the teacher's top-K against a brute-force
 * computation, and the command end to end on tiny GLUE and CSV data with a random-initialised teacher.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { augment } from './augment-task.js';
import { wordnetSynonyms } from '../knowledge/load.js';
import type { Example } from '../data/tabular.js';
import * as o from '../graph/ops.js';
import { bertInputs, encoder, mlmHead } from '../model/bert.js';
import { Dropout } from '../runtime/dropout.js';
import { smallPreset } from '../model/config.testkit.js';
import { createModel, loadModel, type Model, saveModel } from '../model/io.js';
import type { Tensor } from '../runtime/session.js';
import { readTask } from '../data/task.js';
import { Forward } from '../runtime/forward.js';
import { Rng } from '../util/rng.js';
import {
  type AugmentOptions,
  augmentExamples,
  type CandidateFn,
  type Copy,
  matchCase,
  type MaskQuery,
  replacementMask,
  teacherCandidates,
  type WordCandidateFn,
  wordSpans,
} from './augment.js';
import { readVocabFile } from '../text/vocab-file.js';

const VOCAB = 'assets/bert-base-uncased-vocab.txt';
const tok = readVocabFile(VOCAB);
const id = (t: string) => tok.idOf(t)!;
const tmp = mkdtempSync(join(tmpdir(), 'minnow-augment-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Words a copy may use: the fake teacher's allowed answers. */
const GOOD = ['red', 'blue', 'green', 'yellow'];
/** Forbidden answers the fake teacher puts first; the algorithm must skip them. */
const BAD = ['[UNK]', '[PAD]', '[MASK]', '[CLS]', '[SEP]', '[unused0]', '##ing', '##s', ',', '123'];

/** A fake teacher: forbidden tokens, then GOOD; records every query it is asked. */
function fakeTeacher(): { fn: CandidateFn; queries: MaskQuery[] } {
  const queries: MaskQuery[] = [];
  const fn: CandidateFn = async (qs) => {
    queries.push(...qs);
    return qs.map(() => [...BAD, ...GOOD].map(id));
  };
  return { fn, queries };
}

async function run(
  examples: Example[],
  opts: Partial<AugmentOptions> = {},
  fn: CandidateFn | null = fakeTeacher().fn, // null: no masked LM
  words?: WordCandidateFn,
) {
  const out: Copy[][] = [];
  const stats = await augmentExamples(
    tok,
    examples,
    { mlm: fn ?? undefined, words },
    { k: 15, p: 0.4, n: 5, seed: 0, maxLength: 128, ...opts },
    (i, ex, copies) => {
      assert.equal(i, out.length, 'emitted in order');
      assert.equal(ex, examples[i]);
      out.push(copies);
    },
  );
  return { out, stats };
}

const ex = (text: string, label = 1, pair?: string, line = 2): Example =>
  pair === undefined ? { text, label, line } : { text, pair, label, line };

// "secretions" is secret ##ions and "snorkeling" four pieces; the other words are one piece each.
const SENTENCE = 'Hide new secretions from the parental units, REALLY snorkeling!';

describe('augment: the algorithm', () => {
  test('the test words have the piece counts the tests assume', () => {
    assert.deepEqual(tok.tokenize('secretions'), ['secret', '##ions']);
    assert.equal(tok.tokenize('snorkeling').length, 4);
    for (const w of ['hide', 'new', 'from', 'the', 'parental', 'units', 'really'])
      assert.equal(tok.tokenize(w).length, 1, w);
  });

  test('word spans follow the tokenizer and keep the original offsets', () => {
    const text = 'Great movie, REALLY good! [SEP] 1990 Café\tsecretions 中文';
    const spans = wordSpans(tok, text);
    assert.deepEqual(
      spans.map((s) => s.word),
      tok.basicTokenize(text),
    );
    assert.deepEqual(
      spans.map((s) => text.slice(s.start, s.end)),
      ['Great', 'movie', ',', 'REALLY', 'good', '!', '[SEP]', '1990', 'Café', 'secretions', '中', '文'],
    );
    assert.deepEqual(
      spans.map((s) => s.kind),
      [
        'single',
        'single',
        'other',
        'single',
        'single',
        'other',
        'special',
        'other',
        'single',
        'multi',
        'single',
        'single',
      ],
    );
  });

  test('p = 0: every copy is identical to the input', async () => {
    const input = [ex(SENTENCE, 0), ex('a warm , charming delight', 1, 'and a pair', 3)];
    const { out, stats } = await run(input, { p: 0, n: 4 });
    for (let i = 0; i < input.length; i++) {
      assert.equal(out[i].length, 4);
      for (const c of out[i]) assert.deepEqual(c, input[i]);
    }
    assert.equal(stats.copies, 8);
    assert.equal(stats.wordsReplaced, 0);
  });

  test('p = 1: every single-piece word is replaced, multi-piece words and punctuation untouched', async () => {
    const { out, stats } = await run([ex(SENTENCE)], { p: 1, n: 6 });
    const orig = wordSpans(tok, SENTENCE);
    for (const c of out[0]) {
      const got = wordSpans(tok, c.text);
      assert.equal(got.length, orig.length, c.text);
      orig.forEach((w, i) => {
        if (w.kind === 'single') assert.ok(GOOD.includes(got[i].word), `${w.word} -> ${got[i].word}`);
        else assert.equal(got[i].word, w.word);
      });
      // Case kept: Hide -> Red/..., REALLY -> RED/...; separators kept byte for byte.
      assert.match(c.text, /^[A-Z][a-z]+ [a-z]+ secretions [a-z]+ [a-z]+ [a-z]+ [a-z]+, [A-Z]+ snorkeling!$/);
    }
    assert.equal(stats.singlePieceWords, 7);
    assert.equal(stats.multiPieceWords, 2);
    assert.equal(stats.words, 9);
    assert.equal(stats.wordsReplaced, 7 * 6);
    assert.equal(stats.forwards, 7);
  });

  test('never a special token, a ## piece, punctuation or a number as a replacement; at most K candidates', async () => {
    const { out } = await run([ex(SENTENCE), ex('one two three four five six seven eight')], {
      p: 1,
      n: 20,
      k: 2,
    });
    const used = new Set<string>();
    for (const copies of out)
      for (const c of copies) {
        assert.doesNotMatch(c.text, /\[|##|123/);
        for (const w of wordSpans(tok, c.text)) used.add(w.word);
      }
    // K = 2: only the first two allowed candidates ever appear.
    assert.ok(used.has('red') && used.has('blue'));
    assert.ok(!used.has('green') && !used.has('yellow'));
  });

  test('a candidate equal to the word leaves it unchanged and is not counted', async () => {
    const fn: CandidateFn = async (qs) => qs.map(() => [id('the')]);
    const { out, stats } = await run([ex('the the the')], { p: 1, n: 3 }, fn);
    for (const c of out[0]) assert.equal(c.text, 'the the the');
    assert.equal(stats.wordsReplaced, 0);
  });

  test('same seed, same copies; another seed, other copies; chunking does not matter', async () => {
    const input = Array.from({ length: 12 }, (_, i) => ex(`${SENTENCE} number ${i} was good`, i % 2));
    const a = await run(input, { seed: 7 });
    const b = await run(input, { seed: 7, chunkForwards: 1 });
    const c = await run(input, { seed: 8 });
    assert.deepEqual(a.out, b.out);
    assert.notDeepEqual(a.out, c.out);
    // About p of the words change.
    const rate = a.stats.wordsReplaced / (a.stats.singlePieceWords * 5);
    assert.ok(rate > 0.25 && rate < 0.55, `replacement rate ${rate}`);
  });

  test('pairs: both texts change, labels and lines are kept', async () => {
    const input = [ex('the cat sat on the mat', 2, 'a dog ran in the park', 5), ex('good', 0, 'bad', 6)];
    const { out } = await run(input, { p: 1, n: 3 });
    out.forEach((copies, i) =>
      copies.forEach((c) => {
        assert.equal(c.label, input[i].label);
        assert.equal(c.line, input[i].line);
        assert.ok(c.pair !== undefined);
        for (const w of wordSpans(tok, c.text)) assert.ok(GOOD.includes(w.word), c.text);
        for (const w of wordSpans(tok, c.pair!)) assert.ok(GOOD.includes(w.word), c.pair);
      }),
    );
  });

  test('teacher inputs: TinyBERT layout by default, the example layout on request; duplicates asked once', async () => {
    const t = fakeTeacher();
    const { stats } = await run([ex('good film'), ex('good film'), ex('bad', 0, 'film')], { p: 0 }, t.fn);
    // [CLS] [MASK] film [SEP] good film [SEP], then good [MASK] ...: the two equal examples share queries.
    assert.equal(stats.forwards, 2 + 2);
    assert.equal(stats.predictedWords, 6);
    const [q0] = t.queries;
    assert.deepEqual(
      Array.from(q0.ids),
      ['[CLS]', '[MASK]', 'film', '[SEP]', 'good', 'film', '[SEP]'].map(id),
    );
    assert.deepEqual(Array.from(q0.types), [0, 0, 0, 0, 1, 1, 1]);
    assert.equal(q0.position, 1);
    const e = fakeTeacher();
    await run([ex('bad', 0, 'film')], { p: 0, context: 'example' }, e.fn);
    assert.deepEqual(
      e.queries.map((q) => [Array.from(q.ids), Array.from(q.types), q.position]),
      [
        [['[CLS]', '[MASK]', '[SEP]', 'film', '[SEP]'].map(id), [0, 0, 0, 1, 1], 1],
        [['[CLS]', 'bad', '[SEP]', '[MASK]', '[SEP]'].map(id), [0, 0, 0, 1, 1], 3],
      ],
    );
  });

  test('words beyond the length limit are kept and counted', async () => {
    const { out, stats } = await run([ex('one two three four five six')], { p: 1, n: 2, maxLength: 5 });
    // TinyBERT layout with 5 tokens: [CLS] one two three [SEP]: three words predicted, three beyond.
    assert.equal(stats.predictedWords, 3);
    assert.equal(stats.truncatedWords, 3);
    for (const c of out[0]) assert.match(c.text, / four five six$/);
  });

  test('case matching', () => {
    assert.equal(matchCase('Great', 'good'), 'Good');
    assert.equal(matchCase('GREAT', 'good'), 'GOOD');
    assert.equal(matchCase('great', 'good'), 'good');
    assert.equal(matchCase('A', 'good'), 'Good');
  });
});

// ---------------------------------------------------------------------------------------- teacher

const tiny = smallPreset('bert-tiny', { num_hidden_layers: 1 });

describe('augment: the teacher', () => {
  let m: Model;
  const teacherDir = join(tmp, 'teacher');
  before(() => {
    m = createModel(structuredClone(tiny), VOCAB, new Rng(3), { mlm: true });
    // Random heads are nearly flat: scale the (tied) word table so that the logits depend strongly on
    // the hidden row at the masked position and the top K are well separated.
    const table = m.store.get('bert.embeddings.word_embeddings.weight').data;
    for (let i = 0; i < table.length; i++) table[i] *= 50;
    // And the attention and feed-forward weights, so that the context moves the prediction.
    for (const p of m.store.params)
      if (p.name.startsWith('bert.encoder.') && p.name.endsWith('dense.weight'))
        for (let i = 0; i < p.data.length; i++) p.data[i] *= 20;
    saveModel(teacherDir, m);
  });

  test('top K at the masked position equals a brute-force top K over the allowed vocabulary', async () => {
    const queries: MaskQuery[] = [
      ex('the cat sat on the mat'),
      ex('good', 0, 'a longer second text here'),
      ex('a'),
      ex('stale and flat , really'),
    ].flatMap((e, i) => {
      const { ids, typeIds: types } = tok.encode(e.text, e.pair);
      const position = i === 1 ? 4 : 1 + (i % 2); // a word; for the pair, one in the second text
      ids[position] = tok.maskId;
      return [{ ids: Int32Array.from(ids), types: Int32Array.from(types), position }];
    });
    const k = 6;
    const t = await teacherCandidates(m, { k, batchSize: 3, threads: 1 });
    const got = await t.candidates(queries);
    await t.release();
    // Reference: the head's hidden row for one query at a time, logits in JS.
    const ref = await Forward.create(
      (g, w) => {
        const out = encoder(w, m.config, bertInputs(g), new Dropout(false));
        const { h, table, bias } = mlmHead(w, m.config, out, g.input('mlm_positions', 'int64', ['M']));
        return { h, table: o.identity(table), bias: o.identity(bias) };
      },
      m.store,
      { threads: 1 },
    );
    const allowed = replacementMask(tok);
    for (let q = 0; q < queries.length; q++) {
      const x = queries[q];
      const T = x.ids.length;
      const r = await ref.run(
        {
          input_ids: BigInt64Array.from(x.ids, BigInt),
          token_type_ids: BigInt64Array.from(x.types, BigInt),
          position_ids: BigInt64Array.from({ length: T }, (_, i) => BigInt(i)),
          attention_mask: new BigInt64Array(T).fill(1n),
          mlm_positions: BigInt64Array.from([BigInt(x.position)]),
        },
        { B: 1, T, M: 1 },
      );
      const h = (r.h as Tensor).data as Float32Array;
      const table = (r.table as Tensor).data as Float32Array;
      const bias = (r.bias as Tensor).data as Float32Array;
      const H = h.length;
      const logits = Array.from(bias, (b, v) => {
        let s = b;
        for (let j = 0; j < H; j++) s += h[j] * table[v * H + j];
        return s;
      });
      const best = logits
        .map((l, v) => [l, v])
        .filter(([, v]) => allowed[v])
        .sort((a, b) => b[0] - a[0])
        .slice(0, k)
        .map(([, v]) => v);
      assert.deepEqual(Array.from(got[q]), best, `query ${q}`);
    }
    await ref.release();
  });

  test('end to end on GLUE SST-2 data: N + 1 times the examples, read back by readTask, dev copied', async () => {
    const out = join(tmp, 'sst2');
    const opts = {
      k: 5,
      p: 0.4,
      n: 3,
      maxLength: 64,
      context: 'tinybert' as const,
      batchSize: 16,
      seed: 1,
      threads: 1,
    };
    const src = { task: 'sst2', data: join('test', 'fixtures', 'glue-mini') };
    const r = await augment(teacherDir, src, out, opts);
    const before = readTask(src, 'train').examples;
    const after = readTask({ task: 'sst2', data: out }, 'train').examples;
    assert.equal(after.length, before.length * 4);
    assert.equal(r.rows, after.length);
    assert.equal(r.copies, before.length * 3);
    assert.ok(r.wordsReplaced > 0);
    before.forEach((e, i) => {
      assert.equal(after[4 * i].text, e.text, 'the original comes first');
      for (let c = 0; c < 4; c++) assert.equal(after[4 * i + c].label, e.label);
    });
    assert.ok(after.some((e, i) => e.text !== before[Math.floor(i / 4)].text));
    assert.equal(
      readFileSync(join(out, 'dev.tsv'), 'utf8'),
      readFileSync(join('test', 'fixtures', 'glue-mini', 'dev.tsv'), 'utf8'),
    );
    assert.equal(readTask({ task: 'sst2', data: out }, 'dev').examples.length, 32);
    // Reproducible: the same command writes the same file.
    const again = join(tmp, 'sst2-again');
    await augment(teacherDir, src, again, opts);
    assert.equal(
      readFileSync(join(again, 'train.tsv'), 'utf8'),
      readFileSync(join(out, 'train.tsv'), 'utf8'),
    );
  });

  test('end to end on a GLUE pair task (RTE layout) and on own CSV data with quotes', async () => {
    const opts = {
      k: 5,
      p: 0.5,
      n: 2,
      maxLength: 64,
      context: 'example' as const,
      batchSize: 8,
      seed: 0,
      threads: 1,
    };
    const rte = { task: 'rte', data: join('test', 'fixtures', 'glue-mini-rte') };
    const r = await augment(teacherDir, rte, join(tmp, 'rte'), opts);
    const before = readTask(rte, 'train').examples;
    const after = readTask({ task: 'rte', data: join(tmp, 'rte') }, 'train').examples;
    assert.equal(after.length, before.length * 3);
    assert.deepEqual(r.devFiles, [join(tmp, 'rte', 'dev.tsv')]);
    assert.ok(
      after.some((e, i) => e.pair !== before[Math.floor(i / 3)].pair),
      'second texts change too',
    );
    after.forEach((e, i) => assert.equal(e.label, before[Math.floor(i / 3)].label));

    const csv = join(tmp, 'own.csv');
    writeFileSync(
      csv,
      'id,review,other,stars\n1,"A fine, quiet film with ""heart""",x,good\n2,Dull and slow from start to end,y,bad\n',
    );
    const own = { task: 'reviews', data: csv, textColumn: 'review', labelColumn: 'stars' };
    const r2 = await augment(teacherDir, own, join(tmp, 'own'), { ...opts, context: 'tinybert', p: 1 });
    assert.equal(r2.file, join(tmp, 'own', 'own.csv'));
    const back = readTask({ ...own, data: r2.file }, 'train');
    assert.equal(back.examples.length, 6);
    assert.deepEqual(back.labels, ['bad', 'good']);
    assert.deepEqual(
      back.examples.map((e) => e.label),
      [1, 1, 1, 0, 0, 0],
    );
    assert.equal(back.examples[0].text, 'A fine, quiet film with "heart"');
    assert.match(back.examples[1].text, /^\S+ \S+, \S+ \S+ \S+ "\S+"$/, 'punctuation and quotes kept');
    assert.notEqual(back.examples[1].text, back.examples[0].text);
    const lines = readFileSync(r2.file, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'id,review,other,stars');
    assert.match(lines[1], /^1,"A fine, quiet film with ""heart""",x,good$/);
  });
});

describe('augment: a thesaurus (--synonyms)', () => {
  /** A fake thesaurus: for `film` and `unwatchable`, forbidden entries first, then allowed ones. */
  const asked: string[] = [];
  const thesaurus: WordCandidateFn = (w) => {
    asked.push(w);
    if (w === 'film') return ['film', 'ice cream', '##x', '[UNK]', '42', 'well-made', 'movie', 'flick'];
    if (w === 'unwatchable') return ['tedious', 'unwatchable', 'dull'];
    return [];
  };

  test('alone: every word it knows, one piece or several, becomes one of its allowed first K entries', async () => {
    asked.length = 0;
    const { out, stats } = await run(
      [ex('An unwatchable FILM , and a film')],
      { p: 1, n: 40, k: 8 },
      null,
      thesaurus,
    );
    const seen = new Set<string>();
    for (const c of out[0]) {
      const m = /^An (\S+) (\S+) , and a (\S+)$/.exec(c.text);
      assert.ok(m, c.text);
      assert.ok(['tedious', 'dull'].includes(m[1]), m[1]);
      assert.ok(['MOVIE', 'FLICK'].includes(m[2]), `case kept: ${m[2]}`);
      assert.ok(['movie', 'flick'].includes(m[3]), m[3]);
      seen.add(m[3]);
    }
    assert.deepEqual([...seen].sort(), ['flick', 'movie'], 'drawn uniformly among the allowed entries');
    assert.equal(stats.thesaurusWords, 3);
    assert.equal(stats.predictedWords, 0);
    assert.equal(stats.forwards, 0);
    assert.deepEqual(
      [...new Set(asked)].sort(),
      ['a', 'an', 'and', 'film', 'unwatchable'],
      'asked once per word',
    );
    assert.equal(asked.length, 5, 'each distinct word asked once');
    // K cuts the allowed list: with K 1, only the first allowed entry.
    const one = await run([ex('a film')], { p: 1, n: 5, k: 1 }, null, thesaurus);
    assert.deepEqual(
      one.out[0].map((c) => c.text),
      Array(5).fill('a movie'),
    );
  });

  test('beside the masked LM: the LM takes words of one piece, the thesaurus only words of several', async () => {
    const t = fakeTeacher();
    asked.length = 0;
    const { out, stats } = await run([ex('an unwatchable film')], { p: 1, n: 20 }, t.fn, thesaurus);
    assert.deepEqual([...new Set(asked)], ['unwatchable'], 'single-piece words never go to the thesaurus');
    assert.equal(t.queries.length, 2, 'an, film: masked-LM queries; unwatchable: none');
    assert.equal(stats.thesaurusWords, 1);
    assert.equal(stats.predictedWords, 2);
    for (const c of out[0]) {
      const [a, b, f] = c.text.split(' ');
      assert.ok(GOOD.includes(a) && GOOD.includes(f), c.text);
      assert.ok(['tedious', 'dull'].includes(b), c.text);
    }
    // Without the thesaurus, the multi-piece word is kept, as before.
    const plain = await run([ex('an unwatchable film')], { p: 1, n: 5 });
    assert.ok(plain.out[0].every((c) => c.text.split(' ')[1] === 'unwatchable'));
  });

  test("WordNet's synonyms: film -> movie, awful -> bad, never an antonym, none for function words", () => {
    const before = process.env.MINNOW_CACHE;
    process.env.MINNOW_CACHE = join(tmp, 'wordnet-cache');
    try {
      const syn = wordnetSynonyms(8);
      assert.ok(syn('film').includes('movie'), syn('film').join(', '));
      assert.ok(syn('awful').includes('bad'), syn('awful').join(', '));
      assert.ok(!syn('good').includes('bad'), syn('good').join(', '));
      assert.deepEqual(syn('the'), []);
      assert.ok(syn('film').length <= 8);
    } finally {
      if (before === undefined) delete process.env.MINNOW_CACHE;
      else process.env.MINNOW_CACHE = before;
    }
  });
});

describe('augment: the command', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join('src', 'cli', 'main.ts'), 'augment', ...args], {
      encoding: 'utf8',
      env: { ...process.env, MINNOW_CACHE: join(tmp, 'wordnet-cache') }, // WordNet's index, built once
    });

  test('--help explains the multi-piece choice', () => {
    const r = cli('--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^minnow augment: /);
    assert.match(r.stdout, /several WordPieces are left unchanged/);
    assert.match(r.stdout, /--teacher DIR/);
  });

  test('a teacher without a masked-LM head fails first, with one line', () => {
    const dir = join(tmp, 'no-head');
    saveModel(dir, createModel(structuredClone(tiny), VOCAB, new Rng(1)));
    assert.equal(loadModel(dir).hasMlmHead, false);
    const r = cli('--teacher', dir, '--task', 'sst2', '--data', 'no/such/data', '--out', join(tmp, 'x'));
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^minnow: .*no-head\/mlm_head\.safetensors: missing; --teacher needs a masked-LM head/,
    );
  });

  test('--synonyms wordnet needs no teacher: N + 1 times the rows, labels kept, dev copied', () => {
    const out = join(tmp, 'wn');
    const r = cli(
      ...['--synonyms', 'wordnet', '--task', 'sst2', '--data', join('test', 'fixtures', 'glue-mini')],
      ...['--out', out, '--n', '2', '--p', '0.5', '--json'],
    );
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    const before = readTask({ task: 'sst2', data: join('test', 'fixtures', 'glue-mini') }, 'train').examples;
    const after = readTask({ task: 'sst2', data: out }, 'train').examples;
    assert.equal(after.length, 3 * before.length);
    assert.equal(res.forwards, 0);
    assert.ok(res.thesaurusWords > 0 && res.wordsReplaced > 0, r.stdout);
    after.forEach((e, i) => assert.equal(e.label, before[Math.floor(i / 3)].label));
    assert.ok(after.some((e, i) => e.text !== before[Math.floor(i / 3)].text));
    assert.match(r.stderr, /words with WordNet synonyms/);
    assert.ok(existsSync(join(out, 'dev.tsv')));
  });

  test('--synonyms with an unknown thesaurus: one line naming the choices, nothing written', () => {
    const out = join(tmp, 'glove');
    const data = ['--task', 'sst2', '--data', join('test', 'fixtures', 'glue-mini')];
    const r = cli('--synonyms', 'glove', ...data, '--out', out);
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^minnow: --synonyms: expected wordnet, got "glove"$/);
    assert.ok(!existsSync(out));
  });

  test('neither --teacher nor --synonyms: one line saying what to give', () => {
    const r = cli('--task', 'sst2', '--data', join('test', 'fixtures', 'glue-mini'), '--out', join(tmp, 'y'));
    assert.equal(r.status, 2, r.stderr);
    assert.equal(
      r.stderr.trim(),
      'minnow: augment: give --teacher DIR (a masked LM), --synonyms wordnet, or both',
    );
  });
});

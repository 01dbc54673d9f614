/** `minnow baseline` end to end through the built CLI: fit, eval, predict, export (int8), info, bad input. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { failsWith, minnow, ok } from '../cli/cli.testkit.js';
import { DEFAULT_BASELINE, trainBaseline } from './baseline.js';

const GLUE_MINI = join('test', 'fixtures', 'glue-mini');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-baseline-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const model = join(tmp, 'sst2-baseline');

describe('minnow baseline', () => {
  let fit: { score: number; C: number; path: { C: number; score: number }[]; metrics: { accuracy: number } };
  before(() => {
    const r = ok(
      minnow(
        'baseline',
        '--task',
        'sst2',
        '--data',
        GLUE_MINI,
        '--out',
        model,
        '--buckets',
        '4096',
        '--json',
      ),
    );
    fit = JSON.parse(r.out);
  });

  test('fits on GLUE data, picks C on dev and records every C tried', () => {
    assert.deepEqual(
      fit.path.map((p) => p.C),
      [1, 3, 10, 30],
    );
    assert.equal(fit.score, Math.max(...fit.path.map((p) => p.score)));
    assert.equal(fit.path.find((p) => p.C === fit.C)!.score, fit.score);
    assert.ok(fit.score > 60, `the fixture's sentiment words are learnable: ${fit.score}`);
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    assert.equal(config.model_type, 'minnow-ngram');
    assert.equal(config.finetuning_task, 'sst2');
    assert.deepEqual(config.id2label, { 0: 'negative', 1: 'positive' });
  });

  test('eval runs the ONNX graph and scores what the fit recorded', () => {
    const r = ok(minnow('eval', '--model', model, '--task', 'sst2', '--data', GLUE_MINI, '--json'));
    assert.equal(JSON.parse(r.out).score, fit.score);
  });

  test('predict labels lines of text', () => {
    const input = join(tmp, 'lines.txt');
    writeFileSync(input, 'brilliant and beautiful\npainfully bad and ugly\n');
    const r = ok(minnow('predict', '--model', model, '--input', input));
    const labels = r.out
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[0]);
    assert.deepEqual(labels, ['positive', 'negative']);
  });

  test('export writes fp32 and int8 ONNX through the accuracy gate; the int8 folder evaluates', () => {
    const out = join(tmp, 'export');
    const r = ok(minnow('export', '--model', model, '--out', out, '--check', 'sst2', '--data', GLUE_MINI));
    assert.match(r.out, /model_quantized\.onnx/);
    assert.ok(existsSync(join(out, 'onnx', 'model.onnx')));
    assert.ok(existsSync(join(out, 'onnx', 'model_quantized.onnx')));
    assert.ok(!existsSync(join(out, 'vocab.txt')), 'no tokenizer: the model reads words');
    const fp32 = JSON.parse(
      ok(minnow('eval', '--model', out, '--task', 'sst2', '--data', GLUE_MINI, '--json')).out,
    );
    assert.equal(fp32.score, fit.score);
    const q = JSON.parse(
      ok(minnow('eval', '--model', out, '--quantized', '--task', 'sst2', '--data', GLUE_MINI, '--json')).out,
    );
    assert.ok(
      Math.abs(q.score - fit.score) <= 100 / 32 + 1e-9,
      `int8 ${q.score} vs fp32 ${fit.score}: one dev row at most`,
    );
  });

  test('a deadline already passed: the first C is fitted, no further', () => {
    const res = trainBaseline({ task: 'sst2', data: GLUE_MINI }, undefined, {
      ...DEFAULT_BASELINE,
      out: join(tmp, 'late'),
      ngram: { ...DEFAULT_BASELINE.ngram, buckets: 1024 },
      deadline: Date.now(),
    });
    assert.deepEqual(
      res.path.map((p) => p.C),
      [1],
    );
  });

  test('info describes it', () => {
    const r = ok(minnow('info', model));
    assert.match(r.out, /bag of n-grams: word 1-2-grams, character 2-5-grams/);
    assert.match(r.out, /4,096 buckets x 1 column/);
  });

  test('regression on own data: ridge, scored with Pearson and Spearman', () => {
    const csv = join(tmp, 'scores.csv');
    const rows = ['text,label'];
    for (let i = 0; i < 60; i++)
      rows.push(`"${i % 2 ? 'great' : 'awful'} film number ${i}",${i % 2 ? 4.5 : 0.5}`);
    writeFileSync(csv, `${rows.join('\n')}\n`);
    const r = ok(
      minnow(
        'baseline',
        '--data',
        csv,
        '--text-column',
        'text',
        '--regression',
        '--out',
        join(tmp, 'reg'),
        '--json',
      ),
    );
    const res = JSON.parse(r.out);
    assert.equal(res.devSource, 'held-out');
    assert.ok(res.metrics.pearson > 0.9, JSON.stringify(res.metrics));
  });

  test('--pair-features: a pair task a bag of n-grams cannot learn (is the second text the first reworded?)', () => {
    // Invented words, so no single n-gram says "same": only how much the two texts share does.
    const word = (i: number) => `w${(i * 7919) % 997}x`;
    let seed = 1;
    const rnd = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
    const sentence = () => Array.from({ length: 8 }, () => word(rnd(400))).join(' ');
    const rows = ['a,b,label'];
    for (let i = 0; i < 320; i++) {
      const a = sentence();
      const same = i % 2 === 0;
      const b = same ? a.split(' ').reverse().slice(1).join(' ') + ` ${word(rnd(400))}` : sentence();
      rows.push(`${a},${b},${same ? 'same' : 'other'}`);
    }
    const csv = join(tmp, 'pairs.csv');
    writeFileSync(csv, `${rows.join('\n')}\n`);
    const fitPairs = (out: string, ...extra: string[]) =>
      JSON.parse(
        ok(
          minnow(
            'baseline',
            '--data',
            csv,
            '--text-column',
            'a',
            '--text-pair-column',
            'b',
            '--buckets',
            '4096',
            '--out',
            join(tmp, out),
            '--json',
            ...extra,
          ),
        ).out,
      ) as { score: number };
    const plain = fitPairs('pairs-plain');
    const pairs = fitPairs('pairs-features', '--pair-features');
    assert.ok(pairs.score >= 95, `with pair features: ${pairs.score}`);
    assert.ok(plain.score < pairs.score - 10, `plain ${plain.score} vs pair features ${pairs.score}`);
    assert.match(ok(minnow('info', join(tmp, 'pairs-features'))).out, /pair similarity features/);
    // predict reads pairs (text<TAB>pair) and computes the same features in the runtime.
    const input = join(tmp, 'pairs-input.tsv');
    writeFileSync(
      input,
      `${rows
        .slice(1, 5)
        .map((l) => l.split(',').slice(0, 2).join('\t'))
        .join('\n')}\n`,
    );
    const out = ok(minnow('predict', '--model', join(tmp, 'pairs-features'), '--input', input, '--json')).out;
    assert.deepEqual(
      out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { label: string }).label),
      ['same', 'other', 'same', 'other'],
    );
  });

  test('--class-weight balanced: on imbalanced classes the minority class is predicted more often', () => {
    // 80% "ok", 20% "bad"; a cue word that half the "bad" rows have, and that some "ok" rows have too.
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
    const filler = () => Array.from({ length: 6 }, () => `f${rnd(300)}`).join(' ');
    const rows = ['text,label'];
    for (let i = 0; i < 500; i++) {
      const bad = i % 5 === 0;
      const cue = bad ? rnd(2) === 0 : rnd(10) === 0;
      rows.push(`"${filler()}${cue ? ' grumble' : ''}",${bad ? 'bad' : 'ok'}`);
    }
    const csv = join(tmp, 'imbalanced.csv');
    writeFileSync(csv, `${rows.join('\n')}\n`);
    const input = join(tmp, 'imbalanced-input.txt');
    writeFileSync(input, `${Array.from({ length: 40 }, () => `${filler()} grumble`).join('\n')}\n`);
    const badShare = (...extra: string[]) => {
      const out = join(tmp, `imbalanced${extra.join('')}`);
      const data = ['--data', csv, '--text-column', 'text'];
      ok(minnow('baseline', ...data, '--out', out, '--buckets', '4096', ...extra));
      const labels = ok(minnow('predict', '--model', out, '--input', input))
        .out.trim()
        .split('\n');
      return { out, share: labels.filter((l) => l.startsWith('bad')).length / labels.length };
    };
    const plain = badShare();
    const balanced = badShare('--class-weight', 'balanced');
    assert.ok(balanced.share > plain.share + 0.25, `"bad": plain ${plain.share}, balanced ${balanced.share}`);
    const config = JSON.parse(readFileSync(join(balanced.out, 'config.json'), 'utf8'));
    assert.equal(config.minnow_baseline.class_weight, 'balanced');
    assert.match(
      ok(minnow('info', balanced.out)).out,
      /logistic regression \(C \d+, classes weighted to balance\)/,
    );
    assert.equal(
      JSON.parse(readFileSync(join(plain.out, 'config.json'), 'utf8')).minnow_baseline.class_weight,
      undefined,
    );
  });

  describe('bad input: one line naming the problem, nothing written', () => {
    const csv = (name: string, text: string) => {
      const f = join(tmp, name);
      writeFileSync(f, text);
      return f;
    };
    const run = (...args: string[]) =>
      minnow('baseline', '--text-column', 'text', '--out', join(tmp, 'bad'), ...args);

    test('one class', () => {
      const f = csv('one.csv', 'text,label\na,x\nb,x\nc,x\n');
      failsWith(run('--data', f), /one\.csv: every training row has the label "x"/);
      assert.ok(!existsSync(join(tmp, 'bad', 'config.json')));
    });
    test('an empty file', () => failsWith(run('--data', csv('empty.csv', '')), /empty\.csv/));
    test('non-numeric regression labels', () =>
      failsWith(
        run('--regression', '--data', csv('words.csv', 'text,label\na,high\nb,low\n')),
        /words\.csv:2: field "label": not a number/,
      ));
    test('a label only in the dev file', () => {
      const train = csv('train2.csv', 'text,label\na,x\nb,y\n');
      const dev = csv('dev2.csv', 'text,label\nc,x\nd,z\n');
      failsWith(run('--data', train, '--dev', dev), /dev2\.csv.*"z"/);
    });
    test('a bad --C list', () =>
      failsWith(
        run('--data', csv('ok.csv', 'text,label\na,x\nb,y\n'), '--C', '1,-3'),
        /--C 1,-3: expected positive/,
      ));
    test('a bad --char-ngrams', () =>
      failsWith(
        run('--data', join(tmp, 'ok.csv'), '--char-ngrams', '5-2'),
        /--char-ngrams 5-2: expected A-B/,
      ));
    test('class weights on numeric labels', () =>
      failsWith(
        run(
          '--regression',
          '--data',
          csv('nums.csv', 'text,label\na,1\nb,2\n'),
          '--class-weight',
          'balanced',
        ),
        /nums\.csv: class weights are for classes/,
      ));
    test('no features at all', () =>
      failsWith(
        run('--data', join(tmp, 'ok.csv'), '--word-ngrams', '0', '--char-ngrams', 'none'),
        /no features/,
      ));
  });
});

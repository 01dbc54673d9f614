/**
 * The command line end to end (built dist/, as a user runs it): help on every command, one-line errors
 * naming the file and line or field for bad input, and a small fine-tune + eval + predict + info run.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { failsWith, minnow } from './cli.testkit.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('minnow CLI', () => {
  test('--help on every command', () => {
    for (const cmd of [
      'pretrain',
      'finetune',
      'eval',
      'predict',
      'export',
      'explain-tree',
      'info',
      'bench',
      'distill',
      'augment',
    ]) {
      const r = minnow(cmd, '--help');
      assert.equal(r.code, 0, cmd);
      assert.match(r.out, new RegExp(`^minnow ${cmd}: `));
    }
    assert.match(minnow('--help').out, /commands:/);
  });

  test('bad input gives one-line errors naming the file and line or field', () => {
    failsWith(minnow('frobnicate'), /unknown command "frobnicate"/);
    const searchOut = join(tmp, 'search-out');
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
        searchOut,
        '--search',
        'rate=1e-3',
      ),
      /--search: "rate=1e-3" should be KEY=V1,V2/,
    );
    assert.equal(existsSync(searchOut), false, 'a bad grid is refused before any work');
    const ft = (...more: string[]) =>
      minnow('finetune', '--task', 'sst2', '--data', 'examples/sst2', '--out', searchOut, ...more);
    failsWith(
      ft('--preset', 'bert-tiny', '--hash', 'wholeToken=0.2'),
      /--hash: preset bert-tiny has a lookup table/,
    );
    failsWith(
      ft('--preset', 'uno-eelbert', '--hash', 'wholeToken=2'),
      /--hash: hash embedding field "wholeToken" must be a number in \[0, 1\)/,
    );
    failsWith(
      ft('--preset', 'uno-eelbert', '--hash', 'colour=blue'),
      /--hash: unknown hash embedding field "colour"/,
    );
    failsWith(
      ft('--preset', 'uno-eelbert', '--hash', 'boundaries'),
      /--hash: "boundaries" should be KEY=VALUE/,
    );
    failsWith(ft('--model', 'models/uno-eelbert', '--hash', 'wholeToken=0.2'), /--hash: only with --preset/);
    failsWith(
      ft('--preset', 'uno-lowrank', '--hash', 'wholeToken=0.2'),
      /--hash: preset uno-lowrank has learned low-rank codes/,
    );
    failsWith(
      ft('--preset', 'uno-eelbert', '--lowrank-dim', '4'),
      /--lowrank-dim: preset uno-eelbert has an EELBERT hash embedding, not learned low-rank codes \(lowrank presets: lowrank-tiny, uno-lowrank\)/,
    );
    failsWith(
      ft('--preset', 'uno-lowrank', '--lowrank-dim', '0'),
      /--lowrank-dim: expected a whole number from 1 to hidden_size \(128\), got 0/,
    );
    failsWith(
      ft('--preset', 'uno-lowrank', '--lowrank-dim', '2.5'),
      /--lowrank-dim: expected a whole number/,
    );
    failsWith(ft('--model', 'models/uno-eelbert', '--lowrank-dim', '4'), /--lowrank-dim: only with --preset/);
    assert.equal(existsSync(searchOut), false, 'bad --hash settings are refused before any work');
    failsWith(
      minnow('finetune', '--preset', 'uno-eelbert', '--task', 'sst3', '--data', 'x', '--out', tmp),
      /unknown GLUE task "sst3" \(valid: .*sst2/,
    );
    failsWith(minnow('eval', '--model', tmp, '--task', 'sst2', '--data', 'x'), /config\.json: missing/);
    const pt = ['pretrain', '--corpus', 'x.txt', '--out', tmp];
    failsWith(
      minnow(...pt, '--model', 'models/uno-eelbert', '--hash', 'wholeToken=0.2'),
      /--hash: only with --preset/,
    );
    failsWith(
      minnow(...pt, '--preset', 'uno-lowrank', '--lowrank-dim', '129'),
      /--lowrank-dim: expected a whole number from 1 to hidden_size \(128\), got 129/,
    );
    failsWith(
      minnow(...pt, '--preset', 'bert-tiny', '--decoder-bias', 'ones'),
      /--decoder-bias: expected zeros or unigram, got "ones"/,
    );
    failsWith(
      minnow(...pt, '--model', 'models/uno-eelbert', '--decoder-bias', 'unigram'),
      /--decoder-bias unigram initialises a new model: use it with --preset/,
    );
    failsWith(
      minnow(...pt, '--preset', 'bert-tiny', '--generator-hidden', '32'),
      /--generator-hidden is an ELECTRA setting: add --objective electra/,
    );
    failsWith(
      minnow(...pt, '--preset', 'bert-tiny', '--objective', 'electra', '--generator-hidden', '0'),
      /--generator-hidden/,
    );
    failsWith(
      minnow(...pt, '--preset', 'bert-tiny', '--objective', 'electra', '--rtd-weight', '-1'),
      /--rtd-weight/,
    );
    failsWith(
      minnow(...pt, '--preset', 'bert-tiny', '--sample-temperature', '2'),
      /--sample-temperature is an ELECTRA setting: add --objective electra/,
    );
    failsWith(
      minnow(...pt, '--preset', 'bert-tiny', '--objective', 'electra', '--sample-temperature', '0'),
      /--sample-temperature/,
    );
    failsWith(
      minnow(...pt, '--preset', 'bert-tiny', '--objective', 'bert'),
      /--objective: expected mlm or electra/,
    );
    failsWith(
      minnow(...pt, '--preset', 'bert-tiny', '--objective', 'electra', '--generator-hidden', '256'),
      /--generator-hidden: a whole number from 1 to the model's 128, got 256/,
    );
    failsWith(
      minnow('finetune', '--preset', 'no-such', '--task', 'sst2', '--data', 'x', '--out', tmp),
      /unknown preset "no-such"/,
    );
    const bad = join(tmp, 'bad.tsv');
    writeFileSync(bad, 'sentence\tlabel\ngood film\t1\nno label here\n');
    failsWith(
      minnow(
        'finetune',
        '--preset',
        'uno-eelbert',
        '--task',
        'sst2',
        '--data',
        bad,
        '--out',
        join(tmp, 'o1'),
      ),
      /bad\.tsv:3: .*column/,
    );
    const empty = join(tmp, 'empty.tsv');
    writeFileSync(empty, 'sentence\tlabel\ngood film\t1\n\t0\n');
    failsWith(
      minnow(
        'finetune',
        '--preset',
        'uno-eelbert',
        '--task',
        'sst2',
        '--data',
        empty,
        '--out',
        join(tmp, 'o2'),
      ),
      /empty\.tsv:3: .*empty/,
    );
    const csv = join(tmp, 'own.csv');
    writeFileSync(csv, 'review,stars\n"great, really",5\n');
    failsWith(
      minnow(
        'finetune',
        '--preset',
        'uno-eelbert',
        '--task',
        'mine',
        '--data',
        csv,
        '--text-column',
        'text',
        '--label-column',
        'stars',
        '--out',
        join(tmp, 'o3'),
      ),
      /own\.csv:1: no column "text" \(available: review, stars\)/,
    );
    failsWith(minnow('bench', 'train-step', '--threads', 'two'), /--threads: expected a number/);
  });

  test('--lowrank-dim sets the code size of a new lowrank model, recorded in config.json', () => {
    const out = join(tmp, 'lowrank4');
    const data = join('test', 'fixtures', 'glue-mini');
    const ft = minnow(
      'finetune',
      '--preset',
      'uno-lowrank',
      '--lowrank-dim',
      '4',
      '--task',
      'sst2',
      '--data',
      data,
      '--out',
      out,
      '--epochs',
      '1',
      '--json',
    );
    assert.equal(ft.code, 0, ft.err);
    const info = JSON.parse(minnow('info', out, '--json').out);
    assert.equal(info.config.lowrank_dim, 4);
    const init = JSON.parse(minnow('info', join(out, 'init'), '--json').out);
    assert.equal(init.config.lowrank_dim, 4, 'the initial model is built with k = 4 too');
    assert.match(minnow('info', out).out, /learned 30522 x 4 codes projected to 128/);
  });

  test('fine-tune, eval, predict and info on a tiny task', () => {
    const out = join(tmp, 'ft');
    const data = join('test', 'fixtures', 'glue-mini');
    const ft = minnow(
      'finetune',
      '--preset',
      'uno-eelbert',
      '--task',
      'sst2',
      '--data',
      data,
      '--out',
      out,
      '--epochs',
      '6',
      '--lr',
      '1e-3',
      '--batch-size',
      '16',
      '--json',
    );
    assert.equal(ft.code, 0, ft.err);
    const res = JSON.parse(ft.out);
    assert.ok(res.metrics.accuracy >= 0.9, `dev accuracy ${res.metrics.accuracy}`);
    const ev = minnow('eval', '--model', out, '--task', 'sst2', '--data', data, '--json');
    assert.equal(ev.code, 0, ev.err);
    assert.equal(JSON.parse(ev.out).metrics.accuracy, res.metrics.accuracy);
    const input = join(tmp, 'in.txt');
    writeFileSync(input, 'a wonderful , moving delight\na dull and tedious mess\n');
    // predict --json: a JSON line a text; SST-2's classes are shown by their names, not as "0"/"1".
    const predicted = (...flags: string[]) => {
      const pr = minnow('predict', '--model', out, '--input', input, '--json', ...flags);
      assert.equal(pr.code, 0, pr.err);
      const lines = pr.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { label: string; scores: number[]; logits: number[] });
      assert.deepEqual(
        lines.map((r) => r.label),
        ['positive', 'negative'],
      );
      return lines;
    };
    const rows = predicted();
    const plain = minnow('predict', '--model', out, '--input', input);
    assert.equal(plain.code, 0, plain.err);
    assert.deepEqual(
      plain.out
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[0]),
      ['positive', 'negative'],
    );
    for (const r of rows) {
      assert.equal(r.scores.length, 2);
      assert.ok(Math.abs(r.scores[0] + r.scores[1] - 1) < 1e-9);
      assert.equal(r.logits.length, 2);
    }
    // --backend web: the same graph on onnxruntime-web's WebAssembly, as the page runs it.
    const webEval = minnow(
      'eval',
      '--model',
      out,
      '--task',
      'sst2',
      '--data',
      data,
      '--json',
      '--backend',
      'web',
    );
    assert.equal(webEval.code, 0, webEval.err);
    assert.equal(JSON.parse(webEval.out).metrics.accuracy, res.metrics.accuracy);
    for (const [i, r] of predicted('--backend', 'web').entries())
      for (const [k, v] of r.logits.entries())
        assert.ok(Math.abs(v - rows[i].logits[k]) < 1e-5, `web ${v} against node ${rows[i].logits[k]}`);
    failsWith(minnow('predict', '--model', out, '--input', input, '--backend', 'gpu'), /--backend/);
    // The page's backend runs on one thread: a --threads it would ignore is refused.
    failsWith(
      minnow('predict', '--model', out, '--input', input, '--backend', 'web', '--threads', '2'),
      /--threads: --backend web runs on one thread/,
    );
    const info = JSON.parse(minnow('info', out, '--json').out);
    assert.equal(info.embedding_type, 'hash');
    assert.equal(info.num_labels, 2);
    assert.ok(info.bytes_weights < 1.2e6);
  });
});

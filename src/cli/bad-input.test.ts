/**
 * Bad input and a hostile machine, end to end through the built CLI: a full or read-only disk, a file
 * where a directory belongs, a directory given for a file, a port in use, input without end. Each case
 * ends in one line naming the file, flag or field and what to do, exit status 2, and nothing written.
 * Each test failed on the build before its fix (MINNOW_CLI=path/to/main.js runs them against another).
 *
 * A full or read-only disk is simulated for the child process by fs-faults.testkit.ts (no mounting).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import { failsWith as failsWithKit, minnowWith, type Run } from './cli.testkit.js';

const MODEL = join('models', 'sst2-sentiment');
const GLUE_MINI = join('test', 'fixtures', 'glue-mini');
const FAULTS = pathToFileURL(resolve('src', 'util', 'fs-faults.testkit.ts')).href;
const tmp = mkdtempSync(join(tmpdir(), 'minnow-bad-input-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** `minnow ARGS...` with `input` on stdin; `full` / `readOnly` simulate a full (ENOSPC) or read-only (EROFS) disk. */
function minnow(
  args: string[],
  o: { input?: string; full?: string; fullMin?: number; readOnly?: string } = {},
): Run {
  const faults = o.full !== undefined || o.readOnly !== undefined;
  return minnowWith(args, {
    input: o.input,
    preload: faults ? [FAULTS] : [],
    env: {
      ...(o.full !== undefined ? { MINNOW_FULL_DISK: o.full } : {}),
      ...(o.fullMin !== undefined ? { MINNOW_FULL_DISK_MIN: String(o.fullMin) } : {}),
      ...(o.readOnly !== undefined ? { MINNOW_READ_ONLY: o.readOnly } : {}),
    },
  });
}

/** Exit 2 with one "minnow:" line matching `re` (warnings may come before it), no stack trace. */
const failsWith = (r: Run, re: RegExp) => failsWithKit(r, re, { warnings: true });

/** Every file and directory under `dir` (relative paths), or [] if it does not exist. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

const fresh = (name: string) => {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
};

describe('stack traces become one line', () => {
  test('export --out under a file, on a read-only or a full disk: one line, nothing left behind', () => {
    const dir = fresh('export');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    failsWith(minnow(['export', '--model', MODEL, '--out', join(file, 'sub')]), /--out .*a-file is a file/);
    const ro = fresh('export-ro');
    failsWith(
      minnow(['export', '--model', MODEL, '--out', join(ro, 'exp')], { readOnly: ro }),
      /--out .*exp: cannot write there \(read-only file system.*EROFS/,
    );
    assert.deepEqual(tree(ro), []);
    const full = fresh('export-full');
    failsWith(
      minnow(['export', '--model', MODEL, '--out', join(full, 'exp')], { full }),
      /exp: no space left on the device; free some space or write elsewhere \(ENOSPC/,
    );
    assert.deepEqual(tree(full), []); // no exp.tmp-PID
  });

  test('a full disk during finetune leaves no half-written checkpoint; augment no temporary file', () => {
    const full = fresh('ft-full');
    const out = join(full, 'ft');
    failsWith(
      minnow(
        ['finetune', '--preset', 'uno-eelbert', '--task', 'sst2', '--data', GLUE_MINI, '--out', out].concat([
          '--epochs',
          '1',
          '--threads',
          '1',
          '--checkpoint-every',
          '1',
        ]),
        { full, fullMin: 100_000 }, // the config files fit, the first checkpoint does not
      ),
      /model\.safetensors: no space left on the device.*\(ENOSPC/,
    );
    assert.deepEqual(
      tree(out).filter((f) => /tmp/.test(f)),
      [],
    );
    const augFull = fresh('aug-full');
    failsWith(
      minnow(
        [
          'augment',
          '--synonyms',
          'wordnet',
          '--task',
          'sst2',
          '--data',
          GLUE_MINI,
          '--out',
          augFull,
          '--n',
          '2',
        ],
        {
          full: augFull,
        },
      ),
      /train\.tsv: no space left on the device.*\(ENOSPC/,
    );
    assert.deepEqual(tree(augFull), []);
  });

  test('pretrain --cache-dir and distill --teacher-cache that are files or read-only', () => {
    const dir = fresh('caches');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const pretrain = (cache: string) =>
      [
        'pretrain',
        '--preset',
        'bert-tiny',
        '--corpus',
        join('test', 'fixtures', 'general-corpus.txt'),
      ].concat(['--cache-dir', cache, '--out', join(dir, 'pt'), '--tokens', '1000', '--threads', '1']);
    failsWith(minnow(pretrain(file)), /--cache-dir .*a-file: is a file, not a directory/);
    const ro = fresh('cache-ro');
    failsWith(
      minnow(pretrain(join(ro, 'c')), { readOnly: ro }),
      /--cache-dir .*: cannot write there \(read-only/,
    );
    failsWith(
      minnow(
        [
          'distill',
          '--teacher',
          MODEL,
          '--student',
          'uno-eelbert',
          '--task',
          'sst2',
          '--data',
          GLUE_MINI,
        ].concat(['--out', join(dir, 'd'), '--teacher-cache', file, '--epochs', '1', '--threads', '1']),
      ),
      /--teacher-cache .*a-file: is a file, not a directory/,
    );
  });

  test('--knowledge given a directory: finetune, explain-tree, and a model whose knowledge.kg is one', () => {
    const dir = fresh('kdir');
    failsWith(
      minnow(
        [
          'finetune',
          '--model',
          MODEL,
          '--task',
          'sst2',
          '--data',
          GLUE_MINI,
          '--out',
          join(tmp, 'ftk'),
        ].concat(['--knowledge', dir, '--epochs', '1', '--threads', '1']),
      ),
      /--knowledge .*kdir: is a directory; give a triples file/,
    );
    assert.equal(existsSync(join(tmp, 'ftk', 'model.safetensors')), false);
    failsWith(
      minnow(['explain-tree', '--knowledge', dir, 'a good film']),
      /--knowledge .*kdir: is a directory/,
    );
    const model = join(tmp, 'k-model');
    cpSync(MODEL, model, { recursive: true });
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    config.knowledge = {
      source: 'facts.tsv',
      max_entities: 2,
      max_branch_tokens: 6,
      with_relation: true,
      visible_matrix: true,
    };
    writeFileSync(join(model, 'config.json'), JSON.stringify(config));
    mkdirSync(join(model, 'knowledge.kg'));
    failsWith(
      minnow(['predict', '--model', model], { input: 'a good film\n' }),
      /knowledge\.kg: is a directory/,
    );
  });

  test('augment --synonyms wordnet on an empty train.tsv', () => {
    const data = fresh('empty-glue');
    writeFileSync(join(data, 'train.tsv'), '');
    const out = join(tmp, 'aug-empty');
    failsWith(
      minnow(['augment', '--synonyms', 'wordnet', '--task', 'sst2', '--data', data, '--out', out]),
      /train\.tsv: no examples to augment/,
    );
    assert.deepEqual(
      tree(out).filter((f) => f !== '.'),
      [],
    );
  });

  test('serve on a port in use, or on a --host that does not resolve', async () => {
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await new Promise<Run>((ok) =>
        setImmediate(() => ok(minnow(['serve', '--model', MODEL, '--port', String(port)]))),
      );
      failsWith(
        r,
        new RegExp(
          `--port ${port}: already in use on 127\\.0\\.0\\.1; stop the other server or choose another port`,
        ),
      );
    } finally {
      busy.close();
    }
    failsWith(
      minnow(['serve', '--model', MODEL, '--port', '0', '--host', 'no-such-host.invalid']),
      /--host no-such-host\.invalid: not an address of this machine/,
    );
  });
});

describe('input without end, and text with nothing to read', () => {
  test(
    'predict --input /dev/zero ends at once with one line; a data file is bounded the same way',
    { skip: !existsSync('/dev/zero') },
    () => {
      const t0 = performance.now();
      failsWith(
        minnow(['predict', '--model', MODEL, '--input', '/dev/zero']),
        /--input \/dev\/zero:1: a line longer than 1 MiB/,
      );
      assert.ok(performance.now() - t0 < 30_000);
      const glue = fresh('long-line');
      writeFileSync(join(glue, 'dev.tsv'), `sentence\tlabel\n${'a'.repeat(1024 * 1024 + 1)}\t1\n`);
      failsWith(
        minnow(['eval', '--model', MODEL, '--task', 'sst2', '--data', glue]),
        /dev\.tsv:2: a line longer than 1 MiB/,
      );
    },
  );

  test('UTF-16 input is decoded: one prediction per line, none for a trailing NUL', () => {
    const lines = 'a wonderful film\na dull mess\n';
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lines, 'utf16le')]);
    const f = join(tmp, 'utf16.txt');
    writeFileSync(f, utf16);
    const r = minnow(['predict', '--model', MODEL, '--input', f]);
    assert.equal(r.code, 0, r.err);
    const plain = minnow(['predict', '--model', MODEL], { input: lines });
    assert.equal(r.out, plain.out);
    assert.equal(r.out.trim().split('\n').length, 2);
  });

  test('lines of only NUL, control or zero-width characters are empty, like whitespace-only ones', () => {
    for (const blank of ['\u0000', '\u200b\u200d', '\u0007\u001b', '   '])
      failsWith(
        minnow(['predict', '--model', MODEL], { input: `a good film\n${blank}\n` }),
        /stdin:2: empty text/,
      );
  });

  test('augment --n has a maximum', () => {
    failsWith(
      minnow(
        [
          'augment',
          '--synonyms',
          'wordnet',
          '--task',
          'sst2',
          '--data',
          GLUE_MINI,
          '--out',
          join(tmp, 'aug-n'),
        ].concat(['--n', '1000000']),
      ),
      /--n: must be <= 1000/,
    );
    assert.equal(existsSync(join(tmp, 'aug-n')), false);
  });
});

describe('silent wrongs become errors (or warnings)', () => {
  const ft = (...args: string[]) =>
    minnow(['finetune', '--preset', 'uno-eelbert', '--epochs', '1', '--threads', '1', ...args]);
  const own = (name: string, content: string) => {
    const f = join(tmp, name);
    writeFileSync(f, content);
    return f;
  };

  test('--task cola does not read an SST-2 file as CoLA', () => {
    failsWith(
      ft('--task', 'cola', '--data', GLUE_MINI, '--out', join(tmp, 'cola')),
      /train\.tsv:1: a header row \(sentence, label\), but CoLA's labelled files have none/,
    );
    failsWith(
      minnow(['eval', '--model', MODEL, '--task', 'cola', '--data', GLUE_MINI]),
      /(fine-tuned on sst2, not cola|CoLA's labelled files have none)/,
    );
  });

  test('a regression label 0x10, a header naming a column twice, a JSON true label, --regression on SST-2', () => {
    const out = join(tmp, 'never');
    failsWith(
      ft(
        ...['--data', own('hex2.csv', 'text,label\na,1.5\nb,0x10\nc,2\n'), '--text-column', 'text'],
        ...['--regression', '--out', out],
      ),
      /hex2\.csv:3: .*not a number: "0x10"/,
    );
    failsWith(
      ft(
        '--data',
        own('twice.csv', 'text,text,label\na,b,pos\nc,d,neg\n'),
        '--text-column',
        'text',
        '--out',
        out,
      ),
      /twice\.csv:1: the header names column "text" twice \(columns 1 and 2\)/,
    );
    failsWith(
      ft(
        ...['--data', own('bool.jsonl', '{"text":"a","label":true}\n{"text":"b","label":false}\n')],
        ...['--text-column', 'text', '--out', out],
      ),
      /bool\.jsonl:1: .*expected a string or number, got boolean/,
    );
    failsWith(
      ft('--task', 'sst2', '--data', GLUE_MINI, '--regression', '--out', out),
      /--regression: SST-2 is a classification task/,
    );
    assert.equal(existsSync(out), false); // nothing written: not even the preset's init/
  });

  test('finetune --out that is its --model or an export; --dev equal to --data is called so', () => {
    const model = join(tmp, 'own-model');
    cpSync(MODEL, model, { recursive: true });
    const before = readFileSync(join(model, 'model.safetensors'));
    failsWith(
      minnow([
        'finetune',
        '--model',
        model,
        '--task',
        'sst2',
        '--data',
        GLUE_MINI,
        '--out',
        model,
        '--epochs',
        '1',
      ]),
      /--out .*own-model: is the --model directory, which it would overwrite/,
    );
    assert.deepEqual(readFileSync(join(model, 'model.safetensors')), before);
    const exported = fresh('an-export');
    writeFileSync(join(exported, 'config.json'), JSON.stringify({ minnow_export: { format: 2, files: {} } }));
    failsWith(
      ft('--task', 'sst2', '--data', GLUE_MINI, '--out', exported),
      /--out .*an-export: holds an exported model \(minnow export\)/,
    );
    assert.deepEqual(tree(exported), ['config.json']);
    const data = own(
      'same.csv',
      `text,label\n${['good fun', 'dull mess', 'a joy', 'awful'].map((t, i) => `${t},${i % 2 ? 'neg' : 'pos'}`).join('\n')}\n`,
    );
    const r = ft('--data', data, '--text-column', 'text', '--dev', data, '--out', join(tmp, 'same-dev'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: --dev .*same\.csv holds the same rows as the training data/);
  });

  test('a model fine-tuned on pairs is not evaluated on single texts', () => {
    const rte = join(tmp, 'rte-model');
    const r = ft('--task', 'rte', '--data', join('test', 'fixtures', 'glue-mini-rte'), '--out', rte);
    assert.equal(r.code, 0, r.err);
    const single = own('single.csv', 'sentence,label\na man sleeps,entailment\na dog runs,not_entailment\n');
    failsWith(
      minnow(['eval', '--model', rte, '--task', 'rte', '--data', single, '--text-column', 'sentence']),
      /fine-tuned on text pairs, but .*single\.csv has single texts; give --text-pair-column/,
    );
  });
});

describe('a model whose output is not a number', () => {
  test('predict and eval stop with one line instead of the label "NaN" and a score', () => {
    const model = join(tmp, 'nan-model');
    cpSync(MODEL, model, { recursive: true });
    const file = join(model, 'model.safetensors');
    const st = readSafetensors(file);
    // Finite weights (loading refuses NaN ones) whose products overflow: infinite logits, NaN scores.
    const weight = [...st.tensors.keys()].find((k) => k.startsWith('classifier') && k.endsWith('weight'))!;
    const w = st.tensors.get(weight)!.data as Float32Array;
    for (let i = 0; i < w.length; i++) w[i] = i % 2 ? 3e38 : -3e38;
    writeSafetensors(file, st.tensors, st.metadata);
    failsWith(
      minnow(['predict', '--model', model], { input: 'a good film\n' }),
      /nan-model: the model's output is (NaN|-?Infinity) for stdin:1; its weights or its export are broken/,
    );
    failsWith(
      minnow(['eval', '--model', model, '--task', 'sst2', '--data', GLUE_MINI]),
      /the model's output is (NaN|-?Infinity) for .*dev\.tsv:2/,
    );
  });
});

describe('K-BERT says what it leaves out', () => {
  test('facts beyond --max-entities, function-word subjects and no fact matching any sentence are warnings', () => {
    const facts = join(tmp, 'facts.csv');
    writeFileSync(
      facts,
      [
        'subject,relation,object',
        'zzqx,is a,thing',
        'zzqx,is a,widget',
        'zzqx,is a,gadget',
        'WHO,is a,agency',
        'the,is a,article',
        '',
      ].join('\n'),
    );
    const r = minnow(
      [
        'finetune',
        '--preset',
        'uno-eelbert',
        '--task',
        'sst2',
        '--data',
        GLUE_MINI,
        '--out',
        join(tmp, 'kbert'),
      ].concat(['--knowledge', facts, '--epochs', '1', '--threads', '1']),
    );
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.err,
      /warning: .*facts\.csv: 1 subjects have more than --max-entities 2 facts \(up to 3\): 1 facts are never used/,
    );
    assert.match(
      r.err,
      /warning: .*facts\.csv: 2 subjects are function words, which never match on their own \(the, who\)/,
    );
    assert.match(r.err, /warning: --knowledge facts\.csv: no fact matched any training sentence/);
  });
});

describe('leftovers of killed runs', () => {
  test('export and augment remove the temporaries of dead runs that wrote there; live ones stay', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: its PID names no process
    const dir = fresh('leftovers');
    mkdirSync(join(dir, `exp.tmp-${dead}`, 'onnx'), { recursive: true });
    writeFileSync(join(dir, `exp.tmp-${dead}`, 'onnx', 'model.onnx'), 'half');
    mkdirSync(join(dir, `exp.tmp-${process.pid}`)); // a live export's
    const r = minnow(['export', '--model', MODEL, '--out', join(dir, 'exp'), '--threads', '1']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readdirSync(dir).sort(), ['exp', `exp.tmp-${process.pid}`].sort());
    const aug = fresh('aug-leftovers');
    writeFileSync(join(aug, `train.tsv.${dead}.0123456789ab.tmp`), 'half');
    writeFileSync(join(aug, `train.tsv.${process.pid}.0123456789ab.tmp`), 'live');
    const a = minnow([
      'augment',
      '--synonyms',
      'wordnet',
      '--task',
      'sst2',
      '--data',
      GLUE_MINI,
      '--out',
      aug,
      '--n',
      '1',
    ]);
    assert.equal(a.code, 0, a.err);
    assert.deepEqual(
      readdirSync(aug).filter((f) => f.endsWith('.tmp')),
      [`train.tsv.${process.pid}.0123456789ab.tmp`],
    );
  });
});

describe('an export whose config.json disagrees with its ONNX head', () => {
  test('regression in config.json, two logits in the graph: one line, not a number read from the wrong output', () => {
    const out = join(tmp, 'head-export');
    const e = minnow(['export', '--model', MODEL, '--out', out, '--threads', '1']);
    assert.equal(e.code, 0, e.err);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    Object.assign(config, { num_labels: 1, problem_type: 'regression' });
    delete config.id2label;
    delete config.label2id;
    writeFileSync(join(out, 'config.json'), JSON.stringify(config));
    failsWith(
      minnow(['predict', '--model', out], { input: 'a good film\n' }),
      /config\.json: num_labels 1 \(regression\), but the ONNX model gives 2 outputs per example; export the model again/,
    );
  });
});

describe('info', () => {
  test('info --model A B names both instead of ignoring B', () => {
    failsWith(
      minnow(['info', '--model', MODEL, join('models', 'uno-eelbert')]),
      /info: one model directory \(DIR or --model DIR\), got 2/,
    );
    failsWith(minnow(['info', MODEL, join('models', 'uno-eelbert')]), /info: one model directory .*got 2/);
  });
});

/**
 * The `minnow` entry point (built dist/, as a user runs it): the top-level help lists the commands and
 * the bench subcommands; a closed stdout pipe (`minnow predict ... | head -1`) ends the command quietly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI, minnow } from './cli.testkit.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-main-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('minnow entry point', () => {
  test('--help lists every command and the bench subcommands', () => {
    const r = minnow('--help');
    assert.equal(r.code, 0, r.err);
    for (const cmd of [
      'pretrain',
      'fit',
      'baseline',
      'hybrid',
      'finetune',
      'distill',
      'augment',
      'eval',
      'predict',
      'export',
      'info',
      'bench',
    ])
      assert.match(r.out, new RegExp(`^  ${cmd} `, 'm'), cmd);
    assert.match(r.out, /^  bench {8}benchmark the engine\n {15}subcommands: train-step, mlm-step, infer$/m);
    assert.equal(r.out.match(/subcommands:/g)?.length, 1, r.out); // only bench has any
  });

  test('a closed stdout pipe ends `predict` quietly: exit 0, no EPIPE stack trace', async () => {
    const model = join(tmp, 'ft');
    const ft = minnow(
      'finetune',
      '--preset',
      'uno-eelbert',
      '--task',
      'sst2',
      '--data',
      join('test', 'fixtures', 'glue-mini'),
      '--out',
      model,
      '--epochs',
      '1',
      '--batch-size',
      '16',
    );
    assert.equal(ft.code, 0, ft.err);
    // 5,000 predictions (~500 kB of JSON lines) fill the pipe buffer many times over.
    const input = join(tmp, 'in.txt');
    const texts = ['a wonderful , moving delight', 'a dull and tedious mess', 'painfully bad and ugly'];
    writeFileSync(input, `${Array.from({ length: 5000 }, (_, i) => texts[i % 3]).join('\n')}\n`);
    // As `minnow predict ... | head -1`: read the first chunk, then close the read end.
    const child = spawn(process.execPath, [CLI, 'predict', '--model', model, '--input', input, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let first = '';
    child.stdout.once('data', (chunk: Buffer) => {
      first = chunk.toString('utf8').split('\n')[0];
      child.stdout.destroy();
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    assert.ok(JSON.parse(first).label !== undefined, `first line: ${first}`);
    assert.doesNotMatch(err, /EPIPE|internal error|Error/, err);
    assert.equal(signal, null);
    assert.equal(code, 0, err);
  });

  test('a closed stderr pipe ends a long command quietly (exit 0, no crash)', async () => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'finetune',
        '--preset',
        'uno-eelbert',
        '--task',
        'sst2',
        '--data',
        join('test', 'fixtures', 'glue-mini'),
        '--out',
        join(tmp, 'stderr-closed'),
        '--epochs',
        '1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.destroy(); // as `2>&1 | head -0` would: the reader is gone before the first line
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    assert.equal(signal, null);
    assert.equal(code, 0);
  });
});

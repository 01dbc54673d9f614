/**
 * `minnow fit` end to end through the built CLI on the glue-mini fixture: the table on stdout, the export
 * folder predict runs, --resume after a stage was cut short, refusals in one line with nothing written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { failsWith, minnow } from '../cli/cli.testkit.js';

const GLUE_MINI = join('test', 'fixtures', 'glue-mini');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-fit-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function ok(r: ReturnType<typeof minnow>) {
  assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.err}`);
  return r;
}

const out = join(tmp, 'fit');
// 400k: the baseline (sized to fit) and uno-eelbert (305 kB) run; eelbert-tiny (520 kB) does not.
const args = [
  'fit',
  '--task',
  'sst2',
  '--data',
  GLUE_MINI,
  '--out',
  out,
  '--max-bytes',
  '400k',
  '--threads',
  '1',
];

describe('minnow fit', () => {
  let first: ReturnType<typeof minnow>;
  before(() => {
    first = ok(minnow(...args));
  });

  test('prints a table of the stages and what won; progress per stage on stderr', () => {
    const lines = first.out.split('\n');
    assert.match(lines[0], /^stage +dev score +int8 bytes +seconds +picked +notes$/);
    assert.match(first.out, /^baseline +\d+\.\d\d +\d{3},\d{3} +\d+\.\d +\* +C \d+, [\d,]+ buckets$/m);
    assert.match(
      first.out,
      /^finetune-uno-eelbert +\d+\.\d\d +305,198 +\d+\.\d +lr 0\.001, epoch \d of \d kept/m,
    );
    assert.match(
      first.out,
      /^finetune-eelbert-tiny +- +519,800 +- +not run: its int8 file, 519,800 bytes, is over --max-bytes 400,000$/m,
    );
    assert.match(first.out, /^export +\d+\.\d\d /m);
    assert.match(
      first.out,
      /^picked baseline: .*the n-gram baseline beats the tiny transformers on this data: shipping it$/m,
    );
    assert.match(first.err, /^fit: stage 1\/3 baseline: /m);
    assert.match(
      first.err,
      /^fit: stage 2\/3 finetune-uno-eelbert: fine-tune uno-eelbert \(default recipe\)$/m,
    );
    assert.match(first.err, /^fit: stage 3\/3 export: /m);
  });

  test('the export folder is within --max-bytes, has a model card, and predict runs it', () => {
    const exported = join(out, 'export');
    assert.ok(statSync(join(exported, 'onnx', 'model_quantized.onnx')).size <= 400_000);
    const card = readFileSync(join(exported, 'README.md'), 'utf8');
    assert.match(card, /\| \*\*baseline\*\* \|/);
    assert.match(card, /\| finetune-uno-eelbert \| \d+\.\d\d \| 305,198 \|/);
    const input = join(tmp, 'in.txt');
    writeFileSync(input, 'a wonderful , moving delight\n');
    const r = ok(minnow('predict', '--model', exported, '--quantized', '--input', input));
    assert.match(r.out, /^(negative|positive)\t\d\.\d+$/m);
  });

  test('a stage cut short: --resume keeps the finished ones and resumes the fine-tune from its checkpoint', () => {
    const baseline = join(out, 'stages', 'baseline', 'result.json');
    const ft = join(out, 'stages', 'finetune-uno-eelbert', 'result.json');
    const before = statSync(baseline).mtimeMs;
    const score = JSON.parse(readFileSync(ft, 'utf8')).score;
    rmSync(ft);
    const r = ok(minnow(...args, '--resume'));
    assert.match(r.err, /^fit: stage 1\/3 baseline: finished earlier \(.*\); kept$/m);
    assert.match(r.err, /^fit: stage 2\/3 finetune-uno-eelbert: .*\(resuming an unfinished run\)$/m);
    assert.match(r.err, /finetune sst2: resumed from .*checkpoints/);
    assert.doesNotMatch(r.err, /^baseline sst2: C /m, 'the baseline did not train again');
    assert.equal(statSync(baseline).mtimeMs, before);
    assert.equal(JSON.parse(readFileSync(ft, 'utf8')).score, score);
  });

  test('--resume with nothing left keeps every stage; --json prints one object', () => {
    const r = ok(minnow(...args, '--resume', '--json'));
    const res = JSON.parse(r.out);
    assert.deepEqual(
      res.rows.map((x: { status: string }) => x.status),
      ['earlier', 'earlier', 'excluded', 'earlier'],
    );
    assert.equal(res.winner, 'baseline');
    assert.ok(res.export.bytes <= 400_000);
  });

  test('an OUT holding a fit is refused without --resume, in one line', () => {
    failsWith(minnow(...args), /^minnow: fit: --out .* already holds a fit; give --resume to continue it/);
  });

  test('bad flags and data are one line, exit 2, nothing written', () => {
    const fresh = join(tmp, 'never');
    const empty = join(tmp, 'empty.csv');
    writeFileSync(empty, 'text,label\n');
    const base = ['fit', '--task', 'sst2', '--data', GLUE_MINI, '--out', fresh];
    failsWith(minnow(...base, '--budget', '0'), /^minnow: --budget 0: must be more than 0/);
    failsWith(
      minnow(...base, '--max-bytes', '5x'),
      /^minnow: --max-bytes 5x: expected a size such as 500000, 500k or 1\.5m/,
    );
    failsWith(
      minnow('fit', '--data', empty, '--text-column', 'text', '--out', fresh),
      /empty\.csv: no training examples/,
    );
    assert.equal(existsSync(fresh), false);
  });

  test('--help: the budget is wall-clock, scaling epochs by it is future work', () => {
    const r = ok(minnow('fit', '--help'));
    assert.match(r.out, /--budget TIME/);
    assert.match(r.out, /a budget that also\s+scales epochs is future work/);
    assert.match(minnow('--help').out, /^ {2}fit {10}/m);
  });
});

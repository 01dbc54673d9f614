/**
 * `minnow fit` end to end through the built CLI on the glue-mini fixture: the table on stdout, the export
 * folder predict runs, --resume after a stage was cut short, refusals in one line with nothing written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { failsWith, minnow, ok } from '../cli/cli.testkit.js';

const GLUE_MINI = join('test', 'fixtures', 'glue-mini');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-fit-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const out = join(tmp, 'fit');
// 400k: the baseline (sized to fit), uno-eelbert (253 kB with 128 positions: TAPT, fine-tune), its hybrid (an n-gram path
// in the 145 kB left), uno-eelbert distilled from the best three and its hybrid run; eelbert-tiny (468 kB) does not.
// On this fixture the baseline and a hybrid may tie (the smaller wins).
const WINNER = /(baseline|hybrid-uno-eelbert|distill-uno-eelbert|hybrid-distill-uno-eelbert)/;
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
    assert.match(first.out, /^baseline +\d+\.\d\d +\d{3},\d{3} +\d+\.\d +\*? +C \d+, [\d,]+ buckets$/m);
    assert.match(
      first.out,
      /^hybrid-uno-eelbert +\d+\.\d\d +\d{3},\d{3} +\d+\.\d +\*? +(word\+char|word) n-grams in [\d,]+ buckets, alpha [\d.]+ \(the path alone \d+\.\d\d; (word|word\+char): \d+\.\d\d\)$/m,
    );
    assert.match(
      first.out,
      /^finetune-uno-eelbert +\d+\.\d\d +253,229 +\d+\.\d +lr 0\.001, epoch \d of \d kept/m,
    );
    assert.match(
      first.out,
      // glue-mini's texts are far too few to pre-train on: the stage says so and the fine-tune starts as shipped.
      /^tapt-uno-eelbert +- +- +\d+\.\d +not run: [\d,]+ tokens of training texts, fewer than 100,000 /m,
    );
    assert.match(
      first.out,
      /^finetune-eelbert-tiny +- +466,822 +- +not run: its int8 file, 466,822 bytes, is over --max-bytes 400,000$/m,
    );
    assert.match(first.out, /^export +\d+\.\d\d /m);
    assert.match(first.out, new RegExp(`^picked ${WINNER.source}: .*: shipping it$`, 'm'));
    assert.match(first.err, /^fit: stage 1\/7 baseline: /m);
    assert.match(
      first.err,
      /^fit: stage 2\/7 tapt-uno-eelbert: task-adaptive pre-training of uno-eelbert: masked LM on the training texts$/m,
    );
    assert.match(
      first.err,
      /^fit: stage 3\/7 finetune-uno-eelbert: fine-tune uno-eelbert \(default recipe, from tapt-uno-eelbert's model if it ran\)$/m,
    );
    assert.match(first.err, /^fit: stage 4\/7 hybrid-uno-eelbert: /m);
    assert.match(
      first.err,
      /^fit: stage 5\/7 distill-uno-eelbert: distil the ensemble of the best 3 models so far into uno-eelbert, /m,
    );
    assert.match(first.err, /^fit: stage 6\/7 hybrid-distill-uno-eelbert: /m);
    assert.match(first.err, /^fit: stage 7\/7 export: /m);
  });

  test('the export folder is within --max-bytes, has a model card, and predict runs it', () => {
    const exported = join(out, 'export');
    const file = /exported to .* \((onnx\/\S+\.onnx),/.exec(first.out)![1];
    assert.ok(statSync(join(exported, file)).size <= 400_000);
    const card = readFileSync(join(exported, 'README.md'), 'utf8');
    assert.match(card, new RegExp(`\\| \\*\\*${WINNER.source}\\*\\* \\|`));
    assert.match(card, /\| finetune-uno-eelbert \| \d+\.\d\d \| 253,229 \|/);
    // A transformer's static int8 is calibrated on training texts, so the gate's dev rows stay unseen.
    const exportResult = JSON.parse(readFileSync(join(out, 'stages', 'export', 'result.json'), 'utf8'));
    assert.match(exportResult.details.int8, /^static: .*, calibrated on \d+ training texts$/);
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
    assert.match(r.err, /^fit: stage 1\/7 baseline: finished earlier \(.*\); kept$/m);
    assert.match(r.err, /^fit: stage 2\/7 tapt-uno-eelbert: finished earlier \(.*\); kept$/m);
    assert.match(r.err, /^fit: stage 3\/7 finetune-uno-eelbert: .*\(resuming an unfinished run\)$/m);
    assert.match(r.err, /finetune sst2: resumed from .*checkpoints/);
    // The hybrid after it runs again (its fine-tune finished anew) and fits its own small n-gram path.
    const beforeHybrid = r.err.split(/^fit: stage 4\/7 hybrid-uno-eelbert: /m)[0];
    assert.doesNotMatch(beforeHybrid, /^baseline sst2: C /m, 'the baseline stage did not train again');
    assert.equal(statSync(baseline).mtimeMs, before);
    assert.equal(JSON.parse(readFileSync(ft, 'utf8')).score, score);
  });

  test('--resume with nothing left keeps every stage; --json prints one object', () => {
    const r = ok(minnow(...args, '--resume', '--json'));
    const res = JSON.parse(r.out);
    assert.deepEqual(
      res.rows.map((x: { status: string }) => x.status),
      ['earlier', 'earlier', 'earlier', 'earlier', 'excluded', 'earlier', 'earlier', 'earlier'],
    );
    assert.match(res.winner, WINNER);
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

  test('--help: the budget is wall-clock and stops training', () => {
    const r = ok(minnow('fit', '--help'));
    assert.match(r.out, /--budget TIME/);
    assert.match(r.out, /training that\s+reaches it\s+evaluates, keeps its best weights so far and stops/);
    assert.match(minnow('--help').out, /^ {2}fit {10}/m);
  });
});

/**
 * The fit runner: stages in order with their result.json, the pick, the card and fit.json; --resume keeps
 * finished stages and re-runs an unfinished one; --budget skips late stages; an OUT holding a fit is refused
 * without --resume; bad data is refused before anything is written. Stand-in stages keep most tests fast;
 * two run the real baseline, fine-tune and export on the glue-mini fixture.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from '../data/task.js';
import { UserError } from '../util/errors.js';
import { baselineStage, finetuneStage } from './candidates.js';
import { DEFAULT_FIT, type FitConfig, stageDir } from './config.js';
import { exportStage } from './export-stage.js';
import { fit } from './fit.js';
import { pick } from './pick.js';
import { transformerInt8 } from './sizes.js';
import type { Plan, Stage } from './stage.js';
import { shippedModel } from './stages.js';

const GLUE_MINI: DataSource = { task: 'sst2', data: join('test', 'fixtures', 'glue-mini') };
const tmp = mkdtempSync(join(tmpdir(), 'minnow-fit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
const config = (o: Partial<FitConfig> = {}): FitConfig => ({
  ...DEFAULT_FIT,
  out: join(tmp, `fit-${++n}`),
  threads: 1,
  ...o,
});

/** A stand-in candidate stage: records its calls (and whether it resumed), optionally takes its time. */
function standIn(
  name: string,
  score: number,
  bytes: number,
  calls: string[],
  o: { kind?: 'ngram' | 'transformer'; ms?: number } = {},
): Stage {
  return {
    name,
    what: `stand-in ${name}`,
    budgeted: true,
    async run(ctx) {
      calls.push(ctx.unfinished ? `${name} (unfinished)` : name);
      if (o.ms) await sleep(o.ms);
      return {
        score,
        metrics: { accuracy: score / 100 },
        candidate: {
          model: 'model',
          kind: o.kind ?? 'transformer',
          int8: { variant: 'portable_quantized', file: 'onnx/model_quantized.onnx', bytes },
        },
        note: `made ${name}`,
      };
    },
  };
}

/** A stand-in export: the real one's key (the winner and when it finished), nothing written. */
function standInExport(calls: string[]): Stage {
  return {
    name: 'export',
    what: 'stand-in export',
    budgeted: false,
    key: exportStage.key,
    async run(ctx) {
      const { winner } = pick(ctx.earlier.values(), ctx.config.maxBytes);
      calls.push(`export ${winner.stage}`);
      const { bytes, file } = winner.candidate.int8;
      return {
        score: winner.score,
        note: `exported ${winner.stage}`,
        details: { winner: winner.stage, file, bytes, gzipBytes: 1, totalBytes: bytes, written: true },
      };
    },
  };
}

function standInPlan(calls: string[], ms = 0): () => Plan {
  return () => [
    standIn('baseline', 70, 400_000, calls, { kind: 'ngram', ms }),
    standIn('finetune-a', 80, 300_000, calls),
    {
      stage: 'finetune-b',
      reason: 'its int8 file is over --max-bytes',
      int8: { variant: 'compact_quantized', file: 'x', bytes: 600_000 },
    },
    standInExport(calls),
  ];
}

const mtime = (file: string) => statSync(file).mtimeMs;

describe('fit: stages, pick, card', () => {
  test('runs the stages in order, records each result.json, picks within --max-bytes, writes the card', async () => {
    const calls: string[] = [];
    const c = config();
    const res = await fit(GLUE_MINI, undefined, c, standInPlan(calls));
    assert.deepEqual(calls, ['baseline', 'finetune-a', 'export finetune-a']);
    for (const s of ['baseline', 'finetune-a', 'export'])
      assert.equal(JSON.parse(readFileSync(join(stageDir(c.out, s), 'result.json'), 'utf8')).stage, s);
    assert.equal(existsSync(stageDir(c.out, 'finetune-b')), false);
    assert.equal(res.winner, 'finetune-a');
    assert.equal(res.baselineScore, 70);
    assert.deepEqual(
      res.rows.map((r) => [r.stage, r.status, r.picked]),
      [
        ['baseline', 'ran', false],
        ['finetune-a', 'ran', true],
        ['finetune-b', 'excluded', false],
        ['export', 'ran', false],
      ],
    );
    assert.ok(res.rows.every((r) => r.status === 'excluded' || (r.seconds! >= 0 && r.cpuSeconds! >= 0)));
    assert.equal(res.data.trainExamples, 96);
    assert.equal(res.data.devExamples, 32);
    const card = readFileSync(res.card, 'utf8');
    assert.match(card, /\| \*\*finetune-a\*\* \| 80\.00 \| 300,000 \|/);
    assert.match(
      card,
      /\| finetune-b \| - \| 600,000 \| - \| - \| not run: its int8 file is over --max-bytes \|/,
    );
    assert.match(card, /dev score \*\*80\.00\*\* \(the n-gram baseline: 70\.00\)/);
    assert.match(card, /picked on/);
    const record = JSON.parse(readFileSync(join(c.out, 'fit.json'), 'utf8'));
    assert.equal(record.status, 'done');
    assert.equal(record.winner, 'finetune-a');
    assert.equal(record.settings.maxBytes, c.maxBytes);
  });

  test('--resume keeps finished stages, re-runs an unfinished one, and exports again only if the winner changed', async () => {
    const calls: string[] = [];
    const c = config();
    await fit(GLUE_MINI, undefined, c, standInPlan(calls));
    const baselineResult = join(stageDir(c.out, 'baseline'), 'result.json');
    const before = mtime(baselineResult);
    // Killed during finetune-a: its directory is there, its result.json is not.
    rmSync(join(stageDir(c.out, 'finetune-a'), 'result.json'));
    calls.length = 0;
    const res = await fit(GLUE_MINI, undefined, { ...c, resume: true }, standInPlan(calls));
    assert.deepEqual(calls, ['finetune-a (unfinished)', 'export finetune-a']);
    assert.equal(mtime(baselineResult), before);
    assert.deepEqual(
      res.rows.map((r) => r.status),
      ['earlier', 'ran', 'excluded', 'ran'],
    );
    // Nothing left to do: every stage is kept.
    calls.length = 0;
    await fit(GLUE_MINI, undefined, { ...c, resume: true }, standInPlan(calls));
    assert.deepEqual(calls, []);
  });

  test('an OUT holding a fit is refused without --resume, and --resume with other settings, changing nothing', async () => {
    const c = config();
    await fit(GLUE_MINI, undefined, c, standInPlan([]));
    const record = readFileSync(join(c.out, 'fit.json'), 'utf8');
    const calls: string[] = [];
    await assert.rejects(
      fit(GLUE_MINI, undefined, c, standInPlan(calls)),
      (e) => e instanceof UserError && /--out .* already holds a fit; give --resume/.test(e.message),
    );
    await assert.rejects(
      fit(GLUE_MINI, undefined, { ...c, resume: true, seed: 1, maxBytes: 400_000 }, standInPlan(calls)),
      (e) =>
        e instanceof UserError &&
        /made with other settings \(--seed 0, now 1; --max-bytes 500000, now 400000\)/.test(e.message),
    );
    assert.deepEqual(calls, []);
    assert.equal(readFileSync(join(c.out, 'fit.json'), 'utf8'), record);
  });

  test('--budget: the first stage always runs, later ones are skipped once it is spent; export still runs', async () => {
    const calls: string[] = [];
    const c = config({ budgetSeconds: 0.001 });
    const res = await fit(GLUE_MINI, undefined, c, standInPlan(calls, 20));
    assert.deepEqual(calls, ['baseline', 'export baseline']);
    assert.deepEqual(
      res.rows.map((r) => [r.stage, r.status]),
      [
        ['baseline', 'ran'],
        ['finetune-a', 'skipped'],
        ['finetune-b', 'excluded'],
        ['export', 'ran'],
      ],
    );
    assert.equal(existsSync(stageDir(c.out, 'finetune-a')), false);
    assert.match(res.message, /no tiny transformer was fine-tuned/);
    assert.match(readFileSync(res.card, 'utf8'), /skipped: the budget was spent/);
    // A larger budget on --resume runs the skipped stage, and the new winner is exported.
    calls.length = 0;
    const more = await fit(
      GLUE_MINI,
      undefined,
      { ...c, resume: true, budgetSeconds: 600 },
      standInPlan(calls),
    );
    assert.deepEqual(calls, ['finetune-a', 'export finetune-a']);
    assert.equal(more.winner, 'finetune-a');
  });
});

describe('fit: bad data is refused in one line, before anything is written', () => {
  const file = (name: string, text: string) => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };
  const own = (data: string, o: Partial<DataSource> = {}): DataSource => ({
    task: 'own',
    data,
    textColumn: 'text',
    labelColumn: 'label',
    ...o,
  });
  const cases: [string, DataSource, DataSource | undefined, RegExp][] = [
    ['an empty file', own(file('empty.csv', 'text,label\n')), undefined, /empty\.csv: no training examples/],
    [
      'one class',
      own(file('one.csv', 'text,label\ngood,pos\nfine,pos\nnice,pos\n')),
      undefined,
      /every training row has the label "pos"; a classifier needs two classes/,
    ],
    [
      'a label only in dev',
      own(file('two.csv', 'text,label\ngood,pos\nbad,neg\n')),
      own(file('dev3.csv', 'text,label\ngood,pos\nmeh,neutral\n')),
      /dev3\.csv:3: field "label": unknown label "neutral"/,
    ],
    [
      'regression labels that are not numbers',
      own(file('reg.csv', 'text,label\ngood,1.5\nbad,high\n'), { regression: true }),
      undefined,
      /reg\.csv:3: field "label": not a number: "high"/,
    ],
  ];
  for (const [what, src, dev, re] of cases)
    test(what, async () => {
      const c = config();
      await assert.rejects(
        fit(src, dev, c, standInPlan([])),
        (e) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'),
      );
      assert.equal(existsSync(c.out), false, 'nothing written');
    });
});

describe('fit: the real stages on glue-mini', () => {
  test("a transformer winner: the int8 bytes measured before training are the exported file's", async () => {
    const dir = shippedModel(DEFAULT_FIT, 'uno-eelbert');
    const head = {
      numLabels: 2,
      regression: false,
      values: ['0', '1'],
      names: ['negative', 'positive'],
      task: 'sst2',
      pairs: false,
    };
    const int8 = transformerInt8(dir, head, DEFAULT_FIT.maxPositions);
    const c = config();
    const res = await fit(GLUE_MINI, undefined, c, () => [
      finetuneStage('uno-eelbert', dir, int8),
      exportStage,
    ]);
    assert.equal(res.winner, 'finetune-uno-eelbert');
    assert.equal(res.export.file, 'onnx/model_compact_quantized.onnx');
    assert.equal(statSync(join(res.exportDir, res.export.file)).size, int8.bytes);
    assert.equal(res.export.bytes, int8.bytes);
    assert.ok(
      res.export.written && Math.abs(res.export.fp32Score! - res.winnerScore) < 1e-9,
      'fp32 gate = dev score',
    );
    const ft = JSON.parse(readFileSync(join(stageDir(c.out, 'finetune-uno-eelbert'), 'result.json'), 'utf8'));
    assert.deepEqual(ft.details.recipe.chosen.lr !== undefined, true, 'default recipe: lr chosen, not given');
  });

  test("own data without a dev file: the held-out rows are written and the gate scores the baseline's dev rows", async () => {
    const rows = readFileSync(join('test', 'fixtures', 'glue-mini', 'train.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    const csv = file(
      'reviews.csv',
      `text,label\n${rows.map(([t, y]) => `"${t}",${y === '1' ? 'pos' : 'neg'}`).join('\n')}\n`,
    );
    const src: DataSource = { task: 'reviews', data: csv, textColumn: 'text', labelColumn: 'label' };
    const c = config({ devFraction: 0.25 });
    const res = await fit(src, undefined, c, () => [baselineStage(4096), exportStage]);
    assert.equal(res.data.devSource, 'held-out');
    assert.equal(res.data.devExamples, 24);
    const held = readFileSync(res.data.devFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(held.length, 24);
    assert.ok(held.every((r) => ['pos', 'neg'].includes(r.label) && typeof r.text === 'string'));
    // The fp32 graph on the written rows scores what the baseline scored on its held-out rows: the same rows.
    assert.equal(res.export.fp32Score, res.winnerScore);
  });

  function file(name: string, text: string) {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  }
});

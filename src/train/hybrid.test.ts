/** `minnow hybrid` end to end: the sum of the two parts' logits, export, int8, further fine-tuning, bad input. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { failsWith, minnow, ok } from '../cli/cli.testkit.js';
import { readSafetensors } from '../runtime/safetensors-file.js';

const GLUE_MINI = join('test', 'fixtures', 'glue-mini');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-hybrid-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const transformer = join(tmp, 'transformer');
const baseline = join(tmp, 'baseline');
const hybrid = join(tmp, 'hybrid');
const lines = join(tmp, 'lines.txt');
const TEXTS = ['brilliant and beautiful', 'painfully bad and ugly', 'a film', 'boring , but warm and funny'];

/** Logits of each line, from `predict --json`. */
function logits(model: string, ...extra: string[]): number[][] {
  const r = ok(minnow('predict', '--model', model, '--input', lines, '--json', ...extra));
  return r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).logits as number[]);
}

describe('minnow hybrid', () => {
  before(() => {
    writeFileSync(lines, `${TEXTS.join('\n')}\n`);
    const data = ['--task', 'sst2', '--data', GLUE_MINI];
    ok(
      minnow(
        'finetune',
        '--preset',
        'uno-eelbert',
        ...data,
        '--out',
        transformer,
        '--epochs',
        '2',
        '--threads',
        '1',
      ),
    );
    ok(minnow('baseline', ...data, '--out', baseline, '--buckets', '2048'));
  });

  test("with --alpha, its logits are the transformer's plus alpha times the baseline's", () => {
    ok(minnow('hybrid', '--model', transformer, '--baseline', baseline, '--out', hybrid, '--alpha', '0.5'));
    const [t, b, h] = [logits(transformer), logits(baseline), logits(hybrid)];
    h.forEach((row, i) =>
      row.forEach((v, k) => assert.ok(Math.abs(v - (t[i][k] + 0.5 * b[i][k])) < 1e-4, `line ${i}: ${v}`)),
    );
  });

  test('alpha picked on dev: every alpha is recorded, the best kept; alpha 0 is the transformer', () => {
    const out = join(tmp, 'picked');
    const r = ok(
      minnow(
        'hybrid',
        '--model',
        transformer,
        '--baseline',
        baseline,
        '--out',
        out,
        '--task',
        'sst2',
        '--data',
        GLUE_MINI,
        '--json',
      ),
    );
    const res = JSON.parse(r.out) as {
      alpha: number;
      score: number;
      path: { alpha: number; score: number }[];
    };
    assert.equal(res.score, Math.max(...res.path.map((p) => p.score)));
    const alone = JSON.parse(
      ok(minnow('eval', '--model', transformer, '--task', 'sst2', '--data', GLUE_MINI, '--json')).out,
    );
    assert.equal(res.path.find((p) => p.alpha === 0)!.score, alone.score);
    const evaluated = JSON.parse(
      ok(minnow('eval', '--model', out, '--task', 'sst2', '--data', GLUE_MINI, '--json')).out,
    );
    assert.ok(Math.abs(evaluated.score - res.score) < 1e-9, `eval ${evaluated.score} vs picked ${res.score}`);
  });

  test("a regressor's output is the weighted mean of the parts', on the labels' scale", () => {
    const reg = join(tmp, 'scores.csv');
    const words = ['good', 'bad', 'fine', 'awful', 'great', 'dull'];
    writeFileSync(
      reg,
      `text,label\n${Array.from({ length: 40 }, (_, i) => `"${words[i % 6]} film ${i % 7}",${(i % 6) * 0.8}`).join('\n')}\n`,
    );
    const own = ['--data', reg, '--text-column', 'text', '--regression'];
    const [t, b, h] = ['reg-transformer', 'reg-baseline', 'reg-hybrid'].map((d) => join(tmp, d));
    ok(minnow('finetune', '--preset', 'uno-eelbert', ...own, '--out', t, '--epochs', '1', '--threads', '1'));
    ok(minnow('baseline', ...own, '--out', b, '--buckets', '2048'));
    ok(minnow('hybrid', '--model', t, '--baseline', b, '--out', h, '--alpha', '3'));
    const [lt, lb, lh] = [logits(t), logits(b), logits(h)];
    lh.forEach(([v], i) => {
      const want = (lt[i][0] + 3 * lb[i][0]) / 4;
      assert.ok(Math.abs(v - want) < 1e-4, `line ${i}: ${v}, want ${want}`);
    });
  });

  test('export: the int8 folder carries the n-gram path and scores like fp32', () => {
    const out = join(tmp, 'hybrid-export');
    ok(minnow('export', '--model', hybrid, '--out', out, '--check', 'sst2', '--data', GLUE_MINI));
    const fp32 = logits(out);
    const q = logits(out, '--quantized');
    const ref = logits(hybrid);
    fp32.forEach((row, i) => row.forEach((v, k) => assert.ok(Math.abs(v - ref[i][k]) < 1e-4)));
    q.forEach((row, i) => row.forEach((v, k) => assert.ok(Math.abs(v - ref[i][k]) < 0.15, `int8 line ${i}`)));
  });

  test('fine-tuning a hybrid trains both parts; the idf stays as it was', () => {
    const out = join(tmp, 'hybrid-tuned');
    ok(
      minnow(
        'finetune',
        '--model',
        hybrid,
        '--task',
        'sst2',
        '--data',
        GLUE_MINI,
        '--out',
        out,
        '--epochs',
        '1',
        '--threads',
        '1',
      ),
    );
    const before = readSafetensors(join(hybrid, 'model.safetensors')).tensors;
    const afterT = readSafetensors(join(out, 'model.safetensors')).tensors;
    const changed = (name: string) =>
      (before.get(name)!.data as Float32Array).some(
        (v, i) => v !== (afterT.get(name)!.data as Float32Array)[i],
      );
    assert.ok(changed('ngram.weight'), 'the n-gram table trains');
    assert.ok(changed('classifier.weight'), 'the head trains');
    assert.ok(!changed('ngram.idf'), 'idf is frozen');
  });

  test('bad input: one line naming the problem', () => {
    const reg = join(tmp, 'reg.csv');
    writeFileSync(
      reg,
      `text,label\n${Array.from({ length: 20 }, (_, i) => `"film ${i}",${i / 4}`).join('\n')}\n`,
    );
    const regBaseline = join(tmp, 'reg-baseline');
    ok(minnow('baseline', '--data', reg, '--text-column', 'text', '--regression', '--out', regBaseline));
    failsWith(
      minnow(
        'hybrid',
        '--model',
        transformer,
        '--baseline',
        regBaseline,
        '--out',
        join(tmp, 'x'),
        '--alpha',
        '1',
      ),
      /different heads/,
    );
    failsWith(
      minnow('hybrid', '--model', transformer, '--baseline', baseline, '--out', join(tmp, 'y')),
      /give --task T --data PATH to pick alpha/,
    );
    failsWith(
      minnow('hybrid', '--model', transformer, '--baseline', baseline, '--out', transformer, '--alpha', '1'),
      /--out must be a new directory/,
    );
  });
});

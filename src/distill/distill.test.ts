/**
 * Distillation end to end through the CLI on a tiny task: a teacher is fine-tuned, then distilled into
 * hash-embedding students with Hinton KD and with TinyBERT's two stages; bad teachers and configs fail
 * before training with one-line errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { preset } from '../model/config.js';
import { ParamStore } from '../runtime/params.js';
import { initProjections } from './distill.js';
import { DEFAULT_DISTILL, resolveMapping } from './mapping.js';

const CLI = join('dist', 'cli', 'main.js');
const DATA = join('test', 'fixtures', 'glue-mini');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-distill-'));
const teacher = join(tmp, 'teacher');
after(() => rmSync(tmp, { recursive: true, force: true }));

function minnow(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const common = ['--task', 'sst2', '--data', DATA, '--lr', '1e-3', '--batch-size', '16', '--json'];

describe('minnow distill', () => {
  before(() => {
    const r = minnow('finetune', '--preset', 'bert-tiny', '--out', teacher, '--epochs', '6', ...common);
    assert.equal(r.code, 0, r.err);
  });

  test('Hinton KD into uno-eelbert: the student learns the task; teacher logits cached once', () => {
    const out = join(tmp, 'hinton');
    const r = minnow(
      'distill',
      '--teacher',
      teacher,
      '--student',
      'uno-eelbert',
      '--out',
      out,
      '--epochs',
      '6',
      ...common,
    );
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out);
    assert.ok(res.metrics.accuracy >= 0.9, `student accuracy ${res.metrics.accuracy}`);
    assert.ok(existsSync(join(out, 'teacher_cache', 'logits.safetensors')));
    const log = readFileSync(join(out, 'prediction', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const train = log.filter((l) => l.event === 'train').pop();
    assert.ok('loss_soft' in train && 'loss_hard' in train, 'each loss term is logged');
  });

  test('TinyBERT two stages into eelbert-tiny: every intermediate term logged, projections not saved', () => {
    const out = join(tmp, 'tinybert');
    const r = minnow(
      'distill',
      '--teacher',
      teacher,
      '--student',
      'eelbert-tiny',
      '--method',
      'tinybert',
      '--out',
      out,
      '--epochs',
      '4',
      '--intermediate-epochs',
      '2',
      ...common,
    );
    assert.equal(r.code, 0, r.err);
    assert.ok(JSON.parse(r.out).metrics.accuracy >= 0.9);
    const inter = readFileSync(join(out, 'intermediate', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .pop();
    for (const k of [
      'loss_embedding_s0_t0',
      'loss_hidden_s1_t1',
      'loss_attention_s1_t1',
      'loss_hidden_s2_t2',
      'loss_attention_s2_t2',
    ])
      assert.ok(k in inter, k);
    const info = JSON.parse(minnow('info', out, '--json').out);
    assert.equal(info.embedding_type, 'hash');
  });

  test('clear errors before training: missing teacher, config typo, impossible mapping', () => {
    const one = (r: ReturnType<typeof minnow>, re: RegExp) => {
      assert.equal(r.code, 2, r.err);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.match(r.err, re);
    };
    one(
      minnow(
        'distill',
        '--teacher',
        join(tmp, 'nope'),
        '--student',
        'uno-eelbert',
        '--out',
        join(tmp, 'x'),
        ...common,
      ),
      /nope: model directory not found/,
    );
    const typo = join(tmp, 'typo.json');
    writeFileSync(typo, JSON.stringify({ temprature: 2 }));
    one(
      minnow(
        'distill',
        '--teacher',
        teacher,
        '--student',
        'uno-eelbert',
        '--config',
        typo,
        '--out',
        join(tmp, 'x'),
        ...common,
      ),
      /unknown key "temprature" \(did you mean "temperature"\?\)/,
    );
    const bad = join(tmp, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ intermediate: [{ teacherLayer: 5, studentLayer: 1, feature: 'hidden' }] }),
    );
    one(
      minnow(
        'distill',
        '--teacher',
        teacher,
        '--student',
        'uno-eelbert',
        '--config',
        bad,
        '--out',
        join(tmp, 'x'),
        ...common,
      ),
      /teacher layer 5 is out of range/,
    );
    const cos = join(tmp, 'cos.json');
    writeFileSync(
      cos,
      JSON.stringify({
        intermediate: [{ teacherLayer: 2, studentLayer: 1, feature: 'hidden', loss: 'cosine' }],
      }),
    );
    const mini = minnow(
      'finetune',
      '--preset',
      'bert-mini',
      '--out',
      join(tmp, 'mini'),
      '--epochs',
      '1',
      ...common,
    );
    assert.equal(mini.code, 0, mini.err);
    one(
      minnow(
        'distill',
        '--teacher',
        join(tmp, 'mini'),
        '--student',
        'uno-eelbert',
        '--config',
        cos,
        '--out',
        join(tmp, 'x'),
        ...common,
      ),
      /cosine.*256.*128|128.*256/,
    );
  });
});

describe('initProjections', () => {
  test('width projections start as BERT linears (normal(0, std) weights, zero bias), not zeros', () => {
    const plan = resolveMapping(
      { ...DEFAULT_DISTILL, intermediate: 'uniform' },
      preset('bert-mini'),
      preset('bert-tiny'),
      'test',
    );
    assert.ok(plan.projections.length > 0);
    const store = new ParamStore();
    initProjections(store, plan, 0, 0.02);
    for (const p of plan.projections) {
      const W = store.get(p.name).data;
      assert.deepEqual(store.get(p.name).shape, [p.to, p.from]);
      const std = Math.sqrt(W.reduce((s, x) => s + x * x, 0) / W.length);
      assert.ok(Math.abs(std - 0.02) < 0.002, `${p.name} std ${std}`);
      assert.ok(store.get(p.bias).data.every((x) => x === 0));
    }
  });
});

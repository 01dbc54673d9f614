/**
 * Distillation end to end through the CLI on a tiny task: a teacher is fine-tuned, then distilled into
 * hash-embedding students with Hinton KD and with TinyBERT's two stages; bad teachers and configs fail
 * before training with one-line errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { preset } from '../model/config.js';
import { ParamStore } from '../runtime/params.js';
import { loadModel, saveModel } from '../model/io.js';
import { writeSafetensors } from '../runtime/safetensors-file.js';
import { readTask } from '../data/task.js';
import { encodeAll } from '../data/batch.js';
import { predictLogits } from '../infer/predict.js';
import { readJsonLog } from '../util/progress.js';
import { teacherCacheKey, teacherLogits } from './task-distill.js';
import { initProjections } from './intermediate.js';
import { DEFAULT_DISTILL, resolveMapping } from './mapping.js';

const CLI = process.env.MINNOW_CLI ?? join('dist', 'cli', 'main.js');
const DATA = join('test', 'fixtures', 'glue-mini');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-distill-'));
const teacher = join(tmp, 'teacher');
const sharedCache = join(tmp, 'teacher-cache');
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
      '--teacher-cache',
      sharedCache,
      ...common,
    );
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out);
    assert.ok(res.metrics.accuracy >= 0.9, `student accuracy ${res.metrics.accuracy}`);
    assert.match(r.err, /computing teacher logits/);
    assert.equal(
      readdirSync(sharedCache).filter((f) => /^logits-[0-9a-f]{16}\.safetensors$/.test(f)).length,
      1,
    );
    const log = readFileSync(join(out, 'prediction', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const train = log.filter((l) => l.event === 'train').pop();
    assert.ok('loss_soft' in train && 'loss_hard' in train, 'each loss term is logged');
  });

  test('--alpha applies over a --config file and is refused where TinyBERT ignores it; --decay reaches the run', () => {
    const file = join(tmp, 'hinton.json');
    writeFileSync(file, JSON.stringify({ temperature: 3, alpha: 0.9, intermediate: [] }));
    const out = join(tmp, 'alpha-config');
    const flags = ['--student', 'uno-eelbert', '--epochs', '1', '--teacher-cache', sharedCache, ...common];
    const r = minnow(
      'distill',
      '--teacher',
      teacher,
      '--out',
      out,
      '--config',
      file,
      '--alpha',
      '0.25',
      '--decay',
      'cosine',
      ...flags,
    );
    assert.equal(r.code, 0, r.err);
    const settings = JSON.parse(readFileSync(join(out, 'distill_config.json'), 'utf8'));
    assert.equal(settings.config.alpha, 0.25); // the flag, not the file's 0.9 (once silently ignored)
    assert.equal(settings.config.temperature, 3); // the file's
    assert.equal(settings.decay, 'cosine');
    for (const [extra, re] of [
      [
        ['--method', 'tinybert'],
        /^minnow: --alpha weighs Hinton KD's soft and hard losses; --method tinybert, .*drop --alpha$/,
      ],
      [['--config', join(tmp, 'uniform.json')], /^minnow: --alpha .*uniform\.json maps intermediate layers/],
    ] as const) {
      writeFileSync(join(tmp, 'uniform.json'), JSON.stringify({ intermediate: 'uniform' }));
      const refused = join(tmp, 'alpha-refused');
      const x = minnow(
        'distill',
        '--teacher',
        teacher,
        '--out',
        refused,
        ...extra,
        '--alpha',
        '0.3',
        ...flags,
      );
      assert.equal(x.code, 2, x.err);
      assert.match(x.err.trim(), re);
      assert.ok(!existsSync(refused), 'nothing written');
    }
    const hinton = minnow(
      'distill',
      '--teacher',
      teacher,
      '--out',
      join(tmp, 'x'),
      '--intermediate-epochs',
      '2',
      ...flags,
    );
    assert.equal(hinton.code, 2, hinton.err);
    assert.match(hinton.err, /--intermediate-epochs: no intermediate layers to distil \(--method hinton\)/);
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
      '--teacher-cache',
      sharedCache,
      ...common,
    );
    assert.equal(r.code, 0, r.err);
    assert.ok(JSON.parse(r.out).metrics.accuracy >= 0.9);
    // Same teacher, data and tokenizer as the Hinton student: its cached logits are reused.
    assert.match(r.err, /teacher logits from .*logits-/);
    assert.doesNotMatch(r.err, /computing teacher logits/);
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

  test('--resume continues a killed two-stage run bit-exactly (killed in the prediction stage), and only with its settings', () => {
    const run = (out: string, ...extra: string[]) =>
      minnow(
        'distill',
        '--teacher',
        teacher,
        '--student',
        'uno-eelbert',
        '--method',
        'tinybert',
        '--out',
        out,
        '--intermediate-epochs',
        '1',
        '--epochs',
        '1',
        '--checkpoint-every',
        '3',
        '--teacher-cache',
        sharedCache,
        ...common,
        ...extra,
      );
    const whole = join(tmp, 'resume-whole');
    assert.equal(run(whole).code, 0);
    // The killed run: a copy of the whole one taken when the prediction stage had saved update 3 only.
    const killed = join(tmp, 'resume-killed');
    cpSync(whole, killed, { recursive: true });
    const ckpts = join(killed, 'prediction', 'checkpoints');
    const steps = readdirSync(ckpts)
      .filter((f) => f.startsWith('step-'))
      .sort();
    assert.deepEqual(steps, ['step-000003', 'step-000006']);
    rmSync(join(ckpts, 'step-000006'), { recursive: true });
    writeFileSync(join(ckpts, 'latest'), 'step-000003');
    rmSync(join(killed, 'model.safetensors'));
    const settings = readFileSync(join(killed, 'distill_config.json'));
    const refused = run(killed, '--resume', '--seed', '5', '--temperature', '2');
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.err,
      /distill intermediate: --resume: .*step-\d+ was written with other settings \(--seed 0 there, 5 now; --temperature 1 there, 2 now\)/,
    );
    assert.deepEqual(readFileSync(join(killed, 'distill_config.json')), settings);
    const r = run(killed, '--resume');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /distill prediction: resumed from .*step-000003 at update 3/);
    assert.deepEqual(
      readFileSync(join(killed, 'model.safetensors')),
      readFileSync(join(whole, 'model.safetensors')),
    );
  });

  test('teacher logits cache: reused for the same teacher and data, never for another', async () => {
    const m = loadModel(teacher, { numLabels: 2 }); // as distill() loads it
    const items = encodeAll(m.tokenizer, readTask({ task: 'sst2', data: DATA }, 'train').examples, 128);
    const dir = join(tmp, 'key-cache');
    const first = await teacherLogits(m, items, 2, dir, 1);
    assert.equal(first.reused, false);
    const again = await teacherLogits(m, items, 2, dir, 1);
    assert.equal(again.reused, true);
    assert.deepEqual(again.logits, first.logits);
    // Other data (one example fewer) or a shorter length limit: another key and file.
    const fewer = await teacherLogits(m, items.slice(1), 2, dir, 1);
    assert.equal(fewer.reused, false);
    assert.notEqual(fewer.file, first.file);
    assert.deepEqual(fewer.logits, first.logits.subarray(2));
    const short = encodeAll(m.tokenizer, readTask({ task: 'sst2', data: DATA }, 'train').examples, 5);
    assert.notEqual(teacherCacheKey(m, short, 2), teacherCacheKey(m, items, 2));
    // A re-trained teacher (one weight changed) gets a new key.
    const other = join(tmp, 'teacher-edited');
    cpSync(teacher, other, { recursive: true });
    const edited = loadModel(other, { numLabels: 2 });
    edited.store.params.find((p) => !p.derived)!.data[0] += 1e-3;
    saveModel(other, edited);
    assert.notEqual(
      teacherCacheKey(loadModel(other, { numLabels: 2 }), items, 2),
      teacherCacheKey(m, items, 2),
    );
    // A file under the right name whose recorded key differs is recomputed, not trusted.
    writeSafetensors(
      first.file,
      { logits: { dtype: 'F32', shape: [items.length, 2], data: first.logits.map(() => 7) } },
      { key: 'x' },
    );
    const redo = await teacherLogits(m, items, 2, dir, 1);
    assert.equal(redo.reused, false);
    assert.deepEqual(redo.logits, first.logits);
  });

  test('Hinton KD from an ensemble: each teacher scored alone, the ensemble as the mean of their softmaxes', async () => {
    const second = join(tmp, 'teacher-2');
    const t2 = minnow(
      'finetune',
      '--preset',
      'uno-eelbert',
      '--out',
      second,
      '--epochs',
      '6',
      '--seed',
      '1',
      ...common,
    );
    assert.equal(t2.code, 0, t2.err);
    const out = join(tmp, 'ensemble');
    const r = minnow(
      'distill',
      '--teacher',
      `${teacher},${second}`,
      '--student',
      'uno-eelbert',
      '--out',
      out,
      '--epochs',
      '2',
      ...common,
    );
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out);
    // Each member's dev score is the one its own fine-tuning reported.
    assert.deepEqual(
      res.members.map((m: { dir: string; score: number }) => [m.dir, m.score]),
      [teacher, second].map((d) => [d, JSON.parse(readFileSync(join(d, 'eval_results.json'), 'utf8')).score]),
    );
    // The ensemble's accuracy, by hand: the argmax of the two teachers' mean softmax on dev.
    const dev = readTask({ task: 'sst2', data: DATA }, 'dev').examples;
    const probs: number[][][] = [];
    for (const d of [teacher, second]) {
      const m = loadModel(d, { numLabels: 2 });
      const rows = await predictLogits(m, encodeAll(m.tokenizer, dev, 128), 2, 128, 1);
      probs.push(rows.map((z) => [Math.exp(z[0]), Math.exp(z[1])].map((e, _, a) => e / (a[0] + a[1]))));
    }
    const right = dev.filter(
      (e, i) => Number(probs[0][i][1] + probs[1][i][1] > probs[0][i][0] + probs[1][i][0]) === e.label,
    );
    assert.equal(res.teacher.metrics.accuracy, right.length / dev.length);
    assert.equal(readdirSync(join(out, 'teacher_cache')).length, 2, 'one logits file per teacher');
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'distill_config.json'), 'utf8')).ensemble, [second]);
    assert.match(r.err, /ensemble of 2 teachers dev score/);
    // The student learns the mean softmax: a teacher twice is that teacher alone (to rounding), two differ.
    const loggedSoftLosses = (dir: string) =>
      readJsonLog(join(dir, 'prediction', 'log.jsonl'))
        .filter((l) => l.event === 'train')
        .map((l) => l.loss_soft as number);
    const softLosses = (teachers: string, dir: string) => {
      const run = minnow(
        'distill',
        '--teacher',
        teachers,
        '--student',
        'uno-eelbert',
        '--out',
        dir,
        '--epochs',
        '2',
        ...common,
      );
      assert.equal(run.code, 0, run.err);
      return loggedSoftLosses(dir);
    };
    const alone = softLosses(teacher, join(tmp, 'alone'));
    const twice = softLosses(`${teacher},${teacher}`, join(tmp, 'twice'));
    const both = loggedSoftLosses(out);
    assert.equal(twice.length, alone.length);
    twice.forEach((x, i) =>
      assert.ok(Math.abs(x - alone[i]) < 1e-4 * Math.max(1, alone[i]), `update ${i}: ${x} vs ${alone[i]}`),
    );
    assert.ok(
      both.some((x, i) => Math.abs(x - alone[i]) > 1e-3),
      `ensemble ${both} vs alone ${alone}`,
    );
    // An ensemble has no one set of intermediate layers; a teacher of another task is refused; one corpus teacher.
    const fails = (args: string[], re: RegExp) => {
      const f = minnow('distill', '--student', 'uno-eelbert', '--out', join(tmp, 'x'), ...args);
      assert.equal(f.code, 2, f.err);
      assert.match(f.err, re);
    };
    fails(
      ['--teacher', `${teacher},${second}`, '--method', 'tinybert', ...common],
      /several teachers .* only with --method hinton/,
    );
    const regression = join(tmp, 'teacher-regression');
    cpSync(teacher, regression, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(regression, 'config.json'), 'utf8'));
    writeFileSync(
      join(regression, 'config.json'),
      JSON.stringify({
        ...cfg,
        num_labels: 1,
        problem_type: 'regression',
        id2label: undefined,
        label2id: undefined,
      }),
    );
    fails(
      ['--teacher', `${teacher},${regression}`, ...common],
      /teacher-regression was fine-tuned for regression, teacher .* for classes negative, positive; an ensemble needs one task/,
    );
    fails(['--teacher', `${teacher},`, ...common], /--teacher: an empty directory name/);
    fails(['--teacher', `${teacher},${join(tmp, 'nope')}`, ...common], /nope: model directory not found/);
    fails(
      ['--teacher', `${teacher},${second}`, '--corpus', DATA],
      /general distillation \(--corpus\) takes one teacher/,
    );
  });

  test('a preset student takes the embedding settings finetune and pretrain take (--lowrank-dim, --hash)', () => {
    const out = join(tmp, 'lowrank-student');
    const r = minnow(
      'distill',
      '--teacher',
      teacher,
      '--student',
      'uno-lowrank',
      '--lowrank-dim',
      '4',
      '--out',
      out,
      '--epochs',
      '1',
      ...common,
    );
    assert.equal(r.code, 0, r.err);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(cfg.embedding_type, 'lowrank');
    assert.equal(cfg.lowrank_dim, 4);
    const h = minnow(
      'distill',
      '--teacher',
      teacher,
      '--student',
      'uno-eelbert',
      '--hash',
      'boundaries=true',
      '--out',
      join(tmp, 'hash-student'),
      '--epochs',
      '1',
      ...common,
    );
    assert.equal(h.code, 0, h.err);
    assert.equal(
      JSON.parse(readFileSync(join(tmp, 'hash-student', 'config.json'), 'utf8')).hash_embedding.boundaries,
      true,
    );
    const dir = minnow(
      'distill',
      '--teacher',
      teacher,
      '--student',
      out,
      '--lowrank-dim',
      '2',
      '--out',
      join(tmp, 'x'),
      ...common,
    );
    assert.equal(dir.code, 2, dir.err);
    assert.match(dir.err, /--lowrank-dim: only with a preset --student \(a new model\), not the directory/);
  });

  test('clear errors before training: missing teacher, nothing to train, config typo, impossible mapping', () => {
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
    one(
      minnow(
        'distill',
        '--teacher',
        teacher,
        '--student',
        'uno-eelbert',
        '--epochs',
        '0',
        '--out',
        join(tmp, 'zero'),
        ...common,
      ),
      /distill: nothing to train: --epochs 0 and no intermediate stage/,
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

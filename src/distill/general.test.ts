/**
 * General distillation on a corpus, end to end with tiny models (hidden 32, a 62-word vocabulary): a
 * briefly pre-trained teacher is distilled with DistilBERT's triple loss and with TinyBERT's
 * intermediate layers; the losses fall, every term is logged, the student directory loads and
 * fine-tunes, a resumed run is bit-exact, and bad teachers, flags and configs fail before training
 * with one-line errors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { helpText, parse } from '../cli/args.js';
import { run, spec } from '../cli/distill.js';
import { type BertConfig, preset } from '../model/config.js';
import { smallPreset } from '../model/config.testkit.js';
import { createModel, loadModel, saveModel } from '../model/io.js';
import { readSafetensors, writeSafetensors } from '../runtime/safetensors-file.js';
import { DEFAULT_FINETUNE, finetune } from '../train/finetune.js';
import { pretrain } from '../train/pretrain.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import {
  DEFAULT_DISTILBERT,
  defaultGeneralConfig,
  type GeneralDistillOptions,
  generalDistill,
  parseGeneralConfig,
} from './general.js';

const FIX = join('test', 'fixtures');
const CORPUS = join(FIX, 'general-corpus.txt');
const VALID = join(FIX, 'general-valid.txt');
const VOCAB = join(FIX, 'general-vocab.txt');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-general-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const teacherConfig = smallPreset('bert-tiny');
const hashStudent = smallPreset('uno-eelbert');
const narrowStudent: BertConfig = {
  ...preset('bert-tiny'),
  num_hidden_layers: 1,
  hidden_size: 16,
  num_attention_heads: 1,
  intermediate_size: 32,
  max_position_embeddings: 64,
};
const teacher = join(tmp, 'teacher');
const headless = join(tmp, 'teacher-no-head');
const hashDir = join(tmp, 'student-hash');
const narrowDir = join(tmp, 'student-narrow');
const tableDir = join(tmp, 'student-table');
const MASKING = { probability: 0.15, maskFraction: 0.8, randomFraction: 0.1, wholeWord: false };

function options(out: string, over: Partial<GeneralDistillOptions> = {}): GeneralDistillOptions {
  return {
    teacher,
    student: { dir: hashDir },
    vocab: VOCAB,
    method: 'distilbert',
    config: defaultGeneralConfig('distilbert'),
    distilbert: { ...DEFAULT_DISTILBERT },
    corpus: CORPUS,
    valid: VALID,
    out,
    tokens: 40 * 16 * 30,
    seqLen: 32,
    batchSize: 16,
    accumulation: 1,
    lr: 3e-3,
    warmup: 0.1,
    decay: 'linear',
    weightDecay: 0.01,
    clipNorm: 1,
    masking: MASKING,
    seed: 3,
    threads: 1,
    evalEvery: 0,
    validSequences: 48,
    checkpointEvery: 20,
    resume: false,
    cacheDir: join(tmp, 'cache'),
    ...over,
  };
}

const lastTrainLog = (dir: string) =>
  readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((l) => l.event === 'train')
    .pop();

/** The CLI in-process: resolves, or rejects with a one-line UserError. */
const cli = async (...argv: string[]) => run(parse(spec, argv));
async function failsWith(argv: string[], re: RegExp) {
  await assert.rejects(cli(...argv), (e: Error) => {
    assert.ok(e instanceof UserError, `not a UserError: ${e.stack}`);
    assert.equal(e.message.split('\n').length, 1, e.message);
    assert.match(e.message, re);
    return true;
  });
}

describe('general distillation on a corpus', () => {
  before(async () => {
    // The teacher: two layers, pre-trained briefly so that its MLM distribution says something.
    const t = createModel(structuredClone(teacherConfig), VOCAB, new Rng(1), { mlm: true });
    await pretrain(t, {
      out: teacher,
      corpus: CORPUS,
      tokens: 60 * 16 * 30,
      seqLen: 32,
      batchSize: 16,
      accumulation: 1,
      lr: 5e-3,
      warmup: 0.1,
      decay: 'linear',
      weightDecay: 0.01,
      clipNorm: 1,
      masking: { ...MASKING, randomRange: [5, 62] },
      seed: 1,
      threads: 1,
      evalEvery: 0,
      validSequences: 16,
      checkpointEvery: 0,
      resume: false,
      cacheDir: join(tmp, 'cache'),
    });
    saveModel(headless, loadModel(teacher), { mlmHead: false });
    saveModel(hashDir, createModel(structuredClone(hashStudent), VOCAB, new Rng(2)));
    saveModel(narrowDir, createModel(structuredClone(narrowStudent), VOCAB, new Rng(2)));
    const table = { ...teacherConfig, num_hidden_layers: 1 };
    saveModel(tableDir, createModel(table, VOCAB, new Rng(2)));
  });

  test('DistilBERT triple loss into a hash-embedding student initialised from the teacher: losses fall, all terms logged, the directory loads and fine-tunes', async () => {
    const out = join(tmp, 'distilbert');
    const r = await generalDistill(options(out, { initLayers: [1] }));
    const first = r.evals[0];
    const last = r.evals[r.evals.length - 1];
    assert.equal(first.update, 0);
    assert.equal(last.update, r.updates);
    for (const k of ['valid_loss', 'valid_loss_ce', 'valid_loss_mlm', 'valid_loss_cos'])
      assert.ok(last[k] < 0.8 * first[k], `${k}: ${first[k]} -> ${last[k]}`);
    assert.ok(last.valid_mlm_accuracy > first.valid_mlm_accuracy, 'MLM accuracy rises');
    const d = DEFAULT_DISTILBERT;
    const weighted =
      d.alphaCe * last.valid_loss_ce + d.alphaMlm * last.valid_loss_mlm + d.alphaCos * last.valid_loss_cos;
    assert.ok(Math.abs(last.valid_loss - weighted) < 1e-4, 'loss = 5 ce + 2 mlm + 1 cos');
    const log = lastTrainLog(out);
    for (const k of ['loss', 'loss_ce', 'loss_mlm', 'loss_cos', 'lr', 'tokens_per_s']) assert.ok(k in log, k);
    // The student directory: an EELBERT model with its MLM head, no projections, loadable and fine-tunable.
    assert.ok(existsSync(join(out, 'mlm_head.safetensors')));
    const names = [...readSafetensors(join(out, 'model.safetensors')).tensors.keys()];
    assert.ok(!names.some((n) => n.startsWith('distill.') || n.startsWith('cls.')));
    assert.ok(!names.includes('bert.embeddings.word_embeddings.weight'), 'hash table not stored');
    const m = loadModel(out, { mlm: true });
    assert.equal(m.config.embedding_type, 'hash');
    assert.equal(m.config.num_hidden_layers, 1);
    const ft = await finetune(out, { task: 'sst2', data: join(FIX, 'glue-mini') }, undefined, {
      ...DEFAULT_FINETUNE,
      out: join(tmp, 'ft'),
      epochs: 1,
      batchSize: 32,
      lr: 1e-3,
      warmup: 0.1,
      weightDecay: 0.01,
      clipNorm: 1,
      maxLength: 32,
      seed: 0,
      threads: 1,
      resume: false,
      checkpointEvery: 0,
    });
    assert.ok(Number.isFinite(ft.score));
  });

  test('DistilBERT with L_ce at every position: a resumed run ends bit-exactly like an uninterrupted one, and only with its settings', async () => {
    const cfg = (out: string, over: Partial<GeneralDistillOptions> = {}) =>
      options(out, {
        student: { dir: tableDir },
        distilbert: { ...DEFAULT_DISTILBERT, alphaCos: 0, positions: 'all' },
        valid: undefined,
        tokens: 20 * 16 * 30,
        checkpointEvery: 10,
        ...over,
      });
    const full = join(tmp, 'all-full');
    const r = await generalDistill(cfg(full));
    assert.equal(r.updates, 20);
    const log = lastTrainLog(full);
    assert.ok('loss_ce' in log && 'loss_mlm' in log && !('loss_cos' in log));
    const cut = join(tmp, 'all-cut');
    await generalDistill(cfg(cut));
    rmSync(join(cut, 'checkpoints', 'step-000020'), { recursive: true });
    rmSync(join(cut, 'model.safetensors'));
    writeFileAtomic(join(cut, 'checkpoints', 'latest'), 'step-000010\n');
    await assert.rejects(
      generalDistill(
        cfg(cut, { resume: true, distilbert: { ...DEFAULT_DISTILBERT, alphaCos: 0, positions: 'masked' } }),
      ),
      /--resume: .* was written with other settings \(--ce-positions "all" there, "masked" now\)/,
    );
    await generalDistill(cfg(cut, { resume: true }));
    for (const f of ['model.safetensors', 'mlm_head.safetensors'])
      assert.ok(readFileSync(join(full, f)).equals(readFileSync(join(cut, f))), f);
  });

  test('TinyBERT general distillation into a narrower student with fewer heads: intermediate losses fall', async () => {
    const out = join(tmp, 'tinybert');
    const r = await generalDistill(
      options(out, {
        method: 'tinybert',
        config: defaultGeneralConfig('tinybert'),
        student: { dir: narrowDir },
      }),
    );
    const first = r.evals[0];
    const last = r.evals[r.evals.length - 1];
    for (const k of [
      'valid_loss',
      'valid_loss_embedding_s0_t0',
      'valid_loss_hidden_s1_t2',
      'valid_loss_attention_s1_t2',
    ])
      assert.ok(last[k] < 0.8 * first[k], `${k}: ${first[k]} -> ${last[k]}`);
    assert.ok(!('valid_loss_ce' in last));
    const log = lastTrainLog(out);
    for (const k of ['loss_embedding_s0_t0', 'loss_hidden_s1_t2', 'loss_attention_s1_t2'])
      assert.ok(k in log, k);
    const names = [...readSafetensors(join(out, 'model.safetensors')).tensors.keys()];
    assert.ok(!names.some((n) => n.startsWith('distill.')), 'projection dropped');
    assert.ok(!existsSync(join(out, 'mlm_head.safetensors')), 'no MLM head was trained or given');
    assert.equal(loadModel(out).config.hidden_size, 16);
  });

  test('the CLI: --help describes the corpus mode; a short DistilBERT run into a preset writes a model', async () => {
    const help = helpText(spec);
    for (const s of ['--corpus FILE', 'distilbert', '--alpha-ce', '--ce-positions', '--tokens', '--resume'])
      assert.ok(help.includes(s), s);
    const out = join(tmp, 'cli');
    await cli(
      '--corpus',
      CORPUS,
      '--teacher',
      teacher,
      '--student',
      'uno-eelbert', // a preset student takes the teacher's vocabulary
      '--out',
      out,
      '--tokens',
      '1500',
      '--alpha-cos',
      '0',
      '--seq-len',
      '32',
      '--batch-size',
      '8',
      '--alpha-ce',
      '1',
      '--temperature',
      '1',
      '--threads',
      '1',
      '--cache-dir',
      join(tmp, 'cache'),
    );
    const cfg = JSON.parse(readFileSync(join(out, 'distill_config.json'), 'utf8'));
    assert.equal(cfg.method, 'distilbert');
    assert.deepEqual(cfg.distilbert, { ...DEFAULT_DISTILBERT, alphaCe: 1, alphaCos: 0, temperature: 1 });
    assert.equal(loadModel(out).tokenizer.vocabSize, 62);
    assert.ok(existsSync(join(out, 'model.safetensors')) && existsSync(join(out, 'mlm_head.safetensors')));
  });

  test('one-line errors before training: no MLM head, bad flags, wrong config keys, unequal widths for the cosine', async () => {
    const base = [
      '--corpus',
      CORPUS,
      '--student',
      hashDir,
      '--out',
      join(tmp, 'x'),
      '--cache-dir',
      join(tmp, 'cache'),
      '--seq-len',
      '32',
    ];
    await failsWith(
      ['--teacher', headless, ...base],
      /teacher-no-head: the teacher has no masked-LM head .*--method tinybert/,
    );
    await failsWith(
      ['--teacher', teacher, '--method', 'hinton', ...base],
      /--method: .*distilbert or tinybert.*hinton/,
    );
    await failsWith(['--teacher', teacher, '--task', 'sst2', ...base], /--task.*--corpus/);
    await failsWith(
      ['--teacher', teacher, '--ce-positions', 'some', ...base],
      /--ce-positions: expected masked or all/,
    );
    await failsWith(['--teacher', teacher, '--alpha-ce=-1', ...base], /--alpha-ce: must be >= 0/);
    await failsWith(
      [
        '--teacher',
        teacher,
        '--student',
        hashDir,
        '--out',
        join(tmp, 'x'),
        '--tokens',
        '100',
        '--task',
        'sst2',
        '--data',
        FIX,
      ],
      /--tokens belongs to general distillation: give --corpus/,
    );
    const cfgFile = join(tmp, 'general.json');
    writeFileSync(cfgFile, JSON.stringify({ alpha: 0.5 }));
    await failsWith(
      ['--teacher', teacher, '--config', cfgFile, ...base],
      /general\.json: "alpha" is a prediction-layer/,
    );
    writeFileSync(cfgFile, JSON.stringify({ distilbert: { alphaCos: 1, alphaCE: 2 } }));
    await failsWith(
      ['--teacher', teacher, '--config', cfgFile, ...base],
      /unknown key "alphaCE" \(did you mean "alphaCe"\?\)/,
    );
    await failsWith(
      ['--teacher', teacher, ...base.slice(0, 2), '--student', narrowDir, ...base.slice(4)],
      /cosine loss .* equal widths \(teacher 32, student 16\)/,
    );
    assert.ok(!existsSync(join(tmp, 'x', 'log.jsonl')), 'nothing trained');
  });

  test('a Hugging Face-layout teacher (MLM head inside model.safetensors); --init-from-teacher copies the head', async () => {
    const hf = join(tmp, 'teacher-hf');
    const t = loadModel(teacher, { mlm: true });
    saveModel(hf, t, { mlmHead: false });
    writeSafetensors(join(hf, 'model.safetensors'), t.store.toTensors(), { format: 'pt' }); // every tensor, cls.predictions.* included
    const twin = join(tmp, 'student-twin');
    saveModel(twin, createModel(structuredClone(teacherConfig), VOCAB, new Rng(5)));
    const out = join(tmp, 'from-hf');
    // lr 0: the student keeps exactly what it was initialised with.
    await generalDistill(
      options(out, {
        teacher: hf,
        student: { dir: twin },
        initLayers: [0, 1],
        lr: 0,
        tokens: 2 * 16 * 30,
        valid: undefined,
      }),
    );
    const head = readSafetensors(join(out, 'mlm_head.safetensors')).tensors;
    const want = readSafetensors(join(teacher, 'mlm_head.safetensors')).tensors;
    assert.deepEqual([...head.keys()].sort(), [...want.keys()].sort());
    for (const [k, v] of want) assert.deepEqual(head.get(k)!.data, v.data, k);
    const layer = 'bert.encoder.layer.1.output.dense.weight';
    assert.deepEqual(
      readSafetensors(join(out, 'model.safetensors')).tensors.get(layer)!.data,
      readSafetensors(join(teacher, 'model.safetensors')).tensors.get(layer)!.data,
    );
  });

  test('parseGeneralConfig: the distilbert section, and the mapping keys pass through', () => {
    const { config, distilbert } = parseGeneralConfig(
      { distilbert: { alphaCe: 1, positions: 'all' }, averageHeads: true },
      'g.json',
      'distilbert',
    );
    assert.deepEqual(distilbert, { ...DEFAULT_DISTILBERT, alphaCe: 1, positions: 'all' });
    assert.deepEqual(config.intermediate, []);
    assert.equal(config.averageHeads, true);
    assert.equal(parseGeneralConfig({}, 'g.json', 'tinybert').config.intermediate, 'uniform');
    assert.throws(
      () => parseGeneralConfig({ distilbert: { temperature: 0 } }, 'g.json', 'distilbert'),
      /> 0/,
    );
  });
});

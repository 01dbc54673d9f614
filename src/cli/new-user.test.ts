/**
 * What a new user hits on the first day, end to end through the built CLI: each test here failed on the
 * build before its fix (run them against an older build with MINNOW_CLI=path/to/dist/cli/main.js).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { preset } from '../model/config.js';
import { createModel } from '../model/io.js';
import { writeSafetensors } from '../runtime/safetensors-file.js';
import { Rng } from '../util/rng.js';
import { failsWith, minnowWith, ok } from './cli.testkit.js';

const GLUE_MINI = join('test', 'fixtures', 'glue-mini');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-new-user-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const minnow = (args: string[], input = '') => minnowWith(args, { input });

const POS = [
  'a wonderful , moving delight',
  'great fun and warm',
  'a joy to watch',
  'brilliant and touching',
];
const NEG = ['a dull and tedious mess', 'boring , flat and long', 'an awful waste', 'tired and lifeless'];

function csv(rows: [string, string][]): string {
  return `text,label\n${rows.map(([t, l]) => `"${t}",${l}`).join('\n')}\n`;
}

const own = join(tmp, 'reviews.csv');
const ownModel = join(tmp, 'reviews-model');
const sst2Model = join(tmp, 'sst2-model');

describe('a new user', () => {
  before(() => {
    const rows: [string, string][] = [];
    for (let i = 0; i < 3; i++) for (let k = 0; k < 4; k++) rows.push([POS[k], 'pos'], [NEG[k], 'neg']);
    writeFileSync(own, csv(rows));
    ok(
      minnow([
        'finetune',
        '--preset',
        'uno-eelbert',
        '--task',
        'reviews',
        '--data',
        own,
        '--text-column',
        'text',
        '--out',
        ownModel,
        '--epochs',
        '2',
        '--json',
      ]),
    );
    ok(
      minnow([
        'finetune',
        '--preset',
        'uno-eelbert',
        '--task',
        'sst2',
        '--data',
        GLUE_MINI,
        '--out',
        sst2Model,
        '--epochs',
        '1',
      ]),
    );
  });

  test('--task is optional for own data; without --dev a seeded fraction is held out and called so', () => {
    // No --task: own data is named after its file.
    const ownResult = JSON.parse(
      ok(
        minnow([
          'finetune',
          '--preset',
          'uno-eelbert',
          '--data',
          own,
          '--text-column',
          'text',
          '--out',
          join(tmp, 'no-task'),
          '--epochs',
          '1',
          '--json',
        ]),
      ).out,
    );
    assert.equal(ownResult.task, 'reviews');
    assert.equal(ownResult.devSource, 'held-out');
    assert.equal(ownResult.devExamples, 2); // 10% of 24 rows
    assert.equal(ownResult.trainExamples, 22);
    const r = ok(
      minnow([
        'finetune',
        '--preset',
        'uno-eelbert',
        '--data',
        own,
        '--text-column',
        'text',
        '--out',
        join(tmp, 'held'),
        '--epochs',
        '1',
      ]),
    );
    assert.match(r.out, /held-out dev \(2 examples\)/);
    assert.match(r.err, /holding out 2 of 24 rows/);
  });

  test('eval numbers the classes as the model does: an unknown label is named, one class is fine', () => {
    const evalFile = (name: string, labels: string[]) => {
      const f = join(tmp, name);
      writeFileSync(f, csv(labels.map((l, i) => [POS[i % 4], l])));
      return f;
    };
    const common = ['eval', '--model', ownModel, '--text-column', 'text', '--json', '--data'];
    failsWith(minnow([...common, evalFile('zzz.csv', ['pos', 'pos', 'pos', 'zzz'])]), /zzz/);
    const onlyPos = evalFile('pos.csv', ['pos', 'pos', 'pos', 'pos']);
    const acc = JSON.parse(ok(minnow([...common, onlyPos])).out).metrics.accuracy;
    // The same number from the predictions: the share of lines predicted "pos".
    const texts = POS.join('\n');
    const preds = ok(minnow(['predict', '--model', ownModel], `${texts}\n`))
      .out.trim()
      .split('\n');
    const share = preds.filter((l) => l.split('\t')[0] === 'pos').length / preds.length;
    assert.equal(acc, share);
  });

  test('finetune --dev refuses labels the training data does not have', () => {
    const dev = join(tmp, 'dev-meh.csv');
    writeFileSync(
      dev,
      csv([
        [POS[0], 'pos'],
        [NEG[0], 'meh'],
      ]),
    );
    failsWith(
      minnow([
        'finetune',
        '--preset',
        'uno-eelbert',
        '--data',
        own,
        '--text-column',
        'text',
        '--dev',
        dev,
        '--out',
        join(tmp, 'meh'),
      ]),
      /meh/,
    );
  });

  /** `minnow distill` of the SST-2 model into uno-eelbert on TASK's mini data, into tmp/OUT. */
  const distillArgs = (task: string, out: string) => [
    ...['distill', '--teacher', sst2Model, '--student', 'uno-eelbert', '--out', join(tmp, out)],
    ...['--task', task, '--data', GLUE_MINI],
  ];

  test('a model fine-tuned on SST-2 is not evaluated on another task, nor distilled on one', () => {
    for (const task of ['cola', 'rte'])
      failsWith(
        minnow(['eval', '--model', sst2Model, '--task', task, '--data', GLUE_MINI]),
        new RegExp(`fine-tuned on sst2, not ${task}`),
      );
    failsWith(minnow(distillArgs('cola', 'd')), /fine-tuned on sst2, not cola/);
  });

  test("distill's closing line prints the teacher's metrics in percent, not its score scaled again", () => {
    const out = ok(minnow([...distillArgs('sst2', 'd-line'), '--epochs', '1'])).out;
    assert.match(
      out,
      /^sst2 dev: student accuracy \d+\.\d\d \(teacher accuracy \d+\.\d\d\); model written to /m,
    );
    // The record keeps the teacher like the student: metrics as fractions, score in percent, apart.
    const rec = JSON.parse(readFileSync(join(tmp, 'd-line', 'eval_results.json'), 'utf8'));
    assert.deepEqual(Object.keys(rec.teacher.metrics), ['accuracy']);
    assert.ok(rec.teacher.metrics.accuracy <= 1);
    assert.ok(Math.abs(rec.teacher.score - 100 * rec.teacher.metrics.accuracy) < 1e-9);
  });

  test('predict reads pairs only for pair models; extra fields are an error; labels have names', () => {
    const line = (text: string, ...args: string[]) =>
      JSON.parse(ok(minnow(['predict', '--model', sst2Model, '--json', ...args], `${text}\n`)).out);
    // SST-2 is a single-sentence task: a TAB is part of the text (whitespace), not a pair separator.
    assert.deepEqual(line('great fun\tand warm').logits, line('great fun and warm').logits);
    assert.notDeepEqual(line('great fun\tand warm', '--pairs').logits, line('great fun and warm').logits);
    failsWith(minnow(['predict', '--model', sst2Model, '--pairs'], 'a\tb\tc\n'), /stdin:1: .*3/);
    assert.match(line('great fun').label, /^(negative|positive)$/);
    const plain = ok(minnow(['predict', '--model', sst2Model, '--batch-size', '2'], 'great fun\n')).out;
    assert.match(plain, /^(negative|positive)\t0\.\d{4}\n$/);
  });

  test('--out that is a file, or lies under one, is one clear line before any data is read', () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const args = (out: string) => [
      'finetune',
      '--preset',
      'uno-eelbert',
      '--task',
      'sst2',
      '--data',
      GLUE_MINI,
      '--out',
      out,
    ];
    failsWith(minnow(args(file)), /--out .*is a file/);
    failsWith(minnow(args(join(file, 'sub'))), /--out .*is a file/);
    failsWith(
      minnow(['pretrain', '--preset', 'bert-tiny', '--corpus', own, '--out', file]),
      /--out .*is a file/,
    );
  });

  test('numeric flags are range-checked, negative numbers too; stray arguments are refused', () => {
    const ft = (...extra: string[]) =>
      minnow([
        'finetune',
        '--preset',
        'uno-eelbert',
        '--task',
        'sst2',
        '--data',
        GLUE_MINI,
        '--out',
        join(tmp, 'x'),
        ...extra,
      ]);
    failsWith(ft('--dropout', '1'), /--dropout: must be < 1, got 1/);
    failsWith(ft('--dropout', '1.5'), /--dropout: must be < 1/);
    failsWith(ft('--warmup', '5'), /--warmup: must be <= 1/);
    failsWith(ft('--lr', '0'), /--lr: must be > 0/);
    failsWith(ft('--lr', '-1'), /--lr: must be > 0, got -1/);
    failsWith(ft('--epochs', '-2'), /--epochs: must be >= 1, got -2/);
    failsWith(ft('--seed', String(2 ** 32)), /--seed: must be <= 4294967295/);
    failsWith(ft('--seed', '1.5'), /--seed: must be an integer/);
    failsWith(ft('stray'), /unexpected argument "stray"/);
    failsWith(
      minnow(['eval', '--model', sst2Model, '--task', 'sst2', '--data', GLUE_MINI, '--batch-size', '0']),
      /--batch-size: must be >= 1/,
    );
  });

  test('help and flags that were missing or did nothing', () => {
    failsWith(
      minnow([
        'distill',
        '--teacher',
        sst2Model,
        '--student',
        'uno-big',
        '--out',
        join(tmp, 'y'),
        '--task',
        'sst2',
        '--data',
        GLUE_MINI,
      ]),
      /--student uno-big: not a preset \(.*uno-eelbert.*\)/,
    );
    const distillHelp = ok(minnow(['distill', '--help'])).out;
    assert.match(distillHelp, /--resume/);
    assert.match(distillHelp, /--checkpoint-every N\s+updates between checkpoints \(default: task/);
    assert.match(ok(minnow(['pretrain', '--help'])).out, /--json/);
    for (const cmd of ['eval', 'predict']) assert.match(ok(minnow([cmd, '--help'])).out, /--batch-size N/);
  });

  test('predict and eval read a classifier saved by Hugging Face transformers 4.x and 5.x', () => {
    const m = createModel(preset('bert-tiny'), join('test', 'fixtures', 'general-vocab.txt'), new Rng(3), {
      numLabels: 2,
    });
    const data = join(tmp, 'hf-eval.csv');
    writeFileSync(
      data,
      csv([
        ['a wonderful film', '1'],
        ['a dull mess', '0'],
        ['loved it', '1'],
      ]),
    );
    for (const version of [4, 5]) {
      const dir = join(tmp, `hf${version}`);
      mkdirSync(dir, { recursive: true });
      const c = m.config;
      // As save_pretrained writes it: no num_labels; 5.x leaves out the default id2label; no problem_type.
      const config = {
        architectures: ['BertForSequenceClassification'],
        attention_probs_dropout_prob: 0.1,
        classifier_dropout: null,
        hidden_act: 'gelu',
        hidden_dropout_prob: 0.1,
        hidden_size: c.hidden_size,
        initializer_range: 0.02,
        intermediate_size: c.intermediate_size,
        layer_norm_eps: 1e-12,
        max_position_embeddings: c.max_position_embeddings,
        model_type: 'bert',
        num_attention_heads: c.num_attention_heads,
        num_hidden_layers: c.num_hidden_layers,
        pad_token_id: 0,
        type_vocab_size: 2,
        use_cache: true,
        vocab_size: c.vocab_size,
        ...(version === 4
          ? {
              id2label: { 0: 'LABEL_0', 1: 'LABEL_1' },
              label2id: { LABEL_0: 0, LABEL_1: 1 },
              position_embedding_type: 'absolute',
              torch_dtype: 'float32',
              transformers_version: '4.46.3',
            }
          : { dtype: 'float32', transformers_version: '5.0.0' }),
      };
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
      writeFileSync(join(dir, 'vocab.txt'), `${m.tokenizer.vocabulary.join('\n')}\n`);
      const tensors = m.store.toTensors();
      if (version === 4)
        tensors.set('bert.embeddings.position_ids', {
          dtype: 'I64',
          shape: [1, c.max_position_embeddings],
          data: BigInt64Array.from({ length: c.max_position_embeddings }, (_, i) => BigInt(i)),
        });
      writeSafetensors(join(dir, 'model.safetensors'), tensors);
      const preds = ok(
        minnow(['predict', '--model', dir, '--json'], 'a wonderful film\na dull mess\nloved it\n'),
      )
        .out.trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(preds.length, 3);
      for (const r of preds) assert.match(r.label, /^LABEL_[01]$/);
      // transformers' class k (LABEL_k) is the label "k" in a data file: eval agrees with predict.
      const ev = JSON.parse(
        ok(minnow(['eval', '--model', dir, '--data', data, '--text-column', 'text', '--json'])).out,
      );
      const gold = [1, 0, 1];
      const agree = preds.filter((r, i) => r.label === `LABEL_${gold[i]}`).length / 3;
      assert.equal(ev.examples, 3);
      assert.equal(ev.metrics.accuracy, agree);
    }
  });

  test('export, predict --quantized and serve refuse bad input in one line', () => {
    failsWith(
      minnow(['export', '--model', sst2Model, '--out', join(tmp, 'e1'), '--data', GLUE_MINI]),
      /--data needs --check/,
    );
    failsWith(
      minnow(['export', '--model', sst2Model, '--out', join(tmp, 'e2'), '--int8', 'fp8']),
      /--int8: expected static or weight-only or dynamic/,
    );
    failsWith(
      minnow(['export', '--model', sst2Model, '--out', join(tmp, 'e3'), '--max-drop', '-1']),
      /--max-drop: must be >= 0/,
    );
    failsWith(
      minnow(['export', '--model', join(tmp, 'nope'), '--out', join(tmp, 'e4')]),
      /model directory not found/,
    );
    // Static int8 asked for with nothing to calibrate on; an anchors.txt that is not a file.
    failsWith(
      minnow(['export', '--model', sst2Model, '--out', join(tmp, 'e5'), '--int8', 'static']),
      /--int8 static: nothing to calibrate on; .* has no anchors\.txt: give labelled texts with --check/,
    );
    const odd = join(tmp, 'sst2-anchors-dir');
    cpSync(sst2Model, odd, { recursive: true });
    mkdirSync(join(odd, 'anchors.txt'));
    failsWith(minnow(['export', '--model', odd, '--out', join(tmp, 'e6')]), /anchors\.txt: not a file/);
    failsWith(
      minnow(['predict', '--model', sst2Model, '--quantized'], 'a text\n'),
      /int8 needs an exported folder/,
    );
    failsWith(minnow(['serve', '--model', sst2Model, '--port', '70000']), /--port: must be <= 65535/);
    failsWith(minnow(['serve', '--model', sst2Model, '--max-queue', '0']), /--max-queue: must be >= 1/);
  });

  test('npm prints no warning about the project config, and onnxruntime-node installs offline', () => {
    const r = spawnSync('npm', ['exec', '--offline', '--', 'node', '-e', ''], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /npm warn/i);
    // Its install script would fetch CUDA binaries; the project denies it (npm's allowScripts).
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
  });
});

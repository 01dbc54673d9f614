/**
 * The models committed under models/ (the README's quick start runs on them from a fresh clone): the
 * pre-trained ones within the size limits, hash embeddings with no V x H table stored, a pre-training
 * record, and they fine-tune; the sentiment model gives the dev scores it was shipped with.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CLI } from '../cli/cli.testkit.js';
import { readSafetensors } from '../runtime/safetensors-file.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-shipped-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function minnow(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

for (const [name, maxBytes, layers] of [
  ['eelbert-tiny', 2.0e6, 2],
  ['uno-eelbert', 1.2e6, 1],
] as const) {
  test(`models/${name}: <= ${maxBytes / 1e6} MB, hash embeddings, pre-trained`, () => {
    const dir = join('models', name);
    const info = JSON.parse(minnow('info', dir, '--json'));
    assert.ok(info.bytes_weights <= maxBytes, `${info.bytes_weights} bytes`);
    assert.equal(info.embedding_type, 'hash');
    assert.equal(info.layers, layers);
    assert.equal(info.bytes_mlm_head, 0);
    const names = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
    assert.ok(!names.some((n) => n.includes('word_embeddings')), 'no word table stored');
    // Shipped by scripts/ship-models.ts from a budget-curve point: millions of tokens of MLM or ELECTRA.
    const [record] = info.config.minnow_pretraining;
    assert.ok(record.tokens >= 2_000_000, `${record.tokens} tokens`);
    const loss = record.objective === 'electra' ? record.valid_generator_mlm_loss : record.valid_mlm_loss;
    assert.ok(loss < Math.log(30522), `valid (generator) MLM loss ${loss}: under a uniform guess's`);
    // `minnow info` says how the model was pre-trained.
    assert.match(
      minnow('info', dir),
      record.objective === 'electra'
        ? /pre-trained .* with ELECTRA \(generator .*RTD loss/
        : /valid MLM loss/,
    );
  });
}

test('models/uno-eelbert fine-tunes on a small task (the quick start, shortened)', () => {
  const out = join(tmp, 'ft');
  const res = JSON.parse(
    minnow(
      'finetune',
      '--model',
      join('models', 'uno-eelbert'),
      '--task',
      'sst2',
      '--data',
      join('test', 'fixtures', 'glue-mini'),
      '--out',
      out,
      '--epochs',
      '1',
      '--json',
    ),
  );
  assert.ok(res.metrics.accuracy >= 0 && res.metrics.accuracy <= 1);
  const info = JSON.parse(minnow('info', out, '--json'));
  assert.equal(info.task, 'sst2');
  assert.equal(info.config.minnow_pretraining.length, 1, 'the pre-training record travels with the model');
});

test('models/sst2-sentiment: the dev scores recorded when it was shipped, in fp32 and after an int8 export', () => {
  // scripts/sst2-distill.ts --ship recorded the run it copied and its scores on SST-2 dev, which
  // examples/sst2/dev.tsv holds whole (872 sentences): the committed weights must give them again.
  const record = JSON.parse(readFileSync(join('results', 'sst2-distill.json'), 'utf8')).shipped;
  assert.ok(
    record,
    'results/sst2-distill.json has no "shipped" record (scripts/sst2-distill.ts --ship lowrank-k4)',
  );
  assert.equal(record.dir, join('models', 'sst2-sentiment'));
  const evalOn = (...args: string[]) =>
    JSON.parse(minnow('eval', ...args, '--task', 'sst2', '--data', join('examples', 'sst2'), '--json'));
  const fp32 = evalOn('--model', record.dir);
  assert.equal(fp32.examples, 872);
  assert.ok(Math.abs(fp32.score - record.fp32) < 1e-9, `fp32 ${fp32.score} vs recorded ${record.fp32}`);
  // It was shipped with weight-only int8, the default then.
  const out = join(tmp, 'sentiment');
  minnow('export', '--model', record.dir, '--out', out, '--int8', 'weight-only');
  const int8File = join(out, 'onnx', 'model_quantized.onnx');
  assert.ok(statSync(int8File).size < 500_000, 'the sub-0.5 MB class');
  assert.equal(statSync(int8File).size, record.int8_bytes);
  const int8 = evalOn('--model', out, '--quantized');
  // The int8 rounding is onnxruntime's; allow two sentences of the 872 if its kernels change.
  assert.ok(Math.abs(int8.score - record.int8) <= 0.23, `int8 ${int8.score} vs recorded ${record.int8}`);
  // Today's default, static int8 calibrated on the model's anchors.txt, loses no more than two sentences.
  const fixed = join(tmp, 'sentiment-static');
  minnow('export', '--model', record.dir, '--out', fixed);
  assert.ok(statSync(join(fixed, 'onnx', 'model_quantized.onnx')).size < 430_000);
  const int8Static = evalOn('--model', fixed, '--quantized');
  assert.ok(int8Static.score >= record.fp32 - 0.23, `static int8 ${int8Static.score} vs fp32 ${record.fp32}`);
  // The model card's example, and a plain negative.
  writeFileSync(
    join(tmp, 'two.txt'),
    'a gorgeous, witty, seductive movie.\nthe worst film of the year, dull and far too long.\n',
  );
  const lines = minnow('predict', '--model', out, '--quantized', '--input', join(tmp, 'two.txt'));
  assert.deepEqual(
    lines
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[0]),
    ['positive', 'negative'],
  );
});

/**
 * The pre-trained models committed under models/ (the README's quick start runs on them from a fresh
 * clone): within the size limits, hash embeddings with no V x H table stored, a pre-training record, and
 * they fine-tune.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readSafetensors } from '../runtime/safetensors-file.js';

const CLI = join('dist', 'cli', 'main.js');
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

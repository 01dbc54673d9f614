/**
 * `minnow bench infer` in a smoke configuration (6 sentences, 1 rep, 1 thread, batches 1 and 4): every
 * system loads and times every row of a hash model (fine-tuned by the bench on the glue-mini fixture),
 * the peers' probabilities match minnow's, a file a peer cannot load is a row with the error, and the
 * --threads/--batch lists are checked.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { numberList } from '../cli/bench.js';
import { benchInfer, type InferBenchOptions, type InferBenchResult, inferTable } from './infer.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-bench-infer-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** onnxruntime-web comes with transformers.js; where it cannot be imported its rows are errors. */
const ORT_WEB = 'onnxruntime-web';
const hasOrtWeb = await import(ORT_WEB).then(
  () => true,
  () => false,
);

const SMOKE: InferBenchOptions = {
  models: ['models/uno-eelbert'],
  sentences: 6,
  reps: 1,
  threads: [1],
  batches: [1, 4],
  peers: true,
  cacheDir: join(tmp, 'cache'),
  finetuneData: join('test', 'fixtures', 'glue-mini'),
  warmup: 4,
};

let first: InferBenchResult;

describe('bench infer', () => {
  test('smoke: minnow, transformers.js and onnxruntime-web side by side', async () => {
    first = await benchInfer({ ...SMOKE, models: [...SMOKE.models, join(tmp, 'no-such-model')] });
    assert.equal(first.data.sentences, 6);
    assert.equal(first.models.length, 1);
    const m = first.models[0];
    assert.equal(m.name, 'uno-eelbert');
    assert.equal(m.prepared, 'fine-tuned and exported');
    assert.ok(m.compact);

    const missing = first.rows.filter((r) => r.error);
    assert.equal(missing.length, 1, JSON.stringify(missing));
    assert.match(missing[0].error!, /model not prepared: .*no-such-model: no config\.json/);

    const rows = first.rows.filter((r) => !r.error);
    const count = (s: string) => rows.filter((r) => r.system === s).length;
    assert.equal(count('minnow'), 8); // compact + portable, fp32 + int8, batch 1 + 4
    assert.equal(count('transformers.js'), 4); // portable only
    assert.equal(count('ort-web'), hasOrtWeb ? 8 : 0);
    for (const r of rows) {
      assert.equal(r.ms_per_pass_all.length, 1);
      assert.ok(r.ms_per_sentence_median! > 0 && r.sentences_per_s_median! > 0, JSON.stringify(r));
      assert.ok(r.model_bytes! > 0);
      if (r.system === 'transformers.js') assert.equal(r.vs_transformers_js, null);
      else assert.ok(r.vs_transformers_js! > 0, JSON.stringify(r));
      // The same file on the same onnxruntime gives the same probabilities; wasm's fp32 too.
      if (r.variant === 'portable' && (r.system !== 'minnow' || r.dtype === 'fp32')) {
        if (r.system === 'minnow') assert.equal(r.max_abs_diff_vs_minnow, null);
        else if (r.system === 'transformers.js' || r.dtype === 'fp32')
          assert.ok(r.max_abs_diff_vs_minnow! < 1e-5, JSON.stringify(r));
      }
    }
    const compact = rows.find((r) => r.system === 'minnow' && r.variant === 'compact' && r.dtype === 'fp32');
    assert.ok(compact!.max_abs_diff_vs_minnow! < 1e-5);
    assert.ok(compact!.model_bytes! < rows.find((r) => r.variant === 'portable')!.model_bytes!);

    const table = inferTable(first);
    assert.match(table, /^\| system \| model \| variant \| dtype \| batch \| threads \| ms\/sentence \|/);
    assert.match(
      table,
      /\| minnow \| uno-eelbert \| compact \| int8 \| 4 \| 1 \| [\d.]+ \| \d+ \| [\d.]+ kB \| [\d.]+x \|/,
    );
    assert.match(table, /\| transformers\.js \| uno-eelbert \| portable \| fp32 \| 1 \| 1 \|/);
    assert.match(table, /no-such-model: no config\.json/);
    assert.match(table, /transformers\.js: 4\.\d+\.\d+.*Could not: portable files only/);
  });

  test('a file a peer cannot load is a row with its error; the rest run', async () => {
    // An export given as it is (no fine-tuning), with its portable int8 file damaged.
    const folder = join(tmp, 'damaged');
    cpSync(first.models[0].dir, folder, { recursive: true });
    writeFileSync(join(folder, 'onnx', 'model_quantized.onnx'), 'not an onnx file');
    const r = await benchInfer({ ...SMOKE, models: [folder], batches: [2] });
    assert.equal(r.models[0].prepared, 'given');
    const bad = r.rows.filter((x) => x.error);
    const systems = ['minnow', 'transformers.js', ...(hasOrtWeb ? ['ort-web'] : [])];
    assert.deepEqual(bad.map((x) => x.system).sort(), systems.sort(), JSON.stringify(bad));
    for (const x of bad) {
      assert.equal(x.dtype, 'int8');
      assert.equal(x.variant, 'portable');
      assert.match(x.error!, /^load failed: /);
    }
    const good = r.rows.filter((x) => !x.error);
    assert.equal(good.length, 3 + 1 + (hasOrtWeb ? 3 : 0));
    assert.ok(good.every((x) => x.sentences_per_s_median! > 0));
  });

  test('--threads and --batch take checked comma lists', () => {
    assert.deepEqual(numberList('threads', '1,2', { int: true, min: 1 }), [1, 2]);
    assert.deepEqual(numberList('batch', ' 32 , 1,32', { int: true, min: 1 }), [32, 1]);
    assert.throws(() => numberList('threads', '1,,2', { int: true, min: 1 }), UserError);
    assert.throws(
      () => numberList('threads', '1,two', { int: true, min: 1 }),
      /--threads: expected a number/,
    );
    assert.throws(() => numberList('batch', '0', { int: true, min: 1 }), /--batch: must be >= 1, got 0/);
  });
});

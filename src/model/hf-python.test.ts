/**
 * minnow's models in Python transformers, checked against transformers itself (skipped, with one message,
 * without a Python that imports torch and transformers: $MINNOW_PYTHON, else python3):
 * - python/modeling_minnow.py's EELBERT table is bit for bit src/text/hash-embedding.ts's, for every
 *   variant config.json records;
 * - `from_pretrained(dir, trust_remote_code=True)` gives minnow's logits for a hash model (uno-eelbert, and a
 *   variant with boundaries, wholeToken and a projection), a low-rank model (models/sst2-sentiment, on the
 *   whole SST-2 dev set), a regression head and a table model; AutoModelForMaskedLM gives minnow's
 *   masked-LM logits (the decoder tied as minnow ties it) and AutoModel its [CLS] states;
 * - without trust_remote_code transformers refuses a hash or low-rank directory or export folder instead of
 *   loading random word embeddings; a table model still loads as plain BERT.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bertFeeds } from '../data/batch.js';
import * as o from '../graph/ops.js';
import { DEFAULT_EXPORT, exportModel } from '../infer/export-folder.js';
import { loadClassifier } from '../infer/load.js';
import { Dropout } from '../runtime/dropout.js';
import { Forward } from '../runtime/forward.js';
import { hashEmbeddingTable, type HashEmbeddingConfig, validateHashConfig } from '../text/hash-embedding.js';
import { BertTokenizer } from '../text/wordpiece.js';
import { BERT_VOCAB, PACKAGE_ROOT } from '../util/assets.js';
import { runPython, torchPython } from '../util/python.testkit.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_NGRAM } from '../ngram/features.js';
import { bertInputs, encoder, mlmHead } from './bert.js';
import { type BertConfig, preset } from './config.js';
import { createModel, loadModel, type Model, saveModel } from './io.js';

const py = torchPython();
const skip = 'skip' in py ? py.skip : false;
const python = 'python' in py ? py.python : '';

/** Agreement of transformers' logits with minnow's (float32 on both sides, summed in other orders). */
const TOL = 1e-5;

const DEV = readFileSync(join(PACKAGE_ROOT, 'examples/sst2/dev.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t')[0]);

let tmp = '';
before(() => {
  if (!skip) tmp = mkdtempSync(join(tmpdir(), 'minnow-hf-python-'));
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Job {
  dir: string;
  head: 'sequence' | 'masked_lm' | 'base';
  trust: boolean;
  input_ids: number[][];
  token_type_ids: number[][];
  attention_mask: number[][];
  positions?: [number, number][];
}
type JobResult = { logits: number[][]; class: string } | { refused: string };

/** Run the jobs in one Python process (torch and transformers imported once). */
function pythonJobs(jobs: Job[]): JobResult[] {
  const file = join(tmp, `jobs-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(jobs));
  const out = runPython(python, 'check_remote.py', ['logits', file], join(tmp, 'hf-home'));
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JobResult);
}

/** Padded (B, T) inputs of token rows, as number arrays. */
function inputs(rows: { ids: ArrayLike<number>; types?: ArrayLike<number> }[], padId: number) {
  const f = bertFeeds(rows, padId);
  const grid = (a: BigInt64Array) =>
    Array.from({ length: f.B }, (_, b) => Array.from(a.subarray(b * f.T, (b + 1) * f.T), Number));
  return {
    input_ids: grid(f.input_ids),
    token_type_ids: grid(f.token_type_ids),
    attention_mask: grid(f.attention_mask),
    feeds: f,
  };
}

function maxAbsDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  assert.equal(a.length, b.length, 'row count');
  let d = 0;
  a.forEach((row, i) => {
    assert.equal(row.length, b[i].length, `row ${i} width`);
    for (let j = 0; j < row.length; j++) d = Math.max(d, Math.abs(row[j] - b[i][j]));
  });
  return d;
}

function logitsOf(r: JobResult, what: string): number[][] {
  assert.ok('logits' in r, `${what}: transformers refused it: ${'refused' in r ? r.refused : ''}`);
  return r.logits;
}

/** A classifier head on a model in memory (setHead's fields). */
function withHead(m: Model, n: number): Model {
  const c = m.config;
  c.num_labels = n;
  c.problem_type = n === 1 ? 'regression' : 'single_label_classification';
  c.id2label = Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), `class_${i}`]));
  return m;
}

/** Nudge every parameter matching `name` so that identities and zeros become something to check. */
function perturb(m: Model, name: (n: string) => boolean, seed: number): void {
  const rng = new Rng(seed);
  for (const p of m.store.params)
    if (!p.derived && name(p.name)) for (let i = 0; i < p.data.length; i++) p.data[i] += 0.05 * rng.normal();
}

/** minnow's logits (the runtime `minnow predict` runs) and the token rows it read, for a saved classifier. */
async function minnowLogits(dir: string, texts: string[]) {
  const clf = await loadClassifier(dir, { threads: 1, maxLength: 64 });
  const rows = clf.encode(texts);
  const logits = await clf.logits(rows);
  await clf.release();
  return { rows, logits };
}

/** [CLS] states and masked-LM logits at `positions` (flat b*T + t) of a model in memory, through a forward graph. */
async function minnowEncoderOutputs(
  m: Model,
  rows: { ids: number[]; types: number[] }[],
  positions: number[],
) {
  const f = bertFeeds(rows, m.tokenizer.padId);
  const fwd = await Forward.create(
    (g, w) => {
      const x = bertInputs(g);
      const out = encoder(w, m.config, x, new Dropout(false));
      const cls = o.gather(
        out.sequence,
        g.constant(
          Array.from({ length: f.B }, (_, b) => b * f.T),
          'int64',
          [f.B],
          'cls_rows',
        ),
      );
      const head = mlmHead(w, m.config, out, g.input('mlm_positions', 'int64', ['M']));
      const mlm = o.add(o.gemm(head.h, head.table, null, { transB: true }), head.bias);
      return { cls, mlm };
    },
    m.store,
    { threads: 1 },
  );
  const { B, T, tokens: _, ...feeds } = f;
  const r = await fwd.run(
    { ...feeds, mlm_positions: BigInt64Array.from(positions.map(BigInt)) },
    { B, T, M: positions.length },
  );
  await fwd.release();
  const rowsOf = (t: { data: unknown; shape: readonly number[] }) => {
    const data = t.data as Float32Array;
    const w = t.shape[1];
    return Array.from({ length: t.shape[0] }, (_, i) => data.subarray(i * w, (i + 1) * w));
  };
  return { cls: rowsOf(r.cls as never), mlm: rowsOf(r.mlm as never) };
}

describe('Python transformers reads minnow models', { skip }, () => {
  test('the EELBERT hash table is bit-identical in Python for every variant', () => {
    const extra = ['', 'é', 'naïve', '𠀀b', '##', '##𠀀', '<x>', '[MASK]', '[X]', 'ab', 'a'.repeat(120)];
    const vocab = [...BertTokenizer.parseVocab(readFileSync(BERT_VOCAB, 'utf8')), ...extra];
    const vocabFile = join(tmp, 'vocab.txt');
    writeFileSync(vocabFile, `${vocab.join('\n')}\n`);
    const specs: { dim: number; config: Partial<HashEmbeddingConfig> }[] = [
      { dim: 128, config: {} },
      { dim: 128, config: { boundaries: true } },
      { dim: 128, config: { wholeToken: 0.25 } },
      { dim: 128, config: { projection: true } },
      { dim: 96, config: { partition: 'shared' } },
      { dim: 64, config: { ngramMin: 2, ngramMax: 5, seed: 4294967295 } },
      {
        dim: 50,
        config: { ngramMin: 1, ngramMax: 1, seed: 7, partition: 'shared', boundaries: true, wholeToken: 0.3 },
      },
      { dim: 33, config: { ngramMin: 3, ngramMax: 4, seed: 123456789, wholeToken: 0.5 } },
    ];
    const specsFile = join(tmp, 'specs.json');
    writeFileSync(specsFile, JSON.stringify(specs));
    const outDir = mkdtempSync(join(tmp, 'tables-'));
    runPython(python, 'check_remote.py', ['hash-tables', vocabFile, specsFile, outDir], join(tmp, 'hf-home'));
    specs.forEach((s, i) => {
      const ts = hashEmbeddingTable(vocab, s.dim, validateHashConfig(s.config, 'spec'));
      const pyTable = new Float32Array(new Uint8Array(readFileSync(join(outDir, `${i}.bin`))).buffer);
      assert.equal(pyTable.length, ts.length, `spec ${i}: table size`);
      const a = new Uint32Array(ts.buffer);
      const b = new Uint32Array(pyTable.buffer);
      const first = a.findIndex((x, k) => x !== b[k]);
      assert.equal(
        first,
        -1,
        `spec ${i} ${JSON.stringify(s.config)}: first difference at piece ${JSON.stringify(vocab[Math.floor(first / s.dim)])} dim ${first % s.dim}: minnow ${ts[first]}, Python ${pyTable[first]}`,
      );
    });
  });

  test('trust_remote_code gives minnow logits for hash, low-rank, regression and table classifiers; without it hash and low-rank are refused', async () => {
    const vocab = BERT_VOCAB;
    const models: { name: string; model: Model; texts: string[]; remote: boolean }[] = [];
    // A pre-trained hash model (the shipped uno-eelbert) with a fresh classifier.
    models.push({
      name: 'uno-eelbert',
      model: withHead(
        loadModel(join(PACKAGE_ROOT, 'models/uno-eelbert'), { numLabels: 2, rng: new Rng(1) }),
        2,
      ),
      texts: DEV,
      remote: true,
    });
    // Every hash variant at once, with a projection that is not the identity.
    const variant: BertConfig = {
      ...preset('eelbert-tiny'),
      hash_embedding: validateHashConfig(
        { boundaries: true, wholeToken: 0.25, projection: true, seed: 9 },
        'test',
      ),
    };
    const hashVariant = withHead(createModel(variant, vocab, new Rng(2), { numLabels: 3 }), 3);
    perturb(hashVariant, (n) => n.includes('word_projection') || n.startsWith('classifier'), 3);
    models.push({ name: 'hash variant', model: hashVariant, texts: DEV.slice(0, 100), remote: true });
    // The shipped low-rank sentiment model on the whole SST-2 dev set.
    models.push({
      name: 'sst2-sentiment (low-rank)',
      model: loadModel(join(PACKAGE_ROOT, 'models/sst2-sentiment'), { numLabels: 2 }),
      texts: DEV,
      remote: true,
    });
    const regression = withHead(createModel(preset('uno-lowrank'), vocab, new Rng(4), { numLabels: 1 }), 1);
    perturb(regression, (n) => n.startsWith('classifier'), 5);
    models.push({ name: 'low-rank regression', model: regression, texts: DEV.slice(0, 100), remote: true });
    const table = withHead(createModel(preset('bert-tiny'), vocab, new Rng(6), { numLabels: 2 }), 2);
    perturb(table, (n) => n.startsWith('classifier'), 7);
    models.push({ name: 'bert-tiny (table)', model: table, texts: DEV, remote: false });

    const jobs: Job[] = [];
    const expected: { name: string; logits: Float32Array[]; trust: boolean; remote: boolean }[] = [];
    for (const [i, { name, model, texts, remote }] of models.entries()) {
      const dir = join(tmp, `model-${i}`);
      saveModel(dir, model);
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      assert.equal(config.model_type, remote ? 'minnow-bert' : 'bert', `${name}: model_type`);
      const { rows, logits } = await minnowLogits(dir, texts);
      const x = inputs(rows, model.tokenizer.padId);
      for (const trust of remote ? [true, false] : [false]) {
        jobs.push({ dir, head: 'sequence', trust, ...x, feeds: undefined } as unknown as Job);
        expected.push({ name, logits, trust, remote });
      }
    }
    const results = pythonJobs(jobs);
    const report: string[] = [];
    results.forEach((r, k) => {
      const e = expected[k];
      if (e.remote && !e.trust) {
        assert.ok('refused' in r, `${e.name}: loaded without trust_remote_code`);
        assert.match(r.refused, /minnow-bert|trust_remote_code/, `${e.name}: ${r.refused}`);
        return;
      }
      const d = maxAbsDiff(e.logits, logitsOf(r, e.name));
      report.push(`${e.name} (${e.logits.length} texts): ${d.toExponential(2)}`);
      assert.ok(d <= TOL, `${e.name}: max |transformers - minnow| = ${d}`);
    });
    console.log(`max |logit difference|, transformers vs minnow: ${report.join('; ')}`);
  });

  test('AutoModelForMaskedLM and AutoModel give minnow outputs for hash and low-rank models (MLM head from mlm_head.safetensors)', async () => {
    const vocab = BERT_VOCAB;
    const hash = createModel(
      { ...preset('uno-eelbert'), hash_embedding: validateHashConfig({ projection: true }, 'test') },
      vocab,
      new Rng(8),
      { mlm: true },
    );
    const lowrank = createModel(preset('uno-lowrank'), vocab, new Rng(9), { mlm: true });
    const jobs: Job[] = [];
    const expected: { name: string; rows: ArrayLike<number>[] }[] = [];
    for (const [name, m] of [
      ['hash', hash],
      ['low-rank', lowrank],
    ] as const) {
      perturb(m, (n) => n.startsWith('cls.') || n.includes('word_projection'), 10);
      const dir = join(tmp, `mlm-${name}`);
      saveModel(dir, m);
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      assert.deepEqual(config.architectures, ['MinnowForMaskedLM']);
      const rows = DEV.slice(0, 6).map((t) => {
        const e = m.tokenizer.encode(t, undefined, { maxLength: 32 });
        return { ids: e.ids, types: e.typeIds };
      });
      const x = inputs(rows, m.tokenizer.padId);
      const positions: [number, number][] = rows.map((r, b) => [b, Math.min(2, r.ids.length - 1)]);
      const out = await minnowEncoderOutputs(
        m,
        rows,
        positions.map(([b, t]) => b * x.feeds.T + t),
      );
      const { feeds: _, ...feeds } = x;
      jobs.push({ dir, head: 'masked_lm', trust: true, ...feeds, positions });
      expected.push({ name: `${name} masked LM`, rows: out.mlm });
      jobs.push({ dir, head: 'base', trust: true, ...feeds });
      expected.push({ name: `${name} [CLS] states`, rows: out.cls });
    }
    const results = pythonJobs(jobs);
    results.forEach((r, k) => {
      const d = maxAbsDiff(expected[k].rows, logitsOf(r, expected[k].name));
      assert.ok(d <= TOL, `${expected[k].name}: max |transformers - minnow| = ${d}`);
    });
  });

  test("AutoTokenizer reads a minnow directory (vocab.txt and tokenizer_config.json) with minnow's tokens", () => {
    const m = createModel(preset('uno-eelbert'), BERT_VOCAB, new Rng(14));
    const dir = join(tmp, 'tokens');
    saveModel(dir, m);
    const texts = [...DEV.slice(0, 50), 'Naïve CAFÉ, 中文 [MASK] owners!', 'émoji 😀 here'];
    const file = join(tmp, 'token-texts.json');
    writeFileSync(file, JSON.stringify(texts));
    const ids = JSON.parse(runPython(python, 'check_remote.py', ['tokens', dir, file], join(tmp, 'hf-home')));
    texts.forEach((t, i) => assert.deepEqual(ids[i], m.tokenizer.encode(t).ids, JSON.stringify(t)));
  });

  test('a model trained further in PyTorch and saved by transformers reads back in minnow with equal logits', async () => {
    const vocab = BERT_VOCAB;
    const texts = DEV.slice(0, 8);
    const textsFile = join(tmp, 'train-texts.json');
    writeFileSync(textsFile, JSON.stringify(texts));
    const home = join(tmp, 'hf-home');
    const hashMlm = createModel(
      { ...preset('uno-eelbert'), hash_embedding: validateHashConfig({ projection: true }, 'test') },
      vocab,
      new Rng(15),
      { mlm: true },
    );
    const cases = [
      {
        name: 'hash classifier',
        model: withHead(
          loadModel(join(PACKAGE_ROOT, 'models/uno-eelbert'), { numLabels: 2, rng: new Rng(16) }),
          2,
        ),
        head: 'sequence',
      },
      {
        name: 'low-rank classifier',
        model: loadModel(join(PACKAGE_ROOT, 'models/sst2-sentiment'), { numLabels: 2 }),
        head: 'sequence',
      },
      { name: 'hash masked LM', model: hashMlm, head: 'masked_lm' },
      {
        name: 'low-rank masked LM',
        model: createModel(preset('uno-lowrank'), vocab, new Rng(17), { mlm: true }),
        head: 'masked_lm',
      },
    ] as const;
    const jobs: Job[] = [];
    const expected: { name: string; rows: ArrayLike<number>[]; before: ArrayLike<number>[] }[] = [];
    for (const [i, c] of cases.entries()) {
      const src = join(tmp, `trained-src-${i}`);
      const out = join(tmp, `trained-out-${i}`);
      saveModel(src, c.model);
      runPython(python, 'check_remote.py', ['train', src, out, c.head, textsFile], home);
      assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).model_type, 'minnow-bert');
      if (c.head === 'sequence') {
        const before = await minnowLogits(src, texts);
        const after = await minnowLogits(out, texts);
        const { feeds: _, ...x } = inputs(after.rows, c.model.tokenizer.padId);
        jobs.push({ dir: out, head: 'sequence', trust: true, ...x });
        expected.push({ name: c.name, rows: after.logits, before: before.logits });
      } else {
        const back = loadModel(out, { mlm: true });
        const rows = texts.map((t) => {
          const e = back.tokenizer.encode(t, undefined, { maxLength: 32 });
          return { ids: e.ids, types: e.typeIds };
        });
        const x = inputs(rows, back.tokenizer.padId);
        const positions: [number, number][] = rows.map((r, b) => [b, Math.min(3, r.ids.length - 1)]);
        const flat = positions.map(([b, t]) => b * x.feeds.T + t);
        const after = await minnowEncoderOutputs(back, rows, flat);
        const before = await minnowEncoderOutputs(loadModel(src, { mlm: true }), rows, flat);
        const { feeds: _, ...feeds } = x;
        jobs.push({ dir: out, head: 'masked_lm', trust: true, ...feeds, positions });
        expected.push({ name: c.name, rows: after.mlm, before: before.mlm });
      }
    }
    const results = pythonJobs(jobs);
    results.forEach((r, k) => {
      const e = expected[k];
      const d = maxAbsDiff(e.rows, logitsOf(r, e.name));
      assert.ok(d <= TOL, `${e.name}: max |transformers - minnow| after training = ${d}`);
      assert.ok(
        maxAbsDiff(e.rows, e.before) > 1e-3,
        `${e.name}: training in PyTorch changed nothing minnow reads`,
      );
    });
  });

  test('a hybrid (n-gram path) is refused by the sequence classifier, not run without its path', () => {
    const vocab = BERT_VOCAB;
    const config: BertConfig = { ...preset('bert-tiny'), ngram: { ...DEFAULT_NGRAM, buckets: 64 } };
    const m = withHead(createModel(config, vocab, new Rng(13), { numLabels: 2 }), 2);
    const dir = join(tmp, 'hybrid');
    saveModel(dir, m);
    const x = inputs([{ ids: m.tokenizer.encode('a fine film').ids }], m.tokenizer.padId);
    const { feeds: _, ...feeds } = x;
    const [trusted, plain] = pythonJobs([
      { dir, head: 'sequence', trust: true, ...feeds },
      { dir, head: 'sequence', trust: false, ...feeds },
    ]);
    assert.ok('refused' in trusted && /hybrid/.test(trusted.refused), JSON.stringify(trusted).slice(0, 300));
    assert.ok('refused' in plain, 'a hybrid loaded as plain BERT');
  });

  test('an export folder stays transformers.js-ready and loads with trust_remote_code; without it a hash export is refused', async () => {
    const vocab = BERT_VOCAB;
    const m = withHead(createModel(preset('uno-eelbert'), vocab, new Rng(11), { numLabels: 2 }), 2);
    perturb(m, (n) => n.startsWith('classifier'), 12);
    const dir = join(tmp, 'export-src');
    saveModel(dir, m);
    const out = join(tmp, 'export-out');
    await exportModel(dir, out, { ...DEFAULT_EXPORT, quantize: 'none', threads: 1 });
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(config.model_type, 'bert', 'transformers.js picks its class by model_type');
    assert.equal(
      config.auto_map.AutoModelForSequenceClassification,
      'modeling_minnow.MinnowForSequenceClassification',
    );
    const { rows, logits } = await minnowLogits(out, DEV.slice(0, 50));
    const { feeds: _, ...x } = inputs(rows, m.tokenizer.padId);
    const [trusted, plain] = pythonJobs([
      { dir: out, head: 'sequence', trust: true, ...x },
      { dir: out, head: 'sequence', trust: false, ...x },
    ]);
    const d = maxAbsDiff(logits, logitsOf(trusted, 'hash export'));
    assert.ok(d <= TOL, `hash export: max |transformers - minnow| = ${d}`);
    assert.ok('refused' in plain, 'a hash export loaded as plain BERT (random word embeddings)');
    assert.match(plain.refused, /ignore_mismatched_sizes|word_embeddings/);
  });
});

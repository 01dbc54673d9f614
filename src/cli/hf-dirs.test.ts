/**
 * Model directories as transformers writes them. transformers 5.x saves a BERT tokenizer as
 * tokenizer.json + tokenizer_config.json and no vocab.txt; minnow then reads the vocabulary from
 * tokenizer.json's WordPiece model in every command that reads a model (predict, eval, finetune, export,
 * info, distill).
 *
 * test/fixtures/hf5-classifier is python/make_hf_fixture.py's output under transformers 5.18 (committed,
 * so these checks run without Python), with transformers' own token ids and logits beside it. When a Python
 * with torch and transformers is found ($MINNOW_PYTHON, else python3) the same script also builds a
 * directory over the whole bert-base-uncased vocabulary here, and minnow must give transformers' tokens
 * and logits on texts that exercise the normalizer (accents, CJK, punctuation, special tokens in text).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadClassifier } from '../infer/load.js';
import { loadModel, saveModel } from '../model/io.js';
import { assetPath, PACKAGE_ROOT } from '../util/assets.js';
import { runPython, torchPython } from '../util/python.testkit.js';
import { Rng } from '../util/rng.js';
import { failsWith, minnow, ok } from './cli.testkit.js';

const FIXTURE = join(PACKAGE_ROOT, 'test/fixtures/hf5-classifier');
interface Expected {
  transformers: string;
  texts: string[];
  input_ids: number[][];
  logits: number[][];
}
const expectedOf = (dir: string) => JSON.parse(readFileSync(`${dir}.expected.json`, 'utf8')) as Expected;

/** transformers' logits against minnow's (both float32). */
const TOL = 1e-5;

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'minnow-hf-dirs-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function maxAbsDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  assert.equal(a.length, b.length);
  let d = 0;
  a.forEach((r, i) => {
    for (let j = 0; j < r.length; j++) d = Math.max(d, Math.abs(r[j] - b[i][j]));
  });
  return d;
}

/** minnow's token ids (with [CLS]/[SEP]) and logits for texts, in-process. */
async function minnowOutputs(dir: string, texts: string[]) {
  const m = loadModel(dir, { numLabels: expectedOf(dir).logits[0].length });
  const ids = texts.map((t) => m.tokenizer.encode(t).ids);
  const clf = await loadClassifier(dir, { threads: 1, maxLength: 512 });
  const logits = await clf.logits(clf.encode(texts));
  await clf.release();
  return { ids, logits };
}

describe('a transformers 5.x classifier directory (tokenizer.json, no vocab.txt)', () => {
  const e = expectedOf(FIXTURE);
  const labelled = () => {
    const file = join(tmp, 'own.tsv');
    const rows = [...e.texts, ...e.texts].map((t, i) => `${t}\tclass_${i % 3}`);
    writeFileSync(file, `sentence\tlabel\n${rows.join('\n')}\n`);
    return ['--data', file, '--text-column', 'sentence', '--label-column', 'label'];
  };

  test("minnow's tokens and logits are transformers'", async () => {
    const { ids, logits } = await minnowOutputs(FIXTURE, e.texts);
    assert.deepEqual(ids, e.input_ids);
    const d = maxAbsDiff(logits, e.logits);
    assert.ok(d <= TOL, `max |minnow - transformers| = ${d}`);
  });

  test('predict, eval, info, export, finetune and distill read it', () => {
    const input = join(tmp, 'texts.txt');
    writeFileSync(input, `${e.texts.join('\n')}\n`);
    const out = ok(minnow('predict', '--model', FIXTURE, '--input', input, '--json', '--threads', '1')).out;
    const rows = out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { logits: number[] }).logits);
    assert.ok(maxAbsDiff(rows, e.logits) <= TOL);
    assert.match(ok(minnow('eval', '--model', FIXTURE, ...labelled(), '--threads', '1')).out, /accuracy/);
    const info = ok(minnow('info', FIXTURE)).out;
    assert.match(info, /vocab 82/);
    assert.match(info, /task +unnamed, 3 labels/);
    assert.match(info, /with config\.json and tokenizer\.json/);
    const exported = join(tmp, 'export');
    ok(minnow('export', '--model', FIXTURE, '--out', exported, '--quantize', 'none', '--threads', '1'));
    const again = ok(
      minnow('predict', '--model', exported, '--input', input, '--json', '--threads', '1'),
    ).out;
    assert.equal(again, out);
    const ft = join(tmp, 'finetuned');
    ok(minnow('finetune', '--model', FIXTURE, ...labelled(), '--out', ft, '--epochs', '1', '--threads', '1'));
    assert.ok(loadModel(ft, { numLabels: 3 }).tokenizer.vocabSize === 82);
    const ds = join(tmp, 'distilled');
    ok(
      minnow(
        'distill',
        '--teacher',
        FIXTURE,
        '--student',
        FIXTURE,
        ...labelled(),
        '--out',
        ds,
        '--epochs',
        '1',
        '--threads',
        '1',
      ),
    );
  });

  test('a tokenizer.json minnow cannot follow is one line naming the field, exit 2', () => {
    const edit = (name: string, change: (t: Record<string, any>) => void) => {
      const dir = join(tmp, name);
      cpSync(FIXTURE, dir, { recursive: true });
      const file = join(dir, 'tokenizer.json');
      const t = JSON.parse(readFileSync(file, 'utf8'));
      change(t);
      writeFileSync(file, JSON.stringify(t));
      return dir;
    };
    const cased = edit('cased', (t) => (t.normalizer.lowercase = false));
    failsWith(
      minnow('predict', '--model', cased, '--threads', '1'),
      /tokenizer\.json: normalizer\.lowercase is false/,
    );
    const bpe = edit('bpe', (t) => (t.model.type = 'BPE'));
    failsWith(minnow('info', bpe), /tokenizer\.json: model\.type is "BPE"/);
    const hole = edit('hole', (t) => (t.model.vocab['##ly'] = 500));
    failsWith(minnow('info', hole), /tokenizer\.json: model\.vocab\["##ly"\] is 500/);
    const broken = edit('broken', () => {});
    writeFileSync(join(broken, 'tokenizer.json'), '{"model": ');
    failsWith(minnow('info', broken), /tokenizer\.json: invalid JSON/);
    // An export folder read by the runtime (predict, serve) with tokenizer.json and no vocab.txt.
    const exported = join(tmp, 'export-no-vocab');
    ok(minnow('export', '--model', FIXTURE, '--out', exported, '--quantize', 'none', '--threads', '1'));
    rmSync(join(exported, 'vocab.txt'));
    ok(minnow('predict', '--model', exported, '--threads', '1'));
    writeFileSync(join(exported, 'tokenizer.json'), '{"model": ');
    failsWith(minnow('predict', '--model', exported, '--threads', '1'), /tokenizer\.json: invalid JSON/);
  });
});

const py = torchPython();
describe('directories transformers writes here', { skip: 'skip' in py ? py.skip : false }, () => {
  const python = 'python' in py ? py.python : '';
  const TEXTS = [
    'a gorgeous, witty, seductive movie.',
    'Naïve CAFÉ owners in Ångström-land!!',
    '中文字符 mixed with English',
    "don't stop-believing... (really) $100 #1",
    'special [MASK] and [SEP] tokens in text',
    `${'x'.repeat(120)} a very long word`,
    'emoji 😀 and accents: résumé, über, façade',
    'Hello\u00a0world\u200b zero-width and no-break spaces',
  ];

  test("a bert-base-uncased classifier saved by transformers: minnow gives transformers' tokens and logits", async () => {
    const dir = join(tmp, 'hf-uncased');
    const texts = join(tmp, 'texts.json');
    writeFileSync(texts, JSON.stringify(TEXTS));
    const vocab = assetPath('bert-base-uncased-vocab.txt');
    runPython(python, 'make_hf_fixture.py', [dir, '--vocab', vocab, '--texts', texts], join(tmp, 'hf-home'));
    const e = expectedOf(dir);
    const { ids, logits } = await minnowOutputs(dir, e.texts);
    e.texts.forEach((t, i) => assert.deepEqual(ids[i], e.input_ids[i], `tokens of ${JSON.stringify(t)}`));
    const d = maxAbsDiff(logits, e.logits);
    assert.ok(d <= TOL, `max |minnow - transformers| = ${d}`);
  });

  test('a minnow hash classifier trained further in PyTorch: predict, eval, finetune, export and distill read it', async () => {
    const m = loadModel(join(PACKAGE_ROOT, 'models/uno-eelbert'), { numLabels: 2, rng: new Rng(1) });
    Object.assign(m.config, {
      num_labels: 2,
      problem_type: 'single_label_classification',
      id2label: { '0': 'class_0', '1': 'class_1' },
    });
    const src = join(tmp, 'minnow-hash');
    saveModel(src, m);
    const texts = join(tmp, 'train-texts.json');
    writeFileSync(texts, JSON.stringify(TEXTS.slice(0, 4)));
    const trained = join(tmp, 'torch-trained');
    runPython(python, 'check_remote.py', ['train', src, trained, 'sequence', texts], join(tmp, 'hf-home'));
    const input = join(tmp, 'trained-texts.txt');
    writeFileSync(input, `${TEXTS.join('\n')}\n`);
    const lines = ok(minnow('predict', '--model', trained, '--input', input, '--json', '--threads', '1')).out;
    const cli = lines
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { logits: number[] }).logits);
    const clf = await loadClassifier(trained, { threads: 1, maxLength: 128 });
    const inProcess = await clf.logits(clf.encode(TEXTS));
    await clf.release();
    assert.ok(maxAbsDiff(cli, inProcess) <= TOL);
    const data = join(tmp, 'two-class.tsv');
    writeFileSync(data, `sentence\tlabel\n${TEXTS.map((t, i) => `${t}\tclass_${i % 2}`).join('\n')}\n`);
    const own = ['--data', data, '--text-column', 'sentence', '--label-column', 'label', '--threads', '1'];
    assert.match(ok(minnow('eval', '--model', trained, ...own)).out, /accuracy/);
    ok(minnow('finetune', '--model', trained, ...own, '--out', join(tmp, 'ft2'), '--epochs', '1'));
    ok(
      minnow('export', '--model', trained, '--out', join(tmp, 'ex2'), '--quantize', 'none', '--threads', '1'),
    );
    ok(
      minnow(
        'distill',
        '--teacher',
        trained,
        '--student',
        trained,
        ...own,
        '--out',
        join(tmp, 'ds2'),
        '--epochs',
        '1',
      ),
    );
  });

  test('a cased tokenizer saved by transformers is refused in one line', () => {
    const dir = join(tmp, 'hf-cased');
    runPython(python, 'make_hf_fixture.py', [dir, '--cased'], join(tmp, 'hf-home'));
    failsWith(minnow('info', dir), /normalizer\.lowercase is false/);
  });
});

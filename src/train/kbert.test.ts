/**
 * Knowledge reaches the classifier (K-BERT, issue 12): a generated task whose label depends only on a fact
 * in a triples file. Sentences name invented entities ("i found a vorpel in the kitchen"); an entity's class
 * (fruit or tool) is written nowhere but in the triples, and the dev sentences name entities that training
 * never saw. Fine-tuned with the triples, the model reads "is a fruit" off the injected branch and
 * classifies the unseen entities; without them it can only guess.
 *
 * The same models also check the plumbing end to end: the knowledge settings land in config.json and the
 * graph in knowledge.kg; `minnow eval`'s path (runtime Classifier on the saved directory) scores what
 * fine-tuning scored; the exported folder (with knowledge.kg, a (B, T, T) attention_mask and position_ids)
 * gives the training graph's logits, and `minnow serve` on it answers with the runtime's labels and scores.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeAll } from '../data/batch.js';
import { readTask } from '../data/task.js';
import { readOnnx } from '../graph/onnx.js';
import { evaluateModel } from '../infer/evaluate.js';
import { DEFAULT_EXPORT, exportModel } from '../infer/export-folder.js';
import { folderReader, loadClassifier, nodeOrt } from '../infer/load.js';
import { DEFAULT_SERVE, startServer } from '../serve/server.js';
import { predictLogits } from '../infer/predict.js';
import { Classifier } from '../infer/runtime.js';
import { DEFAULT_KNOWLEDGE } from '../knowledge/config.js';
import { preset } from '../model/config.js';
import { createModel, loadModel, readConfig, saveModel } from '../model/io.js';
import { DEFAULT_TASK_DISTILL, distill } from '../distill/task-distill.js';
import { DEFAULT_DISTILL } from '../distill/mapping.js';
import { modelEncoder } from '../model/model.js';
import { assetPath } from '../util/assets.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_FINETUNE, type FinetuneConfig, finetune } from './finetune.js';

const SYLLABLES = [
  'vor',
  'pel',
  'quin',
  'mab',
  'zet',
  'lor',
  'dix',
  'fen',
  'gral',
  'tob',
  'sul',
  'wim',
  'kep',
  'rud',
];
const TEMPLATES = [
  'i found a {} in the kitchen',
  'she gave me the {} yesterday',
  'there is a {} on the table',
  'we talked about the {} all day',
  'my brother bought a {} at the market',
  'nobody knows where the {} went',
  'the old {} was still in the box',
  'he wrote a long letter about a {}',
];

/** 48 invented words, two syllables each, and a class for each drawn independently of its letters. */
function entities(): { name: string; cls: 'fruit' | 'tool' }[] {
  const rng = new Rng(11);
  const seen = new Set<string>();
  const out: { name: string; cls: 'fruit' | 'tool' }[] = [];
  while (out.length < 48) {
    const name = SYLLABLES[rng.int(SYLLABLES.length)] + SYLLABLES[rng.int(SYLLABLES.length)];
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, cls: out.length % 2 ? 'tool' : 'fruit' });
  }
  return out;
}

const FINETUNE: Omit<FinetuneConfig, 'out'> = {
  ...DEFAULT_FINETUNE,
  epochs: 10,
  lr: 1e-3,
  batchSize: 16,
  warmup: 0,
  threads: 1,
  maxLength: 64,
};

describe('K-BERT: knowledge that is only in the triples reaches the classifier', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'minnow-kbert-'));
  const data = { task: 'kinds', data: join(tmp, 'train.tsv'), textColumn: 'sentence', labelColumn: 'label' };
  const dev = { ...data, data: join(tmp, 'dev.tsv') };
  const triples = join(tmp, 'kinds.tsv');
  const base = join(tmp, 'base');
  const results = new Map<string, number>();

  before(async () => {
    const all = entities();
    const rows = (ents: typeof all) =>
      [
        'sentence\tlabel',
        ...ents.flatMap((e) => TEMPLATES.map((t) => `${t.replace('{}', e.name)}\t${e.cls}`)),
      ].join('\n');
    writeFileSync(data.data, `${rows(all.slice(0, 36))}\n`); // 36 entities x 8 sentences
    writeFileSync(dev.data, `${rows(all.slice(36))}\n`); // 12 entities never seen in training
    writeFileSync(
      triples,
      `subject\tpredicate\tobject\n${all.map((e) => `${e.name}\tis a\t${e.cls}`).join('\n')}\n`,
    );
    saveModel(
      base,
      createModel(preset('eelbert-tiny'), assetPath('bert-base-uncased-vocab.txt'), new Rng(3)),
    );
    const runs: [string, FinetuneConfig['knowledge']][] = [
      ['plain', undefined],
      ['kbert', { knowledge: triples, ...DEFAULT_KNOWLEDGE }],
      ['no-visible-matrix', { knowledge: triples, ...DEFAULT_KNOWLEDGE, visible_matrix: false }],
    ];
    for (const [name, knowledge] of runs) {
      const res = await finetune(base, data, dev, { ...FINETUNE, out: join(tmp, name), knowledge });
      results.set(name, res.score);
    }
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('with the triples the unseen entities are classified; without them, chance', (t) => {
    const [plain, kbert, open] = ['plain', 'kbert', 'no-visible-matrix'].map((k) => results.get(k)!);
    t.diagnostic(
      `dev score (accuracy and F1 averaged) on 12 unseen entities (96 sentences): plain ${plain.toFixed(1)}, K-BERT ${kbert.toFixed(1)}, K-BERT without the visible matrix ${open.toFixed(1)}`,
    );
    assert.ok(kbert >= 80, `K-BERT ${kbert}`); // seen: 91.3 (11 of the 12 unseen entities right)
    assert.ok(plain <= 70, `without knowledge ${plain}`);
  });

  test('config.json records the knowledge, knowledge.kg holds the graph, eval scores what fine-tuning scored', async () => {
    const dir = join(tmp, 'kbert');
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(config.knowledge, { source: 'kinds.tsv', ...DEFAULT_KNOWLEDGE });
    assert.ok(existsSync(join(dir, 'knowledge.kg')));
    assert.equal(existsSync(join(tmp, 'plain', 'knowledge.kg')), false);
    const res = await evaluateModel(dir, dev, 'train', { threads: 1, maxLength: 64, batchSize: 32 });
    assert.ok(
      Math.abs(res.score - results.get('kbert')!) < 1e-9,
      `eval ${res.score} vs fine-tuning ${results.get('kbert')}`,
    );
  });

  test('a K-BERT model directory without its knowledge.kg, or with a damaged one, is one clear error', () => {
    const copy = join(tmp, 'kbert-copy');
    cpSync(join(tmp, 'kbert'), copy, { recursive: true });
    rmSync(join(copy, 'knowledge.kg'));
    assert.throws(
      () => loadModel(copy, { numLabels: 2 }),
      (e) =>
        e instanceof UserError &&
        /kbert-copy\/knowledge\.kg: missing \(config\.json says the model reads knowledge from "kinds\.tsv"\)/.test(
          e.message,
        ),
    );
    writeFileSync(join(copy, 'knowledge.kg'), 'not a knowledge graph\n');
    assert.throws(
      () => loadModel(copy, { numLabels: 2 }),
      (e) => e instanceof UserError && /knowledge\.kg/.test(e.message),
    );
  });

  test('distillation: a K-BERT teacher into a K-BERT student (Hinton); TinyBERT with knowledge is refused', async (t) => {
    const opts = {
      ...DEFAULT_TASK_DISTILL,
      teacher: join(tmp, 'kbert'),
      student: { dir: base },
      vocab: assetPath('bert-base-uncased-vocab.txt'),
      src: data,
      dev,
      config: { ...DEFAULT_DISTILL, temperature: 2, intermediate: [] },
      intermediateEpochs: 0,
      predictionEpochs: 10,
      lr: 1e-3,
      warmup: 0,
      batchSize: 16,
      maxLength: 64,
      threads: 1,
      knowledge: { knowledge: triples, ...DEFAULT_KNOWLEDGE },
    };
    const res = await distill({ ...opts, out: join(tmp, 'kd') });
    t.diagnostic(`student dev score ${res.score.toFixed(1)} (teacher ${res.teacher.score.toFixed(1)})`);
    assert.ok(res.score >= 80, `student ${res.score}`);
    assert.equal(readConfig(join(tmp, 'kd')).knowledge?.source, 'kinds.tsv');
    await assert.rejects(
      distill({ ...opts, out: join(tmp, 'tiny'), intermediateEpochs: 1 }),
      /only --method hinton: intermediate layers need the same tokens/,
    );
  });

  test('the export declares the tree inputs and its logits equal the training graph (<= 1e-5)', async () => {
    const dir = join(tmp, 'kbert');
    const out = join(tmp, 'kbert-export');
    await exportModel(dir, out, { ...DEFAULT_EXPORT, threads: 1 });
    assert.ok(existsSync(join(out, 'knowledge.kg')));
    const g = readOnnx(readFileSync(join(out, 'onnx', 'model.onnx')));
    assert.deepEqual(
      g.inputs.map((i) => [i.name, i.shape]),
      [
        ['input_ids', ['B', 'T']],
        ['attention_mask', ['B', 'T', 'T']],
        ['token_type_ids', ['B', 'T']],
        ['position_ids', ['B', 'T']],
      ],
    );
    const m = loadModel(dir, { numLabels: 2 });
    const examples = readTask(dev, 'train').examples.slice(0, 24);
    const ref = await predictLogits(m, encodeAll(m.tokenizer, examples, 64, modelEncoder(m, 64)), 2, 8, 1);
    for (const variant of ['portable', 'compact'] as const) {
      const clf = await Classifier.load(folderReader(out), { ort: nodeOrt, variant, maxLength: 64 });
      const got = await clf.classify(examples.map((e) => e.text));
      await clf.release();
      let diff = 0;
      got.forEach((r, i) => r.logits.forEach((x, k) => (diff = Math.max(diff, Math.abs(x - ref[i][k])))));
      assert.ok(diff <= 1e-5, `${variant}: max |diff| ${diff}`);
    }
    // minnow serve on the exported folder: the same trees, the same labels and scores.
    const server = await startServer(() => loadClassifier(out, { threads: 1, maxLength: 64 }), {
      ...DEFAULT_SERVE,
      port: 0,
    });
    try {
      await server.ready;
      const texts = examples.slice(0, 8).map((e) => e.text);
      const res = await fetch(`${server.url}/v1/classify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: texts }),
      });
      assert.equal(res.status, 200);
      const { results } = (await res.json()) as { results: { label: string; score: number }[] };
      const clf = await loadClassifier(out, { threads: 1, maxLength: 64 });
      const want = await clf.classify(texts);
      await clf.release();
      results.forEach((r, i) => {
        assert.equal(r.label, want[i].label);
        assert.ok(Math.abs(r.score - want[i].score) < 1e-6);
      });
    } finally {
      await server.close();
    }
  });
});

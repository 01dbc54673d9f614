/**
 * Fine-tuning with a teacher (minnow fit's distillation): the rows it adds are trained on, its soft targets
 * steer the model (alpha 1: the labels are ignored), and a resume with another teacher is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Example } from '../data/tabular.js';
import { evaluateModel } from '../infer/evaluate.js';
import { loadClassifier } from '../infer/load.js';
import { smallPreset } from '../model/config.testkit.js';
import { createModel, saveModel } from '../model/io.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_FINETUNE, type FinetuneConfig, type FinetuneTeacher, finetune } from './finetune.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-finetune-teacher-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const src = { task: 'sst2', data: join('test', 'fixtures', 'glue-mini') };
const model = join(tmp, 'model');
saveModel(
  model,
  createModel(structuredClone(smallPreset('uno-eelbert')), 'assets/bert-base-uncased-vocab.txt', new Rng(1)),
);

function config(out: string, teacher: FinetuneTeacher): FinetuneConfig {
  return { ...DEFAULT_FINETUNE, out, epochs: 15, lr: 3e-3, batchSize: 16, threads: 1, patience: 0, teacher };
}

/** A teacher sure of `label` for every row, whatever the text. */
const always = (label: number, seen: { rows: number }): FinetuneTeacher => ({
  temperature: 1,
  alpha: 1,
  logits: async (rows) => {
    seen.rows = rows.length;
    return Float32Array.from({ length: rows.length * 2 }, (_, i) => (i % 2 === label ? 8 : -8));
  },
});

describe('finetune with a teacher', () => {
  test('alpha 1: the soft targets, not the labels, decide what the model learns', async () => {
    const seen = { rows: 0 };
    const out = join(tmp, 'negative');
    const res = await finetune(model, src, undefined, config(out, always(0, seen)));
    assert.equal(seen.rows, res.trainExamples);
    const clf = await loadClassifier(out, { threads: 1, maxLength: 64 });
    const probs = await clf.classify(['brilliant and beautiful honestly', 'a wonderful , moving delight']);
    await clf.release();
    for (const p of probs) assert.equal(p.label, 'negative', JSON.stringify(p));
    // alpha 0, the same run on the labels alone, learns its rows: the scores on them are the teacher's doing.
    const labels = join(tmp, 'labels');
    await finetune(model, src, undefined, config(labels, { ...always(0, seen), alpha: 0 }));
    const score = async (dir: string) =>
      (await evaluateModel(dir, src, 'train', { threads: 1, maxLength: 64, batchSize: 32 })).score;
    const [taught, learnt] = [await score(out), await score(labels)];
    assert.ok(taught <= 60 && learnt >= 75, `training rows: teacher ${taught}, labels ${learnt}`);
  });

  test('extra rows are appended to the training rows and the teacher labels them all', async () => {
    const seen = { rows: 0 };
    const extra = async (train: readonly Example[]) =>
      train.slice(0, 10).map((e) => ({ ...e, text: `${e.text} !` }));
    const res = await finetune(
      model,
      src,
      undefined,
      config(join(tmp, 'extra'), { ...always(1, seen), extra }),
    );
    assert.equal(res.trainExamples, 96 + 10);
    assert.equal(seen.rows, 106);
  });

  test('a resume with another teacher is refused, naming it', async () => {
    const out = join(tmp, 'resume');
    await finetune(model, src, undefined, config(out, always(0, { rows: 0 })));
    await assert.rejects(
      finetune(model, src, undefined, { ...config(out, always(1, { rows: 0 })), resume: true }),
      /the teacher's soft targets \(minnow fit's distillation\)/,
    );
  });
});

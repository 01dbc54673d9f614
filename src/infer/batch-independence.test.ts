/**
 * A text's scores do not depend on the other texts in its batch, bit for bit: alone and inside batches
 * of 2, 7 and 64, fp32 and int8, portable and compact, in the runtime and on a model directory. A row is
 * padded to a length of its own (paddedLength) and int8 activations are quantised per row or with fixed
 * calibrated ranges (export-graph.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lengthBatches, paddedLength } from '../data/batch.js';
import { readTask } from '../data/task.js';
import { preset } from '../model/config.js';
import { createModel, saveModel } from '../model/io.js';
import { DEFAULT_FINETUNE, finetune } from '../train/finetune.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_EXPORT, exportModel } from './export-folder.js';
import * as ort from 'onnxruntime-node';
import { loadClassifier, webOrt } from './load.js';
import type { Classifier, OrtModule } from './runtime.js';

const DATA = join('test', 'fixtures', 'glue-mini');
const VOCAB = join('assets', 'bert-base-uncased-vocab.txt');
const tmp = mkdtempSync(join(tmpdir(), 'minnow-batch-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const model = join(tmp, 'model');
const folder = join(tmp, 'export');
const dynamic = join(tmp, 'export-dynamic');
const fixed = join(tmp, 'export-static');
const sentences = readTask({ task: 'sst2', data: DATA }, 'dev').examples.map((e) => e.text);
// The fixture's sentences are 5-9 tokens (one padded length, 16); joined in twos, fours and sevens they
// reach 24, 32, 48 and 64, so batches hold rows of several padded lengths.
const texts = sentences.map((t, i) => [t, ...sentences.slice(i + 1, i + [1, 2, 4, 7][i % 4])].join(' , '));

/** Texts (of many lengths) whose scores inside batches of each size differ from their scores alone. */
async function batchDependent(clf: Classifier): Promise<string[]> {
  const wrong: string[] = [];
  for (const [t, text] of texts.slice(0, 8).entries()) {
    const alone = (await clf.logits(clf.encode([text])))[0];
    for (const size of [2, 7, 64]) {
      const others = Array.from({ length: size - 1 }, (_, i) => texts[(t * 5 + i * 3 + 11) % texts.length]);
      const at = (t * 3) % size;
      const batch = [...others.slice(0, at), text, ...others.slice(at)];
      const mine = (await clf.logits(clf.encode(batch), 64))[at];
      if (mine.some((v, k) => v !== alone[k])) wrong.push(`"${text}" in a batch of ${size}`);
    }
  }
  return wrong;
}

describe('scores independent of the batch', () => {
  before(async () => {
    const init = join(tmp, 'init');
    saveModel(init, createModel(preset('uno-eelbert'), VOCAB, new Rng(3)));
    await finetune(init, { task: 'sst2', data: DATA }, undefined, {
      ...DEFAULT_FINETUNE,
      out: model,
      epochs: 1,
      lr: 1e-3,
      batchSize: 16,
      threads: 1,
    });
    // Nothing to calibrate static int8 on (no anchors.txt, no check data): weight-only int8.
    const res = await exportModel(model, folder, { ...DEFAULT_EXPORT, threads: 1 });
    assert.equal(res.int8?.scheme, 'weight-only');
    await exportModel(model, dynamic, { ...DEFAULT_EXPORT, scheme: 'dynamic', threads: 1 });
    const calibrated = await exportModel(model, fixed, {
      ...DEFAULT_EXPORT,
      check: { src: { task: 'sst2', data: DATA }, split: 'dev' },
      threads: 1,
    });
    assert.equal(calibrated.int8?.scheme, 'static');
  });

  for (const variant of ['compact', 'portable'] as const)
    for (const [what, dir, quantized] of [
      ['fp32', folder, false],
      ['int8 weight-only', folder, true],
      ['int8 dynamic', dynamic, true],
      ['int8 static', fixed, true],
    ] as const)
      test(`export, ${variant}, ${what}: bit-identical alone and in batches of 2, 7, 64`, async () => {
        const clf = await loadClassifier(dir, { variant, quantized, threads: 1, maxLength: 128 });
        assert.deepEqual(await batchDependent(clf), []);
        await clf.release();
      });

  test('onnxruntime-web (--backend web), int8 static: bit-identical alone and in batches', async () => {
    const clf = await loadClassifier(fixed, {
      quantized: true,
      threads: 1,
      maxLength: 128,
      ort: await webOrt(),
    });
    assert.deepEqual(await batchDependent(clf), []);
    await clf.release();
  });

  test('runs asked for together (inFlight): the same logits, bit for bit, in order; a failed run rejects', async () => {
    const clf = await loadClassifier(fixed, { quantized: true, threads: 1, maxLength: 128 });
    const rows = clf.encode(texts);
    const one = await clf.logits(rows, 4);
    assert.deepEqual(await clf.logits(rows, 4, Infinity), one);
    assert.deepEqual(await clf.logits(rows, 4, 3), one);
    await clf.release();
    // The second of the runs fails while later ones are in flight: the call rejects with its error, and
    // the runs after it (failing too) leave no unhandled rejection behind.
    let runs = 0;
    const failing: OrtModule = {
      ...ort,
      InferenceSession: {
        create: async (m: Uint8Array, o?: Record<string, unknown>) => {
          const s = await ort.InferenceSession.create(m, o);
          return {
            inputNames: s.inputNames,
            run: async (f: Record<string, unknown>) => {
              if (++runs >= 2) throw new Error(`run ${runs} failed`);
              return s.run(f as Parameters<typeof s.run>[0]);
            },
            release: () => s.release(),
          };
        },
      },
    } as unknown as OrtModule;
    const unhandled: unknown[] = [];
    const note = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', note);
    try {
      const bad = await loadClassifier(fixed, { quantized: true, threads: 1, maxLength: 128, ort: failing });
      await assert.rejects(bad.logits(rows, 4, Infinity), /run 2 failed/);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(unhandled, []);
      assert.ok(runs > 2, 'later runs were in flight');
      await bad.release();
    } finally {
      process.off('unhandledRejection', note);
    }
  });

  test('a model directory (no export): bit-identical alone and in batches', async () => {
    const clf = await loadClassifier(model, { threads: 1, maxLength: 128 });
    assert.deepEqual(await batchDependent(clf), []);
    await clf.release();
  });
});

test('paddedLength: 16, 24, 32, 48, 64, 96, 128, 192, ..., never below n, at most the cap', () => {
  assert.deepEqual(
    [0, 1, 16, 17, 25, 33, 49, 65, 97, 129, 300].map((n) => paddedLength(n)),
    [0, 16, 16, 24, 32, 48, 64, 96, 128, 192, 384],
  );
  assert.deepEqual([paddedLength(99, 100), paddedLength(100, 100), paddedLength(20, 8)], [100, 100, 20]);
});

test('lengthBatches: every row once, one padded length of tokens and of n-grams per batch, at most batchSize', () => {
  const rng = new Rng(5);
  const rows = Array.from({ length: 300 }, () => ({
    ids: new Array(1 + rng.int(60)).fill(0),
    ngrams: { ids: new Array(rng.int(40)).fill(0) },
  }));
  const batches = lengthBatches(rows, 16);
  assert.deepEqual(
    batches.flat().sort((a, b) => a - b),
    rows.map((_, i) => i),
  );
  for (const b of batches) {
    assert.ok(b.length >= 1 && b.length <= 16);
    const keys = b.map(
      (i) => `${paddedLength(rows[i].ids.length)}/${paddedLength(rows[i].ngrams.ids.length)}`,
    );
    assert.equal(new Set(keys).size, 1);
  }
});

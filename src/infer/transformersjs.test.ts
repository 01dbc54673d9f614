/**
 * An exported folder is what transformers.js loads: `minnow export` of a fine-tuned uno-eelbert (hash
 * embeddings) and bert-tiny (table) model, read by @huggingface/transformers' text-classification pipeline
 * from the file system only, gives `minnow predict`'s labels and probabilities (fp32, onnx/model.onnx),
 * and its int8 file (dtype q8, onnx/model_quantized.onnx) runs and mostly agrees with fp32 and is the same
 * graph minnow's runtime runs.
 *
 * Assumes dist/ is built (npm test builds it first): the models are made with the CLI.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { env, pipeline } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { Classifier, type OrtModule } from './runtime.js';
import { GLUE_MINI as DATA, minnow, tinyExport } from './tiny-export.testkit.js';

/** The dev sentences of the fixture (32, both classes). */
const TEXTS = readFileSync(join(DATA, 'dev.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t')[0]);

/** Agreement of fp32 with `minnow predict`: the probabilities are computed in float64 from float32 logits. */
const SCORE_TOL = 1e-4;
/** int8 (q8) against fp32: the share of labels that must agree. */
const INT8_AGREEMENT = 0.8;

let tmp = '';

interface MinnowPrediction {
  label: string;
  scores: number[];
  logits: number[];
}
interface HfLabelScore {
  label: string;
  score: number;
}
type HfClassifier = ((
  texts: string[],
  o?: { top_k?: number | null },
) => Promise<HfLabelScore[] | HfLabelScore[][]>) & { dispose(): Promise<void> };

/** Loads an exported folder with transformers.js from the file system only. */
async function hfPipeline(dir: string, dtype: 'fp32' | 'q8'): Promise<HfClassifier> {
  return (await pipeline('text-classification', dir, { dtype })) as unknown as HfClassifier;
}

/** Every class's probability in label2id order, from top_k: null (all classes, best first). */
function allScores(rows: HfLabelScore[], label2id: Record<string, number>): number[] {
  const out: number[] = new Array(Object.keys(label2id).length).fill(Number.NaN);
  for (const r of rows) out[label2id[r.label]] = r.score;
  return out;
}

const maxAbsDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.map((row, i) => Math.max(...row.map((x, j) => Math.abs(x - b[i][j])))));

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'minnow-transformersjs-'));
  // Nothing may touch the network: local files only, no cache, and a fetch that fails loudly.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.fetch = async (input: string | URL) => {
    throw new Error(`test tried to fetch ${String(input)}`);
  };
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

for (const preset of ['uno-eelbert', 'bert-tiny']) {
  describe(`transformers.js loads a minnow export (${preset})`, () => {
    let folder = '';
    let label2id: Record<string, number> = {};
    let predicted: MinnowPrediction[] = [];

    before(() => {
      const { model, folder: exported } = tinyExport(tmp, preset);
      folder = exported;
      const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as {
        label2id: Record<string, number>;
      };
      label2id = config.label2id;
      const input = join(tmp, 'texts.txt');
      writeFileSync(input, `${TEXTS.join('\n')}\n`);
      predicted = minnow('predict', '--model', model, '--input', input, '--json')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as MinnowPrediction);
      assert.equal(predicted.length, TEXTS.length);
      assert.ok(
        new Set(predicted.map((p) => p.label)).size > 1,
        `the fine-tuned ${preset} predicts one class for every sentence: agreement would say little`,
      );
    });

    test('fp32 (onnx/model.onnx): top label and probability equal minnow predict, and all scores (top_k: null)', async (t) => {
      const clf = await hfPipeline(folder, 'fp32');
      try {
        const top = (await clf(TEXTS)) as HfLabelScore[];
        assert.equal(top.length, TEXTS.length);
        let topDiff = 0;
        top.forEach((r, i) => {
          const p = predicted[i];
          assert.equal(r.label, p.label, `"${TEXTS[i]}": transformers.js ${r.label}, minnow ${p.label}`);
          topDiff = Math.max(topDiff, Math.abs(r.score - Math.max(...p.scores)));
        });
        assert.ok(topDiff <= SCORE_TOL, `top score differs by ${topDiff}`);
        // top_k: null returns every class, best first (transformers.js v4's text-classification option).
        const all = (await clf(TEXTS, { top_k: null })) as HfLabelScore[][];
        const allDiff = maxAbsDiff(
          all.map((rows) => allScores(rows, label2id)),
          predicted.map((p) => p.scores),
        );
        assert.ok(allDiff <= SCORE_TOL, `class scores differ by ${allDiff}`);
        t.diagnostic(
          `${TEXTS.length} sentences: labels equal; max |score diff| top ${topDiff.toExponential(2)}, all classes ${allDiff.toExponential(2)}`,
        );
      } finally {
        await clf.dispose();
      }
    });

    test('int8 (dtype q8: onnx/model_quantized.onnx) runs, mostly agrees with fp32, and is the file minnow runs', async (t) => {
      // fp32 as minnow predicts it (transformers.js fp32 equals it within SCORE_TOL, test above).
      const fp32 = predicted.map((p) => p.scores);
      const clf = await hfPipeline(folder, 'q8');
      let q8: number[][];
      try {
        q8 = ((await clf(TEXTS, { top_k: null })) as HfLabelScore[][]).map((rows) =>
          allScores(rows, label2id),
        );
      } finally {
        await clf.dispose();
      }
      const argmax = (s: number[]) => s.indexOf(Math.max(...s));
      const agree = q8.filter((s, i) => argmax(s) === argmax(fp32[i])).length;
      const vsFp32 = maxAbsDiff(q8, fp32);
      assert.ok(vsFp32 > 0, 'q8 scores equal fp32 exactly: the int8 file was not loaded');
      assert.ok(
        agree >= INT8_AGREEMENT * TEXTS.length,
        `int8 agrees with fp32 on ${agree}/${TEXTS.length} labels`,
      );
      // The same file through minnow's runtime on the same onnxruntime-node.
      const read = async (name: string) => new Uint8Array(await readFile(join(folder, name)));
      const runtime = await Classifier.load(read, {
        ort: ort as unknown as OrtModule,
        variant: 'portable',
        quantized: true,
      });
      const ours = (await runtime.classify(TEXTS)).map((r) => r.scores);
      await runtime.release();
      const vsRuntime = maxAbsDiff(q8, ours);
      assert.ok(vsRuntime <= SCORE_TOL, `q8 scores differ from minnow's runtime (int8) by ${vsRuntime}`);
      t.diagnostic(
        `int8 labels agree with fp32 on ${agree}/${TEXTS.length}; max |score diff| vs fp32 ${vsFp32.toExponential(2)}, vs minnow runtime int8 ${vsRuntime.toExponential(2)}`,
      );
    });
  });
}

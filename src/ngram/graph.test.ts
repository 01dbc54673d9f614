import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Classifier, type ExportedConfig, type OrtModule } from '../infer/runtime.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_NGRAM, NGRAM_MODEL_TYPE, ngramBlocks, type NgramConfig, ngramFeatures } from './features.js';
import { ngramOnnx } from './graph.js';
import { type LinearKind, linearScores, logitRows, type LinearWeights, tfidfRows } from './linear.js';

const cfg: NgramConfig = { ...DEFAULT_NGRAM, buckets: 512, char_ngrams: [2, 4] };
const TEXTS = ['a wonderful film', 'dull , dull , dull', '', 'ÉCLAIR au café !', 'x'.repeat(300)];
const PAIRS: [string, string][] = [
  ['the cat sat', 'a cat sat down'],
  ['nothing shared', 'at all here'],
];

function randomWeights(K: number, rng: Rng): LinearWeights {
  const gauss = () => rng.normal();
  return {
    weight: Float32Array.from({ length: cfg.buckets * K }, gauss),
    bias: Float32Array.from({ length: K }, gauss),
    idf: Float32Array.from({ length: cfg.buckets }, () => 1 + 5 * rng.uniform()),
  };
}

async function classifier(
  w: LinearWeights,
  numLabels: number,
  K: number,
  int8: boolean,
  regression = false,
  ngram = cfg,
) {
  const config = {
    model_type: NGRAM_MODEL_TYPE,
    ngram,
    num_labels: numLabels,
    problem_type: regression ? 'regression' : 'single_label_classification',
  } as unknown as ExportedConfig;
  return Classifier.create(config, [], ngramOnnx(w, ngram, numLabels, K, int8), {
    ort: ort as unknown as OrtModule,
  });
}

describe('the n-gram ONNX graph', () => {
  for (const [name, kind, numLabels] of [
    ['two classes', { regression: false, classes: 2 }, 2],
    ['three classes', { regression: false, classes: 3 }, 3],
    ['regression', { regression: true }, 1],
  ] as [string, LinearKind, number][]) {
    test(`${name}: the runtime's logits equal linear.ts's (fp32 1e-5; int8 close)`, async () => {
      const K = kind.regression || kind.classes === 2 ? 1 : kind.classes;
      const w = randomWeights(K, new Rng(K + numLabels));
      const inputs = [...TEXTS, ...PAIRS];
      const rows = inputs.map((x) =>
        typeof x === 'string' ? ngramFeatures(x, undefined, cfg) : ngramFeatures(x[0], x[1], cfg),
      );
      const want = logitRows(
        linearScores(tfidfRows(rows, w.idf, ngramBlocks(cfg)), w.weight, w.bias, K),
        kind,
      );
      const clf = await classifier(w, numLabels, K, false, kind.regression);
      const got = await clf.logits(clf.encode(inputs), 3);
      got.forEach((g, i) =>
        g.forEach((v, k) => assert.ok(Math.abs(v - want[i][k]) < 1e-5, `row ${i}: ${v} vs ${want[i][k]}`)),
      );
      await clf.release();
      const q = await classifier(w, numLabels, K, true, kind.regression);
      const gq = await q.logits(q.encode(inputs), 3);
      // int8 weights (max |w| / 127 steps) and uint8 idf: a few hundredths on logits of size ~1-3.
      gq.forEach((g, i) =>
        g.forEach((v, k) =>
          assert.ok(Math.abs(v - want[i][k]) < 0.1, `int8 row ${i}: ${v} vs ${want[i][k]}`),
        ),
      );
      await q.release();
    });
  }

  test('pair features: the dense rows are read as they are, in fp32 and int8 as linear.ts reads them', async () => {
    const pc: NgramConfig = { ...cfg, pair_features: true };
    const w = randomWeights(1, new Rng(11));
    const { denseStart } = ngramBlocks(pc);
    w.idf.fill(1, denseStart!); // as fitIdf leaves them
    const inputs: [string, string][] = [
      ...PAIRS,
      ['a cat sat', 'a cat sat'],
      ['', 'only one text has words'],
    ];
    const rows = inputs.map(([a, b]) => ngramFeatures(a, b, pc));
    assert.ok(rows.every((r) => r.ids.some((id) => id >= denseStart!)));
    // linear.ts leaves them unnormalised: x = tf (idf 1).
    const x = tfidfRows(rows, w.idf, ngramBlocks(pc));
    const flat = rows.flatMap((r) => [...r.tf]);
    x.indices.forEach((id, j) => id >= denseStart! && assert.equal(x.values[j], flat[j]));
    const want = logitRows(linearScores(tfidfRows(rows, w.idf, ngramBlocks(pc)), w.weight, w.bias, 1), {
      regression: true,
    });
    for (const int8 of [false, true]) {
      const clf = await classifier(w, 1, 1, int8, true, pc);
      const got = await clf.logits(clf.encode(inputs), 3);
      got.forEach((g, i) =>
        assert.ok(Math.abs(g[0] - want[i][0]) < (int8 ? 0.1 : 1e-5), `row ${i}: ${g[0]} vs ${want[i][0]}`),
      );
      await clf.release();
    }
  });

  test('an empty text gets the bias alone', async () => {
    const w = randomWeights(1, new Rng(7));
    const clf = await classifier(w, 2, 1, false);
    const [l] = await clf.logits(clf.encode(['']));
    assert.ok(Math.abs(l[1] - w.bias[0] / 2) < 1e-6);
    await clf.release();
  });

  test('a batch gives each row the logits it gets alone, to float rounding (padding does not leak)', async () => {
    const w = randomWeights(1, new Rng(9));
    const clf = await classifier(w, 2, 1, true);
    const alone = await Promise.all(TEXTS.map(async (t) => (await clf.logits(clf.encode([t])))[0]));
    const together = await clf.logits(clf.encode(TEXTS), 64);
    // Padding adds exact zeros; only the summation order of a longer row can move the last bit.
    together.forEach((l, i) => l.forEach((v, k) => assert.ok(Math.abs(v - alone[i][k]) < 1e-6, `row ${i}`)));
    await clf.release();
  });
});

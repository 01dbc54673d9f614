/**
 * The whole BERT graph against oracles: finite differences on its float64 twin, the float32
 * production graph against the float64 twin, parameter counts against docs/methods.md §1.4.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { grad } from '../graph/grad.js';
import { type DType, Graph } from '../graph/graph.js';
import { linearCrossEntropy, softmaxCrossEntropy } from '../graph/losses.js';
import * as o from '../graph/ops.js';
import { ParamStore } from '../runtime/params.js';
import { sampledCentralDifferences } from '../runtime/gradcheck.js';
import { Session } from '../runtime/session.js';
import { Rng } from '../util/rng.js';
import { bertInputs, classifier, encoder, encoderCls, mlmHead, pooler } from './bert.js';
import { Dropout } from '../runtime/dropout.js';
import { Weights } from '../runtime/weights.js';
import { DEFAULT_HASH_CONFIG } from '../text/hash-embedding.js';
import { type BertConfig, PRESETS } from './config.js';

const tiny: BertConfig = {
  ...PRESETS['bert-tiny'],
  vocab_size: 20,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 16,
  hidden_dropout_prob: 0,
  attention_probs_dropout_prob: 0,
  layer_norm_eps: 1e-5,
};

/** The same, with EELBERT's frozen hash vectors and the trainable projection after them. */
const tinyHash: BertConfig = {
  ...tiny,
  embedding_type: 'hash',
  hash_embedding: { ...DEFAULT_HASH_CONFIG, projection: true },
};

/** The same, with a learned low-rank code table (V x 3) projected up to H. */
const tinyLowrank: BertConfig = { ...tiny, embedding_type: 'lowrank', lowrank_dim: 3 };

const B = 3;
const T = 5;

/** A K-BERT batch: a visible matrix (B, T, T) and soft positions that repeat, as a sentence tree makes them. */
function treeBatch() {
  const b = batch();
  const keys = b.attention_mask;
  const mask = new BigInt64Array(B * T * T);
  for (let r = 0; r < B; r++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) {
        const seen = keys[r * T + j] === 1n && (i === j || (i + j + r) % 3 !== 0);
        mask[(r * T + i) * T + j] = seen ? 1n : 0n;
      }
  const soft = [0, 1, 2, 2, 3];
  return {
    ...b,
    attention_mask: mask,
    position_ids: BigInt64Array.from({ length: B * T }, (_, i) => BigInt(soft[i % T])),
  };
}

function batch() {
  const ids = BigInt64Array.from([1, 4, 7, 9, 2, 1, 5, 5, 0, 0, 1, 19, 3, 8, 2].map(BigInt));
  const mask = BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1].map(BigInt));
  const types = BigInt64Array.from([0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1].map(BigInt));
  const pos = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % T));
  return {
    input_ids: ids,
    attention_mask: mask,
    token_type_ids: types,
    position_ids: pos,
    labels: BigInt64Array.from([0n, 1n, 1n]),
  };
}

/** The classifier's loss and the gradient of every parameter, in the given precision. */
async function lossAndGrads(store: ParamStore, dtype: DType, tree = false, cfg = tiny, clsOnly = false) {
  const g = new Graph();
  const w = new Weights(g, store, dtype);
  const x = bertInputs(g, tree);
  const labels = g.input('labels', 'int64', ['B']);
  const loss = softmaxCrossEntropy(
    classifier(
      w,
      cfg,
      (clsOnly ? encoderCls : encoder)(w, cfg, x, new Dropout(false)),
      3,
      new Dropout(false),
    ),
    labels,
  );
  const entries = w.entries();
  const grads = grad(
    loss,
    entries.map(([, v]) => v),
  );
  g.output(loss, 'loss');
  grads.forEach((gr, i) => {
    g.output(o.identity(gr), `grad:${entries[i][0]}`);
  });
  const session = await Session.create(g, { threads: 1 });
  const conv = (a: Float32Array) => (dtype === 'float64' ? Float64Array.from(a) : a);
  const run = async () => {
    const feeds: Record<string, { data: Float32Array | Float64Array | BigInt64Array; shape: number[] }> = {};
    for (const [k, v] of Object.entries(tree ? treeBatch() : batch()))
      feeds[k] = { data: v, shape: k === 'labels' ? [B] : v.length === B * T * T ? [B, T, T] : [B, T] };
    for (const p of store.params) feeds[p.name] = { data: conv(p.data), shape: p.shape };
    return session.run(feeds);
  };
  return { run, names: entries.map(([n]) => n) };
}

/** The parameters of cfg's encoder with a classifier or a masked-LM head, declared by building once. */
function declareStore(cfg: BertConfig, head: 'classifier' | 'mlm'): ParamStore {
  const store = new ParamStore();
  const g = new Graph();
  const w = new Weights(g, store);
  const out = encoder(w, cfg, bertInputs(g), new Dropout(false));
  if (head === 'mlm') mlmHead(w, cfg, out, g.input('positions', 'int64', ['M']));
  else classifier(w, cfg, out, 3, new Dropout(false));
  return store;
}

function initStore(cfg = tiny, head: 'classifier' | 'mlm' = 'classifier'): ParamStore {
  // Initialise with a larger std so gradients are not tiny.
  const store = declareStore(cfg, head);
  store.initialize(new Rng(5), 0.3);
  for (const p of store.params)
    if (p.init !== 'normal') for (let i = 0; i < p.data.length; i++) p.data[i] += 0.1 * Math.sin(i + 1);
  // A hash model's table is derived (never initialised): random values stand in for the hash vectors.
  const rng = new Rng(6);
  for (const p of store.params)
    if (p.derived) for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * 0.3;
  return store;
}

describe('BERT graph', () => {
  for (const [tree, cfg] of [
    [false, tiny],
    [true, tiny],
    [false, tinyHash],
    [false, tinyLowrank],
  ] as const)
    test(`float64 twin: analytic gradients of every parameter match central differences${tree ? ' (K-BERT: visible matrix (B, T, T), soft positions)' : cfg === tinyHash ? ' (hash vectors + trainable projection)' : cfg === tinyLowrank ? ' (low-rank codes + projection)' : ''}`, async () => {
      const store = initStore(cfg);
      const { run, names } = await lossAndGrads(store, 'float64', tree, cfg);
      const base = await run();
      const { worst, where } = await sampledCentralDifferences({
        store,
        names,
        analytic: (name) => base[`grad:${name}`].data as Float64Array,
        loss: async () => Number((await run()).loss.data[0]),
        perParam: 3,
        seed: 9,
      });
      // Second-order truncation error of a 1e-3 central difference bounds the agreement.
      assert.ok(worst < 1e-4, `max relative error ${worst} at ${where}`);
    });

  test('float32 production graph matches the float64 twin (loss and every gradient)', async () => {
    const store = initStore();
    const f32 = await (await lossAndGrads(store, 'float32')).run();
    const { run, names } = await lossAndGrads(store, 'float64');
    const f64 = await run();
    assert.ok(Math.abs(Number(f32.loss.data[0]) - Number(f64.loss.data[0])) < 1e-5);
    for (const name of names) {
      const a = f32[`grad:${name}`].data as Float32Array;
      const b = f64[`grad:${name}`].data as Float64Array;
      let num = 0;
      let den = 0;
      for (let i = 0; i < a.length; i++) {
        num = Math.max(num, Math.abs(a[i] - b[i]));
        den = Math.max(den, Math.abs(b[i]));
      }
      // Key-projection biases have mathematically zero gradients (softmax shift invariance): absolute floor.
      assert.ok(num <= 1e-5 * Math.max(den, 1e-2), `${name}: max |f32 - f64| ${num}, max |f64| ${den}`);
    }
  });

  for (const [tree, cfg] of [
    [false, tiny],
    [true, tiny],
    [false, { ...tiny, num_hidden_layers: 1, num_attention_heads: 1 }],
  ] as const)
    test(`encoderCls (last layer at [CLS] only) gives the loss and every gradient of the full encoder (${cfg.num_hidden_layers} layers, ${cfg.num_attention_heads} heads${tree ? ', K-BERT visible matrix' : ''})`, async () => {
      const store = initStore(cfg);
      const full = await (await lossAndGrads(store, 'float64', tree, cfg)).run();
      const { run, names } = await lossAndGrads(store, 'float64', tree, cfg, true);
      const cls = await run();
      assert.ok(Math.abs(Number(full.loss.data[0]) - Number(cls.loss.data[0])) < 1e-12);
      for (const name of names) {
        const a = full[`grad:${name}`].data as Float64Array;
        const b = cls[`grad:${name}`].data as Float64Array;
        for (let i = 0; i < a.length; i++)
          assert.ok(
            Math.abs(a[i] - b[i]) <= 1e-12 * Math.max(1, Math.abs(a[i])),
            `${name}[${i}]: ${a[i]} vs ${b[i]}`,
          );
      }
    });

  /** The masked-LM loss of cfg at 4 positions and the gradient of every parameter (float64). */
  async function mlmLossAndGrads(store: ParamStore, cfg: BertConfig) {
    const g = new Graph();
    const w = new Weights(g, store, 'float64');
    const head = mlmHead(
      w,
      cfg,
      encoder(w, cfg, bertInputs(g), new Dropout(false)),
      g.input('pos', 'int64', ['M']),
    );
    const { loss } = linearCrossEntropy(head.h, head.table, head.bias, g.input('mlm_labels', 'int64', ['M']));
    const entries = w.entries();
    grad(
      loss,
      entries.map(([, v]) => v),
    ).forEach((gr, i) => {
      g.output(o.identity(gr), `grad:${entries[i][0]}`);
    });
    g.output(loss, 'loss');
    const session = await Session.create(g, { threads: 1 });
    const run = async () => {
      const { labels: _, ...b } = batch();
      const feeds: Record<string, { data: Float64Array | BigInt64Array; shape: number[] }> = {
        pos: { data: BigInt64Array.from([1n, 3n, 6n, 12n]), shape: [4] },
        mlm_labels: { data: BigInt64Array.from([4n, 9n, 5n, 3n]), shape: [4] },
      };
      for (const [k, v] of Object.entries(b)) feeds[k] = { data: v, shape: [B, T] };
      for (const p of store.params) feeds[p.name] = { data: Float64Array.from(p.data), shape: p.shape };
      return session.run(feeds, { B, T, M: 4 });
    };
    return { run, names: entries.map(([n]) => n) };
  }

  test('masked LM of low-rank codes: decoding through the k-wide codes gives the loss and gradients of the built (V, H) table', async () => {
    const store = initStore(tinyLowrank, 'mlm');
    const low = await mlmLossAndGrads(store, tinyLowrank);
    const base = await low.run();
    // Oracle 1: central differences of the factored decoder's loss, codes and projection included.
    const { worst, where } = await sampledCentralDifferences({
      store,
      names: low.names,
      analytic: (name) => base[`grad:${name}`].data as Float64Array,
      loss: async () => Number((await low.run()).loss.data[0]),
      perParam: 3,
      seed: 9,
    });
    assert.ok(worst < 1e-4, `max relative error ${worst} at ${where}`);
    // Oracle 2: a table model whose table is C P^T, built here, and the same other weights. The store holds
    // float32, so the built table is C P^T rounded to float32: agreement to 1e-6, not to float64's 1e-12.
    const codes = store.get('bert.embeddings.word_embeddings.weight');
    const P = store.get('bert.embeddings.word_projection.weight');
    const [V, k] = codes.shape;
    const H = tiny.hidden_size;
    const table = new Float32Array(V * H);
    for (let v = 0; v < V; v++)
      for (let j = 0; j < H; j++)
        for (let r = 0; r < k; r++) table[v * H + j] += codes.data[v * k + r] * P.data[j * k + r];
    const twin = declareStore(tiny, 'mlm');
    for (const p of twin.params)
      p.data.set(p.name === 'bert.embeddings.word_embeddings.weight' ? table : store.get(p.name).data);
    const full = await (await mlmLossAndGrads(twin, tiny)).run();
    const lossLow = Number(base.loss.data[0]);
    assert.ok(
      Math.abs(lossLow - Number(full.loss.data[0])) < 1e-6 * Math.max(1, lossLow),
      `${lossLow} vs ${full.loss.data[0]}`,
    );
    for (const name of low.names.filter((n) => !n.startsWith('bert.embeddings.word_'))) {
      const a = base[`grad:${name}`].data as Float64Array;
      const b = full[`grad:${name}`].data as Float64Array;
      for (let i = 0; i < a.length; i++)
        assert.ok(
          Math.abs(a[i] - b[i]) <= 1e-6 * Math.max(1, Math.abs(b[i])),
          `${name}[${i}]: ${a[i]} vs ${b[i]}`,
        );
    }
  });

  test('parameter counts match methods.md (BERT-tiny 4,385,920 without the classifier)', () => {
    const store = new ParamStore();
    const g = new Graph();
    const w = new Weights(g, store);
    const cfg = PRESETS['bert-tiny'];
    classifier(w, cfg, encoder(w, cfg, bertInputs(g), new Dropout(false)), 2, new Dropout(false));
    assert.equal(
      store.count((p) => !p.name.startsWith('classifier.')),
      4_385_920,
    );
    assert.equal(store.get('bert.encoder.layer.1.attention.self.query.weight').shape.join(), '128,128');
    assert.equal(store.get('bert.encoder.layer.0.intermediate.dense.weight').shape.join(), '512,128'); // (out, in)
  });
});

describe('pooler', () => {
  test('a named part: (B, H) tanh of the [CLS] vectors, and the classifier head reads exactly it', async () => {
    const store = initStore();
    const g = new Graph();
    const w = new Weights(g, store);
    const out = encoder(w, tiny, bertInputs(g), new Dropout(false));
    g.output(pooler(w, tiny, out), 'pooled');
    g.output(classifier(w, tiny, out, 3, new Dropout(false)), 'logits');
    const session = await Session.create(g, { threads: 1 });
    const feeds: Record<string, { data: Float32Array | BigInt64Array; shape: number[] }> = {};
    for (const [k, v] of Object.entries(batch())) if (k !== 'labels') feeds[k] = { data: v, shape: [B, T] };
    for (const p of store.params) feeds[p.name] = { data: p.data, shape: p.shape };
    const r = await session.run(feeds);
    const H = tiny.hidden_size;
    assert.deepEqual(r.pooled.shape, [B, H]);
    const pooled = r.pooled.data as Float32Array;
    assert.ok(pooled.every((v) => v > -1 && v < 1));
    const W = store.get('classifier.weight').data; // (3, H)
    const b = store.get('classifier.bias').data;
    const logits = r.logits.data as Float32Array;
    for (let i = 0; i < B; i++)
      for (let k = 0; k < 3; k++) {
        let s = b[k];
        for (let j = 0; j < H; j++) s += pooled[i * H + j] * W[k * H + j];
        assert.ok(
          Math.abs(s - logits[i * 3 + k]) < 1e-5,
          `row ${i} label ${k}: ${s} vs ${logits[i * 3 + k]}`,
        );
      }
  });
});

/**
 * ELECTRA's joint loss against oracles: central differences on its float64 twin (every parameter of the
 * generator, the shared embeddings, the discriminator and its head), the replaced-token targets against
 * a JavaScript recount, and the generator's shape.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Graph } from '../graph/graph.js';
import { inverseCdf } from '../graph/sampling.testkit.js';
import * as o from '../graph/ops.js';
import { grad } from '../graph/grad.js';
import { type BertConfig, PRESETS } from '../model/config.js';
import { Dropout } from '../runtime/dropout.js';
import { ParamStore } from '../runtime/params.js';
import { sampledCentralDifferences } from '../runtime/gradcheck.js';
import { Session } from '../runtime/session.js';
import { Weights } from '../runtime/weights.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_ELECTRA, electraGraph, electraUniforms, GENERATOR, generatorConfig } from './electra.js';

const tiny: BertConfig = {
  ...PRESETS['bert-tiny'],
  vocab_size: 12,
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 8,
  hidden_dropout_prob: 0,
  attention_probs_dropout_prob: 0,
  layer_norm_eps: 1e-5,
};
const electra = { ...DEFAULT_ELECTRA, generatorHidden: 4, rtdWeight: 5 };
const B = 2;
const T = 5;

/** A masked batch: 4 predicted positions (flat b*T + t), row 1 padded after 4 tokens. */
function batch() {
  return {
    input_ids: BigInt64Array.from([1, 3, 11, 7, 2, 1, 11, 5, 2, 0].map(BigInt)),
    token_type_ids: new BigInt64Array(B * T),
    position_ids: BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % T)),
    attention_mask: BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0].map(BigInt)),
    mlm_positions: BigInt64Array.from([1, 2, 6, 7].map(BigInt)),
    mlm_labels: BigInt64Array.from([3, 4, 9, 5].map(BigInt)),
    electra_uniforms: electraUniforms(3, 0, 4),
  };
}

function store(): ParamStore {
  const s = new ParamStore();
  const g = new Graph();
  electraGraph(tiny, electra)(g, new Weights(g, s), new Dropout(false));
  s.initialize(new Rng(5), 0.3);
  for (const p of s.params)
    if (p.init !== 'normal') for (let i = 0; i < p.data.length; i++) p.data[i] += 0.1 * Math.sin(i + 1);
  return s;
}

async function lossAndGrads(s: ParamStore, e = electra) {
  const g = new Graph();
  const w = new Weights(g, s, 'float64');
  const r = electraGraph(tiny, e)(g, w, new Dropout(false));
  const entries = w.entries();
  const grads = grad(
    r.loss,
    entries.map(([, v]) => v),
  );
  g.output(r.loss, 'loss');
  g.output(o.identity(r.replaced), 'replaced');
  g.output(o.identity(r.sampled), 'sampled');
  g.output(o.identity(r.generatorLogits), 'logits');
  grads.forEach((gr, i) => {
    g.output(o.identity(gr), `grad:${entries[i][0]}`);
  });
  const session = await Session.create(g, { threads: 1 });
  const shapes: Record<string, number[]> = { mlm_positions: [4], mlm_labels: [4], electra_uniforms: [4] };
  const run = async () => {
    const feeds: Record<string, { data: Float64Array | Float32Array | BigInt64Array; shape: number[] }> = {};
    for (const [k, v] of Object.entries(batch())) feeds[k] = { data: v, shape: shapes[k] ?? [B, T] };
    for (const p of s.params) feeds[p.name] = { data: Float64Array.from(p.data), shape: p.shape };
    return session.run(feeds, { B, T, M: 4 });
  };
  return { run, names: entries.map(([n]) => n) };
}

describe('ELECTRA', () => {
  test('float64 twin: analytic gradients of every parameter match central differences (generator, shared embeddings, discriminator)', async () => {
    const s = store();
    const { run, names } = await lossAndGrads(s);
    assert.ok(names.some((n) => n.startsWith(GENERATOR)));
    assert.ok(names.includes('discriminator_predictions.dense_prediction.weight'));
    const base = await run();
    const { worst, where } = await sampledCentralDifferences({
      store: s,
      names,
      analytic: (name) => base[`grad:${name}`].data as Float64Array,
      loss: async () => Number((await run()).loss.data[0]),
      perParam: 2,
      seed: 9,
      skip: (p) => !!p.derived || !!p.frozen,
    });
    // The samples are integers: a perturbation this small moves no sample (checked: the loss is smooth here).
    assert.ok(worst < 1e-4, `max relative error ${worst} at ${where}`);
  });

  test('replaced-token targets: 1 exactly where the sample differs from the original token, 0 elsewhere', async () => {
    const { run } = await lossAndGrads(store());
    const out = await run();
    const replaced = Array.from(out.replaced.data as Float64Array);
    const sampled = Array.from(out.sampled.data as BigInt64Array, Number);
    const b = batch();
    const positions = Array.from(b.mlm_positions, Number);
    const labels = Array.from(b.mlm_labels, Number);
    const expected = new Array<number>(B * T).fill(0);
    positions.forEach((p, i) => {
      expected[p] = sampled[i] === labels[i] ? 0 : 1;
    });
    assert.deepEqual(replaced, expected);
    assert.ok(sampled.every((id) => id >= 0 && id < tiny.vocab_size));
  });

  test('the generator is sampled at softmax(logits / sampleTemperature): the inverse CDF of a JavaScript recount', async () => {
    const temperature = 2.5;
    const { run } = await lossAndGrads(store(), { ...electra, sampleTemperature: temperature });
    const out = await run();
    const logits = out.logits.data as Float64Array;
    const V = tiny.vocab_size;
    const at = (t: number) =>
      Array.from(batch().electra_uniforms, (u, i) => inverseCdf(logits.subarray(i * V, (i + 1) * V), u, t));
    assert.deepEqual(Array.from(out.sampled.data as BigInt64Array, Number), at(temperature));
    assert.notDeepEqual(at(1), at(temperature)); // the temperature changes these draws
    assert.throws(() => generatorConfig(tiny, { ...electra, sampleTemperature: 0 }), /--sample-temperature/);
  });

  test("generator shape: half the width by default, heads of 64 or one, the model's embedding width", () => {
    const g = generatorConfig(PRESETS['bert-tiny'], DEFAULT_ELECTRA);
    assert.deepEqual(
      [g.hidden_size, g.num_hidden_layers, g.num_attention_heads, g.intermediate_size, g.embedding_size],
      [64, 2, 1, 256, 128],
    );
    assert.equal(
      generatorConfig(PRESETS['bert-tiny'], { ...DEFAULT_ELECTRA, generatorHidden: 128 }).num_attention_heads,
      2,
    );
    assert.throws(
      () => generatorConfig(PRESETS['bert-tiny'], { ...DEFAULT_ELECTRA, generatorHidden: 256 }),
      /--generator-hidden: a whole number from 1 to the model's 128/,
    );
  });
});

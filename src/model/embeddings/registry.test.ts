/**
 * The registry, and what adding an embedding kind takes: a toy kind, defined and registered here and
 * nowhere else, reads its config field, builds a model, runs forward (the runtime's classifier, portable
 * and compact), trains its MLM graph and exports to int8 with its table stored as a table.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Graph } from '../../graph/graph.js';
import { grad } from '../../graph/grad.js';
import { linearCrossEntropy } from '../../graph/losses.js';
import * as o from '../../graph/ops.js';
import { classifierGraph } from '../../infer/export-graph.js';
import { nodeOrt } from '../../infer/load.js';
import { modelClassifier } from '../../infer/model-classifier.js';
import { Dropout } from '../../runtime/dropout.js';
import { ParamStore } from '../../runtime/params.js';
import { Session } from '../../runtime/session.js';
import { Weights } from '../../runtime/weights.js';
import { BertTokenizer } from '../../text/wordpiece.js';
import { UserError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { bertInputs, encoder, mlmHead } from '../bert.js';
import { type BertConfig, PRESETS, validateConfig } from '../config.js';
import { declareParams, fillDerived, type Model, optionalTensor } from '../model.js';
import { HASH } from './hash.js';
import { type EmbeddingConfig, type EmbeddingKind, embeddingWidth } from './kind.js';
import { LOWRANK } from './lowrank.js';
import {
  applyEmbeddingFlag,
  derivedWeight,
  embeddingKind,
  embeddingKinds,
  hasDerivedWeight,
  registerEmbeddingKind,
} from './registry.js';
import { TABLE } from './table.js';

/**
 * The toy kind: each piece's vector is computed from its characters at load (frozen, never stored, like
 * EELBERT's) and scaled by a learned per-dimension gain; `toy_gain_init` (config.json) is the gain's start.
 * Its table has a name no other code knows, so the export must learn from the kind that it is a table.
 */
interface ToyFields {
  toy_gain_init?: number;
}
const TOY_TABLE = 'toy.pieces';
const toyTable = (w: Weights, c: EmbeddingConfig) =>
  w.table(TOY_TABLE, [c.vocab_size, embeddingWidth(c)], 'normal', { frozen: true, derived: true });
const toyGain = (w: Weights, c: EmbeddingConfig) => w.get('toy.gain', [1, embeddingWidth(c)], 'ones');
const toyValues = (c: EmbeddingConfig, vocabulary: readonly string[]) => {
  const H = c.hidden_size;
  const v = new Float32Array(vocabulary.length * H);
  vocabulary.forEach((piece, i) => {
    for (let j = 0; j < H; j++) v[i * H + j] = Math.sin((piece.charCodeAt(j % piece.length) || 1) * (j + 1));
  });
  return v;
};
const TOY: EmbeddingKind = {
  name: 'toy',
  noun: 'toy vectors',
  fields: ['toy_gain_init'],
  validate(raw, c, bad) {
    const g = raw.toy_gain_init ?? 1;
    if (typeof g !== 'number' || !(g > 0)) bad('toy_gain_init', 'a number > 0');
    (c as EmbeddingConfig & ToyFields).toy_gain_init = g as number;
  },
  describe: (c) => `toy vectors of width ${c.hidden_size}`,
  words: (w, c, ids) => o.mul(o.gather(toyTable(w, c), ids), toyGain(w, c)), // (B, T, E) x (1, E)
  tiedDecoder: (w, c, h) => ({ h: o.mul(h, toyGain(w, c)), table: toyTable(w, c) }),
  derived: {
    name: TOY_TABLE,
    compute: (c, vocabulary) => ({
      shape: [vocabulary.length, c.hidden_size],
      values: toyValues(c, vocabulary),
    }),
  },
};
registerEmbeddingKind(TOY);

// More pieces than an int8 export keeps float32 (tables of at most 16 rows).
const VOCAB =
  '[PAD] [UNK] [CLS] [SEP] [MASK] a good bad film very ##s not the plot acting was is it and but'.split(' ');

const SMALL = {
  ...PRESETS['bert-tiny'],
  vocab_size: VOCAB.length,
  hidden_size: 32, // wider than the narrow tables an int8 export scales per column
  num_attention_heads: 2,
  intermediate_size: 64,
  num_hidden_layers: 1,
  max_position_embeddings: 16,
};

/** A model of `raw`'s config (validated as config.json is) with seeded weights and a 2-label head. */
function model(raw: Record<string, unknown>): Model {
  const config = validateConfig({ ...SMALL, num_labels: 2, ...raw }, 'config.json');
  const tokenizer = new BertTokenizer(VOCAB);
  const store = new ParamStore();
  declareParams(store, config, { numLabels: 2, mlm: true });
  store.initialize(new Rng(7), 0.2);
  fillDerived(store, config, tokenizer);
  const gain = (config as BertConfig & ToyFields).toy_gain_init;
  if (store.has('toy.gain')) store.get('toy.gain').data.fill(gain!);
  return { config, store, tokenizer, hasMlmHead: true };
}

describe('an embedding kind registered in one place (the toy kind)', () => {
  test("config.json: its field is validated and kept; other kinds' fields are dropped", () => {
    const c = validateConfig(
      { ...SMALL, embedding_type: 'toy', toy_gain_init: 0.5, lowrank_dim: 4 },
      'x.json',
    );
    assert.equal(embeddingKind(c), TOY);
    assert.equal((c as BertConfig & ToyFields).toy_gain_init, 0.5);
    assert.equal(c.lowrank_dim, undefined);
    assert.throws(
      () => validateConfig({ ...SMALL, embedding_type: 'toy', toy_gain_init: -1 }, 'x.json'),
      (e: Error) =>
        e instanceof UserError &&
        /^x\.json: field "toy_gain_init" must be a number > 0, got -1$/.test(e.message),
    );
    const table = validateConfig({ ...SMALL, toy_gain_init: 2 }, 'x.json');
    assert.equal(
      (table as BertConfig & ToyFields).toy_gain_init,
      undefined,
      'a table model drops toy fields',
    );
    assert.throws(
      () => validateConfig({ ...SMALL, embedding_type: 'vectors' }, 'x.json'),
      /field "embedding_type" must be "table" or "hash" or "lowrank" or "toy" \(minnow embeddings\)/,
    );
  });

  test('its derived table is computed at load, never required in a file', () => {
    const m = model({ embedding_type: 'toy' });
    const p = m.store.get(TOY_TABLE);
    assert.ok(p.derived && p.frozen);
    assert.deepEqual(p.data, toyValues(m.config, VOCAB));
    assert.ok(optionalTensor(m.config)(TOY_TABLE));
    assert.ok(!optionalTensor(model({}).config)(TOY_TABLE));
  });

  test('forward: the runtime classifies with it, portable and compact alike', async () => {
    const m = model({ embedding_type: 'toy', toy_gain_init: 0.7 });
    assert.ok(hasDerivedWeight(m.config));
    const texts = ['a good film', 'not a very bad films'];
    const run = async (variant: 'portable' | 'compact') => {
      const clf = await modelClassifier(m, { ort: nodeOrt, maxLength: 16, variant });
      const out = await clf.classify(texts);
      await clf.release();
      return out.map((r) => r.logits);
    };
    const portable = await run('portable');
    const compact = await run('compact');
    assert.deepEqual(compact, portable);
    assert.ok(portable.every((l) => l.length === 2 && l.every(Number.isFinite)));
    assert.notDeepEqual(portable[0], portable[1]);
    // The gain is read: another gain, other logits.
    const other = model({ embedding_type: 'toy', toy_gain_init: 1.3 });
    const clf = await modelClassifier(other, { ort: nodeOrt, maxLength: 16, variant: 'portable' });
    assert.notDeepEqual(
      (await clf.classify(texts)).map((r) => r.logits),
      portable,
    );
    await clf.release();
  });

  test('messages name it by its own noun (a --hash given with a toy preset)', () => {
    const toy = { ...SMALL, embedding_type: 'toy' };
    assert.throws(
      () =>
        applyEmbeddingFlag(toy, 'hash', 'boundaries=true', {
          name: 'toy-tiny',
          all: { 'toy-tiny': toy, ...PRESETS },
        }),
      /^UserError: --hash: preset toy-tiny has toy vectors, not an EELBERT hash embedding \(hash presets: eelbert-tiny, /,
    );
  });

  test('int8 export: its table is stored as a table (by use, not by name); compact leaves it out', () => {
    const m = model({ embedding_type: 'toy' });
    const names = (compact: boolean) =>
      [...classifierGraph(m, 2, { compact, quantize: 'int8', scheme: 'dynamic' }).constants.keys()].map(
        (v) => v.name,
      );
    const portable = names(false);
    // A table's int8 rows are gathered with float16 row scales; a dense weight has none.
    assert.ok(
      portable.includes(`${TOY_TABLE}_int8`) && portable.includes(`${TOY_TABLE}_scale16`),
      portable.join(),
    );
    assert.ok(
      !portable.includes('toy.gain_scale16'),
      'the (1, H) gain is a dense weight: no row scales to gather',
    );
    const compact = names(true);
    assert.ok(!compact.some((n) => n.startsWith(TOY_TABLE)), compact.join());
  });

  test('training: its MLM decoder tie gives a loss and gradients through onnxruntime', async () => {
    const m = model({ embedding_type: 'toy' });
    const g = new Graph('toy_mlm');
    const w = new Weights(g, m.store);
    const x = bertInputs(g);
    const out = encoder(w, m.config, x, new Dropout(false));
    const head = mlmHead(w, m.config, out, g.input('mlm_positions', 'int64', ['M']));
    const labels = g.input('mlm_labels', 'int64', ['M']);
    const { loss } = linearCrossEntropy(head.h, head.table, head.bias, labels);
    g.output(loss, 'loss');
    const params = w.entries().filter(([name]) => !m.store.get(name).frozen);
    grad(
      loss,
      params.map(([, v]) => v),
    ).forEach((d, i) => g.output(d, `grad_${params[i][0]}`));
    const session = await Session.create(g);
    const ids = (xs: number[]) => ({ data: BigInt64Array.from(xs.map(BigInt)), shape: [1, xs.length] });
    const r = await session.run({
      input_ids: ids([2, 5, 6, 8, 3]),
      token_type_ids: ids([0, 0, 0, 0, 0]),
      position_ids: ids([0, 1, 2, 3, 4]),
      attention_mask: ids([1, 1, 1, 1, 1]),
      mlm_positions: { data: BigInt64Array.from([2n]), shape: [1] },
      mlm_labels: { data: BigInt64Array.from([6n]), shape: [1] },
      ...Object.fromEntries(w.entries().map(([name]) => [name, m.store.get(name).data])),
    });
    const value = (r.loss.data as Float32Array)[0];
    assert.ok(Number.isFinite(value) && value > 0, `loss ${value}`);
    // The gain is trained through both ends (the words and the tied decoder); the derived table is not.
    const gain = r['grad_toy.gain'].data as Float32Array;
    assert.ok(gain.some((v) => v !== 0) && gain.every(Number.isFinite));
    assert.ok(!(`grad_${TOY_TABLE}` in r));
  });
});

describe('the shipped kinds', () => {
  test('are registered by name, in order', () => {
    assert.deepEqual(
      embeddingKinds()
        .slice(0, 3)
        .map((k) => k.name),
      ['table', 'hash', 'lowrank'],
    );
    assert.equal(embeddingKind(PRESETS['uno-eelbert']), HASH);
    assert.equal(embeddingKind(PRESETS['uno-lowrank']), LOWRANK);
    assert.equal(embeddingKind(PRESETS['bert-tiny']), TABLE);
    assert.throws(() => registerEmbeddingKind({ ...TABLE }), /already registered/);
  });

  test('only a hash model computes a weight at load (the runtime part, for compact files)', () => {
    assert.ok(hasDerivedWeight(PRESETS['uno-eelbert']));
    assert.ok(!hasDerivedWeight(PRESETS['uno-lowrank']) && !hasDerivedWeight(PRESETS['bert-tiny']));
    const c = { ...SMALL, ...PRESETS['uno-eelbert'], vocab_size: VOCAB.length, hidden_size: 16 };
    const d = derivedWeight(c, VOCAB, 'x');
    assert.deepEqual(d.shape, [VOCAB.length, 16]);
    assert.throws(
      () => derivedWeight(PRESETS['uno-lowrank'], VOCAB, 'folder/config.json'),
      /^UserError: folder\/config.json: a compact model needs an embedding computed at load \(embedding_type "hash" or "toy"\), not "lowrank"$/,
    );
  });

  test('each describes itself (minnow info)', () => {
    const low = { ...PRESETS['uno-lowrank'], lowrank_dim: 4 };
    assert.equal(embeddingKind(low).describe(low, 0), 'learned 30522 x 4 codes projected to 128');
    assert.equal(TABLE.describe(), 'lookup table');
    const hash = { ...PRESETS['uno-eelbert'] };
    hash.hash_embedding = { ...hash.hash_embedding!, boundaries: true, projection: true };
    assert.equal(
      HASH.describe(hash, 3906816),
      'EELBERT n-gram pooling hash (3,906,816 values computed at load, none stored) + a trainable H x H projection; word-start markers',
    );
  });

  test('a flag applies to its own kind only, and says which presets it fits', () => {
    const presets = { name: 'uno-eelbert', all: PRESETS };
    const c = structuredClone(PRESETS['uno-eelbert']);
    applyEmbeddingFlag(c, 'hash', 'wholeToken=0.25, boundaries=true', presets);
    assert.deepEqual(c.hash_embedding, {
      ...PRESETS['uno-eelbert'].hash_embedding,
      wholeToken: 0.25,
      boundaries: true,
    });
    assert.throws(
      () => applyEmbeddingFlag(c, 'lowrank-dim', '4', presets),
      /^UserError: --lowrank-dim: preset uno-eelbert has an EELBERT hash embedding, not learned low-rank codes \(lowrank presets: lowrank-tiny, uno-lowrank\)$/,
    );
    const l = structuredClone(PRESETS['uno-lowrank']);
    applyEmbeddingFlag(l, 'lowrank-dim', '4', { name: 'uno-lowrank', all: PRESETS });
    assert.equal(l.lowrank_dim, 4);
    assert.throws(
      () => applyEmbeddingFlag(l, 'lowrank-dim', '200', { name: 'uno-lowrank', all: PRESETS }),
      /hidden_size \(128\), got 200/,
    );
  });
});

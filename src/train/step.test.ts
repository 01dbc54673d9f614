/**
 * End to end on the engine: a small transformer learns a toy task; runs are reproducible from the
 * seed, dropout included; a run resumed from a checkpoint replays the uninterrupted run bit for bit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { softmaxCrossEntropy } from '../graph/losses.js';
import { bertInputs, classifier, encoder } from '../model/bert.js';
import { Dropout } from '../runtime/dropout.js';
import { type BertConfig, PRESETS } from '../model/config.js';
import { AdamW, DEFAULT_ADAMW } from '../runtime/optim.js';
import { ParamStore } from '../runtime/params.js';
import { Rng } from '../util/rng.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { TrainStep } from './step.js';
import { Forward } from '../runtime/forward.js';

const cfg: BertConfig = {
  ...PRESETS['bert-tiny'],
  vocab_size: 16,
  hidden_size: 32,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 64,
  max_position_embeddings: 16,
};
const T = 8;

/** Label 1 iff token 3 occurs in the sequence (position 0 holds [CLS] = 1). */
function toyBatch(rng: Rng, B: number) {
  const ids = new BigInt64Array(B * T);
  const labels = new BigInt64Array(B);
  for (let b = 0; b < B; b++) {
    const positive = rng.uniform() < 0.5;
    for (let t = 0; t < T; t++) ids[b * T + t] = BigInt(t === 0 ? 1 : 4 + rng.int(12));
    if (positive) ids[b * T + 1 + rng.int(T - 1)] = 3n;
    labels[b] = positive ? 1n : 0n;
  }
  return {
    input_ids: ids,
    token_type_ids: new BigInt64Array(B * T),
    position_ids: BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % T)),
    attention_mask: new BigInt64Array(B * T).fill(1n),
    labels,
  };
}

async function makeStep(store: ParamStore, seed: number, c = cfg) {
  return TrainStep.create(
    (g, w, drop) => {
      const labels = g.input('labels', 'int64', ['B']);
      const logits = classifier(w, c, encoder(w, c, bertInputs(g), drop), 2, drop);
      return { loss: softmaxCrossEntropy(logits, labels), outputs: { logits } };
    },
    store,
    { seed, threads: 1 },
  );
}

/** Train `steps` steps from the given state and return the losses. */
async function train(store: ParamStore, optim: AdamW | undefined, seed: number, from: number, steps: number) {
  const step = await makeStep(store, seed);
  const opt = optim ?? (await AdamW.create(step.params, { ...DEFAULT_ADAMW, lr: 3e-3 }));
  const losses: number[] = [];
  for (let s = from; s < from + steps; s++) {
    const res = await step.run(toyBatch(new Rng(seed * 1000 + s), 16), { B: 16, T }, s);
    opt.update(res.grads, 3e-3);
    losses.push(res.loss);
  }
  await step.release();
  return { losses, optim: opt };
}

describe('training on the engine', () => {
  test('a one-layer transformer learns the toy task (>= 95% held-out accuracy)', async () => {
    const store = new ParamStore();
    const step = await makeStep(store, 1);
    store.initialize(new Rng(1));
    const optim = await AdamW.create(step.params, { ...DEFAULT_ADAMW, lr: 3e-3 });
    const rng = new Rng(2);
    for (let s = 0; s < 300; s++) {
      const res = await step.run(toyBatch(rng, 32), { B: 32, T }, s);
      optim.update(res.grads, 3e-3);
    }
    await step.release();
    const fwd = await Forward.create((g, w) => {
      const logits = classifier(
        w,
        cfg,
        encoder(w, cfg, bertInputs(g), new Dropout(false)),
        2,
        new Dropout(false),
      );
      return { logits };
    }, store);
    const test = toyBatch(new Rng(99), 512);
    const { logits } = await fwd.run(test, { B: 512, T });
    let correct = 0;
    for (let b = 0; b < 512; b++) {
      const pred = logits.data[2 * b + 1] > logits.data[2 * b] ? 1n : 0n;
      if (pred === test.labels[b]) correct++;
    }
    assert.ok(correct / 512 >= 0.95, `accuracy ${correct / 512}`);
  });

  test('same seed, same losses step for step (dropout on); another seed differs', async () => {
    const run = async (seed: number) => {
      const store = new ParamStore();
      const step = await makeStep(store, seed);
      store.initialize(new Rng(seed));
      await step.release();
      return (await train(store, undefined, seed, 0, 5)).losses;
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('resuming from a checkpoint continues bit-exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minnow-ckpt-'));
    try {
      const init = async () => {
        const store = new ParamStore();
        const step = await makeStep(store, 3);
        store.initialize(new Rng(3));
        await step.release();
        return store;
      };
      const straight = await train(await init(), undefined, 3, 0, 6);

      const first = await init();
      const part1 = await train(first, undefined, 3, 0, 3);
      saveCheckpoint(dir, first, part1.optim, { step: 3 });
      // A fresh process would start from nothing but the checkpoint: new store, new optimizer.
      const resumed = new ParamStore();
      const step = await makeStep(resumed, 3);
      const optim = await AdamW.create(step.params, { ...DEFAULT_ADAMW, lr: 3e-3 });
      await step.release();
      const path = latestCheckpoint(dir);
      assert.ok(path);
      const state = loadCheckpoint(path, resumed, optim);
      assert.equal(state.step, 3);
      const part2 = await train(resumed, optim, 3, 3, 3);
      assert.deepEqual([...part1.losses, ...part2.losses], straight.losses);
      assert.deepEqual(readdirSync(dir).sort(), ['latest', 'step-000003']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

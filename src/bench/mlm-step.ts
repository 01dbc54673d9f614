/**
 * Masked-LM pre-training step benchmark: a preset (default eelbert-tiny) at B=64 x T=128, 15% masking,
 * MLM decoder over the full 30,522-word vocabulary at the masked positions, forward + backward + AdamW.
 * Token windows are random ordinary ids (no corpus needed); the cost does not depend on which ids.
 */
import { linearCrossEntropy } from '../graph/losses.js';
import { bertInputs, encoder, mlmHead } from '../model/bert.js';
import { preset } from '../model/config.js';
import { createModel } from '../model/io.js';
import { AdamW, DEFAULT_ADAMW } from '../runtime/optim.js';
import { BERT_MASKING, maskBatch } from '../train/masking.js';
import { TrainStep } from '../train/step.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { median } from './train-step.js';

export interface MlmBenchOptions {
  preset: string;
  vocabPath: string;
  batch: number;
  seq: number;
  threads: number;
  steps: number;
  warmup: number;
  reps: number;
  seed: number;
}

export async function benchMlmStep(o: MlmBenchOptions, log: (s: string) => void = () => {}) {
  const times: number[] = [];
  let params = 0;
  for (let r = 0; r < o.reps; r++) {
    const m = createModel(preset(o.preset), o.vocabPath, new Rng(o.seed), { mlm: true });
    const cfg = m.config;
    const step = await TrainStep.create(
      (g, w, drop) => {
        const head = mlmHead(
          w,
          cfg,
          encoder(w, cfg, bertInputs(g), drop),
          g.input('mlm_positions', 'int64', ['M']),
        );
        return {
          loss: linearCrossEntropy(head.h, head.table, head.bias, g.input('mlm_labels', 'int64', ['M'])).loss,
        };
      },
      m.store,
      { threads: o.threads, seed: o.seed },
    );
    const optim = await AdamW.create(step.params, DEFAULT_ADAMW);
    params = m.store.count((p) => !p.derived);
    const rng = new Rng(deriveSeed(o.seed, 'DATA'));
    const seqs = Array.from({ length: o.batch }, () => {
      const ids = new Int32Array(o.seq);
      for (let t = 0; t < o.seq; t++)
        ids[t] =
          t === 0
            ? m.tokenizer.clsId
            : t === o.seq - 1
              ? m.tokenizer.sepId
              : 1000 + rng.int(m.tokenizer.vocabSize - 1000);
      return { ids, wordStart: new Uint8Array(o.seq).fill(1) };
    });
    const mine: number[] = [];
    for (let s = 0; s < o.warmup + o.steps; s++) {
      const t0 = performance.now();
      const { B, T, M, ...feeds } = maskBatch(seqs, BERT_MASKING, m.tokenizer, o.seed, s);
      const res = await step.run(feeds, { B, T, M }, s);
      optim.update(res.grads, 1e-4);
      if (s >= o.warmup) mine.push(performance.now() - t0);
    }
    await step.release();
    times.push(...mine);
    log(`  rep ${r + 1}/${o.reps}: median ${median(mine).toFixed(1)} ms/step`);
  }
  const ms = median(times);
  return {
    benchmark: 'mlm-step',
    preset: o.preset,
    batch: o.batch,
    seq: o.seq,
    threads: o.threads,
    params,
    ms_per_step_median: ms,
    tokens_per_s_median: (o.batch * o.seq) / (ms / 1000),
    ms_per_step_all: times,
  };
}

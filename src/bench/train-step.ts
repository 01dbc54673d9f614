/**
 * The engine benchmark of engine-notes.md: a BERT-tiny-shaped classification training step
 * (B=32, T=128, H=128, 2 layers, 2 heads, FFN 512, erf-GELU, padding mask, 2-class cross-entropy),
 * forward + backward on onnxruntime + AdamW in JS. Several repetitions; medians.
 */
import { softmaxCrossEntropy } from '../graph/losses.js';
import { bertInputs, classifier, encoder } from '../model/bert.js';
import { type BertConfig, PRESETS } from '../model/config.js';
import { AdamW, DEFAULT_ADAMW } from '../runtime/optim.js';
import { ParamStore } from '../runtime/params.js';
import { TrainStep } from '../train/step.js';
import { deriveSeed, Rng } from '../util/rng.js';

export interface TrainStepBenchOptions {
  vocab: number;
  batch: number;
  seq: number;
  threads: number;
  steps: number; // timed steps per repetition
  warmup: number; // untimed steps per repetition
  reps: number; // repetitions (fresh session each)
  dropout: number;
  seed: number;
}

export interface TrainStepBenchResult {
  name: string;
  vocab: number;
  batch: number;
  seq: number;
  threads: number;
  dropout: number;
  params: number;
  ms_per_step_median: number;
  tokens_per_s_median: number;
  ms_per_step_all: number[];
  /** Process CPU time (user + sys, all threads) per step: less sensitive than wall time to a noisy host. */
  cpu_ms_per_step_median: number;
  session_create_ms_median: number;
  loss_first: number;
  loss_last: number;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function benchConfig(vocab: number, dropout: number): BertConfig {
  return {
    ...PRESETS['bert-tiny'],
    vocab_size: vocab,
    hidden_dropout_prob: dropout,
    attention_probs_dropout_prob: dropout,
  };
}

/** A synthetic batch: random ids, [CLS] first, the last few positions of odd rows padded. */
export function syntheticBatch(rng: Rng, B: number, T: number, vocab: number) {
  const ids = new BigInt64Array(B * T);
  const mask = new BigInt64Array(B * T);
  const pos = new BigInt64Array(B * T);
  const types = new BigInt64Array(B * T);
  const labels = new BigInt64Array(B);
  for (let b = 0; b < B; b++) {
    const len = b % 2 ? T - 1 - rng.int(T / 4) : T;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      ids[i] = BigInt(t === 0 ? 101 % vocab : t < len ? 1000 + rng.int(vocab - 1000) : 0);
      mask[i] = t < len ? 1n : 0n;
      pos[i] = BigInt(t);
      types[i] = t < len / 2 ? 0n : 1n;
    }
    labels[b] = BigInt(rng.int(2));
  }
  return { input_ids: ids, attention_mask: mask, position_ids: pos, token_type_ids: types, labels };
}

export async function benchTrainStep(
  opts: TrainStepBenchOptions,
  log: (s: string) => void = () => {},
): Promise<TrainStepBenchResult> {
  const cfg = benchConfig(opts.vocab, opts.dropout);
  const { batch: B, seq: T } = opts;
  const times: number[] = [];
  const creates: number[] = [];
  const cpu: number[] = [];
  let lossFirst = Number.NaN;
  let lossLast = Number.NaN;
  let nParams = 0;
  for (let r = 0; r < opts.reps; r++) {
    const store = new ParamStore();
    const t0 = performance.now();
    const step = await TrainStep.create(
      (g, w, drop) => {
        const x = bertInputs(g);
        const labels = g.input('labels', 'int64', ['B']);
        const logits = classifier(w, cfg, encoder(w, cfg, x, drop), 2, drop);
        return { loss: softmaxCrossEntropy(logits, labels) };
      },
      store,
      { threads: opts.threads, seed: opts.seed, profile: process.env.MINNOW_PROFILE },
    );
    creates.push(performance.now() - t0);
    store.initialize(new Rng(opts.seed));
    nParams = store.count();
    const optim = await AdamW.create(step.params, { ...DEFAULT_ADAMW, lr: 1e-4 });
    const batch = syntheticBatch(new Rng(deriveSeed(opts.seed, 'DATA')), B, T, opts.vocab);
    for (let s = 0; s < opts.warmup + opts.steps; s++) {
      const t = performance.now();
      const c = process.cpuUsage();
      const res = await step.run(batch, { B, T }, s);
      optim.update(res.grads, 1e-4);
      const dt = performance.now() - t;
      const dc = process.cpuUsage(c);
      if (s >= opts.warmup) {
        times.push(dt);
        cpu.push((dc.user + dc.system) / 1000);
      }
      if (r === 0 && s === 0) lossFirst = res.loss;
      lossLast = res.loss;
    }
    await step.release();
    log(
      `  rep ${r + 1}/${opts.reps}: median ${median(times.slice(-opts.steps)).toFixed(1)} ms/step, cpu ${median(cpu.slice(-opts.steps)).toFixed(1)} ms/step`,
    );
  }
  const ms = median(times);
  return {
    name: `bert-tiny train step (vocab ${opts.vocab})`,
    vocab: opts.vocab,
    batch: B,
    seq: T,
    threads: opts.threads,
    dropout: opts.dropout,
    params: nParams,
    ms_per_step_median: ms,
    tokens_per_s_median: (B * T) / (ms / 1000),
    ms_per_step_all: times,
    cpu_ms_per_step_median: median(cpu),
    session_create_ms_median: median(creates),
    loss_first: lossFirst,
    loss_last: lossLast,
  };
}

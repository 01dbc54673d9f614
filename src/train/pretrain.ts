/**
 * Pre-training: a token budget over a streamed, cached corpus packed into fixed windows, dynamic masking
 * per step (15%, 80/10/10, optional whole-word), periodic atomic checkpoints, bit-exact resume. The
 * objective is masked-LM (MLM logits at the masked positions only; validation loss and accuracy) or
 * ELECTRA's replaced-token detection (electra.ts; validation: the generator's MLM loss, the
 * discriminator's loss and accuracy).
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEFAULT_ADAMW } from '../runtime/optim.js';
import { lrSchedule } from '../runtime/schedule.js';
import { corpusTokens, ID_MASK, SequenceSampler, tokensDigest } from '../data/corpus.js';
import type { Graph } from '../graph/graph.js';
import { linearCrossEntropy } from '../graph/losses.js';
import * as o from '../graph/ops.js';
import { bertInputs, encoder, mlmHead } from '../model/bert.js';
import { Dropout } from '../runtime/dropout.js';
import { type Weights } from '../runtime/weights.js';
import type { BertConfig, PretrainingRecord } from '../model/config.js';
import { createModel, loadModel, type Model, saveModel } from '../model/io.js';
import { writeFileAtomic, ensureDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';
import { deriveSeed, Rng } from '../util/rng.js';
import {
  DEFAULT_ELECTRA,
  declareElectra,
  dropPretrainingParts,
  electraGraph,
  electraUniforms,
  GENERATOR,
  generatorConfig,
} from './electra.js';
import { type MlmBatch, maskBatch } from './masking.js';
import { runTraining } from './loop.js';
import { PRETRAIN_SETTING_NAMES, type PretrainConfig } from './pretrain-config.js';
import { TrainStep } from './step.js';
import { Forward } from '../runtime/forward.js';
import type { BertTokenizer } from '../text/wordpiece.js';

export {
  CORPUS_SETTINGS,
  DEFAULT_PRETRAIN,
  PRETRAIN_SETTING_NAMES,
  PRETRAIN_SETTINGS,
  type PretrainConfig,
} from './pretrain-config.js';

/** How often each vocabulary id occurs among corpus pieces (ids in the low 15 bits). */
export function pieceCounts(tokens: Uint16Array, vocabSize: number): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (const t of tokens) counts[t & ID_MASK]++;
  return counts;
}

/** log((count + 1) / (N + V)) of each vocabulary id over corpus pieces. */
export function unigramLogPrior(tokens: Uint16Array, vocabSize: number): Float32Array {
  const counts = pieceCounts(tokens, vocabSize);
  const out = new Float32Array(vocabSize);
  const denom = tokens.length + vocabSize;
  for (let i = 0; i < vocabSize; i++) out[i] = Math.log((counts[i] + 1) / denom);
  return out;
}

function mlmGraph(cfg: BertConfig) {
  return (g: Graph, w: Weights, drop: Dropout) => {
    const x = bertInputs(g);
    const positions = g.input('mlm_positions', 'int64', ['M']);
    const labels = g.input('mlm_labels', 'int64', ['M']);
    const head = mlmHead(w, cfg, encoder(w, cfg, x, drop), positions);
    const { loss, logits } = linearCrossEntropy(head.h, head.table, head.bias, labels); // logits (M, V)
    return { loss, logits, labels };
  };
}

/** A masked batch as feeds; ELECTRA's also carry the uniforms of its samples, drawn from (seed, k). */
function feedsOf(b: MlmBatch, electra?: { seed: number; k: number }) {
  const { B, T, M, ...rest } = b;
  const feeds = electra ? { ...rest, electra_uniforms: electraUniforms(electra.seed, electra.k, M) } : rest;
  return { feeds, sizes: { B, T, M } };
}

const isElectra = (c: PretrainConfig) => c.objective === 'electra';

/**
 * The training corpus as token windows, and the update count its token budget buys (logged): shared by
 * pre-training and general distillation.
 */
export async function openCorpus(
  label: string,
  c: Pick<
    PretrainConfig,
    'corpus' | 'cacheDir' | 'seqLen' | 'seed' | 'tokens' | 'batchSize' | 'accumulation'
  >,
  tok: BertTokenizer,
): Promise<{
  sampler: SequenceSampler;
  micro: number;
  updates: number;
  tokens: Uint16Array;
  digest: string; // tokensDigest: what --resume checks the corpus by
}> {
  info(`${label}: tokenizing ${c.corpus} (cached in ${c.cacheDir})`);
  const train = await corpusTokens(c.corpus, tok, c.cacheDir);
  const sampler = new SequenceSampler(train.tokens, c.seqLen, c.seed, tok);
  const micro = c.batchSize / c.accumulation;
  const updates = Math.max(1, Math.ceil(c.tokens / (c.batchSize * sampler.windowLen)));
  info(
    `${label}: ${train.count.toLocaleString()} corpus tokens, ${sampler.windowsPerEpoch.toLocaleString()} windows of ${c.seqLen}; ` +
      `budget ${c.tokens.toLocaleString()} tokens = ${updates} updates of ${c.batchSize} (${((updates * c.batchSize * sampler.windowLen) / sampler.tokensPerEpoch).toFixed(2)} epochs)`,
  );
  return { sampler, micro, updates, tokens: train.tokens, digest: tokensDigest(train.tokens) };
}

/** Validation: MLM loss (mean over masked positions) and accuracy over fixed, deterministically masked windows. */
async function makeEvaluator(m: Model, sampler: SequenceSampler, c: PretrainConfig) {
  if (isElectra(c)) return makeElectraEvaluator(m, sampler, c);
  const build = mlmGraph(m.config);
  const fwd = await Forward.create(
    (g, w) => {
      const { loss, logits, labels } = build(g, w, new Dropout(false));
      const correct = o.reduceSum(o.cast(o.equal(o.argMax(logits, -1), labels), 'float32'), [0]);
      return { loss, correct };
    },
    m.store,
    { threads: c.threads },
  );
  const batches = validBatches(m, sampler, c);
  return async () => {
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const b of batches) {
      const { feeds, sizes } = feedsOf(b);
      const out = await fwd.run(feeds, sizes);
      lossSum += Number(out.loss.data[0]) * b.M;
      correct += Number(out.correct.data[0]);
      count += b.M;
    }
    return { valid_mlm_loss: lossSum / count, valid_mlm_accuracy: correct / count };
  };
}

/** The fixed validation batches: the first windows, masked with seed + 1. */
function validBatches(m: Model, sampler: SequenceSampler, c: PretrainConfig): MlmBatch[] {
  const n = Math.min(c.validSequences, sampler.windowsPerEpoch);
  const batches: MlmBatch[] = [];
  for (let i = 0; i < n; i += c.batchSize) {
    const seqs = [];
    for (let j = i; j < Math.min(n, i + c.batchSize); j++) seqs.push(sampler.sequence(j));
    batches.push(maskBatch(seqs, c.masking, m.tokenizer, c.seed + 1, i));
  }
  return batches;
}

/** ELECTRA validation: the generator's MLM loss, the discriminator's loss and accuracy over real tokens. */
async function makeElectraEvaluator(m: Model, sampler: SequenceSampler, c: PretrainConfig) {
  const build = electraGraph(m.config, c.electra ?? DEFAULT_ELECTRA);
  const fwd = await Forward.create(
    (g, w) => {
      const r = build(g, w, new Dropout(false));
      const said = o.cast(o.greater(r.rtdLogits, o.scalarLike(r.rtdLogits, 0)), 'float32');
      const right = o.mul(o.cast(o.equal(said, r.replaced), 'float32'), r.real);
      return {
        mlm: r.mlmLoss,
        rtd: r.rtdLoss,
        correct: o.reduceSum(right, [0]),
        real: o.reduceSum(r.real, [0]),
        replaced: o.reduceSum(r.replaced, [0]),
      };
    },
    m.store,
    { threads: c.threads },
  );
  const batches = validBatches(m, sampler, c);
  return async () => {
    let mlm = 0;
    let rtd = 0;
    let correct = 0;
    let masked = 0;
    let real = 0;
    let replaced = 0;
    for (const [i, b] of batches.entries()) {
      const { feeds, sizes } = feedsOf(b, { seed: c.seed + 1, k: i });
      const out = await fwd.run(feeds, sizes);
      const n = Number(out.real.data[0]);
      mlm += Number(out.mlm.data[0]) * b.M;
      rtd += Number(out.rtd.data[0]) * n;
      correct += Number(out.correct.data[0]);
      replaced += Number(out.replaced.data[0]);
      masked += b.M;
      real += n;
    }
    return {
      valid_generator_mlm_loss: mlm / masked,
      valid_rtd_loss: rtd / real,
      valid_rtd_accuracy: correct / real,
      // Saying "original" everywhere scores 1 - this: the accuracy's baseline.
      valid_replaced_fraction: replaced / real,
    };
  };
}

export async function pretrain(
  model: Model,
  c: PretrainConfig,
): Promise<{ tokensPerSecond: number; evals: Record<string, number>[]; updates: number }> {
  if (c.batchSize % c.accumulation !== 0)
    throw new UserError(`--batch-size ${c.batchSize} is not divisible by --accumulation ${c.accumulation}`);
  if (c.seqLen > model.config.max_position_embeddings) {
    throw new UserError(
      `--seq-len ${c.seqLen} exceeds the model's max_position_embeddings ${model.config.max_position_embeddings}`,
    );
  }
  const electra = isElectra(c) ? (c.electra ?? DEFAULT_ELECTRA) : undefined;
  if (electra) generatorConfig(model.config, electra); // bad generator settings fail before any work
  const tok = model.tokenizer;
  const { sampler, micro, updates, tokens: corpusPieces, digest } = await openCorpus('pretrain', c, tok);
  // ELECTRA's generator and discriminator head join the store (initialised from the seed).
  if (electra) declareElectra(model.store, model.config, electra, new Rng(deriveSeed(c.seed, 'EGEN')));
  // Before the session and the optimiser see the parameters; a resumed run's checkpoint overwrites it.
  if (c.decoderBias === 'unigram')
    model.store
      .get(electra ? `${GENERATOR}predictions.bias` : 'cls.predictions.bias')
      .data.set(unigramLogPrior(corpusPieces, tok.vocabSize));
  let evaluate: (() => Promise<Record<string, number>>) | undefined;
  if (c.valid) {
    const valid = await corpusTokens(c.valid, tok, c.cacheDir);
    evaluate = await makeEvaluator(model, new SequenceSampler(valid.tokens, c.seqLen, c.seed, tok), c);
  }
  const buildElectra = electra ? electraGraph(model.config, electra) : undefined;
  const step = await TrainStep.create(
    buildElectra
      ? (g, w, drop) => {
          const r = buildElectra(g, w, drop);
          return { loss: r.loss, outputs: { mlm_loss: r.mlmLoss, rtd_loss: r.rtdLoss } };
        }
      : mlmGraph(model.config),
    model.store,
    { seed: c.seed, threads: c.threads },
  );
  ensureDir(c.out);
  const result = await runTraining({
    label: 'pretrain',
    out: c.out,
    step,
    store: model.store,
    optim: { ...DEFAULT_ADAMW, lr: c.lr, weightDecay: c.weightDecay, clipNorm: c.clipNorm },
    schedule: lrSchedule(updates, c.warmup, c.decay),
    accumulation: c.accumulation,
    batch: (k) => {
      const b = maskBatch(sampler.batch(k, micro), c.masking, tok, c.seed, k);
      const { feeds, sizes } = feedsOf(b, electra ? { seed: c.seed, k } : undefined);
      let tokens = 0;
      for (let i = 0; i < b.attention_mask.length; i++) tokens += Number(b.attention_mask[i]);
      return { feeds, sizes, tokens };
    },
    evaluate,
    evalEvery: c.evalEvery,
    checkpointEvery: c.checkpointEvery,
    resume: c.resume,
    deadline: c.deadline,
    recipe: {
      corpus: basename(c.corpus),
      corpusDigest: digest,
      seed: c.seed,
      seqLen: c.seqLen,
      batchSize: c.batchSize,
      masking: c.masking,
      decoderBias: c.decoderBias,
      objective: c.objective,
      electra,
    },
    settingNames: PRETRAIN_SETTING_NAMES,
    onStart: () =>
      writeFileAtomic(
        join(c.out, 'pretrain_config.json'),
        `${JSON.stringify({ ...c, model: model.config }, null, 2)}\n`,
      ),
  });
  await step.release();
  if (electra) dropPretrainingParts(model.store); // the discriminator alone is the model
  model.config.minnow_pretraining = [
    ...(model.config.minnow_pretraining ?? []),
    pretrainingRecord(c, updates, result.evals, new Date()),
  ];
  saveModel(c.out, model);
  info(`pretrain: model written to ${c.out}`);
  return { tokensPerSecond: result.tokensPerSecond, evals: result.evals, updates };
}

/** The config.json record of a finished run (also rebuilt from a run's files by scripts/ship-models.ts). */
export function pretrainingRecord(
  c: Pick<PretrainConfig, 'corpus' | 'tokens' | 'batchSize' | 'seqLen' | 'lr' | 'objective' | 'electra'>,
  updates: number,
  evals: Partial<Record<string, number>>[],
  ended: Date,
): PretrainingRecord {
  const last = evals[evals.length - 1];
  const e = c.electra ?? DEFAULT_ELECTRA;
  return {
    corpus: basename(c.corpus),
    tokens: c.tokens,
    updates,
    batch_size: c.batchSize,
    seq_len: c.seqLen,
    lr: c.lr,
    ...(c.objective === 'electra'
      ? {
          objective: 'electra' as const,
          generator_hidden: e.generatorHidden || undefined,
          generator_layers: e.generatorLayers || undefined,
          rtd_weight: e.rtdWeight,
          sample_temperature: e.sampleTemperature === 1 ? undefined : e.sampleTemperature,
          ...(last
            ? {
                valid_generator_mlm_loss: last.valid_generator_mlm_loss,
                valid_rtd_loss: last.valid_rtd_loss,
                valid_rtd_accuracy: last.valid_rtd_accuracy,
              }
            : {}),
        }
      : last
        ? { valid_mlm_loss: last.valid_mlm_loss, valid_mlm_accuracy: last.valid_mlm_accuracy }
        : {}),
    date: ended.toISOString(),
  };
}

/** A new model from a preset, or an existing model directory to continue pre-training. */
export function pretrainModel(
  source: { preset?: BertConfig; model?: string; vocab: string },
  seed: number,
): Model {
  if (source.model) {
    if (!existsSync(source.model)) throw new UserError(`${source.model}: model directory not found`);
    return loadModel(source.model, { mlm: true, rng: new Rng(seed) });
  }
  return createModel(source.preset!, source.vocab, new Rng(seed), { mlm: true });
}

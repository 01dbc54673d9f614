/**
 * ELECTRA pre-training (replaced-token detection; Clark et al., 2020, docs/methods.md §7.2): a small generator, a
 * narrower copy of the model that shares its input embeddings, learns masked-LM at the masked positions;
 * one sample from it replaces each of those tokens; the discriminator (the model itself) then says at
 * every real token whether it was replaced. Loss = MLM + lambda * RTD, one backward pass for both.
 *
 * The samples are drawn inside the graph (graph/sampling.ts) from uniforms fed per micro-batch, drawn from
 * (seed, 'ELEC', k) alone: a resumed run draws the same replacements, and nothing of size M x V is fed in
 * or fetched. No gradient flows through a sample (it is an integer). Only the discriminator is the model:
 * the generator and the discriminator's head are dropped before it is saved.
 */
import { Graph, type Value } from '../graph/graph.js';
import { binaryCrossEntropyWithLogits, linearCrossEntropy } from '../graph/losses.js';
import * as o from '../graph/ops.js';
import { sampleCategorical } from '../graph/sampling.js';
import { bertInputs, dense, encoder, layerNorm, tiedDecoder } from '../model/bert.js';
import { type BertConfig, embeddingWidth } from '../model/config.js';
import { Dropout } from '../runtime/dropout.js';
import type { ParamStore } from '../runtime/params.js';
import { Weights } from '../runtime/weights.js';
import { UserError } from '../util/errors.js';
import { deriveSeed, Rng } from '../util/rng.js';

export interface ElectraConfig {
  /** Generator width (0: half the model's hidden size, at least 16). */
  generatorHidden: number;
  /** Generator depth (0: the model's). */
  generatorLayers: number;
  /** lambda, the weight of the replaced-token-detection loss (the paper: 50). */
  rtdWeight: number;
  /**
   * Softmax temperature of the generator's samples: 1 samples the generator as it is (the paper); above 1
   * flattens it toward uniform, so that replacements are odder and easier to spot at the start. The
   * generator's MLM loss is the same at every temperature.
   */
  sampleTemperature: number;
}

export const DEFAULT_ELECTRA: Readonly<ElectraConfig> = Object.freeze({
  generatorHidden: 0,
  generatorLayers: 0,
  rtdWeight: 50,
  sampleTemperature: 1,
});

/** Parameter name prefixes that belong to pre-training only and are not saved with the model. */
export const GENERATOR = 'generator.';
export const DISCRIMINATOR_HEAD = 'discriminator_predictions.';

/**
 * The generator's shape: `generatorHidden` wide (heads of 64 where it divides, else one), 4x feed-forward,
 * embeddings of the model's width projected down to it.
 */
export function generatorConfig(c: BertConfig, e: ElectraConfig): BertConfig {
  const H = e.generatorHidden || Math.max(16, Math.round(c.hidden_size / 2));
  const L = e.generatorLayers || c.num_hidden_layers;
  if (!Number.isInteger(H) || H < 1 || H > c.hidden_size)
    throw new UserError(
      `--generator-hidden: a whole number from 1 to the model's ${c.hidden_size}, got ${H}`,
    );
  if (!Number.isInteger(L) || L < 1) throw new UserError(`--generator-layers: a whole number >= 1, got ${L}`);
  if (!(e.sampleTemperature > 0))
    throw new UserError(`--sample-temperature: a number above 0, got ${e.sampleTemperature}`);
  return {
    ...c,
    hidden_size: H,
    num_hidden_layers: L,
    num_attention_heads: H % 64 === 0 ? H / 64 : 1,
    intermediate_size: 4 * H,
    embedding_size: embeddingWidth(c),
  };
}

/** The generator's parameters: its own under `generator.`, the embeddings (bert.embeddings.*) shared. */
class GeneratorWeights extends Weights {
  constructor(private readonly shared: Weights) {
    super(shared.g, shared.store, shared.dtype);
  }

  override get(
    name: string,
    shape: number[],
    init: Parameters<Weights['get']>[2],
    frozen = false,
    derived = false,
  ) {
    const own = name.startsWith('bert.embeddings.') ? name : `${GENERATOR}${name}`;
    return this.shared.get(own, shape, init, frozen, derived);
  }
}

export interface ElectraOutputs {
  loss: Value;
  mlmLoss: Value; // generator, mean over the masked positions
  rtdLoss: Value; // discriminator, mean over the real tokens
  rtdLogits: Value; // (N)
  generatorLogits: Value; // (M, V), the generator's at each masked position (before the temperature)
  sampled: Value; // (M) int64, the generator's sample at each masked position
  replaced: Value; // (N) float, 1 where the token was replaced by a different one
  real: Value; // (N) float, 1 at non-padding tokens
}

/** The joint generator + discriminator graph on a masked batch (masking.ts) and its uniforms. */
export function electraGraph(c: BertConfig, e: ElectraConfig) {
  const gc = generatorConfig(c, e);
  const E = embeddingWidth(c);
  return (g: Graph, w: Weights, drop: Dropout): ElectraOutputs => {
    const x = bertInputs(g);
    const positions = g.input('mlm_positions', 'int64', ['M']);
    const labels = g.input('mlm_labels', 'int64', ['M']);
    const uniforms = g.input('electra_uniforms', 'float32', ['M']);
    // Generator: masked-LM; its decoder is the shared word table (as in ELECTRA), its bias its own.
    const gw = new GeneratorWeights(w);
    const gen = encoder(gw, gc, x, drop);
    const rows = o.gather(gen.sequence, positions); // (M, gH)
    const t = o.gelu(dense(gw, 'predictions.dense', rows, gc.hidden_size, E));
    const h = layerNorm(gw, 'predictions.LayerNorm', t, E, c.layer_norm_eps);
    const bias = gw.get('predictions.bias', [c.vocab_size], 'zeros');
    const dec = tiedDecoder(w, c, h);
    const { loss: mlmLoss, logits } = linearCrossEntropy(dec.h, dec.table, bias, labels); // (M, V)
    // The replacements, and where they differ from the original token.
    const sampled = sampleCategorical(logits, uniforms, e.sampleTemperature); // (M) int64
    const flat = o.reshape(x.inputIds, [-1]);
    const corrupted = o.reshapeTo(o.scatterElements(flat, positions, sampled, 0), o.shapeOf(x.inputIds), [
      'B',
      'T',
    ]);
    const differs = o.cast(o.not(o.equal(sampled, labels)), w.dtype); // (M)
    const replaced = o.scatterElements(o.zerosLike(o.cast(flat, w.dtype)), positions, differs, 0); // (N)
    // Discriminator: the model on the corrupted text; a dense + GELU + dense(1) head at every token.
    const H = c.hidden_size;
    const disc = encoder(w, c, { ...x, inputIds: corrupted }, drop);
    const d = o.gelu(dense(w, `${DISCRIMINATOR_HEAD}dense`, disc.sequence, H, H));
    const rtdLogits = o.reshape(dense(w, `${DISCRIMINATOR_HEAD}dense_prediction`, d, H, 1), [-1]); // (N)
    const real = o.cast(o.reshape(x.attentionMask, [-1]), w.dtype);
    const rtdLoss = binaryCrossEntropyWithLogits(rtdLogits, replaced, real);
    const loss = o.add(mlmLoss, o.mul(rtdLoss, o.scalarLike(rtdLoss, e.rtdWeight)));
    return { loss, mlmLoss, rtdLoss, rtdLogits, generatorLogits: logits, sampled, replaced, real };
  };
}

/**
 * The RTD loss of the best constant guess when a fraction q of the tokens is replaced: the entropy of q. A
 * discriminator at this loss ignores the text; below it, it has learned something.
 */
export function constantGuessLoss(q: number): number {
  return -(q * Math.log(q) + (1 - q) * Math.log(1 - q));
}

/** The uniforms of micro-batch k (M of them): a function of (seed, k) only. */
export function electraUniforms(seed: number, k: number, M: number): Float32Array {
  const rng = new Rng(deriveSeed(seed, 'ELEC', k));
  const u = new Float32Array(M);
  for (let i = 0; i < M; i++) u[i] = rng.uniform();
  return u;
}

/**
 * Declare the generator's and the discriminator head's parameters in the store and initialise them (and
 * only them: a model continued from a directory keeps its weights; a resumed run's checkpoint then
 * overwrites them all).
 */
export function declareElectra(store: ParamStore, c: BertConfig, e: ElectraConfig, rng: Rng): void {
  const before = new Set(store.names);
  const g = new Graph('declare_electra');
  electraGraph(c, e)(g, new Weights(g, store), new Dropout(false));
  store.initialize(rng, c.initializer_range, (p) => !before.has(p.name));
}

/** Drop what only pre-training used, so that the store saves as the discriminator alone. */
export function dropPretrainingParts(store: ParamStore): void {
  store.remove((n) => n.startsWith(GENERATOR) || n.startsWith(DISCRIMINATOR_HEAD) || n.startsWith('cls.'));
}

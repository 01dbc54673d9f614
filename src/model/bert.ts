/**
 * The BERT encoder, top to bottom, as a graph builder: embeddings, self-attention, feed-forward,
 * layer, encoder, pooler, heads. One definition serves training (with autodiff), evaluation and
 * export. Parameters use Hugging Face names and layouts (Linear weights are (out, in)).
 *
 * Activations are kept flat as (N, H) with N = B*T, so every dense layer is one Gemm plus a bias Add;
 * attention reshapes to (B, heads, T, head) and back.
 */
import type { DType, Graph, Value } from '../graph/graph.js';
import * as o from '../graph/ops.js';
import type { Dropout } from '../runtime/dropout.js';
import type { Weights } from '../runtime/weights.js';
import { hybridColumns, hybridLogits, type NgramInputs, ngramInputs } from '../ngram/graph.js';
import { type BertConfig, embeddingWidth, headSize } from './config.js';
import { embeddingKind } from './embeddings/registry.js';

export interface BertInputs {
  inputIds: Value; // (B, T) int64
  tokenTypeIds: Value; // (B, T) int64
  /** (B, T) int64; absent: 0..T-1 in every row, the first T rows of the table (the export's graph). */
  positionIds?: Value;
  attentionMask: Value; // (B, T) int64, 1 = attend; or (B, T, T) visibility (K-BERT)
  /** A hybrid model's bag-of-n-grams inputs (config.ngram). */
  ngram?: NgramInputs;
}

export interface EncoderOutput {
  embeddings: Value; // (N, H) after LayerNorm (and dropout)
  hidden: Value[]; // per layer (N, H)
  scores: Value[]; // per layer pre-softmax attention scores (B, A, T, T), mask added
  sequence: Value; // last hidden (N, H)
  shapeBTH: Value; // run-time [B, T, H]
}

/**
 * The bias of a dense layer as a separate Add after a bias-free Gemm. onnxruntime's Gemm with a C input
 * first broadcasts C into the whole output on one thread and then reads it back in the kernel; the Add
 * runs in place on both threads (the bias-carrying Gemm nodes measured ~20% faster on their own).
 */
function addBias(y: Value, b: Value): Value {
  return o.add(y, b);
}

/** y = x W^T + b for flat x (N, in); W is (out, in) as in Hugging Face. */
export function dense(w: Weights, name: string, x: Value, inDim: number, outDim: number): Value {
  const W = w.get(`${name}.weight`, [outDim, inDim], 'normal');
  const b = w.get(`${name}.bias`, [outDim], 'zeros');
  return addBias(o.gemm(x, W, null, { transB: true }), b);
}

export function layerNorm(w: Weights, name: string, x: Value, dim: number, eps: number): Value {
  const gamma = w.get(`${name}.weight`, [dim], 'ones');
  const beta = w.get(`${name}.bias`, [dim], 'zeros');
  return o.layerNorm(x, gamma, beta, eps);
}

/**
 * The masked-LM decoder tied to the input embeddings, as the two factors of logits = h table^T, for rows h
 * (M, H) of the MLM transform: the embedding kind says how (src/model/embeddings/; a low-rank model
 * decodes through its codes, never building the (V, H) table).
 */
export function tiedDecoder(w: Weights, c: BertConfig, h: Value): { h: Value; table: Value } {
  return embeddingKind(c).tiedDecoder(w, c, h);
}

/**
 * The embedding sum, layer-normalised, as flat rows (N, H). The word vectors come from the embedding kind
 * (src/model/embeddings/: a table, EELBERT's hash, low-rank codes). Lookups take the (B, T) ids as they are
 * and add as (B, T, H), one reshape after the LayerNorm (kinds whose words are Gemms on rows hand them to
 * `rows`). With an embedding_size E other than H (ELECTRA's generator) all of it is E wide, then projected to H.
 */
function embeddings(w: Weights, c: BertConfig, x: BertInputs, bt: Value, drop: Dropout): Value {
  const H = embeddingWidth(c);
  // (N, E) -> (B, T, E), for kinds whose words are Gemms on rows (the shape only built for them).
  const rows = (v: Value) => o.reshapeTo(v, o.concat([bt, o.i64(w.g, [H])], 0), ['B', 'T', H]);
  const words = embeddingKind(c).words(w, c, x.inputIds, rows); // (B, T, H)
  const pos = w.table('bert.embeddings.position_embeddings.weight', [c.max_position_embeddings, H], 'normal');
  const types = w.table('bert.embeddings.token_type_embeddings.weight', [c.type_vocab_size, H], 'normal');
  const positions = x.positionIds
    ? o.gather(pos, x.positionIds) // (B, T, H)
    : o.sliceRows(pos, o.slice(bt, [1], [2], [0]), 'T'); // (T, E), broadcast
  const sum = o.add(o.add(words, positions), o.gather(types, x.tokenTypeIds));
  const normed = layerNorm(w, 'bert.embeddings.LayerNorm', sum, H, c.layer_norm_eps);
  const out = drop.apply(o.reshape(normed, [-1, H]), c.hidden_dropout_prob);
  return H === c.hidden_size ? out : dense(w, 'bert.embeddings_project', out, H, c.hidden_size);
}

/**
 * Additive attention masks, made on first use: 0 where visible, -10000 where not, as BERT's
 * (1 - mask) * -10000, looked up from a two-entry table (one node instead of three). `keys` is (B, 1, T)
 * or (B, T, T) for the layers; `clsKeys` (B, 1, 1, T) is the [CLS] row for the heads-as-batch attention.
 */
class AttentionMasks {
  private bias?: Value;
  private full?: Value;
  private cls?: Value;
  constructor(
    private readonly mask: Value,
    private readonly dtype: DType,
  ) {}

  private lookup(): Value {
    this.bias ??= o.gather(this.mask.graph.constant([-10000, 0], this.dtype, [2], 'mask_bias'), this.mask);
    return this.bias;
  }

  keys(): Value {
    this.full ??= this.mask.rank === 2 ? o.unsqueeze(this.lookup(), [1]) : this.lookup();
    return this.full;
  }

  clsKeys(): Value {
    this.cls ??=
      this.mask.rank === 2
        ? o.unsqueeze(this.lookup(), [1, 2])
        : o.unsqueeze(o.slice(this.lookup(), [0], [1], [1]), [1]);
    return this.cls;
  }
}

/**
 * Multi-head self-attention. q, k and v of all heads come from one Gemm with the three weights stacked
 * (N, 3H), split into per-head (N, d) blocks that reshape to (B, T, d) for free: no
 * (B, T, A, d) <-> (B, A, T, d) transposes forward or backward, and one large Gemm instead of 3A small ones
 * (both measured faster on onnxruntime CPU).
 */
function selfAttention(
  w: Weights,
  c: BertConfig,
  name: string,
  x: Value, // (N, H)
  mask: Value, // additive, broadcastable to (B, T, T)
  shapes: { btd: Value },
  drop: Dropout,
): { context: Value; scores: Value } {
  const H = c.hidden_size;
  const A = c.num_attention_heads;
  const d = headSize(c);
  const parts = ['query', 'key', 'value'];
  const W = o.concat(
    parts.map((p) => w.get(`${name}.${p}.weight`, [H, H], 'normal')),
    0,
  ); // (3H, H)
  const b = o.concat(
    parts.map((p) => w.get(`${name}.${p}.bias`, [H], 'zeros')),
    0,
  ); // (3H)
  const qkv = addBias(o.gemm(x, W, null, { transB: true }), b); // (N, 3H)
  const blocks = o.split(qkv, o.i64(w.g, new Array(3 * A).fill(d)), 1, new Array(3 * A).fill(['B*T', d]));
  const head = (i: number) => o.reshapeTo(blocks[i], shapes.btd, ['B', 'T', d]); // (B, T, d)
  const scores: Value[] = [];
  const contexts: Value[] = [];
  for (let a = 0; a < A; a++) {
    const q = head(a);
    const k = head(A + a);
    const v = head(2 * A + a);
    const s = o.add(o.mul(o.matmul(q, o.transpose(k, [0, 2, 1])), o.scalarLike(q, 1 / Math.sqrt(d))), mask); // (B, T, T)
    const probs = drop.apply(o.softmax(s, -1), c.attention_probs_dropout_prob);
    contexts.push(o.reshape(o.matmul(probs, v), [-1, d])); // (N, d)
    scores.push(o.unsqueeze(s, [1]));
  }
  return { context: o.concat(contexts, 1), scores: A > 1 ? o.concat(scores, 1) : scores[0] }; // (N, H), (B, A, T, T)
}

function layer(
  w: Weights,
  c: BertConfig,
  i: number,
  x: Value,
  mask: Value,
  shapes: { btd: Value },
  drop: Dropout,
) {
  const H = c.hidden_size;
  const p = `bert.encoder.layer.${i}`;
  const { context, scores } = selfAttention(w, c, `${p}.attention.self`, x, mask, shapes, drop);
  const attn = drop.apply(dense(w, `${p}.attention.output.dense`, context, H, H), c.hidden_dropout_prob);
  const h1 = layerNorm(w, `${p}.attention.output.LayerNorm`, o.add(x, attn), H, c.layer_norm_eps);
  const ff = o.gelu(dense(w, `${p}.intermediate.dense`, h1, H, c.intermediate_size));
  const out = drop.apply(dense(w, `${p}.output.dense`, ff, c.intermediate_size, H), c.hidden_dropout_prob);
  return { hidden: layerNorm(w, `${p}.output.LayerNorm`, o.add(h1, out), H, c.layer_norm_eps), scores };
}

/**
 * Self-attention for the [CLS] query only: keys and values at every position, one query row per
 * sequence. x is (N, H), xCls (B, H); the mask's [CLS] row applies.
 * The heads are a batch dimension here ((B, A, 1, d) queries against (B, A, T, d) keys): a dozen fewer
 * nodes than one chain per head, which is what a batch-1 classifier's run time is made of.
 */
function clsAttention(
  w: Weights,
  c: BertConfig,
  name: string,
  x: Value,
  xCls: Value,
  masks: AttentionMasks,
  shapes: { bt: Value },
  drop: Dropout,
): Value {
  const H = c.hidden_size;
  const A = c.num_attention_heads;
  const d = headSize(c);
  const weight = (p: string) => w.get(`${name}.${p}.weight`, [H, H], 'normal');
  const bias = (p: string) => w.get(`${name}.${p}.bias`, [H], 'zeros');
  const q = addBias(o.gemm(xCls, weight('query'), null, { transB: true }), bias('query')); // (B, H)
  const Wkv = o.concat([weight('key'), weight('value')], 0); // (2H, H)
  const kv = addBias(o.gemm(x, Wkv, null, { transB: true }), o.concat([bias('key'), bias('value')], 0)); // (N, 2H)
  const shape = o.concat([shapes.bt, o.i64(w.g, [2 * A, d])], 0);
  const heads = o.transpose(o.reshapeTo(kv, shape, ['B', 'T', 2 * A, d]), [0, 2, 1, 3]); // (B, 2A, T, d)
  const [k, v] = o.split(heads, o.i64(w.g, [A, A]), 1, [
    ['B', A, 'T', d],
    ['B', A, 'T', d],
  ]);
  const qh = o.reshape(q, ['B', A, 1, d]);
  const s = o.add(
    o.mul(o.matmul(qh, o.transpose(k, [0, 1, 3, 2])), o.scalarLike(q, 1 / Math.sqrt(d))),
    masks.clsKeys(),
  ); // (B, A, 1, T)
  const probs = drop.apply(o.softmax(s, -1), c.attention_probs_dropout_prob);
  return o.reshape(o.matmul(probs, v), ['B', H]); // (B, A, 1, d) -> (B, H), heads in order as concat
}

/**
 * A layer computed at the [CLS] position only: (B, H). Everything after the keys and values is
 * row-wise, so the [CLS] row of the last layer needs only its own query, attention output and
 * feed-forward: the same vector as `layer` with about 1/T of the work.
 */
function clsLayer(
  w: Weights,
  c: BertConfig,
  i: number,
  x: Value, // (N, H)
  xCls: Value, // (B, H), the [CLS] rows of x
  masks: AttentionMasks,
  shapes: { bt: Value },
  drop: Dropout,
): Value {
  const H = c.hidden_size;
  const p = `bert.encoder.layer.${i}`;
  const context = clsAttention(w, c, `${p}.attention.self`, x, xCls, masks, shapes, drop);
  const attn = drop.apply(dense(w, `${p}.attention.output.dense`, context, H, H), c.hidden_dropout_prob);
  const h1 = layerNorm(w, `${p}.attention.output.LayerNorm`, o.add(xCls, attn), H, c.layer_norm_eps);
  const ff = o.gelu(dense(w, `${p}.intermediate.dense`, h1, H, c.intermediate_size));
  const out = drop.apply(dense(w, `${p}.output.dense`, ff, c.intermediate_size, H), c.hidden_dropout_prob);
  return layerNorm(w, `${p}.output.LayerNorm`, o.add(h1, out), H, c.layer_norm_eps);
}

interface EncoderStart {
  masks: AttentionMasks;
  shapes: { bt: Value; btd: Value };
  shapeBTH: Value;
  emb: Value;
}

function encoderStart(w: Weights, c: BertConfig, x: BertInputs, drop: Dropout): EncoderStart {
  const g = w.g;
  const bt = o.shapeOf(x.tokenTypeIds); // [B, T]
  const shapes = { bt, btd: o.concat([bt, o.i64(g, [headSize(c)])], 0) };
  const shapeBTH = o.concat([bt, o.i64(g, [c.hidden_size])], 0);
  return {
    masks: new AttentionMasks(x.attentionMask, w.dtype),
    shapes,
    shapeBTH,
    emb: embeddings(w, c, x, bt, drop),
  };
}

export function encoder(w: Weights, c: BertConfig, x: BertInputs, drop: Dropout): EncoderOutput {
  const { masks, shapes, shapeBTH, emb } = encoderStart(w, c, x, drop);
  const hidden: Value[] = [];
  const scores: Value[] = [];
  let h = emb;
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const out = layer(w, c, i, h, masks.keys(), shapes, drop);
    h = out.hidden;
    hidden.push(h);
    scores.push(out.scores);
  }
  return { embeddings: emb, hidden, scores, sequence: h, shapeBTH };
}

/** The last layer's [CLS] vectors (B, H), all a sequence classifier reads. */
export interface ClsOutput {
  cls: Value;
}

/**
 * The encoder for a classifier: the layers below the last at every position, the last at [CLS] only
 * (clsLayer). The same [CLS] vectors as `encoder`; a 1-layer model does about a fifth of the work.
 */
export function encoderCls(w: Weights, c: BertConfig, x: BertInputs, drop: Dropout): ClsOutput {
  const { masks, shapes, shapeBTH, emb } = encoderStart(w, c, x, drop);
  const L = c.num_hidden_layers;
  let h = emb;
  for (let i = 0; i < L - 1; i++) h = layer(w, c, i, h, masks.keys(), shapes, drop).hidden;
  const cls = clsRows(h, shapeBTH, c);
  return { cls: L > 0 ? clsLayer(w, c, L - 1, h, cls, masks, shapes, drop) : cls };
}

function clsRows(sequence: Value, shapeBTH: Value, c: BertConfig): Value {
  const seq = o.reshapeTo(sequence, shapeBTH, ['B', 'T', c.hidden_size]);
  return o.reshape(o.slice(seq, [0], [1], [1]), ['B', c.hidden_size]);
}

/** The [CLS] vector of each sequence, (B, H). */
export function clsVectors(out: EncoderOutput | ClsOutput, c: BertConfig): Value {
  return 'cls' in out ? out.cls : clsRows(out.sequence, out.shapeBTH, c);
}

/** The pooler: a tanh dense layer on the [CLS] vectors, (B, H); the classifier reads it. */
export function pooler(w: Weights, c: BertConfig, out: EncoderOutput | ClsOutput): Value {
  const H = c.hidden_size;
  return o.tanh(dense(w, 'bert.pooler.dense', clsVectors(out, c), H, H));
}

/**
 * Pooler and a classification or regression head on it: logits (B, numLabels). A hybrid model
 * (config.ngram) adds its bag-of-n-grams logits, read from `ngram` (src/ngram/graph.ts).
 */
export function classifier(
  w: Weights,
  c: BertConfig,
  out: EncoderOutput | ClsOutput,
  numLabels: number,
  drop: Dropout,
  ngram?: NgramInputs,
): Value {
  const H = c.hidden_size;
  const pooled = pooler(w, c, out);
  const logits = dense(w, 'classifier', drop.apply(pooled, c.hidden_dropout_prob), H, numLabels);
  if (!c.ngram) return logits;
  if (!ngram) throw new Error('classifier: a hybrid model (config.ngram) is built without its n-gram inputs');
  const B = c.ngram.buckets;
  const weight = w.get('ngram.weight', [B, hybridColumns(numLabels)], 'zeros');
  const idf = w.get('ngram.idf', [B], 'ones', true);
  return o.add(logits, hybridLogits(ngram, { weight, idf }, numLabels, c.ngram));
}

/**
 * Masked-LM head at the masked positions only: gather rows (M, H) of the sequence output and transform
 * them (dense + GELU + LayerNorm). The decoder is tied to the word table: logits = h table^T + bias,
 * computed inside the loss (losses.linearCrossEntropy), with h and table from tiedDecoder (a low-rank
 * model's h is already projected to its k-wide codes). For EELBERT the table is the frozen hash matrix,
 * so only the transform and the output bias train (docs/methods.md §1.3).
 */
export function mlmHead(
  w: Weights,
  c: BertConfig,
  out: EncoderOutput,
  positions: Value,
): { h: Value; table: Value; bias: Value } {
  const H = c.hidden_size;
  const rows = o.gather(out.sequence, positions); // (M, H)
  const t = o.gelu(dense(w, 'cls.predictions.transform.dense', rows, H, H));
  const h = layerNorm(w, 'cls.predictions.transform.LayerNorm', t, H, c.layer_norm_eps);
  return { ...tiedDecoder(w, c, h), bias: w.get('cls.predictions.bias', [c.vocab_size], 'zeros') };
}

/** Declare the graph inputs of a BERT batch. */
export function bertInputs(g: Graph, visibility = false, ngram = false): BertInputs {
  return {
    inputIds: g.input('input_ids', 'int64', ['B', 'T']),
    tokenTypeIds: g.input('token_type_ids', 'int64', ['B', 'T']),
    positionIds: g.input('position_ids', 'int64', ['B', 'T']),
    attentionMask: g.input('attention_mask', 'int64', visibility ? ['B', 'T', 'T'] : ['B', 'T']),
    ngram: ngram ? ngramInputs(g) : undefined,
  };
}

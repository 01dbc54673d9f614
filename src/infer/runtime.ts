/**
 * The deployable runtime (`minnow/runtime`): load an exported model folder and classify texts. No
 * training code and no Node built-ins: the caller passes onnxruntime (onnxruntime-node in Node,
 * onnxruntime-web in a browser) and, for files that are not behind a URL, a reader.
 *
 *   const clf = await Classifier.load('https://host/models/sst2/', { ort });   // in Node also a folder path
 *   const [r] = await clf.classify(['a wonderful film']);   // { label: 'positive', score: 0.93, ... }
 *
 * A folder written by `minnow export` holds config.json, vocab.txt (and tokenizer.json for
 * transformers.js) and onnx/: model.onnx and model_quantized.onnx take input_ids; a hash model also has
 * model_compact.onnx (and _quantized), which stores no embedding table: the graph declares the table as
 * an input (COMPACT_TABLE), and the runtime computes each vocabulary piece's EELBERT vector at load,
 * exactly as training does (the embedding kind's `derived` part, src/model/embeddings/), and adds the table
 * to the graph as a constant before the session starts, so compact and portable run the same graph.
 *
 * A K-BERT model (config.json `knowledge`) also has knowledge.kg, its knowledge graph: the runtime builds
 * each text's sentence tree and feeds the visible matrix as a (B, T, T) attention_mask and the soft
 * position_ids.
 *
 * A model with bag-of-n-grams features (config.json `ngram`: `minnow baseline`'s model_type "minnow-ngram",
 * which reads no word pieces and has no vocab.txt, or a hybrid transformer) gets each text's hashed n-gram
 * ids and their 1 + ln(count) as ngram_ids and ngram_tf (src/ngram/features.ts).
 */
import { bertFeeds, lengthBatches, paddedLength, type TokenRow } from '../data/batch.js';
import { KNOWLEDGE_FILE } from '../knowledge/config.js';
import { type TreeEncoder, treeEncoder } from '../knowledge/encode.js';
import { KnowledgeGraph } from '../knowledge/graph.js';
import type { BertConfig } from '../model/config.js';
import { derivedWeight } from '../model/embeddings/registry.js';
import { parseTokenizerJson } from '../text/tokenizer-json.js';
import { BertTokenizer } from '../text/wordpiece.js';
import { UserError } from '../util/errors.js';
import {
  NGRAM_IDS,
  NGRAM_MODEL_TYPE,
  NGRAM_TF,
  type NgramConfig,
  ngramFeatures,
  ngramFeeds,
  type NgramRow,
  validateNgramConfig,
} from '../ngram/features.js';
import { type FileSource, fileReader } from './file-source.js';
import { withInitializer } from './onnx-initializer.js';

/** The compact graph's (V, H) float32 input: the hash table, computed and added at load. */
export const COMPACT_TABLE = 'word_embeddings';

/** The part of onnxruntime's API the runtime uses (onnxruntime-node and onnxruntime-web both have it). */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (
    type: 'int64' | 'float32',
    data: BigInt64Array | Float32Array,
    dims: readonly number[],
  ) => unknown;
}
/** A model run's outputs by name. */
export type RunOutputs = Record<string, { data: unknown; dims: readonly number[] }>;
export interface OrtSession {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<RunOutputs>;
  release(): Promise<void>;
}

/** Where a folder's files come from: a URL, a local folder in Node, or a reader (file-source.ts). */
export type { FileSource } from './file-source.js';

/** What `minnow export` records in config.json about the files it wrote. */
export interface ExportRecord {
  /** 2: compact graphs take the table as an input (1, before: they took inputs_embeds). */
  format: 1 | 2;
  /** ONNX files by variant, paths relative to the folder. */
  files: Partial<Record<ExportVariant, string>>;
}
export type ExportVariant = 'portable' | 'portable_quantized' | 'compact' | 'compact_quantized';

export type ExportedConfig = BertConfig & {
  minnow_export?: ExportRecord;
  label2id?: Record<string, number>;
  /** Bag-of-n-grams features the graph reads (ngram_ids, ngram_tf): the baseline, or a hybrid's linear path. */
  ngram?: NgramConfig;
};

/** An example as the graph reads it: word pieces (transformer models) and n-gram features (ngram models). */
export type ClassifierRow = TokenRow & { ngrams?: NgramRow };

/** Whether a config is an n-gram model's (BertConfig types model_type as "bert"; config.json may say otherwise). */
export function isNgramModel(config: { model_type?: string }): boolean {
  return config.model_type === NGRAM_MODEL_TYPE;
}

export interface ClassifierOptions {
  ort: OrtModule;
  /** Use the int8 file (default: the fp32 one). */
  quantized?: boolean;
  /** compact (hash models; the default where present) or portable. */
  variant?: 'compact' | 'portable';
  threads?: number;
  maxLength?: number; // tokens per example (default 128, capped by the model's positions)
  /** A K-BERT model's knowledge graph, when not read from the folder's knowledge.kg (e.g. WordNet in Node). */
  knowledge?: KnowledgeGraph;
}

export interface Classification {
  /** Class name (id2label), or the predicted value of a regression head. */
  label: string | number;
  /** Probability of that class (regression: the value). */
  score: number;
  scores: number[];
  logits: number[];
}

/** Text, or a text pair for a pair model. */
export type ClassifierInput = string | readonly [string, string];

/** An example's text, or its [text, pair], as the classifier takes it. */
export const classifierInput = (e: { text: string; pair?: string }): ClassifierInput =>
  e.pair === undefined ? e.text : [e.text, e.pair];

async function readAll(source: FileSource, name: string): Promise<Uint8Array | undefined> {
  return fileReader(source)(name);
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A numerically stable softmax. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (x) => Math.exp(x - max));
  const z = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / z);
}

/** The predicted class index of logits (the value itself for a regression head). */
export function decide(logits: ArrayLike<number>, regression: boolean): number {
  if (regression) return logits[0];
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** One example's logits read as a label and its scores (softmax; a regression head gives its value). */
export function interpret(
  logits: ArrayLike<number>,
  labels: readonly string[],
  regression: boolean,
): Classification {
  const arr = Array.from(logits);
  if (regression) return { label: arr[0], score: arr[0], scores: [arr[0]], logits: arr };
  const scores = softmax(arr);
  const k = decide(arr, false);
  return { label: labels[k], score: scores[k], scores, logits: arr };
}

export class Classifier {
  private constructor(
    readonly config: ExportedConfig,
    /** Word pieces of the texts; undefined for a model of n-gram features only. */
    readonly tokenizer: BertTokenizer | undefined,
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    readonly maxLength: number,
    /** Size of the ONNX file in use. */
    readonly modelBytes: number,
    /** K-BERT models: texts to sentence trees. */
    private readonly tree?: TreeEncoder,
    /** The n-gram features the graph reads (the baseline, a hybrid's linear path). */
    private readonly ngram?: NgramConfig,
  ) {}

  /** Load an exported folder (see the file comment). */
  static async load(source: FileSource, o: ClassifierOptions): Promise<Classifier> {
    const where = typeof source === 'string' ? source : 'model folder';
    const configBytes = await readAll(source, 'config.json');
    if (!configBytes) throw new UserError(`${where}: no config.json`);
    let config: ExportedConfig;
    try {
      config = JSON.parse(text(configBytes));
    } catch (e) {
      throw new UserError(`${where}/config.json: invalid JSON (${(e as Error).message.split('\n')[0]})`);
    }
    const files = config.minnow_export?.files ?? {
      portable: 'onnx/model.onnx',
      portable_quantized: 'onnx/model_quantized.onnx',
    };
    const compact = (o.variant ?? (files.compact ? 'compact' : 'portable')) === 'compact';
    const variant: ExportVariant = `${compact ? 'compact' : 'portable'}${o.quantized ? '_quantized' : ''}`;
    const file = files[variant];
    if (!file) throw new UserError(`${where}: no ${variant.replace('_', ' ')} model in this export`);
    const onnx = await readAll(source, file);
    if (!onnx) throw new UserError(`${where}/${file}: missing`);
    const vocabBytes = isNgramModel(config) ? undefined : await readAll(source, 'vocab.txt');
    let vocabulary: string[] = [];
    if (vocabBytes) vocabulary = BertTokenizer.parseVocab(text(vocabBytes));
    else if (!isNgramModel(config)) {
      const tj = await readAll(source, 'tokenizer.json');
      if (!tj) throw new UserError(`${where}: neither vocab.txt nor tokenizer.json`);
      vocabulary = parseTokenizerJson(text(tj), `${where.replace(/\/?$/, '/')}tokenizer.json`).vocabulary;
    }
    let knowledge = o.knowledge;
    if (config.knowledge && !knowledge) {
      const kg = await readAll(source, KNOWLEDGE_FILE);
      if (!kg) throw new UserError(`${where}/${KNOWLEDGE_FILE}: missing (the model reads knowledge)`);
      knowledge = KnowledgeGraph.parse(text(kg), `${where}/${KNOWLEDGE_FILE}`);
    }
    return Classifier.create(
      config,
      vocabulary,
      onnx,
      { ...o, variant: compact ? 'compact' : 'portable', knowledge },
      `${where}/${file}`,
    );
  }

  /** A classifier from its parts: config.json's object, the vocabulary and one ONNX file's bytes. */
  static async create(
    config: ExportedConfig,
    vocabulary: readonly string[],
    onnx: Uint8Array,
    o: ClassifierOptions,
    source = 'model.onnx',
  ): Promise<Classifier> {
    // transformers writes id2label but no num_labels (and no problem_type until set): read them as it does.
    if (!config.num_labels && config.id2label)
      config = { ...config, num_labels: Object.keys(config.id2label).length };
    if (!config.num_labels)
      throw new UserError(`${source}: config.json has no task head (num_labels or id2label)`);
    const pieces = !isNgramModel(config);
    const tokenizer = pieces ? new BertTokenizer(vocabulary, { source }) : undefined;
    const ngram = config.ngram ? validateNgramConfig(config.ngram, `${source}: config.json`) : undefined;
    if (!pieces && !ngram)
      throw new UserError(`${source}: config.json: an n-gram model needs its "ngram" settings`);
    const compact = pieces && o.variant === 'compact';
    // The embedding kind computes the table a compact file leaves out (EELBERT's hash vectors).
    const derived = compact ? derivedWeight(config, tokenizer!.vocabulary, source) : undefined;
    if (compact && config.minnow_export?.format === 1)
      throw new UserError(
        `${source}: a compact model exported by an earlier minnow (format 1); run minnow export again`,
      );
    let graph = onnx;
    if (derived) {
      try {
        graph = withInitializer(onnx, COMPACT_TABLE, derived.shape, derived.values);
      } catch (e) {
        throw new UserError(`${source}: not an ONNX model (${(e as Error).message})`);
      }
    }
    let session: OrtSession;
    try {
      session = await o.ort.InferenceSession.create(graph, {
        intraOpNumThreads: o.threads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Lets onnxruntime fold weight-only int8 (DequantizeLinear of constants) into float weights once.
        extra: { session: { disable_quant_qdq: '1' } },
      });
    } catch (e) {
      throw new UserError(
        `${source}: not a model onnxruntime can load (${(e as Error).message.split('\n')[0]})`,
      );
    }
    const needs = [...(pieces ? ['input_ids'] : []), ...(ngram ? [NGRAM_IDS, NGRAM_TF] : [])];
    const missing = needs.filter((x) => !session.inputNames.includes(x));
    if (missing.length)
      throw new UserError(
        `${source}: the graph has no ${missing.join(', ')} input (inputs: ${session.inputNames.join(', ')})`,
      );
    const maxLength = Math.min(o.maxLength ?? 128, config.max_position_embeddings);
    let tree: TreeEncoder | undefined;
    if (config.knowledge) {
      if (!o.knowledge)
        throw new UserError(`${source}: the model reads knowledge, but no knowledge graph was given`);
      if (!session.inputNames.includes('position_ids'))
        throw new UserError(
          `${source}: a knowledge model's graph needs a position_ids input (export it again)`,
        );
      tree = treeEncoder(tokenizer!, o.knowledge, config.knowledge, maxLength);
    }
    return new Classifier(config, tokenizer, o.ort, session, maxLength, onnx.length, tree, ngram);
  }

  /** As BertForSequenceClassification decides: problem_type, else one output means regression. */
  get regression(): boolean {
    return (
      (this.config.problem_type ?? (this.config.num_labels === 1 ? 'regression' : undefined)) === 'regression'
    );
  }

  /** Class names in index order (id2label, else LABEL_k). */
  get labels(): string[] {
    const n = this.config.num_labels ?? 1;
    return Array.from({ length: n }, (_, i) => this.config.id2label?.[String(i)] ?? `LABEL_${i}`);
  }

  /**
   * The rows the graph reads: token rows truncated longest-first to maxLength (K-BERT: sentence trees),
   * and the n-gram features of models that read them.
   */
  encode(inputs: readonly ClassifierInput[]): ClassifierRow[] {
    return inputs.map((x) => {
      const [a, b] = typeof x === 'string' ? [x, undefined] : x;
      const ngrams = this.ngram ? ngramFeatures(a, b, this.ngram) : undefined;
      if (!this.tokenizer) return { ids: [], ngrams };
      if (this.tree) return { ...this.tree(a, b), ngrams };
      const e = this.tokenizer.encode(a, b, { maxLength: this.maxLength });
      return { ids: e.ids, types: e.typeIds, ngrams };
    });
  }

  /**
   * Logits of encoded examples, in their order: batches of rows with one padded length (lengthBatches),
   * so a text's logits do not depend on the other texts it is run with. `inFlight`: see eachRun.
   */
  async logits(rows: readonly ClassifierRow[], batchSize = 32, inFlight = 1): Promise<Float32Array[]> {
    const n = this.config.num_labels ?? 1;
    const out = new Array<Float32Array>(rows.length);
    await this.eachRun(
      rows,
      batchSize,
      (outputs, idx) => {
        const logits = outputs.logits.data as Float32Array;
        // A config.json whose head disagrees with the graph's (1 output against 2) would be read wrongly.
        if (logits.length !== idx.length * n)
          throw new UserError(
            `config.json: num_labels ${n} (${this.regression ? 'regression' : 'classes'}), but the ONNX model gives ${logits.length / idx.length} outputs per example; export the model again`,
          );
        idx.forEach((k, j) => {
          out[k] = logits.slice(j * n, (j + 1) * n);
        });
      },
      inFlight,
    );
    return out;
  }

  /**
   * Run encoded rows in batches of one padded length (lengthBatches), handing every graph output of each
   * run to `visit` with the rows it holds (logits; export's int8 calibration reads activations).
   * `inFlight` runs are asked for before the first is awaited. onnxruntime-node runs each in its own
   * setImmediate, so runs asked for together execute back to back, with no other work of the event loop
   * between them: the server asks for all the runs of a batch at once, and requests that arrive meanwhile
   * wait for the batch to end instead of being handled between its runs (the web backend runs one at a
   * time: keep 1 there).
   */
  async eachRun(
    rows: readonly ClassifierRow[],
    batchSize: number,
    visit: (outputs: RunOutputs, idx: number[]) => void,
    inFlight = 1,
  ): Promise<void> {
    const asked: [Promise<RunOutputs>, number[]][] = [];
    const ask = (feeds: Record<string, unknown>, idx: number[]) => {
      const run = this.session.run(feeds);
      run.catch(() => {}); // awaited below, in order; a failure after an earlier one is not "unhandled"
      asked.push([run, idx]);
    };
    for (const idx of lengthBatches(rows, batchSize, this.maxLength)) {
      const feeds: Record<string, unknown> = {};
      if (this.ngram) {
        const missing = idx.find((k) => !rows[k].ngrams);
        if (missing !== undefined)
          throw new Error(`row ${missing} has no n-gram features (encode it with this classifier)`);
        const f = ngramFeeds(
          idx.map((k) => rows[k].ngrams!),
          paddedLength(rows[idx[0]].ngrams!.ids.length),
        );
        feeds[NGRAM_IDS] = new this.ort.Tensor('int64', f.ids, [idx.length, f.N]);
        feeds[NGRAM_TF] = new this.ort.Tensor('float32', f.tf, [idx.length, f.N]);
      }
      if (this.tokenizer) this.bertFeeds(rows, idx, feeds);
      ask(feeds, idx);
      if (asked.length >= inFlight) {
        const [run, at] = asked.shift()!;
        visit(await run, at);
      }
    }
    for (const [run, at] of asked.splice(0)) visit(await run, at);
  }

  /** Word-piece feeds of rows `idx` (input_ids, attention_mask, token_type_ids; K-BERT: position_ids). */
  private bertFeeds(rows: readonly ClassifierRow[], idx: number[], feeds: Record<string, unknown>): void {
    const f = bertFeeds(
      idx.map((k) => rows[k]),
      this.tokenizer!.padId,
      paddedLength(rows[idx[0]].ids.length, this.maxLength),
    );
    const T = f.T;
    const dims = [idx.length, T];
    feeds.attention_mask = new this.ort.Tensor('int64', f.attention_mask, this.tree ? [...dims, T] : dims);
    feeds.token_type_ids = new this.ort.Tensor('int64', f.token_type_ids, dims);
    if (this.tree) feeds.position_ids = new this.ort.Tensor('int64', f.position_ids, dims);
    feeds.input_ids = new this.ort.Tensor('int64', f.input_ids, dims);
  }

  /** Labels and scores of texts (or pairs). */
  async classify(inputs: readonly ClassifierInput[], batchSize = 32): Promise<Classification[]> {
    const logits = await this.logits(this.encode(inputs), batchSize);
    const labels = this.labels;
    return logits.map((l) => interpret(l, labels, this.regression));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** `minnow info DIR`: parameters, bytes on disk, embedding kind, config. */
import type { KnowledgeConfig } from '../knowledge/config.js';
import type { PretrainingRecord } from '../model/config.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildExport,
  DEFAULT_EXPORT,
  deployableSizes,
  sideFiles,
  variantSizes,
} from '../infer/export-folder.js';
import type { ExportedConfig, ExportVariant } from '../infer/runtime.js';
import { taskHead } from '../infer/task-head.js';
import { embeddingKind } from '../model/embeddings/registry.js';
import { loadModel, modelBytes, readConfig } from '../model/io.js';
import { ngramOnnx } from '../ngram/graph.js';
import { columnsOf, isNgramDir, loadNgramModel } from '../ngram/io.js';
import { UserError } from '../util/errors.js';
import { command, flag, type Parsed, str } from './args.js';

export const spec = command({
  name: 'info',
  summary: 'describe a model directory (parameters, size on disk, embedding kind)',
  usage: 'minnow info (DIR | --model DIR) [--json]',
  positionals: 'DIR: a model directory (config.json, model.safetensors, vocab.txt)',
  options: {
    model: { type: 'string', value: 'DIR', help: 'the model directory (or give it as DIR)' },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
});

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const given = p.positionals.length + (str(p, 'model') === undefined ? 0 : 1);
  if (given > 1) throw new UserError(`info: one model directory (DIR or --model DIR), got ${given}`);
  const dir = str(p, 'model') ?? p.positionals[0];
  if (!dir) throw new UserError('info: give a model directory (minnow info DIR)');
  if (isNgramDir(dir)) return ngramInfo(dir, flag(p, 'json'));
  const config = readConfig(dir); // read once: an export, a classifier or a pre-trained model
  if ((config as ExportedConfig).minnow_export) return exportedInfo(dir, flag(p, 'json'));
  const m = loadModel(dir, config.num_labels ? { numLabels: config.num_labels } : {});
  // What `minnow export --quantize int8` would write, measured in memory.
  const deployables = m.config.num_labels
    ? deployableSizes(
        buildExport(m, taskHead(m.config, dir), {
          quantize: 'int8',
          scheme: DEFAULT_EXPORT.scheme,
          ranges: 'sizes',
        }),
      )
    : [];
  const stored = m.store.params.filter((q) => !q.derived);
  const params = stored.reduce((s, q) => s + q.data.length, 0);
  const bytes = modelBytes(dir);
  const c = m.config;
  const res = {
    dir,
    parameters: params,
    embedding_type: c.embedding_type,
    derived_parameters: m.store.params.filter((q) => q.derived).reduce((s, q) => s + q.data.length, 0),
    bytes_weights: bytes.weights,
    bytes_total: bytes.total,
    mb_weights: +(bytes.weights / 1e6).toFixed(3),
    bytes_mlm_head: bytes.mlmHead,
    layers: c.num_hidden_layers,
    hidden: c.hidden_size,
    heads: c.num_attention_heads,
    ffn: c.intermediate_size,
    vocab: c.vocab_size,
    task: c.finetuning_task ?? null,
    num_labels: c.num_labels ?? null,
    deployables,
    config: c,
  };
  if (flag(p, 'json')) {
    process.stdout.write(`${JSON.stringify(res)}\n`);
    return;
  }
  const lines = [
    `${dir}`,
    `  architecture   ${c.num_hidden_layers} layer${c.num_hidden_layers === 1 ? '' : 's'}, hidden ${c.hidden_size}, ${c.num_attention_heads} heads, FFN ${c.intermediate_size}, vocab ${c.vocab_size}`,
    `  embedding      ${embeddingKind(c).describe(c, res.derived_parameters)}`,
    `  parameters     ${params.toLocaleString()} stored`,
    `  on disk        ${(bytes.weights / 1e6).toFixed(2)} MB model.safetensors, ${(bytes.total / 1e6).toFixed(2)} MB with config.json${vocabFile(dir) ? ` and ${vocabFile(dir)}` : c.minnow_vocab ? ` (vocabulary: the shipped ${c.minnow_vocab})` : ''}${bytes.mlmHead ? ` (+${(bytes.mlmHead / 1e6).toFixed(2)} MB MLM head for further pre-training)` : ''}`,
    ...(c.minnow_pretraining ?? []).map((r) => `  pre-trained    ${pretrainingLine(r)}`),
    `  task           ${c.num_labels ? `${c.finetuning_task ?? 'unnamed'}, ${c.num_labels} ${c.problem_type === 'regression' ? 'output (regression)' : 'labels'}` : 'none (pre-trained only)'}`,
    ...(c.knowledge ? [`  knowledge      ${knowledgeLine(c.knowledge)}`] : []),
    ...(c.ngram
      ? [
          `  n-gram path    hybrid: word 1-${c.ngram.word_ngrams}-grams${c.ngram.char_ngrams ? ` and character ${c.ngram.char_ngrams.join('-')}-grams` : ''} in ${c.ngram.buckets.toLocaleString()} buckets, logits added to the head's`,
        ]
      : []),
    ...deployables.map(
      (d, i) =>
        `${i === 0 ? '  exported as    ' : '                 '}${d.file.padEnd(34)} ${kb(d.bytes)} (gzip ${kb(d.gzipBytes)}), ${kb(d.totalBytes)} with ${d.sideFiles.join(' + ')} (gzip ${kb(d.totalGzipBytes)})`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The file a model directory's vocabulary is read from (vocab.txt, else transformers 5.x's tokenizer.json). */
function vocabFile(dir: string): string | undefined {
  return ['vocab.txt', 'tokenizer.json'].find((f) => existsSync(join(dir, f)));
}

/** K-BERT settings in one line. */
function knowledgeLine(k: KnowledgeConfig): string {
  return `K-BERT, ${k.source}${k.relations ? ` (${k.relations.join(', ')})` : ''}: at most ${k.max_entities} branches per word of ${k.max_branch_tokens} pieces, visible matrix ${k.visible_matrix ? 'on' : 'off'}`;
}

const kb = (b: number) => `${(b / 1000).toFixed(1)} kB`.padStart(10);

/** An exported folder: its files and their sizes. */
function exportedInfo(dir: string, json: boolean): void {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as ExportedConfig;
  const files = Object.entries(config.minnow_export?.files ?? {}).map(([variant, file]) =>
    variantSizes(
      variant as ExportVariant,
      readFileSync(join(dir, file)),
      Object.fromEntries(
        sideFiles(variant as ExportVariant, !!config.knowledge).map((f) => [f, readFileSync(join(dir, f))]),
      ),
    ),
  );
  if (json) {
    process.stdout.write(`${JSON.stringify({ dir, exported: true, files, config })}\n`);
    return;
  }
  const lines = [
    `${dir} (exported: transformers.js folder)`,
    `  task           ${config.finetuning_task ?? '-'}, labels ${Object.values(config.id2label ?? {}).join(', ')}`,
    ...(config.knowledge ? [`  knowledge      ${knowledgeLine(config.knowledge)} (knowledge.kg)`] : []),
    ...files.map(
      (f) =>
        `  ${f.variant.padEnd(18)} ${f.file.padEnd(34)} ${kb(f.bytes)} (gzip ${kb(f.gzipBytes)}), ${kb(f.totalBytes)} with ${f.sideFiles.join(' + ')} (gzip ${kb(f.totalGzipBytes)})`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One pre-training record as `minnow info` prints it: budget, recipe, objective and last validation. */
function pretrainingLine(r: PretrainingRecord): string {
  const run = `${r.tokens.toLocaleString('en-US')} tokens of ${r.corpus} (${r.updates.toLocaleString('en-US')} updates of ${r.batch_size} x ${r.seq_len}, lr ${r.lr})`;
  if (r.objective === 'electra') {
    // Absent sizes are ElectraConfig's defaults: half the hidden size (at least 16), the model's depth.
    const gen = [
      r.generator_hidden ? `hidden ${r.generator_hidden}` : 'half the hidden size',
      r.generator_layers ? `${r.generator_layers} layers` : 'as deep',
    ];
    const valid =
      r.valid_rtd_loss !== undefined
        ? `: valid generator MLM loss ${r.valid_generator_mlm_loss?.toFixed(2)}, RTD loss ${r.valid_rtd_loss.toFixed(3)}, RTD accuracy ${(100 * (r.valid_rtd_accuracy ?? 0)).toFixed(1)}%`
        : '';
    const sampled = r.sample_temperature ? `, samples at temperature ${r.sample_temperature}` : '';
    return `${run} with ELECTRA (generator ${gen.join(', ')}, RTD weight ${r.rtd_weight}${sampled})${valid}`;
  }
  return r.valid_mlm_loss !== undefined
    ? `${run}: valid MLM loss ${r.valid_mlm_loss.toFixed(2)}, accuracy ${(100 * (r.valid_mlm_accuracy ?? 0)).toFixed(1)}%`
    : run;
}

/** An n-gram model (`minnow baseline`): its features, fit and the int8 ONNX file an export writes. */
function ngramInfo(dir: string, json: boolean): void {
  const m = loadNgramModel(dir);
  const c = m.config;
  const K = columnsOf(c);
  const int8Bytes = ngramOnnx(m.weights, c.ngram, c.num_labels, K, true).length;
  const used = m.weights.weight.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0);
  const res = {
    dir,
    model_type: c.model_type,
    ngram: c.ngram,
    parameters: m.weights.weight.length + m.weights.bias.length + m.weights.idf.length,
    nonzero_weights: used,
    bytes_int8_onnx: int8Bytes,
    task: c.finetuning_task ?? null,
    num_labels: c.num_labels,
    fit: c.minnow_baseline ?? null,
    exported: !!(c as { minnow_export?: unknown }).minnow_export,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(res)}\n`);
    return;
  }
  const n = c.ngram;
  const fit = c.minnow_baseline as { C?: number; class_weight?: string } | undefined;
  const lines = [
    dir,
    `  model          bag of n-grams: word 1-${n.word_ngrams}-grams${n.char_ngrams ? `, character ${n.char_ngrams.join('-')}-grams within words` : ''}${n.pair_features ? ', pair similarity features' : ''}, TF-IDF, ${c.problem_type === 'regression' ? 'ridge' : 'logistic'} regression${fit?.C ? ` (C ${fit.C}${fit.class_weight === 'balanced' ? ', classes weighted to balance' : ''})` : ''}`,
    `  parameters     ${n.buckets.toLocaleString()} buckets x ${K} column${K === 1 ? '' : 's'} + idf (${used.toLocaleString()} non-zero weights)`,
    `  task           ${c.finetuning_task ?? 'unnamed'}, ${c.num_labels} ${c.problem_type === 'regression' ? 'output (regression)' : 'labels'}`,
    `  int8 export    ${(int8Bytes / 1000).toFixed(1)} kB onnx/model_quantized.onnx`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

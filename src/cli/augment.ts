/** `minnow augment`: TinyBERT's data augmentation of a training set (src/distill/augment-task.ts). */
import { basename } from 'node:path';
import type { MlmContext } from '../distill/augment.js';
import { UserError } from '../util/errors.js';
import { info } from '../util/progress.js';
import { type CommandSpec, num, type Parsed, str } from './args.js';
import { DATA_OPTIONS, dataSource } from './data-options.js';
import { augment, checkTeacher } from '../distill/augment-task.js';

export const spec: CommandSpec = {
  name: 'augment',
  summary: "TinyBERT data augmentation of a training set with a teacher's masked LM",
  usage: `minnow augment --teacher DIR --task T --data PATH --out DIR [--k 15] [--p 0.4] [--n 20] ...

Writes each training example and N copies of it in which every word that is a single WordPiece is, with
probability P, replaced by one of the teacher's top-K masked-LM predictions for it (TinyBERT, Jiao et
al. 2020, Algorithm 1). Words of several WordPieces are left unchanged: TinyBERT replaces them with
GloVe nearest neighbours, which minnow does not have. Punctuation, numbers, special tokens and [UNK]
words are kept too; replacements are never special tokens or ## pieces. Pairs: both texts change.
Labels and other columns are kept. OUT is usable as --data for finetune and distill.`,
  options: {
    teacher: {
      type: 'string',
      value: 'DIR',
      help: 'pre-trained model directory with a masked-LM head (mlm_head.safetensors)',
    },
    ...DATA_OPTIONS,
    out: {
      type: 'string',
      value: 'DIR',
      help: 'output directory (train file, dev file copies, augment.json)',
    },
    k: { type: 'string', value: 'K', help: "candidates per word: the teacher's top K", default: '15' },
    p: { type: 'string', value: 'P', help: 'probability of replacing each word in a copy', default: '0.4' },
    n: { type: 'string', value: 'N', help: 'augmented copies per example', default: '20' },
    'max-examples': { type: 'string', value: 'N', help: 'augment only the first N examples' },
    context: {
      type: 'string',
      value: 'C',
      help: "teacher input: tinybert ([CLS] masked text [SEP] text [SEP], as TinyBERT's script) or example ([CLS] a [SEP] b [SEP], one word masked)",
      default: 'tinybert',
    },
    'max-length': {
      type: 'string',
      value: 'N',
      help: "longest teacher input in tokens (capped by the teacher's positions); words beyond it are kept",
      default: '512',
    },
    'batch-size': { type: 'string', value: 'N', help: 'masked inputs per teacher forward', default: '64' },
    seed: { type: 'string', value: 'N', help: 'random seed', default: '0' },
    threads: { type: 'string', value: 'N', help: 'onnxruntime threads', default: '2' },
    json: { type: 'boolean', help: 'print the counts as one JSON object' },
  },
};

export async function run(p: Parsed): Promise<void> {
  const teacher = str(p, 'teacher');
  const out = str(p, 'out');
  if (!teacher) throw new UserError('augment: --teacher DIR is required (a model with a masked-LM head)');
  if (!out) throw new UserError('augment: --out DIR is required');
  const context = str(p, 'context');
  if (context !== 'tinybert' && context !== 'example')
    throw new UserError(`--context: expected tinybert or example, got "${context}"`);
  const prob = num(p, 'p', { min: 0 });
  if (prob > 1) throw new UserError(`--p: must be <= 1, got ${prob}`);
  const opts = {
    k: num(p, 'k', { int: true, min: 1 }),
    p: prob,
    n: num(p, 'n', { int: true, min: 1 }),
    maxExamples:
      str(p, 'max-examples') === undefined ? undefined : num(p, 'max-examples', { int: true, min: 1 }),
    maxLength: num(p, 'max-length', { int: true, min: 3 }),
    context: context as MlmContext,
    batchSize: num(p, 'batch-size', { int: true, min: 1 }),
    seed: num(p, 'seed', { int: true }),
    threads: num(p, 'threads', { int: true, min: 1 }),
  };
  checkTeacher(teacher); // before reading any data
  const src = dataSource(p);
  const r = await augment(teacher, src, out, opts);
  const fmt = (x: number) => x.toLocaleString('en-US');
  info(
    `augment ${r.task}: ${fmt(r.examples)} examples in, ${fmt(r.copies)} copies out (${fmt(r.rows)} rows in ${r.file}); ` +
      `${fmt(r.wordsReplaced)} words replaced; ${fmt(r.predictedWords)} single-piece words predicted ` +
      `(${fmt(r.forwards)} teacher inputs, ${r.forwardsPerSecond.toFixed(0)}/s); left alone: ` +
      `${fmt(r.multiPieceWords)} multi-piece, ${fmt(r.unknownWords)} [UNK], ${fmt(r.truncatedWords)} beyond --max-length; ` +
      `${r.seconds.toFixed(1)} s` +
      (r.devFiles.length ? `; dev copied: ${r.devFiles.map((f) => basename(f)).join(', ')}` : ''),
  );
  if (p.values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
}

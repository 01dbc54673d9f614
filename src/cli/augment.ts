/** `minnow augment`: TinyBERT's data augmentation of a training set (src/distill/augment-task.ts). */
import { basename } from 'node:path';

import { info } from '../util/progress.js';
import { choice, command, flag, num, optionalNum, type Parsed, required, str } from './args.js';
import { batchSizeOption, DATA_OPTIONS, dataSource, seedThreadsOptions } from './options.js';
import { checkOutDir } from '../util/atomic.js';
import { augment, checkSources, DEFAULT_AUGMENT as A, MAX_AUGMENT_COPIES } from '../distill/augment-task.js';

export const spec = command({
  name: 'augment',
  summary: "TinyBERT data augmentation of a training set with a teacher's masked LM and/or WordNet synonyms",
  usage: `minnow augment --teacher DIR --task T --data PATH --out DIR [--k 15] [--p 0.4] [--n 20] ...
       minnow augment --synonyms wordnet [--teacher DIR] --task T --data PATH --out DIR ...

Writes each training example and N copies of it in which every word that is a single WordPiece is, with
probability P, replaced by one of the teacher's top-K masked-LM predictions for it (TinyBERT, Jiao et
al. 2020, Algorithm 1). Words of several WordPieces are left unchanged: TinyBERT replaces them with
GloVe nearest neighbours, which minnow does not have; with --synonyms wordnet they get one of their
first K WordNet synonyms instead. --synonyms wordnet without --teacher needs no model: every word gets
WordNet synonyms (as spelt, not lemmatised; never antonyms; function words are kept). Punctuation,
numbers, special tokens and [UNK] words are kept too; replacements are never special tokens or ##
pieces. Pairs: both texts change. Labels and other columns are kept. OUT is usable as --data for
finetune and distill, where a teacher's soft labels correct the copies whose meaning drifted.`,
  options: {
    teacher: {
      type: 'string',
      value: 'DIR',
      help: 'pre-trained model directory with a masked-LM head (mlm_head.safetensors); optional with --synonyms',
    },
    synonyms: {
      type: 'string',
      value: 'wordnet',
      help: 'WordNet synonyms (WordNet 3.1) for words the teacher does not cover, or for every word without --teacher',
      choices: ['wordnet'],
    },
    ...DATA_OPTIONS,
    out: {
      type: 'string',
      value: 'DIR',
      help: 'output directory (train file, dev file copies, augment.json)',
    },
    k: {
      type: 'string',
      value: 'K',
      help: "candidates per word: the teacher's top K, or the first K synonyms",
      default: String(A.k),
      number: { int: true, min: 1 },
    },
    p: {
      type: 'string',
      value: 'P',
      help: 'probability of replacing each word in a copy',
      default: String(A.p),
      number: { min: 0, max: 1 },
    },
    n: {
      type: 'string',
      value: 'N',
      help: 'augmented copies per example',
      default: String(A.n),
      number: { int: true, min: 1, max: MAX_AUGMENT_COPIES },
    },
    'max-examples': {
      type: 'string',
      value: 'N',
      help: 'augment only the first N examples',
      number: { int: true, min: 1 },
    },
    context: {
      type: 'string',
      value: 'C',
      help: "teacher input: tinybert ([CLS] masked text [SEP] text [SEP], as TinyBERT's script) or example ([CLS] a [SEP] b [SEP], one word masked)",
      default: A.context,
      choices: ['tinybert', 'example'],
    },
    'max-length': {
      type: 'string',
      value: 'N',
      help: "longest teacher input in tokens (capped by the teacher's positions); words beyond it are kept",
      default: String(A.maxLength),
      number: { int: true, min: 3 },
    },
    ...batchSizeOption(A.batchSize, 'masked inputs per teacher forward'),
    ...seedThreadsOptions(A),
    json: { type: 'boolean', help: 'print the counts as one JSON object' },
  },
});

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const synonyms = str(p, 'synonyms') === undefined ? undefined : choice(p, 'synonyms', ['wordnet'] as const);
  const teacher = str(p, 'teacher');
  checkSources(teacher, synonyms); // before reading any data
  const out = required(p, 'out');
  const opts = {
    k: num(p, 'k'),
    p: num(p, 'p'),
    n: num(p, 'n'),
    maxExamples: optionalNum(p, 'max-examples'),
    maxLength: num(p, 'max-length'),
    context: choice(p, 'context', ['tinybert', 'example'] as const),
    batchSize: num(p, 'batch-size'),
    seed: num(p, 'seed'),
    threads: num(p, 'threads'),
    synonyms,
  };
  const src = dataSource(p);
  checkOutDir(out);
  const r = await augment(teacher, src, out, opts);
  const fmt = (x: number) => x.toLocaleString('en-US');
  info(
    `augment ${r.task}: ${fmt(r.examples)} examples in, ${fmt(r.copies)} copies out (${fmt(r.rows)} rows in ${r.file}); ` +
      `${fmt(r.wordsReplaced)} words replaced; ` +
      (teacher !== undefined
        ? `${fmt(r.predictedWords)} single-piece words predicted (${fmt(r.forwards)} teacher inputs, ${r.forwardsPerSecond.toFixed(0)}/s); `
        : '') +
      (synonyms ? `${fmt(r.thesaurusWords)} words with WordNet synonyms; ` : '') +
      `left alone: ${synonyms ? '' : `${fmt(r.multiPieceWords)} multi-piece, `}${fmt(r.unknownWords)} [UNK], ${fmt(r.truncatedWords)} beyond --max-length; ` +
      `${r.seconds.toFixed(1)} s` +
      (r.devFiles.length ? `; dev copied: ${r.devFiles.map((f) => basename(f)).join(', ')}` : ''),
  );
  if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(r)}\n`);
}

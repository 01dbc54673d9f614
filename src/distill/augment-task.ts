/**
 * TinyBERT's data augmentation (augment.ts) of a task's training file, end to end: read the rows, ask the
 * teacher's masked LM and/or WordNet for candidates, write the originals and their copies back in the input's own format.
 * The output directory is read by `--data` of finetune and distill: GLUE tasks get `train.tsv` in the
 * task's own layout (every column kept, only the texts changed) and the task's dev file(s) copied beside
 * it; own data gets the same format and columns as the input file. Each original row is followed by its
 * N copies.
 */
import * as fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { GLUE_TASKS, glueFile, glueTask } from '../data/glue.js';
import { type Example, parseDelimited, readText, splitLines, tabularFormat } from '../data/tabular.js';
import { type DataSource, readTask } from '../data/task.js';
import { wordnetSynonyms } from '../knowledge/load.js';
import { loadModel, readConfig } from '../model/io.js';
import { readVocabFile } from '../text/vocab-file.js';
import { BERT_VOCAB } from '../util/assets.js';
import { AtomicStream, ensureDir, removeStaleTemporaries, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { info, Progress } from '../util/progress.js';
import {
  augmentExamples,
  type AugmentStats,
  type MlmContext,
  type TeacherCandidates,
  teacherCandidates,
} from './augment.js';

export interface AugmentTaskOptions {
  k: number; // candidates per word: the teacher's top K
  p: number; // probability of replacing each word in a copy
  n: number; // augmented copies per example
  maxExamples?: number; // augment only the first N examples
  maxLength: number; // longest teacher input in tokens
  context: MlmContext;
  batchSize: number; // masked inputs per teacher forward
  seed: number;
  threads: number;
  /**
   * A thesaurus for the words the teacher's masked LM does not cover (words of several pieces, where
   * TinyBERT used GloVe neighbours), or for every word without a teacher: WordNet's synonyms.
   */
  synonyms?: 'wordnet';
}

/**
 * Most copies per example: 50 times TinyBERT's 20. Beyond it the output only grows (SST-2 with
 * --n 1000000 would be terabytes), and a teacher's top-K words repeat long before.
 */
export const MAX_AUGMENT_COPIES = 1000;

/** TinyBERT's settings (N 20, p 0.4, K 15) and minnow's run defaults. */
export const DEFAULT_AUGMENT: Readonly<AugmentTaskOptions> = Object.freeze({
  k: 15,
  p: 0.4,
  n: 20,
  maxLength: 512,
  context: 'tinybert',
  batchSize: 64,
  seed: 0,
  threads: 2,
});

export interface AugmentResult extends AugmentStats {
  task: string;
  /** Input training file. */
  input: string;
  /** Written training file (originals and copies). */
  file: string;
  /** Rows written (examples x (n + 1)). */
  rows: number;
  /** Dev files copied beside it (GLUE). */
  devFiles: string[];
  /** Wall time of the whole command, loading included. */
  seconds: number;
  /** Teacher inputs per second while augmenting (model loading and session creation excluded). */
  forwardsPerSecond: number;
}

// ------------------------------------------------------------------------------------------- output

/** How rows of the input file are written back: a header line and a row for given texts. */
interface RowWriter {
  /** Output file name (in OUT). */
  name: string;
  header: string | null;
  row(ex: Example, text: string, pair: string | undefined): string;
}

/** GLUE TSV: the original row (found by its line) with the text columns replaced. */
function glueWriter(task: string, file: string): RowWriter {
  const spec = glueTask(task);
  const lines = splitLines(readText(file));
  const first = (lines[0]?.text ?? '').split('\t');
  // The same column rule as parseGlue: by header name, or CoLA's fixed positions without a header.
  const hasHeader = spec.header || first.includes(spec.text.name);
  const width = hasHeader ? first.length : (spec.columns ?? 0);
  const at = (c: { name: string; index: number }) =>
    hasHeader ? first.indexOf(c.name) : c.index < 0 ? width + c.index : c.index;
  const textAt = at(spec.text);
  const pairAt = spec.pair ? at(spec.pair) : -1;
  const rows = new Map(lines.map((l) => [l.line, l.text]));
  return {
    name: spec.files.train,
    header: hasHeader ? lines[0].text : null,
    row(ex, text, pair) {
      const f = rows.get(ex.line)!.split('\t');
      f[textAt] = text;
      if (pairAt >= 0 && pair !== undefined) f[pairAt] = pair;
      return f.join('\t');
    },
  };
}

const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Own CSV/TSV/JSONL: the same format and columns, the text (and pair) fields replaced. */
function tabularWriter(src: DataSource, file: string): RowWriter {
  const format = tabularFormat(file);
  const content = readText(file);
  const name = basename(file);
  if (format === 'jsonl') {
    const rows = new Map(splitLines(content).map((l) => [l.line, l.text]));
    return {
      name,
      header: null,
      row(ex, text, pair) {
        const obj = JSON.parse(rows.get(ex.line)!) as Record<string, unknown>;
        obj[src.textColumn!] = text;
        if (src.textPairColumn !== undefined && pair !== undefined) obj[src.textPairColumn] = pair;
        return JSON.stringify(obj);
      },
    };
  }
  const csv = format === 'csv';
  const records = parseDelimited(content, csv ? ',' : '\t', csv);
  const header = records[0].fields;
  const names = header.map((h) => h.trim());
  const textAt = names.indexOf(src.textColumn!);
  const pairAt = src.textPairColumn === undefined ? -1 : names.indexOf(src.textPairColumn);
  const rows = new Map(records.map((r) => [r.line, r.fields]));
  const joinRow = (f: string[]) => (csv ? f.map(csvField).join(',') : f.join('\t'));
  return {
    name,
    header: joinRow(header),
    row(ex, text, pair) {
      const f = [...rows.get(ex.line)!];
      f[textAt] = text;
      if (pairAt >= 0 && pair !== undefined) f[pairAt] = pair;
      return joinRow(f);
    },
  };
}

/** Copy the task's dev file(s) (both MNLI dev sets) from beside the training data into OUT. */
function copyDevFiles(task: string, data: string, out: string): string[] {
  const spec = glueTask(task);
  const dir = fs.statSync(data).isDirectory() ? data : dirname(data);
  const copied: string[] = [];
  for (const t of Object.values(GLUE_TASKS).filter((t) => t.dir === spec.dir)) {
    let from: string;
    try {
      from = glueFile(t, dir, 'dev');
    } catch {
      continue;
    }
    const to = join(out, t.files.dev);
    if (copied.includes(to)) continue;
    writeFileAtomic(to, fs.readFileSync(from));
    copied.push(to);
  }
  return copied;
}

// ------------------------------------------------------------------------------------------- run

/** A candidate source is given, and a teacher has a masked-LM head: one-line errors, before any data is read. */
export function checkSources(teacher: string | undefined, synonyms: string | undefined): void {
  if (teacher === undefined && synonyms === undefined)
    throw new UserError('augment: give --teacher DIR (a masked LM), --synonyms wordnet, or both');
  if (teacher !== undefined) checkTeacher(teacher);
}

export function checkTeacher(dir: string): void {
  readConfig(dir); // a one-line error if it is not a model directory
  const head = join(dir, 'mlm_head.safetensors');
  if (!fs.existsSync(head))
    throw new UserError(
      `${head}: missing; --teacher needs a masked-LM head (a pre-trained model directory, e.g. from minnow pretrain)`,
    );
}

/** Augments with the teacher's masked LM (`teacher`), WordNet's synonyms (`o.synonyms`), or both. */
export async function augment(
  teacher: string | undefined,
  src: DataSource,
  out: string,
  o: AugmentTaskOptions,
): Promise<AugmentResult> {
  checkSources(teacher, o.synonyms);
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > MAX_AUGMENT_COPIES)
    throw new UserError(`--n: must be an integer from 1 to ${MAX_AUGMENT_COPIES}, got ${o.n}`);
  const t0 = performance.now();
  const data = readTask(src, 'train');
  const glue = !src.textColumn;
  const examples = o.maxExamples !== undefined ? data.examples.slice(0, o.maxExamples) : data.examples;
  if (examples.length === 0) throw new UserError(`${data.file}: no examples to augment`);
  const writer = glue ? glueWriter(data.task, data.file) : tabularWriter(src, data.file);
  const target = join(out, writer.name);
  if (resolve(target) === resolve(data.file))
    throw new UserError(`--out ${out}: would overwrite the input ${data.file}; choose another directory`);

  const m = teacher === undefined ? undefined : loadModel(teacher, { mlm: true });
  const tokenizer = m?.tokenizer ?? readVocabFile(BERT_VOCAB);
  const maxLength = m ? Math.min(o.maxLength, m.config.max_position_embeddings) : o.maxLength;
  const progress = new Progress(`augment ${data.task}`, examples.length);
  let forwards = 0;
  const words = o.synonyms === 'wordnet' ? wordnetSynonyms(o.k) : undefined;
  let teacherFn: TeacherCandidates | undefined;
  if (m)
    teacherFn = await teacherCandidates(m, {
      k: o.k,
      batchSize: o.batchSize,
      threads: o.threads,
      onBatch: (b) => {
        forwards += b;
      },
    });
  const from = [
    ...(m ? [`teacher ${teacher} (${o.context} context, max ${maxLength} tokens)`] : []),
    ...(words ? [m ? 'WordNet synonyms for words of several pieces' : 'WordNet synonyms'] : []),
  ];
  info(
    `augment ${data.task}: ${examples.length} examples x ${o.n} copies, K ${o.k}, p ${o.p}; ${from.join(', ')}`,
  );
  ensureDir(out);
  removeStaleTemporaries(out); // train.tsv.PID.*.tmp of augment runs that were killed
  const stream = new AtomicStream(target);
  let rows = 0;
  let stats: AugmentStats;
  let loopSeconds = 0;
  try {
    if (writer.header !== null) stream.write(`${writer.header}\n`);
    const tStart = performance.now();
    stats = await augmentExamples(
      tokenizer,
      examples,
      { mlm: teacherFn?.candidates, words },
      { k: o.k, p: o.p, n: o.n, seed: o.seed, maxLength, context: o.context, chunkForwards: 8 * o.batchSize },
      (_, ex, copies) => {
        stream.write(`${writer.row(ex, ex.text, ex.pair)}\n`);
        for (const c of copies) stream.write(`${writer.row(ex, c.text, c.pair)}\n`);
        rows += 1 + copies.length;
      },
      (done) => {
        const s = (performance.now() - tStart) / 1000;
        progress.update(done, { 'fwd/s': (forwards / Math.max(s, 1e-9)).toFixed(0) });
      },
    );
    loopSeconds = (performance.now() - tStart) / 1000;
    progress.done();
    stream.commit();
  } catch (e) {
    stream.abort();
    throw e;
  } finally {
    await teacherFn?.release();
  }
  const devFiles = glue ? copyDevFiles(data.task, src.data, out) : [];
  if (glue && devFiles.length === 0)
    info(`augment: no dev file found beside ${data.file}; give finetune/distill --dev PATH`);
  const seconds = (performance.now() - t0) / 1000;
  const res: AugmentResult = {
    task: data.task,
    input: data.file,
    file: target,
    rows,
    devFiles,
    ...stats,
    seconds,
    forwardsPerSecond: stats.forwards / Math.max(loopSeconds, 1e-9),
  };
  writeFileAtomic(
    join(out, 'augment.json'),
    `${JSON.stringify({ teacher, src, options: { ...o, maxLength }, result: res }, null, 2)}\n`,
  );
  return res;
}

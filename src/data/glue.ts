/**
 * GLUE task readers: one table describing the GLUE tasks (columns, labels, metrics, file names) and
 * `readGlue`, which reads a task's TSV file in the original GLUE layout.
 *
 * Like the BERT / Hugging Face GLUE processors, rows are split on tabs with no quote character (quotes
 * are data) and labels are numbered in the processors' order. Columns are found by header name; CoLA's
 * labelled files have no header and use fixed positions (its test file does have one). A UTF-8 BOM,
 * CRLF line endings and a missing final newline are tolerated; blank lines are ignored.
 *
 * Bad rows (wrong number of columns, empty sentence, unknown label, non-numeric STS-B score) throw a
 * one-line UserError such as `dev.tsv:7: field "label": unknown label "foo" (expected one of ...)`, or
 * with `onBadRow: 'skip'` are dropped and listed in `skipped` (real QQP train has a few broken rows).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, where } from '../util/errors.js';
import {
  BadRowError,
  type BadRowPolicy,
  classIndex,
  type Example,
  handleBadRow,
  oneLine,
  parseScore,
  readText,
  requireText,
  type SkippedRow,
  splitLines,
} from './tabular.js';

export type { BadRowPolicy, Example, SkippedRow } from './tabular.js';

export type GlueTaskName =
  'cola' | 'sst2' | 'mrpc' | 'stsb' | 'qqp' | 'mnli' | 'mnli-mm' | 'qnli' | 'rte' | 'wnli';
export type MetricName = 'accuracy' | 'f1' | 'mcc' | 'pearson' | 'spearman';
export type GlueSplit = 'train' | 'dev' | 'test';

/** A column: its header name, and its position for files without a header (negative counts from the end). */
export interface GlueColumn {
  name: string;
  index: number;
}

export interface GlueTaskSpec {
  name: GlueTaskName;
  /** Display name, e.g. "SST-2". */
  title: string;
  /** Folder name in the standard GLUE download, e.g. "SST-2". */
  dir: string;
  /** Labelled (train/dev) files start with a header row. Without one, `columns` fields per row. */
  header: boolean;
  columns?: number;
  text: GlueColumn;
  pair?: GlueColumn;
  label: GlueColumn;
  /** Class names in the HF/BERT processor order; null for regression (STS-B). */
  labels: readonly string[] | null;
  metrics: readonly MetricName[];
  files: Readonly<Record<GlueSplit, string>>;
}

const col = (name: string, index: number): GlueColumn => ({ name, index });
const files = (dev = 'dev.tsv', test = 'test.tsv') => ({ train: 'train.tsv', dev, test });
const binary = ['0', '1'] as const;
const nli2 = ['entailment', 'not_entailment'] as const;
const mnliLabels = ['contradiction', 'entailment', 'neutral'] as const;
const mnliBase = {
  dir: 'MNLI',
  header: true,
  text: col('sentence1', 8),
  pair: col('sentence2', 9),
  label: col('gold_label', -1), // the last column: dev files have label1..label5 before it
  labels: mnliLabels,
  metrics: ['accuracy'],
} as const;

/** The GLUE tasks. MNLI appears twice: matched (`mnli`) and mismatched (`mnli-mm`) dev/test sets. */
export const GLUE_TASKS: Readonly<Record<GlueTaskName, GlueTaskSpec>> = {
  cola: {
    name: 'cola',
    title: 'CoLA',
    dir: 'CoLA',
    header: false,
    columns: 4, // source, label, original judgement, sentence
    text: col('sentence', 3),
    label: col('label', 1),
    labels: binary,
    metrics: ['mcc'],
    files: files(),
  },
  sst2: {
    name: 'sst2',
    title: 'SST-2',
    dir: 'SST-2',
    header: true,
    text: col('sentence', 0),
    label: col('label', 1),
    labels: binary,
    metrics: ['accuracy'],
    files: files(),
  },
  mrpc: {
    name: 'mrpc',
    title: 'MRPC',
    dir: 'MRPC',
    header: true,
    text: col('#1 String', 3),
    pair: col('#2 String', 4),
    label: col('Quality', 0),
    labels: binary,
    metrics: ['f1', 'accuracy'],
    files: files(),
  },
  stsb: {
    name: 'stsb',
    title: 'STS-B',
    dir: 'STS-B',
    header: true,
    text: col('sentence1', 7),
    pair: col('sentence2', 8),
    label: col('score', 9),
    labels: null,
    metrics: ['pearson', 'spearman'],
    files: files(),
  },
  qqp: {
    name: 'qqp',
    title: 'QQP',
    dir: 'QQP',
    header: true,
    text: col('question1', 3),
    pair: col('question2', 4),
    label: col('is_duplicate', 5),
    labels: binary,
    metrics: ['f1', 'accuracy'],
    files: files(),
  },
  mnli: { ...mnliBase, name: 'mnli', title: 'MNLI-m', files: files('dev_matched.tsv', 'test_matched.tsv') },
  'mnli-mm': {
    ...mnliBase,
    name: 'mnli-mm',
    title: 'MNLI-mm',
    files: files('dev_mismatched.tsv', 'test_mismatched.tsv'),
  },
  qnli: {
    name: 'qnli',
    title: 'QNLI',
    dir: 'QNLI',
    header: true,
    text: col('question', 1),
    pair: col('sentence', 2),
    label: col('label', 3),
    labels: nli2,
    metrics: ['accuracy'],
    files: files(),
  },
  rte: {
    name: 'rte',
    title: 'RTE',
    dir: 'RTE',
    header: true,
    text: col('sentence1', 1),
    pair: col('sentence2', 2),
    label: col('label', 3),
    labels: nli2,
    metrics: ['accuracy'],
    files: files(),
  },
  wnli: {
    name: 'wnli',
    title: 'WNLI',
    dir: 'WNLI',
    header: true,
    text: col('sentence1', 1),
    pair: col('sentence2', 2),
    label: col('label', 3),
    labels: binary,
    metrics: ['accuracy'],
    files: files(),
  },
};

export const GLUE_TASK_NAMES = Object.keys(GLUE_TASKS) as GlueTaskName[];

/** Extra spellings, after lower-casing and dropping `-`, `_`, `.` and spaces. */
const ALIASES: Record<string, GlueTaskName> = {
  mnlim: 'mnli',
  mnlimatched: 'mnli',
  mnlimm: 'mnli-mm',
  mnlimismatched: 'mnli-mm',
};

/** Resolve a task name case-insensitively (`SST-2`, `sst-2`, `STS-B`, `MNLI-m`, `mnli_mm`, ...). */
export function glueTask(name: string): GlueTaskSpec {
  const key = name.toLowerCase().replace(/[-_.\s]/g, '');
  const found = ALIASES[key] ?? GLUE_TASK_NAMES.find((t) => t.replace('-', '') === key);
  if (!found) throw new UserError(`unknown GLUE task "${name}" (valid: ${GLUE_TASK_NAMES.join(', ')})`);
  return GLUE_TASKS[found];
}

export interface GlueReadOptions {
  /** Which file to read when `path` is a directory (default 'train'). 'test' implies `labels: false`. */
  split?: GlueSplit;
  /** Read labels (default true, false for split 'test'). Without labels every label is NaN. */
  labels?: boolean;
  onBadRow?: BadRowPolicy;
}

export interface GlueData {
  task: GlueTaskName;
  file: string;
  /** Class names in index order; null for STS-B. */
  labels: readonly string[] | null;
  examples: Example[];
  skipped: SkippedRow[];
}

/**
 * Read a GLUE task file. `path` is a TSV file, a task folder (holding train.tsv, dev.tsv, ...) or a GLUE
 * root folder holding the standard task folders (SST-2/, CoLA/, ...); `split` picks the file in a folder.
 */
export function readGlue(task: string, path: string, options: GlueReadOptions = {}): GlueData {
  const spec = glueTask(task);
  const file = glueFile(spec, path, options.split ?? 'train');
  return parseGlue(spec.name, readText(file), file, options);
}

/** The file `readGlue` reads for a task, split and path. */
export function glueFile(spec: GlueTaskSpec, path: string, split: GlueSplit): string {
  if (!existsSync(path)) throw new UserError(`${path}: no such file or directory (GLUE ${spec.title} data)`);
  if (!statSync(path).isDirectory()) return path;
  const name = spec.files[split];
  const candidates = [join(path, name), join(path, spec.dir, name)];
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new UserError(`no GLUE ${spec.title} ${split} file: looked for ${candidates.join(' and ')}`);
  return found;
}

/** Parse GLUE TSV content already in memory; `file` is only used in messages. */
export function parseGlue(
  task: string,
  content: string,
  file: string,
  options: GlueReadOptions = {},
): GlueData {
  const spec = glueTask(task);
  const withLabels = options.labels ?? options.split !== 'test';
  const policy = options.onBadRow ?? 'throw';
  const lines = splitLines(content);
  const skipped: SkippedRow[] = [];
  const examples: Example[] = [];
  if (lines.length === 0) return { task: spec.name, file, labels: spec.labels, examples, skipped };

  // Column positions: by header name when the file has a header (CoLA: only when the first line
  // names the text column, as its test file does), else the table's fixed positions.
  const first = lines[0].text.split('\t');
  const hasHeader = spec.header || first.includes(spec.text.name);
  // CoLA's labelled files have no header; a first line naming its columns is another task's file
  // (SST-2's "sentence<TAB>label"), which would otherwise be read, and scored, as CoLA.
  if (!spec.header && hasHeader && withLabels)
    throw new UserError(
      oneLine(
        `${where(file, lines[0].line)}: a header row (${first.join(', ')}), but ${spec.title}'s labelled files have none (${spec.columns} columns: the text in column ${spec.text.index + 1}, the label in column ${spec.label.index + 1}); is this another task's file?`,
      ),
    );
  let width = spec.columns ?? 0;
  const at = (c: GlueColumn): number => {
    if (!hasHeader) return c.index < 0 ? width + c.index : c.index;
    const i = first.indexOf(c.name);
    if (i < 0) {
      const hint = c === spec.label ? '; for a test file without labels, pass { labels: false }' : '';
      throw new UserError(
        oneLine(
          `${where(file, lines[0].line)}: no column "${c.name}" in the header (columns: ${first.join(', ')})${hint}`,
        ),
      );
    }
    return i;
  };
  if (hasHeader) width = first.length;
  const textAt = at(spec.text);
  const pairAt = spec.pair ? at(spec.pair) : -1;
  const labelAt = withLabels ? at(spec.label) : -1;

  for (const { text: row, line } of hasHeader ? lines.slice(1) : lines) {
    try {
      const f = row.split('\t');
      if (f.length !== width)
        throw new BadRowError(`row has ${f.length} tab-separated columns, expected ${width}`);
      const ex: Example = { text: requireText(f[textAt], spec.text.name), label: Number.NaN, line };
      if (spec.pair) ex.pair = requireText(f[pairAt], spec.pair.name);
      if (labelAt >= 0) {
        const raw = f[labelAt];
        ex.label = spec.labels
          ? classIndex(raw, spec.labels, spec.label.name)
          : parseScore(raw, spec.label.name);
      }
      examples.push(ex);
    } catch (err) {
      handleBadRow(err, file, line, policy, skipped);
    }
  }
  return { task: spec.name, file, labels: spec.labels, examples, skipped };
}

/**
 * User data for fine-tuning and prediction: CSV, TSV or JSONL files with a text column, an optional
 * text-pair column and an optional label column.
 *
 * - Format comes from the extension (`.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`); `format` overrides it.
 * - CSV follows RFC 4180: quoted fields may hold commas, newlines and doubled quotes (`""`). TSV has no
 *   quote character by default (quotes are data, as in GLUE); `tsvQuotes: true` turns RFC 4180 quoting on.
 * - CSV/TSV need a header row naming the columns; for JSONL the column names are the object keys.
 * - A UTF-8 BOM is stripped, CRLF line endings and a missing final newline are fine, blank lines are ignored.
 * - Labels: `regression: true` parses every label as a float. Otherwise labels are classes, numbered by
 *   their position in `labels` if given, else in the sorted list of distinct labels (numeric order when
 *   all labels are numbers, else code-unit order). Without `labelColumn` every label is NaN.
 * - Bad rows (wrong column count, missing field, empty text, unknown or non-numeric label, bad JSON):
 *   `onBadRow: 'throw'` (default) throws a one-line UserError `file:line: field "x": ...`;
 *   `onBadRow: 'skip'` drops the row and records `{ line, reason }` in `skipped`.
 *
 * Also exports the pieces shared with the GLUE readers (glue.ts): the example type, the bad-row policy
 * and the line splitter.
 */
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { isBlank } from '../util/blank.js';
import { parseDecimal } from '../util/decimal.js';
import { UserError, where } from '../util/errors.js';
import { readTextInput } from '../util/text-input.js';

/** One example: label is a class index, a float score (regression), or NaN when unlabelled. */
export interface Example {
  text: string;
  pair?: string;
  label: number;
  /** 1-based line in the file where the row starts. */
  line: number;
}

/** A row dropped under `onBadRow: 'skip'`; `reason` is the message without the `file:line:` prefix. */
export interface SkippedRow {
  line: number;
  reason: string;
}

/** What to do with a malformed row: throw a UserError (default) or skip it and record it. */
export type BadRowPolicy = 'throw' | 'skip';

/** Thrown inside a row's parsing; turned into a UserError or a skipped row by `handleBadRow`. */
export class BadRowError extends Error {
  constructor(reason: string, field?: string) {
    super(field === undefined ? reason : `field "${field}": ${reason}`);
  }
}

/** Apply the bad-row policy to an error raised while parsing a row; other errors are rethrown. */
export function handleBadRow(
  err: unknown,
  file: string,
  line: number,
  policy: BadRowPolicy,
  skipped: SkippedRow[],
): void {
  if (!(err instanceof BadRowError)) throw err;
  const reason = oneLine(err.message);
  if (policy === 'skip') skipped.push({ line, reason });
  else throw new UserError(`${where(file, line)}: ${reason}`);
}

/**
 * Escape line breaks and other control characters (`\r` → `\\r`, U+0001 → `\\u0001`) so that a message
 * quoting file content (a header name, a JSON parser's excerpt of the line) stays on one line.
 */
export function oneLine(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Quote a value for an error message, shortened to keep the message on one short line. */
export function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/** Text that is empty or only whitespace, control or zero-width characters is a bad row. */
export function requireText(value: string, field: string): string {
  if (isBlank(value)) throw new BadRowError('empty text', field);
  return value;
}

/** Look a label up in a list of class names; unknown → bad row listing the expected labels. */
export function classIndex(value: string, labels: readonly string[], field: string): number {
  const i = labels.indexOf(value.trim());
  if (i < 0)
    throw new BadRowError(`unknown label ${show(value)} (expected one of ${labels.join(', ')})`, field);
  return i;
}

/** Parse a regression label; empty or non-numeric → bad row. */
export function parseScore(value: string, field: string): number {
  const v = parseDecimal(value); // decimal only: Number() reads "0x10" as 16
  if (!Number.isFinite(v)) throw new BadRowError(`not a number: ${show(value)}`, field);
  return v;
}

/** Strip a UTF-8 BOM. */
export function stripBom(content: string): string {
  return content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
}

/** Split file content into lines with 1-based numbers: strips a BOM and `\r` before `\n`; blank lines dropped. */
export function splitLines(content: string): { text: string; line: number }[] {
  const parts = stripBom(content).split('\n');
  const out: { text: string; line: number }[] = [];
  for (let i = 0; i < parts.length; i++) {
    const text = parts[i].endsWith('\r') ? parts[i].slice(0, -1) : parts[i];
    if (text !== '') out.push({ text, line: i + 1 });
  }
  return out;
}

/** Read a whole file as UTF-8, with a UserError naming the path when it is missing or a directory. */
export function readText(path: string, what = 'file'): string {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new UserError(`${path}: no such ${what}`);
  }
  if (!isFile) throw new UserError(`${path}: not a file`);
  return readTextInput(path, path);
}

/** The non-blank lines of a file of one text a line (e.g. anchors.txt), trimmed. */
export function textLines(content: string): string[] {
  return content
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** One parsed record of a delimited file: its fields, start line, and a quoting error if any. */
export interface DelimitedRecord {
  fields: string[];
  line: number;
  error?: string;
}

/**
 * Parse delimited text. With `quotes`, RFC 4180: a field starting with `"` runs to the next lone `"`,
 * `""` inside it is one quote, and delimiters and newlines inside it are data (text after the closing
 * quote is kept, as Python's csv does). Without `quotes`, each line is a record split on the delimiter.
 * BOM stripped; CRLF and LF both end records; blank lines are dropped.
 */
export function parseDelimited(content: string, delimiter: string, quotes: boolean): DelimitedRecord[] {
  if (!quotes) return splitLines(content).map(({ text, line }) => ({ fields: text.split(delimiter), line }));
  const s = stripBom(content);
  const records: DelimitedRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let start = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) records.push({ fields, line: start });
    fields = [];
    field = '';
  };
  while (i < s.length) {
    const c = s[i];
    if (c === '"' && field === '') {
      // Quoted field: read to the closing quote.
      i++;
      let closed = false;
      while (i < s.length) {
        const d = s[i];
        if (d === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (d === '\n') line++;
        field += d;
        i++;
      }
      if (!closed) {
        fields.push(field);
        records.push({ fields, line: start, error: 'unterminated quoted field (a " with no closing ")' });
        return records;
      }
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      i++;
    } else if (c === '\n' || (c === '\r' && s[i + 1] === '\n')) {
      endRecord();
      i += c === '\r' ? 2 : 1;
      line++;
      start = line;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

export type TabularFormat = 'csv' | 'tsv' | 'jsonl';

export interface TabularOptions {
  /** Column (header name or JSON key) holding the text. */
  textColumn: string;
  /** Column holding the second text of a pair task. */
  textPairColumn?: string;
  /** Column holding the label; without it every label is NaN (data to predict on). */
  labelColumn?: string;
  /** Override the format guessed from the extension. */
  format?: TabularFormat;
  /** Labels are float scores rather than classes. */
  regression?: boolean;
  /** Class names in index order; a label outside the list is a bad row. Default: sorted distinct labels. */
  labels?: readonly string[];
  /** Honour RFC 4180 quotes in TSV files too (default false: quotes are data). */
  tsvQuotes?: boolean;
  onBadRow?: BadRowPolicy;
}

export interface TabularData {
  file: string;
  format: TabularFormat;
  examples: Example[];
  skipped: SkippedRow[];
  /** Class names in index order; null for regression or unlabelled data. */
  labels: string[] | null;
}

/** Guess the format from a file name's extension; UserError when it cannot. */
export function tabularFormat(path: string): TabularFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new UserError(
    `${path}: cannot tell the format from the extension "${ext}"; use .csv, .tsv or .jsonl, or pass a format`,
  );
}

/** Read a CSV, TSV or JSONL file of examples. */
export function readTabular(path: string, options: TabularOptions): TabularData {
  const format = options.format ?? tabularFormat(path);
  return parseTabular(readText(path), path, { ...options, format });
}

interface RawRow {
  text: string;
  pair?: string;
  label?: string;
  line: number;
}

/** Parse file content already in memory; `file` is only used in messages. */
export function parseTabular(content: string, file: string, options: TabularOptions): TabularData {
  const format = options.format ?? tabularFormat(file);
  const policy = options.onBadRow ?? 'throw';
  const skipped: SkippedRow[] = [];
  const raw =
    format === 'jsonl'
      ? jsonlRows(content, file, options, policy, skipped)
      : delimitedRows(content, file, format, options, policy, skipped);

  let labels: string[] | null = null;
  let toLabel: (row: RawRow) => number = () => Number.NaN;
  if (options.labelColumn !== undefined) {
    const field = options.labelColumn;
    if (options.regression) {
      toLabel = (row) => parseScore(row.label!, field);
    } else {
      labels = options.labels
        ? [...options.labels]
        : labelVocabulary(raw.map((r) => r.label!.trim()).filter((l) => l !== ''));
      const vocab = labels;
      toLabel = (row) => classIndex(row.label!, vocab, field);
    }
  }
  const examples: Example[] = [];
  for (const row of raw) {
    try {
      const ex: Example = { text: row.text, label: toLabel(row), line: row.line };
      if (row.pair !== undefined) ex.pair = row.pair;
      examples.push(ex);
    } catch (err) {
      handleBadRow(err, file, row.line, policy, skipped);
    }
  }
  skipped.sort((a, b) => a.line - b.line);
  return { file, format, examples, skipped, labels };
}

/** Distinct labels in sorted order: numeric order when all are numbers, else code-unit order. */
export function labelVocabulary(values: readonly string[]): string[] {
  const distinct = [...new Set(values)];
  if (distinct.every((v) => Number.isFinite(Number(v))))
    return distinct.sort((a, b) => Number(a) - Number(b));
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function columnIndex(header: string[], name: string, file: string, headerLine: number): number {
  const i = header.indexOf(name);
  if (i < 0) {
    throw new UserError(
      oneLine(`${where(file, headerLine)}: no column "${name}" (available: ${header.join(', ')})`),
    );
  }
  return i;
}

function delimitedRows(
  content: string,
  file: string,
  format: 'csv' | 'tsv',
  options: TabularOptions,
  policy: BadRowPolicy,
  skipped: SkippedRow[],
): RawRow[] {
  const records = parseDelimited(
    content,
    format === 'csv' ? ',' : '\t',
    format === 'csv' || options.tsvQuotes === true,
  );
  if (records.length === 0) throw new UserError(`${file}: empty file (expected a header row)`);
  const head = records[0];
  if (head.error) throw new UserError(`${where(file, head.line)}: ${head.error}`);
  const header = head.fields.map((h) => h.trim());
  // A name twice would silently mean its first column (`text,text,label`).
  for (const name of [options.textColumn, options.textPairColumn, options.labelColumn])
    if (name !== undefined && header.indexOf(name) !== header.lastIndexOf(name))
      throw new UserError(
        oneLine(
          `${where(file, head.line)}: the header names column "${name}" twice (columns ${header.indexOf(name) + 1} and ${header.lastIndexOf(name) + 1}); rename one`,
        ),
      );
  const textAt = columnIndex(header, options.textColumn, file, head.line);
  const pairAt =
    options.textPairColumn === undefined ? -1 : columnIndex(header, options.textPairColumn, file, head.line);
  const labelAt =
    options.labelColumn === undefined ? -1 : columnIndex(header, options.labelColumn, file, head.line);
  const rows: RawRow[] = [];
  for (const rec of records.slice(1)) {
    try {
      if (rec.error) throw new BadRowError(rec.error);
      if (rec.fields.length !== header.length) {
        throw new BadRowError(`row has ${rec.fields.length} columns, expected ${header.length}`);
      }
      const row: RawRow = { text: requireText(rec.fields[textAt], options.textColumn), line: rec.line };
      if (pairAt >= 0) row.pair = requireText(rec.fields[pairAt], options.textPairColumn!);
      if (labelAt >= 0) row.label = requireLabel(rec.fields[labelAt], options);
      rows.push(row);
    } catch (err) {
      handleBadRow(err, file, rec.line, policy, skipped);
    }
  }
  return rows;
}

function requireLabel(value: string, options: TabularOptions): string {
  if (value.trim() === '') throw new BadRowError('empty label', options.labelColumn);
  return value;
}

function jsonlRows(
  content: string,
  file: string,
  options: TabularOptions,
  policy: BadRowPolicy,
  skipped: SkippedRow[],
): RawRow[] {
  const rows: RawRow[] = [];
  let checkedKeys = false;
  for (const { text, line } of splitLines(content)) {
    if (text.trim() === '') continue;
    try {
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (err) {
        throw new BadRowError(`invalid JSON (${(err as Error).message})`);
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
        throw new BadRowError('expected a JSON object');
      const rec = obj as Record<string, unknown>;
      if (!checkedKeys) {
        // A name missing from the first object is a wrong option, not a bad row: fail whatever the policy.
        const keys = Object.keys(rec);
        for (const name of [options.textColumn, options.textPairColumn, options.labelColumn]) {
          if (name !== undefined && !Object.hasOwn(rec, name)) {
            throw new UserError(
              oneLine(`${where(file, line)}: no column "${name}" (available: ${keys.join(', ')})`),
            );
          }
        }
        checkedKeys = true;
      }
      const row: RawRow = { text: requireText(jsonText(rec, options.textColumn), options.textColumn), line };
      if (options.textPairColumn !== undefined) {
        row.pair = requireText(jsonText(rec, options.textPairColumn), options.textPairColumn);
      }
      if (options.labelColumn !== undefined)
        row.label = requireLabel(jsonLabel(rec, options.labelColumn), options);
      rows.push(row);
    } catch (err) {
      handleBadRow(err, file, line, policy, skipped);
    }
  }
  return rows;
}

/** The value of a key of a parsed JSON object; inherited properties (`constructor`, ...) are not keys. */
function own(rec: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

function jsonText(rec: Record<string, unknown>, key: string): string {
  const v = own(rec, key);
  if (v === undefined) throw new BadRowError('missing', key);
  if (typeof v !== 'string')
    throw new BadRowError(`expected a string, got ${v === null ? 'null' : typeof v}`, key);
  return v;
}

function jsonLabel(rec: Record<string, unknown>, key: string): string {
  const v = own(rec, key);
  if (v === undefined) throw new BadRowError('missing', key);
  // A JSON true/false is not a class name ("true"): the label must be written as a string or number.
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw new BadRowError(
    `expected a string or number, got ${v === null ? 'null' : typeof v}${typeof v === 'boolean' ? ` (write "${v}" or ${Number(v)})` : ''}`,
    key,
  );
}

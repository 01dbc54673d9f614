/**
 * The user's own knowledge: triples `subject, predicate, object` from CSV or TSV text. Pure (the caller
 * reads the file), so it also runs in a browser.
 *
 * - One triple per line, three fields. CSV fields may be quoted (`"Paris, France"`, `""` for a quote); so
 *   may TSV fields. A quoted field cannot span lines. Spaces around fields are trimmed.
 * - Format: `format`, else the file name's extension (`.csv`; `.tsv`/`.tab`), else a tab in the first
 *   triple line means TSV.
 * - Blank lines and lines starting with `#` (after spaces) are skipped; so is the rest of a line after a
 *   space and `#` outside quotes (a trailing comment). The first triple line is a header, and skipped,
 *   when `header` is true, or by default when its fields are three single words and one at least is a
 *   column name such as `subject`, `relation`, `object`, `head`, `tail`, `entity`, `property`, `value`.
 * - Subjects are lower-cased with whitespace runs made one space (multi-word subjects are fine); the
 *   predicate and object keep their case, whitespace collapsed.
 * - A line with another number of fields, an empty field or an unclosed quote is a UserError
 *   `file:line: ...`.
 */
import { UserError, where } from '../util/errors.js';
import type { Triple } from './graph.js';

export type TriplesFormat = 'csv' | 'tsv';

export interface TriplesOptions {
  /** Default: from the file name, else sniffed (a tab in the first triple line: TSV). */
  format?: TriplesFormat;
  /** Whether the first triple line is a header. Default: when its fields are known column names. */
  header?: boolean;
}

const SUBJECT_NAMES = new Set(['subject', 'head', 'entity', 'subj', 's', 'h', 'source']);
const PREDICATE_NAMES = new Set(['predicate', 'relation', 'rel', 'pred', 'p', 'r', 'property', 'attribute']);
const OBJECT_NAMES = new Set(['object', 'tail', 'value', 'obj', 'o', 't', 'target']);
const FIELDS = ['subject', 'predicate', 'object'] as const;

/** Triples of CSV/TSV `text`; `file` names it in errors and gives the format by its extension. */
export function parseTriples(text: string, file: string, opts: TriplesOptions = {}): Triple[] {
  const out: Triple[] = [];
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  let format = opts.format ?? formatOf(file);
  let first = true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    format ??= line.includes('\t') ? 'tsv' : 'csv';
    const fields = splitFields(line, format === 'tsv' ? '\t' : ',', file, i + 1);
    if (first) {
      first = false;
      if (opts.header ?? isHeader(fields)) continue;
    }
    if (fields.length !== 3) {
      throw new UserError(
        `${where(file, i + 1)}: expected 3 ${format === 'tsv' ? 'tab' : 'comma'}-separated fields (subject, predicate, object), got ${fields.length}`,
      );
    }
    const [subject, predicate, object] = fields.map((f) => f.replace(/\s+/gu, ' '));
    const empty = [subject, predicate, object].findIndex((f) => f === '');
    if (empty >= 0) throw new UserError(`${where(file, i + 1)}: empty ${FIELDS[empty]}`);
    out.push({ subject: subject.toLowerCase(), relation: predicate, object });
  }
  return out;
}

function formatOf(file: string): TriplesFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  return undefined;
}

/**
 * A header row: three single words, one of them at least a known column name in any place
 * (`entity,property,value`, `word,relation,meaning`); a fact has a relation of words (`is a`).
 */
function isHeader(fields: readonly string[]): boolean {
  if (fields.length !== 3) return false;
  const names = fields.map((f) => f.toLowerCase());
  if (!names.every((f) => /^[a-z_][a-z0-9_-]*$/.test(f))) return false;
  return names.some((f) => SUBJECT_NAMES.has(f) || PREDICATE_NAMES.has(f) || OBJECT_NAMES.has(f));
}

/** Fields of one line, trimmed; a field starting with `"` (after spaces) runs to its closing quote. */
function splitFields(line: string, delimiter: string, file: string, lineNo: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ') i++;
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0)
          throw new UserError(`${where(file, lineNo)}: unterminated quoted field (a " with no closing ")`);
        field += line.slice(i, q);
        i = q + 1;
        if (line[i] !== '"') break;
        field += '"';
        i++;
      }
      const next = line.indexOf(delimiter, i);
      const rest = (next < 0 ? line.slice(i) : line.slice(i, next)).trim();
      if (rest !== '') {
        throw new UserError(`${where(file, lineNo)}: text after a closing quote: ${JSON.stringify(rest)}`);
      }
      i = next < 0 ? line.length : next;
    } else {
      const next = line.indexOf(delimiter, i);
      field = next < 0 ? line.slice(i) : line.slice(i, next);
      i = next < 0 ? line.length : next;
      // A `#` after a space starts a comment that runs to the end of the line (`good  # from a survey`).
      const comment = /\s#/.exec(field);
      if (comment) {
        field = field.slice(0, comment.index);
        i = line.length;
      }
    }
    fields.push(field.trim());
    if (i >= line.length) return fields;
    i++; // the delimiter
    if (i === line.length) {
      fields.push('');
      return fields;
    }
  }
}

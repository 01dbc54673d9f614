/**
 * A config file's keys as one schema: each key once, with its kind (a number in a range, true/false, one of
 * some words, or a parser of its own), its default and a line saying what it is. From the schema come the
 * keys a file may have (an unknown one is refused with the closest key suggested), the defaults, the
 * parsing with one-line errors naming the file and the field path, the check of a config built in code,
 * and the description --help prints. A new key is one entry. Pure data and checks; no engine code.
 */
import { UserError } from '../util/errors.js';
import type { NumberRule } from '../util/settings.js';

export interface NumberField {
  kind: 'number';
  default: number;
  min: number;
  /** > min instead of >= min. */
  minExclusive?: boolean;
  max?: number;
  integer?: boolean;
  doc: string;
}
export interface BooleanField {
  kind: 'boolean';
  default: boolean;
  doc: string;
}
export interface ChoiceField {
  kind: 'choice';
  default: string;
  values: readonly string[];
  doc: string;
}
/** A value with its own structure: its parser checks it and names the field path in its errors. */
export interface ParsedField<T = unknown> {
  kind: 'parsed';
  default: T;
  parse: (v: unknown, source: string | undefined, path: string) => T;
  /** What the value looks like, for the description. */
  shape: string;
  doc: string;
}
export type Field = NumberField | BooleanField | ChoiceField | ParsedField;
export type Schema = Readonly<Record<string, Field>>;

type ValueOf<F> = F extends NumberField
  ? number
  : F extends BooleanField
    ? boolean
    : F extends { kind: 'choice'; values: readonly (infer V)[] }
      ? V
      : F extends ParsedField<infer T>
        ? T
        : never;

/** The values a schema describes, key by key. */
export type Values<S extends Schema> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** A schema with its keys and value types kept. */
export function schema<const S extends Schema>(s: S): S {
  return s;
}

/** Every key at its default (a copy: defaults that are objects are not shared). */
export function defaults<S extends Schema>(s: S): Values<S> {
  return Object.fromEntries(Object.entries(s).map(([k, f]) => [k, structuredClone(f.default)])) as Values<S>;
}

/**
 * The values of `raw` (parsed JSON) at `path` in `source`: unknown keys refused (the closest valid one
 * suggested), a missing key at its default, a present one checked (an explicit null is a wrong type).
 */
export function parseSection<S extends Schema>(
  s: S,
  raw: unknown,
  source: string | undefined,
  path = '',
): Values<S> {
  const r = checkObject(raw, source, path, Object.keys(s));
  const at = (k: string) => (path ? `${path}.${k}` : k);
  return Object.fromEntries(
    Object.entries(s).map(([k, f]) => [
      k,
      k in r ? readValue(f, r[k], source, at(k)) : structuredClone(f.default),
    ]),
  ) as Values<S>;
}

/** Check values built in code against the schema (a parsed field's own structure is its parser's to check). */
export function checkValues<S extends Schema>(
  s: S,
  values: Values<S>,
  source: string | undefined,
  path = '',
): void {
  for (const [k, f] of Object.entries(s))
    if (f.kind !== 'parsed')
      readValue(f, (values as Record<string, unknown>)[k], source, path ? `${path}.${k}` : k);
}

function readValue(f: Field, v: unknown, source: string | undefined, path: string): unknown {
  switch (f.kind) {
    case 'number':
      return num(v, source, path, f);
    case 'boolean':
      return bool(v, source, path);
    case 'choice':
      return oneOf(v, source, path, f.values);
    case 'parsed':
      return f.parse(v, source, path);
  }
}

/** A number key's range as a flag's (util/settings.ts), so that a flag setting the key checks the same. */
export function numberRule(f: NumberField): NumberRule {
  return {
    ...(f.minExclusive ? { above: f.min } : { min: f.min }),
    ...(f.max !== undefined && { max: f.max }),
    ...(f.integer && { int: true }),
  };
}

/** One line per key: its name, kind, default and what it is, e.g. for --help. */
export function describeSchema(s: Schema, indent = '  '): string[] {
  return Object.entries(s).map(([k, f]) => {
    const kind =
      f.kind === 'number'
        ? wanted(f)
        : f.kind === 'boolean'
          ? 'true or false'
          : f.kind === 'choice'
            ? quoteList(f.values)
            : f.shape;
    return `${indent}"${k}": ${kind}, default ${JSON.stringify(f.default)}: ${f.doc}`;
  });
}

// ------------------------------------------------------------------------------------------------
// Checks with errors that name the file and the field path

export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate, compared case- and separator-insensitively, if it is plausibly a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const w = norm(word);
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, norm(c));
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(w.length / 3)) ? best : undefined;
}

function quoteList(values: readonly string[]): string {
  const q = values.map((v) => `"${v}"`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

export function fail(source: string | undefined, path: string, msg: string): never {
  const parts = [source, path].filter((p): p is string => p !== undefined && p !== '');
  throw new UserError(parts.length ? `${parts.join(': ')}: ${msg}` : msg);
}

export function checkObject(
  v: unknown,
  source: string | undefined,
  path: string,
  keys: readonly string[],
): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(source, path, `expected an object, got ${show(v)}`);
  const r = v as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if ((keys as readonly string[]).includes(k)) continue;
    const guess = closest(k, keys);
    fail(
      source,
      path,
      `unknown key "${k}"` + (guess ? ` (did you mean "${guess}"?)` : ` (valid keys: ${keys.join(', ')})`),
    );
  }
  return r;
}

type Range = Pick<NumberField, 'min' | 'minExclusive' | 'max' | 'integer'>;

function wanted(range: Range): string {
  const lo = `${range.minExclusive ? '>' : '>='} ${range.min}`;
  return range.integer
    ? `an integer ${lo}`
    : range.max !== undefined
      ? `a number in [${range.min}, ${range.max}]`
      : `a number ${lo}`;
}

export function num(v: unknown, source: string | undefined, path: string, range: Range): number {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (range.minExclusive ? v > range.min : v >= range.min) &&
    (range.max === undefined || v <= range.max) &&
    (!range.integer || Number.isInteger(v));
  if (!ok) fail(source, path, `expected ${wanted(range)}, got ${show(v)}`);
  return v as number;
}

export function oneOf<T extends string>(
  v: unknown,
  source: string | undefined,
  path: string,
  values: readonly T[],
): T {
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  const guess = typeof v === 'string' ? closest(v, values) : undefined;
  fail(
    source,
    path,
    `expected ${quoteList(values)}, got ${show(v)}` + (guess ? ` (did you mean "${guess}"?)` : ''),
  );
}

export function bool(v: unknown, source: string | undefined, path: string): boolean {
  if (typeof v !== 'boolean') fail(source, path, `expected true or false, got ${show(v)}`);
  return v;
}

/**
 * Fuzz targets for the CSV/TSV/JSONL reader (tabular.ts); run by tabular.fuzz.test.ts and bench/fuzz.ts.
 *
 * Inputs: arbitrary strings (full Unicode, lone surrogates, structure characters), and structured files
 * (a header naming the option columns plus extras, rows of odd fields, written as CSV/TSV/JSONL) with
 * random edits. Each input is parsed under both bad-row policies. Checked: success or a one-line
 * UserError starting with the file name; texts non-empty; labels valid class indexes (or finite scores,
 * or NaN without a label column); with 'skip', kept + skipped rows = data rows; 'throw' succeeds exactly
 * when 'skip' succeeds with nothing skipped, and then both give the same examples.
 */
import fc from 'fast-check';
import {
  anyText,
  applyEdits,
  check,
  type Edit,
  editArb,
  expectUserErrorOrSuccess,
  fuzzTarget,
  hugeRun,
  ODD_CHARS,
  type SomeFuzzTarget,
  textOver,
} from '../util/fuzzing.js';
import {
  oneLine,
  parseDelimited,
  parseTabular,
  stripBom,
  type TabularData,
  type TabularFormat,
  type TabularOptions,
} from './tabular.js';

const FILES: Record<TabularFormat, string> = { csv: 'fuzz.csv', tsv: 'fuzz.tsv', jsonl: 'fuzz.jsonl' };

/** Characters that give the parsers structure. */
const STRUCTURE = [
  '"',
  ',',
  '\t',
  '\n',
  '\r',
  '\r\n',
  ' ',
  'a',
  'b',
  '{',
  '}',
  ':',
  '[',
  ']',
  '\\',
  '\ufeff',
];

const COLUMN_NAMES = [
  'text',
  'pair',
  'label',
  'sentence',
  'id',
  '',
  ' text ',
  'Text',
  '__proto__',
  'constructor',
  'toString',
  'a,b',
  'x"y',
  'tab\there',
  'line\nbreak',
  '\ufefftext',
];

const LABEL_VALUES = [
  '0',
  '1',
  '2',
  '10',
  'pos',
  'neg',
  ' 1 ',
  '1.5',
  '-3',
  '1e3',
  '1e999',
  'NaN',
  'Infinity',
  '0x10',
  '',
  ' ',
  'true',
  '\u00e9',
  '\ud800',
  '__proto__',
];

const columnName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...COLUMN_NAMES) },
  { weight: 1, arbitrary: anyText(8) },
);

const field = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...LABEL_VALUES) },
  { weight: 4, arbitrary: anyText(16) },
  { weight: 3, arbitrary: textOver(STRUCTURE, 12) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_CHARS) },
  { weight: 1, arbitrary: hugeRun(50_000) },
);

/** A text field: mostly a non-blank string, sometimes anything. */
const textField = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) },
  { weight: 3, arbitrary: field },
);

/** A label field: mostly one of a few good labels, sometimes anything. */
const labelField = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('0', '1', 'pos', 'neg', '0.5', '-2') },
  { weight: 2, arbitrary: field },
);

const optionsArb: fc.Arbitrary<TabularOptions & { format: TabularFormat }> = fc.record(
  {
    format: fc.constantFrom<TabularFormat>('csv', 'tsv', 'jsonl'),
    textColumn: fc.oneof({ weight: 5, arbitrary: fc.constant('text') }, { weight: 1, arbitrary: columnName }),
    textPairColumn: fc.constantFrom('pair', 'text', 'label', 'sentence'),
    labelColumn: fc.oneof(
      { weight: 5, arbitrary: fc.constant('label') },
      { weight: 1, arbitrary: columnName },
    ),
    regression: fc.boolean(),
    labels: fc.oneof(
      fc.constant(['0', '1']),
      fc.constant(['neg', 'pos']),
      fc.array(fc.constantFrom(...LABEL_VALUES), { maxLength: 4 }),
    ),
    tsvQuotes: fc.boolean(),
  },
  { requiredKeys: ['format', 'textColumn'] },
);

/** RFC 4180 quoting of one CSV/TSV field when it needs it (or always). */
function quote(f: string, delimiter: string, mode: 'auto' | 'always' | 'never'): string {
  if (mode === 'never') return f;
  if (
    mode === 'always' ||
    f.includes('"') ||
    f.includes(delimiter) ||
    /[\r\n]/.test(f) ||
    f.startsWith('\ufeff')
  )
    return `"${f.replaceAll('"', '""')}"`;
  return f;
}

type RowKind = 'ok' | 'short' | 'long' | 'raw' | 'json-mixed';

interface Structured {
  options: TabularOptions & { format: TabularFormat };
  extra: string[];
  order: number[];
  rows: { text: string; pair: string; label: string; extras: string[]; kind: RowKind; json: unknown }[];
  quoting: 'auto' | 'always' | 'never';
  eol: '\n' | '\r\n';
  bom: boolean;
  finalEol: boolean;
  edits: readonly Edit[];
}

const structuredArb: fc.Arbitrary<Structured> = fc.record({
  options: optionsArb,
  extra: fc.array(columnName, { maxLength: 3 }),
  order: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
  rows: fc.array(
    fc.record({
      text: textField,
      pair: textField,
      label: labelField,
      extras: fc.array(field, { minLength: 4, maxLength: 4 }),
      kind: fc.oneof(
        { weight: 12, arbitrary: fc.constant<RowKind>('ok') },
        { weight: 1, arbitrary: fc.constantFrom<RowKind>('short', 'long', 'raw', 'json-mixed') },
      ),
      json: fc.jsonValue({ maxDepth: 2 }),
    }),
    { maxLength: 8 },
  ),
  quoting: fc.constantFrom('auto', 'auto', 'always', 'never'),
  eol: fc.constantFrom('\n', '\r\n'),
  bom: fc.boolean(),
  finalEol: fc.boolean(),
  edits: fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.array(editArb(textOver(STRUCTURE, 3)), { minLength: 1, maxLength: 3 }) },
  ),
});

/** Write a structured case as file content. */
export function render(s: Structured): string {
  const o = s.options;
  const named = [o.textColumn, o.textPairColumn, o.labelColumn].filter((c): c is string => c !== undefined);
  const cols = [...named, ...s.extra];
  const keyed = cols.map((c, i) => ({ c, k: s.order[i % s.order.length] + i / 100 }));
  const header = keyed.sort((a, b) => a.k - b.k).map((x) => x.c);
  const valueOf = (r: Structured['rows'][number], column: string, i: number): string =>
    column === o.textColumn
      ? r.text
      : column === o.textPairColumn
        ? r.pair
        : column === o.labelColumn
          ? r.label
          : r.extras[i % r.extras.length];
  const lines: string[] = [];
  if (o.format === 'jsonl') {
    for (const r of s.rows) {
      if (r.kind === 'raw') {
        lines.push(r.text);
        continue;
      }
      const obj: Record<string, unknown> = {};
      const n = r.kind === 'short' ? header.length - 1 : header.length;
      for (let i = 0; i < n; i++) {
        const v = valueOf(r, header[i], i);
        obj[header[i]] = r.kind === 'json-mixed' && i === 0 ? r.json : /^-?\d+$/.test(v) ? Number(v) : v;
      }
      if (r.kind === 'long') obj.extra = r.extras[0];
      lines.push(JSON.stringify(obj));
    }
  } else {
    const d = o.format === 'csv' ? ',' : '\t';
    const mode = o.format === 'tsv' && !o.tsvQuotes ? 'never' : s.quoting;
    lines.push(header.map((h) => quote(h, d, mode)).join(d));
    for (const r of s.rows) {
      if (r.kind === 'raw') {
        lines.push([r.text, ...r.extras].join(d));
        continue;
      }
      const fields = header.map((h, i) => valueOf(r, h, i));
      if (r.kind === 'short') fields.pop();
      if (r.kind === 'long' || r.kind === 'json-mixed') fields.push(r.extras[0]);
      lines.push(fields.map((f) => quote(f, d, mode)).join(d));
    }
  }
  const content = (s.bom ? '\ufeff' : '') + lines.join(s.eol) + (s.finalEol ? s.eol : '');
  return applyEdits(content, s.edits);
}

/** Data rows of a file, counted independently of the row parser where that is easy. */
function dataRows(content: string, o: TabularOptions & { format: TabularFormat }): number {
  if (o.format === 'jsonl') {
    return stripBom(content)
      .split('\n')
      .filter((l) => (l.endsWith('\r') ? l.slice(0, -1) : l).trim() !== '').length;
  }
  if (o.format === 'tsv' && !o.tsvQuotes) {
    const lines = stripBom(content)
      .split('\n')
      .filter((l) => (l.endsWith('\r') ? l.slice(0, -1) : l) !== '').length;
    return Math.max(0, lines - 1);
  }
  return Math.max(0, parseDelimited(content, o.format === 'csv' ? ',' : '\t', true).length - 1);
}

function checkData(
  d: TabularData,
  content: string,
  o: TabularOptions & { format: TabularFormat },
  skip: boolean,
) {
  const file = FILES[o.format];
  check(d.file === file && d.format === o.format, 'file or format not echoed');
  let prevLine = 0;
  for (const ex of d.examples) {
    check(
      typeof ex.text === 'string' && ex.text.trim() !== '',
      () => `empty text kept: ${JSON.stringify(ex)}`,
    );
    if (o.textPairColumn === undefined) check(ex.pair === undefined, 'pair without a pair column');
    else
      check(
        typeof ex.pair === 'string' && ex.pair.trim() !== '',
        () => `empty pair kept: ${JSON.stringify(ex)}`,
      );
    check(
      Number.isSafeInteger(ex.line) && ex.line > prevLine,
      () => `line numbers not increasing at ${ex.line}`,
    );
    prevLine = ex.line;
    if (o.labelColumn === undefined) check(Number.isNaN(ex.label), 'label without a label column');
    else if (o.regression) check(Number.isFinite(ex.label), () => `regression label ${ex.label} not finite`);
    else {
      check(d.labels !== null, 'class labels without a label list');
      const n = d.labels.length;
      check(
        Number.isInteger(ex.label) && ex.label >= 0 && ex.label < n,
        () => `label ${ex.label} not in [0, ${n})`,
      );
    }
  }
  if (o.labelColumn === undefined || o.regression)
    check(d.labels === null, 'label list without class labels');
  else if (o.labels) check(JSON.stringify(d.labels) === JSON.stringify(o.labels), 'labels option not kept');
  else check(new Set(d.labels).size === d.labels!.length, 'inferred labels not distinct');
  if (!skip) {
    check(d.skipped.length === 0, 'rows skipped under onBadRow throw');
    return;
  }
  let prev = 0;
  const kept = new Set(d.examples.map((e) => e.line));
  for (const s of d.skipped) {
    check(Number.isSafeInteger(s.line) && s.line >= prev, () => `skipped lines not sorted at ${s.line}`);
    check(!kept.has(s.line), () => `line ${s.line} both kept and skipped`);
    check(s.reason !== '' && !/[\r\n]/.test(s.reason), () => `bad skip reason ${JSON.stringify(s.reason)}`);
    prev = s.line;
  }
  const rows = dataRows(content, o);
  check(
    d.examples.length + d.skipped.length === rows,
    () => `${d.examples.length} kept + ${d.skipped.length} skipped != ${rows} data rows`,
  );
}

/** The first line of JSONL content that parses as a JSON object, if any. */
function firstJsonObject(content: string): object | undefined {
  for (const line of stripBom(content).split('\n')) {
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v;
    } catch {
      // not JSON: a bad row
    }
  }
  return undefined;
}

/** Parse under both policies and check each result and their agreement. */
function checkBothPolicies(content: string, o: TabularOptions & { format: TabularFormat }): void {
  const file = FILES[o.format];
  const rules = { prefix: file };
  const strict = expectUserErrorOrSuccess(
    () => parseTabular(content, file, { ...o, onBadRow: 'throw' }),
    rules,
  );
  const lenient = expectUserErrorOrSuccess(
    () => parseTabular(content, file, { ...o, onBadRow: 'skip' }),
    rules,
  );
  if (o.format === 'jsonl') {
    // A column missing from the first JSON object is a wrong option whatever the policy.
    const first = firstJsonObject(content);
    const missing = [o.textColumn, o.textPairColumn, o.labelColumn].find(
      (c) => first !== undefined && c !== undefined && !Object.hasOwn(first, c),
    );
    if (missing !== undefined) {
      check(
        !lenient.ok && lenient.error.message.includes(oneLine(`no column "${missing}"`)),
        () => `column ${JSON.stringify(missing)} missing from the first object was not reported`,
      );
    }
  }
  if (strict.ok) checkData(strict.value, content, o, false);
  if (lenient.ok) checkData(lenient.value, content, o, true);
  if (strict.ok) {
    check(lenient.ok, () => `'skip' threw where 'throw' succeeded: ${lenient.ok || lenient.error.message}`);
    check(lenient.value.skipped.length === 0, "'skip' skipped rows that 'throw' accepted");
    check(
      JSON.stringify([strict.value.examples, strict.value.labels]) ===
        JSON.stringify([lenient.value.examples, lenient.value.labels]),
      "'throw' and 'skip' kept different examples",
    );
  } else if (lenient.ok) {
    check(
      lenient.value.skipped.length > 0,
      () => `'throw' failed with nothing to skip: ${strict.error.message}`,
    );
  }
}

const rawContent = fc.oneof(
  anyText(200),
  textOver(STRUCTURE, 200),
  fc
    .array(fc.oneof(fc.json({ maxDepth: 2 }), textOver(STRUCTURE, 20)), { maxLength: 6 })
    .map((l) => l.join('\n')),
);

/** RFC 4180 records → CSV text → parseDelimited gives the same fields and start lines. */
const csvRoundTrip = fuzzTarget({
  name: 'tabular: CSV write/parse round trip',
  arbitrary: fc.record({
    records: fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { maxLength: 8 }),
    eol: fc.constantFrom('\n', '\r\n'),
    bom: fc.boolean(),
  }),
  predicate({ records, eol, bom }) {
    const kept = records.filter((r) => !(r.length === 1 && r[0] === ''));
    const lines = kept.map((r) => r.map((f) => quote(f, ',', 'auto')).join(','));
    const content = (bom ? '\ufeff' : '') + lines.join(eol);
    const parsed = parseDelimited(content, ',', true);
    check(parsed.length === kept.length, () => `${parsed.length} records parsed, ${kept.length} written`);
    let line = 1;
    for (let i = 0; i < kept.length; i++) {
      check(parsed[i].error === undefined, () => `record ${i}: ${parsed[i].error}`);
      check(JSON.stringify(parsed[i].fields) === JSON.stringify(kept[i]), () => `record ${i} fields differ`);
      check(parsed[i].line === line, () => `record ${i} starts on line ${parsed[i].line}, expected ${line}`);
      line += lines[i].split('\n').length - 1 + 1;
    }
  },
});

export const TABULAR_FUZZ: SomeFuzzTarget[] = [
  fuzzTarget({
    name: 'tabular: arbitrary content',
    arbitrary: fc.record({ content: rawContent, options: optionsArb }),
    predicate: ({ content, options }) => checkBothPolicies(content, options),
  }),
  fuzzTarget({
    name: 'tabular: structured files with corruptions',
    arbitrary: structuredArb,
    predicate: (s) => checkBothPolicies(render(s), s.options),
  }),
  csvRoundTrip,
];

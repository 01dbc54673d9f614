/**
 * Fuzz targets for the GLUE TSV reader (glue.ts); run by glue.fuzz.test.ts and bench/fuzz.ts.
 *
 * Inputs: for every task in GLUE_TASKS, a TSV file in the task's layout (header or not, columns at the
 * task's positions) with odd fields, short/long rows and random edits, plus arbitrary strings. Each is
 * parsed under both bad-row policies, with and without labels. Checked: success or a one-line UserError
 * starting with the file name; texts and pairs non-blank; labels are indexes into the task's labels (a
 * finite score for STS-B, NaN without labels); with 'skip', kept + skipped rows = data rows; 'throw'
 * succeeds exactly when 'skip' succeeds with nothing skipped, and then both agree.
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
  GLUE_TASK_NAMES,
  GLUE_TASKS,
  type GlueData,
  type GlueReadOptions,
  type GlueTaskName,
  parseGlue,
} from './glue.js';
import { stripBom } from './tabular.js';

const FILE = 'fuzz.tsv';
const STRUCTURE = ['\t', '\n', '\r', '\r\n', '"', ' ', 'a', '\ufeff'];

const field = fc.oneof(
  { weight: 4, arbitrary: anyText(16) },
  { weight: 2, arbitrary: textOver(STRUCTURE, 8) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('', ' ', '0', '1', '2', '5.0', '-1', 'NaN', 'nan', 'Infinity', '1e999'),
  },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_CHARS) },
  { weight: 1, arbitrary: hugeRun(20_000) },
);
const textField = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) },
  { weight: 2, arbitrary: field },
);
const labelField = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '0',
      '1',
      'entailment',
      'not_entailment',
      'contradiction',
      'neutral',
      '3.8',
      '0.000',
      ' 1',
    ),
  },
  { weight: 2, arbitrary: field },
);

type RowKind = 'ok' | 'short' | 'long' | 'raw';

interface GlueCase {
  task: GlueTaskName;
  header: 'spec' | 'yes' | 'no' | 'shuffled' | 'missing';
  extraColumns: number;
  rows: { text: string; pair: string; label: string; other: string; kind: RowKind }[];
  options: GlueReadOptions;
  eol: '\n' | '\r\n';
  bom: boolean;
  edits: readonly Edit[];
  order: number[];
}

const caseArb: fc.Arbitrary<GlueCase> = fc.record({
  task: fc.constantFrom(...GLUE_TASK_NAMES),
  header: fc.oneof(
    { weight: 6, arbitrary: fc.constant('spec' as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('yes' as const, 'no' as const, 'shuffled' as const, 'missing' as const),
    },
  ),
  extraColumns: fc.nat(3),
  rows: fc.array(
    fc.record({
      text: textField,
      pair: textField,
      label: labelField,
      other: field,
      kind: fc.oneof(
        { weight: 10, arbitrary: fc.constant<RowKind>('ok') },
        { weight: 1, arbitrary: fc.constantFrom<RowKind>('short', 'long', 'raw') },
      ),
    }),
    { maxLength: 8 },
  ),
  options: fc.record(
    {
      split: fc.constantFrom('train' as const, 'dev' as const, 'test' as const),
      labels: fc.boolean(),
      onBadRow: fc.constantFrom('throw' as const, 'skip' as const),
    },
    { requiredKeys: [] },
  ),
  eol: fc.constantFrom('\n', '\r\n'),
  bom: fc.boolean(),
  edits: fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.array(editArb(textOver(STRUCTURE, 3)), { minLength: 1, maxLength: 3 }) },
  ),
  order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
});

/** Write a case as a TSV file in the task's layout. */
export function renderGlue(c: GlueCase): string {
  const spec = GLUE_TASKS[c.task];
  const named = [spec.text, spec.pair, spec.label].filter((x) => x !== undefined);
  const width =
    Math.max(spec.columns ?? 0, ...named.map((x) => (x.index < 0 ? 1 : x.index + 1))) + c.extraColumns;
  const at = (index: number) => (index < 0 ? width + index : index);
  const names = Array.from({ length: width }, (_, i) => `col${i}`);
  for (const x of named) names[at(x.index)] = x.name;
  let order = names.map((_, i) => i);
  if (c.header === 'shuffled') order = order.sort((a, b) => c.order[a % 12] - c.order[b % 12]);
  const roleOf = (i: number): 'text' | 'pair' | 'label' | 'other' =>
    i === at(spec.text.index)
      ? 'text'
      : spec.pair && i === at(spec.pair.index)
        ? 'pair'
        : i === at(spec.label.index)
          ? 'label'
          : 'other';
  const lines: string[] = [];
  const withHeader = c.header === 'spec' ? spec.header : c.header !== 'no';
  if (withHeader) {
    const head = order.map((i) => names[i]);
    if (c.header === 'missing') head[c.order[0] % head.length] = 'nope';
    lines.push(head.join('\t'));
  }
  for (const r of c.rows) {
    if (r.kind === 'raw') {
      lines.push(`${r.text}\t${r.other}`);
      continue;
    }
    const fields = order.map((i) => r[roleOf(i)]);
    if (r.kind === 'short') fields.pop();
    if (r.kind === 'long') fields.push(r.other);
    lines.push(fields.join('\t'));
  }
  return applyEdits((c.bom ? '\ufeff' : '') + lines.join(c.eol), c.edits);
}

/** Non-empty lines, counted independently of the reader. */
function lines(content: string): string[] {
  return stripBom(content)
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l) => l !== '');
}

function checkData(
  d: GlueData,
  task: GlueTaskName,
  content: string,
  o: GlueReadOptions,
  skip: boolean,
): void {
  const spec = GLUE_TASKS[task];
  check(
    d.task === spec.name && d.file === FILE && d.labels === spec.labels,
    'task, file or labels not echoed',
  );
  const withLabels = o.labels ?? o.split !== 'test';
  let prev = 0;
  for (const ex of d.examples) {
    check(ex.text.trim() !== '', () => `blank text kept on line ${ex.line}`);
    if (spec.pair)
      check(typeof ex.pair === 'string' && ex.pair.trim() !== '', () => `blank pair on line ${ex.line}`);
    else check(ex.pair === undefined, 'pair for a single-sentence task');
    check(Number.isSafeInteger(ex.line) && ex.line > prev, () => `line numbers not increasing at ${ex.line}`);
    prev = ex.line;
    if (!withLabels) check(Number.isNaN(ex.label), 'label read with labels off');
    else if (spec.labels === null) check(Number.isFinite(ex.label), () => `score ${ex.label} not finite`);
    else {
      const n = spec.labels.length;
      check(
        Number.isInteger(ex.label) && ex.label >= 0 && ex.label < n,
        () => `label ${ex.label} not in [0, ${n})`,
      );
    }
  }
  if (!skip) {
    check(d.skipped.length === 0, "rows skipped under onBadRow 'throw'");
    return;
  }
  const kept = new Set(d.examples.map((e) => e.line));
  for (const s of d.skipped) {
    check(!kept.has(s.line), () => `line ${s.line} both kept and skipped`);
    check(s.reason !== '' && !/[\r\n]/.test(s.reason), () => `bad skip reason ${JSON.stringify(s.reason)}`);
  }
  const all = lines(content);
  const hasHeader = all.length > 0 && (spec.header || all[0].split('\t').includes(spec.text.name));
  const rows = all.length - (hasHeader ? 1 : 0);
  check(
    d.examples.length + d.skipped.length === rows,
    () => `${d.examples.length} kept + ${d.skipped.length} skipped != ${rows} data rows`,
  );
}

function checkGlue(task: GlueTaskName, content: string, options: GlueReadOptions): void {
  const rules = { prefix: FILE };
  const strict = expectUserErrorOrSuccess(
    () => parseGlue(task, content, FILE, { ...options, onBadRow: 'throw' }),
    rules,
  );
  const lenient = expectUserErrorOrSuccess(
    () => parseGlue(task, content, FILE, { ...options, onBadRow: 'skip' }),
    rules,
  );
  if (strict.ok) checkData(strict.value, task, content, options, false);
  if (lenient.ok) checkData(lenient.value, task, content, options, true);
  if (strict.ok) {
    check(lenient.ok, () => `'skip' threw where 'throw' succeeded: ${lenient.ok || lenient.error.message}`);
    check(lenient.value.skipped.length === 0, "'skip' skipped rows that 'throw' accepted");
    check(
      JSON.stringify(strict.value.examples) === JSON.stringify(lenient.value.examples),
      "'throw' and 'skip' kept different examples",
    );
  } else if (lenient.ok) {
    check(
      lenient.value.skipped.length > 0,
      () => `'throw' failed with nothing to skip: ${strict.error.message}`,
    );
  }
}

export const GLUE_FUZZ: SomeFuzzTarget[] = [
  fuzzTarget({
    name: 'glue: task-shaped TSV with corruptions',
    arbitrary: caseArb,
    predicate: (c) => checkGlue(c.task, renderGlue(c), c.options),
  }),
  fuzzTarget({
    name: 'glue: arbitrary content',
    arbitrary: fc.record({
      task: fc.constantFrom(...GLUE_TASK_NAMES),
      content: fc.oneof(anyText(200), textOver(STRUCTURE, 200)),
      labels: fc.boolean(),
    }),
    predicate: ({ task, content, labels }) => checkGlue(task, content, { labels }),
  }),
];

/** `minnow fit`: the whole recipe in one resumable command (src/fit/fit.ts does the work). */
import { bytesText, budgetText, parseBudget, parseBytes } from '../fit/limits.js';
import { DEFAULT_FIT } from '../fit/config.js';
import { WORD_TABLE_STUDENT } from '../fit/distill-stage.js';
import { fit } from '../fit/fit.js';
import type { FitResult, FitRow } from '../fit/report.js';
import { UserError } from '../util/errors.js';
import { formatSeconds } from '../util/progress.js';
import { command, flag, num, type Parsed, required, str } from './args.js';
import { DATA_OPTIONS, dataSource, devOptions, seedThreadsOptions } from './options.js';

const D = DEFAULT_FIT;

export const spec = command({
  name: 'fit',
  summary: 'the whole recipe in one command: baseline, fine-tunes, pick the best that fits, export',
  usage:
    'minnow fit --data PATH [--task T] [--text-column NAME ...] --out DIR [--max-bytes 500k] [--budget 10m] [--resume] [--json]',
  details:
    'Stages, each in OUT/stages/NAME with a result.json written when it finishes: the n-gram baseline (its\n' +
    'hash buckets sized so its int8 file fits --max-bytes; for text pairs also one with 16 features of how\n' +
    'alike the two texts are; where one class holds 60% of the rows or more, also one with the classes\n' +
    'weighted to balance); for each shipped model\n' +
    `(${D.models.join(', ')}) whose int8 file (measured) fits --max-bytes: task-adaptive pre-training (its\n` +
    'masked-LM pre-training continued on the training texts), a fine-tune with the default recipe and the same\n' +
    'seed, and its hybrid with an n-gram path in the bytes left; then a student distilled from the ensemble of\n' +
    'the best models so far on the training rows and WordNet copies of them (the largest of those models; with\n' +
    `${WORD_TABLE_STUDENT.minRows.toLocaleString('en-US')} training rows or more, a new word-table model, uno-lowrank, whose smaller\n` +
    'file leaves its hybrid a larger n-gram path), and its hybrid; then the export of the best dev score among\n' +
    'them to OUT/export (fp32 and int8 ONNX, the int8 accuracy gate on dev) with a model card,\n' +
    'OUT/export/README.md. A summary table goes to stdout. --resume keeps the finished stages and resumes an\n' +
    'unfinished pre-training or fine-tune from its checkpoints. --budget is wall-clock: training that reaches it\n' +
    'evaluates, keeps its best weights so far and stops, the baseline tries no further C, and a stage that would\n' +
    'start after it is skipped (the first always runs; export always runs). The dev score picks the winner and\n' +
    'is reported on the same dev set.',
  options: {
    ...DATA_OPTIONS,
    ...devOptions(D, 'to score and pick by', null),
    out: { type: 'string', value: 'DIR', help: 'the fit directory (stages/, export/, fit.json)' },
    'max-bytes': {
      type: 'string',
      value: 'SIZE',
      help: 'largest int8 model file to ship: bytes, or with k / m (decimal: 500k = 500,000 bytes)',
      default: bytesText(D.maxBytes),
    },
    budget: {
      type: 'string',
      value: 'TIME',
      help: 'wall-clock budget, e.g. 90s, 30m, 1.5h: training stops at it, later stages are skipped',
      default: budgetText(D.budgetSeconds),
    },
    resume: { type: 'boolean', help: 'continue the fit in OUT: finished stages are kept' },
    'no-distill': {
      type: 'boolean',
      help: 'skip the distillation of the best models into a student and its hybrid',
    },
    'no-tapt': {
      type: 'boolean',
      help: 'fine-tune the shipped models as they are, without task-adaptive pre-training first',
    },
    ...seedThreadsOptions(D),
    json: { type: 'boolean', help: 'print the result as one JSON object' },
  },
});

type Options = typeof spec.options;

/** The command as given (every flag with its value, defaults included), for the model card. */
function commandLine(p: Parsed<Options>): string {
  const words = ['minnow', 'fit'];
  for (const name of Object.keys(spec.options) as (keyof Options & string)[]) {
    const v = p.values[name];
    if (v === true) words.push(`--${name}`);
    else if (typeof v === 'string') words.push(`--${name}`, /^[\w./:,=+-]+$/.test(v) ? v : JSON.stringify(v));
  }
  return words.join(' ');
}

export async function run(p: Parsed<Options>): Promise<void> {
  const out = required(p, 'out');
  const maxBytes = parseBytes(str(p, 'max-bytes')!);
  const budgetSeconds = parseBudget(str(p, 'budget')!);
  const src = dataSource(p);
  const devPath = str(p, 'dev');
  const res = await fit(src, devPath ? { ...src, data: devPath } : undefined, {
    ...D,
    out,
    maxBytes,
    budgetSeconds,
    resume: flag(p, 'resume'),
    tapt: !flag(p, 'no-tapt'),
    distill: !flag(p, 'no-distill'),
    seed: num(p, 'seed'),
    threads: num(p, 'threads'),
    devFraction: num(p, 'dev-fraction'),
    command: commandLine(p),
  });
  process.stdout.write(flag(p, 'json') ? `${JSON.stringify(res)}\n` : summary(res));
  if (!res.export.written)
    throw new UserError(
      `fit: the winner's int8 file lost ${res.export.drop?.toFixed(2)} points against fp32 on dev (more than 1): not written; ${res.exportDir} holds fp32 only`,
    );
}

const STATUS: Record<FitRow['status'], string> = {
  ran: '',
  earlier: 'finished earlier',
  skipped: 'skipped: budget spent',
  excluded: 'not run',
};

/** The table and what won, as plain text. */
export function summary(f: FitResult): string {
  const cells = f.rows.map((r) => [
    r.stage,
    r.score === undefined ? '-' : r.score.toFixed(2),
    r.int8
      ? r.int8.bytes.toLocaleString('en-US')
      : r.stage === 'export'
        ? f.export.bytes.toLocaleString('en-US')
        : '-',
    r.seconds === undefined ? '-' : r.seconds.toFixed(1),
    r.picked ? '*' : '',
    [STATUS[r.status], r.note].filter(Boolean).join(': '),
  ]);
  const head = ['stage', 'dev score', 'int8 bytes', 'seconds', 'picked', 'notes'];
  const widths = head.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j].length)));
  const line = (c: string[]) =>
    c
      .map((x, j) => (j === 0 || j === 5 ? x.padEnd(widths[j]) : x.padStart(widths[j])))
      .join('  ')
      .trimEnd();
  const winner = f.rows.find((r) => r.picked)!;
  return [
    line(head),
    ...cells.map(line),
    '',
    `picked ${f.winner}: dev ${f.winnerScore.toFixed(2)}, int8 ${winner.int8!.bytes.toLocaleString('en-US')} bytes (--max-bytes ${f.maxBytes.toLocaleString('en-US')}); ${f.message}`,
    `exported to ${f.exportDir} (${f.export.file}${f.export.written ? `, int8 dev ${f.export.score?.toFixed(2)}, fp32 ${f.export.fp32Score?.toFixed(2)}` : ': NOT WRITTEN, the int8 gate refused it'}); model card ${f.card}; ${formatSeconds(f.seconds)} this run`,
    '',
  ].join('\n');
}

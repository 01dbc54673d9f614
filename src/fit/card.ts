/**
 * The model card of a fit (OUT/export/README.md): what ships and how to run it, how it was made (every
 * stage's dev score, bytes, wall and CPU minutes; the data; the command), and its limits, said plainly.
 */
import { formatBytes } from '../util/progress.js';
import type { FitResult, FitRow } from './report.js';
import { budgetText } from './limits.js';

const points = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(2));
const minutes = (s: number | undefined) => (s === undefined ? '-' : (s / 60).toFixed(2));
const bytes = (b: number | undefined) => (b === undefined ? '-' : b.toLocaleString('en-US'));

const STATUS: Record<FitRow['status'], string> = {
  ran: '',
  earlier: 'finished earlier',
  skipped: 'skipped: the budget was spent',
  excluded: 'not run',
};

function row(r: FitRow): string {
  const note = [STATUS[r.status], r.note].filter(Boolean).join(': ');
  return `| ${r.picked ? `**${r.stage}**` : r.stage} | ${points(r.score)} | ${bytes(r.int8?.bytes)} | ${minutes(r.seconds)} | ${minutes(r.cpuSeconds)} | ${note} |`;
}

/** The card's markdown. */
export function modelCard(f: FitResult): string {
  const ex = f.export;
  const d = f.data;
  const dev =
    d.devSource === 'held-out'
      ? `${d.devExamples} rows of ${d.file} held out (seed ${f.seed}; written to ${d.devFile})`
      : `${d.devExamples} rows of ${d.devFile}`;
  const classes = f.classes ? `classes ${f.classes.join(', ')}` : 'regression (a number per text)';
  const lines = [
    `# ${f.task}: ${f.classes ? `a ${f.classes.length}-class classifier` : 'a regression model'} in ${formatBytes(ex.bytes)} (int8), made by \`minnow fit\``,
    '',
    `${capital(f.message)}.`,
    '',
    `- Shipped: **${f.winner}**, dev score **${points(f.winnerScore)}**${f.baselineScore !== undefined && f.winner !== 'baseline' ? ` (the n-gram baseline: ${points(f.baselineScore)})` : ''}.`,
    `- int8 file: \`${ex.file}\`, ${bytes(ex.bytes)} bytes (${formatBytes(ex.bytes)}; gzip ${formatBytes(ex.gzipBytes)}; ${formatBytes(ex.totalBytes)} with the files its loader reads), limit --max-bytes ${bytes(f.maxBytes)}.`,
    ex.written
      ? `- On the dev rows through the runtime: int8 ${points(ex.score)}, fp32 ${points(ex.fp32Score)} (accuracy gate: int8 may lose at most 1 point).`
      : `- **The int8 file was not written**: it lost ${points(ex.drop)} points against fp32 (${points(ex.fp32Score)}) on dev, more than the gate's 1 point. The folder holds fp32 only.`,
    '',
    '## Use',
    '',
    '```sh',
    `echo "some text" | npx minnow predict --model ${f.exportDir}${ex.written ? ' --quantized' : ''}`,
    `npx minnow serve --model ${f.exportDir}${ex.written ? ' --quantized' : ''}`,
    '```',
    '',
    `The folder also holds the fp32 ONNX file and model.safetensors (the fp32 weights${f.winner === 'baseline' ? '' : ', to fine-tune further'}).`,
    '',
    '## How it was made',
    '',
    ...(f.command ? [`\`${f.command}\``, ''] : []),
    `- Task: ${f.task}, ${classes}.`,
    `- Training rows: ${d.trainExamples} of ${d.file}. Dev rows: ${dev}.`,
    `- Every stage used seed ${f.seed} and the same dev rows; fine-tunes ran minnow's default recipe (learning rate, epochs and maximum length by model and data; the best epoch on dev kept).`,
    `- Wall-clock budget ${budgetText(f.budgetSeconds)}: a stage that would start after it was spent was skipped.`,
    '',
    '| stage | dev score | int8 bytes | wall min | CPU min | notes |',
    '|---|---|---|---|---|---|',
    ...f.rows.map(row),
    '',
    'CPU minutes count all of the process\'s threads (onnxruntime\'s included). A stage that "finished earlier" was kept from an earlier run of the same fit (--resume).',
    '',
    '## Limits',
    '',
    '- The dev score picked the winner and is reported on the same dev set it was picked on: it is an optimistic estimate. Score it on data held back from all of this before trusting it.',
    '- One seed, default recipes, no search: a different seed can move a small model by a point or more.',
    `- Trained only on ${d.file}; text unlike it (another domain, longer documents, another language) is not measured and will likely score lower.`,
    ...(f.rows.some((r) => r.status === 'skipped')
      ? [
          '- Some stages were skipped for the budget (see the table): `minnow fit --resume` with a larger --budget runs them.',
        ]
      : []),
    '',
  ];
  return lines.join('\n');
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

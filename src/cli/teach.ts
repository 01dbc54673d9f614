/** `minnow teach`: teach a fine-tuned model a few labelled sentences while keeping its other answers. */
import { DEFAULT_TEACH, type TeachPart } from '../train/teach.js';
import { teachDir } from '../train/teach-dir.js';
import { UserError } from '../util/errors.js';
import { choice, command, flag, num, type Parsed, required, str } from './args.js';
import { BACKEND_OPTION, backendOrt, seedThreadsOptions } from './options.js';

const D = DEFAULT_TEACH;

export const spec = command({
  name: 'teach',
  summary: 'teach a fine-tuned model a few labelled sentences, keeping its other answers',
  usage: 'minnow teach --model DIR --examples FILE --out DIR [--anchors FILE | --no-anchors]',
  details:
    'FILE holds one "label | sentence" (or label<TAB>sentence) per line; a label is a class name or index. ' +
    "Each step fits the taught sentences while keeping the model's own predictions on the anchor texts " +
    '(Learning without Forgetting; default: DIR/anchors.txt when the folder has one) and pulling the weights ' +
    'toward where they started (L2-SP). It stops once every taught sentence is right by --margin; a run ' +
    'whose loss turns non-finite or rises is rolled back and nothing is written. The page\'s "teach it" ' +
    'panel runs the same code. OUT is a model directory (with the anchors) for predict, export and serve.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'fine-tuned model directory or exported folder' },
    examples: { type: 'string', value: 'FILE', help: 'taught examples, "label | sentence" per line' },
    out: { type: 'string', value: 'DIR', help: 'output model directory' },
    anchors: {
      type: 'string',
      value: 'FILE',
      help: 'texts whose predictions to keep, one per line',
      defaultText: 'DIR/anchors.txt when present',
    },
    'no-anchors': { type: 'boolean', help: 'keep no predictions (only the pull toward the weights)' },
    steps: {
      type: 'string',
      value: 'N',
      help: 'the most steps (fewer once the taught sentences are right)',
      default: String(D.steps),
      number: { int: true, min: 1, max: 10000 },
    },
    lr: {
      type: 'string',
      value: 'X',
      help: 'learning rate (constant)',
      default: String(D.lr),
      number: { above: 0, max: 10 },
    },
    part: {
      type: 'string',
      value: 'P',
      help: 'what trains: model (all), top (classifier, pooler, last layer), head (classifier, pooler)',
      default: D.part,
      choices: ['model', 'top', 'head'],
    },
    margin: {
      type: 'string',
      value: 'X',
      help: "stop when each taught class's probability leads by this (regression: the largest error)",
      default: String(D.margin),
      number: { min: 0, below: 1 },
    },
    'anchor-weight': {
      type: 'string',
      value: 'X',
      help: "weight of keeping the anchors' predictions (KL divergence)",
      default: String(D.anchorWeight),
      number: { min: 0 },
    },
    pull: {
      type: 'string',
      value: 'X',
      help: 'weight of the squared distance to the starting weights (L2-SP)',
      default: String(D.pull),
      number: { min: 0 },
    },
    ...BACKEND_OPTION,
    ...seedThreadsOptions({ seed: D.seed, threads: 1 }),
    json: { type: 'boolean', help: 'print the report as JSON' },
  },
});

const show = (c: { label: string | number; score: number }) =>
  typeof c.label === 'number' ? c.label.toFixed(3) : `${c.label} ${c.score.toFixed(3)}`;

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const out = required(p, 'out');
  const model = required(p, 'model');
  if (flag(p, 'no-anchors') && str(p, 'anchors') !== undefined)
    throw new UserError('--anchors and --no-anchors: give one of them');
  const report = await teachDir({
    model,
    examples: required(p, 'examples'),
    anchors: flag(p, 'no-anchors') ? null : str(p, 'anchors'),
    out,
    threads: num(p, 'threads'),
    ort: await backendOrt(p),
    config: {
      ...DEFAULT_TEACH,
      steps: num(p, 'steps'),
      lr: num(p, 'lr'),
      part: choice<typeof spec.options, TeachPart>(p, 'part', ['model', 'top', 'head']),
      margin: num(p, 'margin'),
      anchorWeight: num(p, 'anchor-weight'),
      pull: num(p, 'pull'),
      seed: num(p, 'seed'),
    },
  });
  if (flag(p, 'json')) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const { result, anchors } = report;
  const rows = report.examples.map((e) => [
    report.labels[e.label] ?? String(e.label),
    show(e.before),
    show(e.after),
    e.text,
  ]);
  const widths = [0, 1, 2].map((k) =>
    Math.max(...[['taught', 'before', 'after'][k], ...rows.map((r) => r[k])].map((s) => s.length)),
  );
  const line = (r: string[]) =>
    `${r
      .slice(0, 3)
      .map((c, k) => c.padEnd(widths[k]))
      .join('  ')}  ${r[3]}`;
  const guard = anchors.count
    ? `guard: ${anchors.changed.length} of ${anchors.count} anchor texts changed label (${anchors.file})` +
      anchors.changed
        .slice(0, 5)
        .map((c) => `\n  ${c.before} -> ${c.after}  ${c.text}`)
        .join('')
    : 'guard: no anchor texts (only the pull toward the starting weights held the other answers)';
  process.stdout.write(
    `${[line(['taught', 'before', 'after', 'sentence']), ...rows.map(line)].join('\n')}\n${guard}\n` +
      `${result.message}; trained on ${result.taughtSeen} taught example${result.taughtSeen === 1 ? '' : 's'} and ${result.anchorsSeen} anchors; model written to ${out}\n`,
  );
}

/** `minnow hybrid`: a fine-tuned transformer plus a fitted n-gram baseline, as one classifier. */
import { combineHybrid, DEFAULT_HYBRID } from '../train/hybrid.js';
import { checkOutDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { command, flag, num, optionalNum, type Parsed, required, str } from './args.js';
import { DATA_OPTIONS, dataSource } from './options.js';

const D = DEFAULT_HYBRID;

export const spec = command({
  name: 'hybrid',
  summary: "add a fitted n-gram baseline's logits to a fine-tuned transformer's (one model, one export)",
  usage: 'minnow hybrid --model DIR --baseline DIR --out DIR (--task T --data PATH | --alpha X)',
  details: `The result's logits are the transformer's plus alpha times the baseline's; alpha is picked on the dev data (--task/--data, as eval reads it) from ${DEFAULT_HYBRID.alphaGrid.join(', ')}, or given with --alpha. The model directory runs in predict, eval, export (int8), serve, and fine-tunes further with both parts training.`,
  options: {
    model: { type: 'string', value: 'DIR', help: 'fine-tuned transformer model directory' },
    baseline: { type: 'string', value: 'DIR', help: 'n-gram model of the same task (minnow baseline)' },
    out: { type: 'string', value: 'DIR', help: 'output model directory' },
    ...DATA_OPTIONS,
    alpha: {
      type: 'string',
      value: 'X',
      help: "the baseline's weight (default: picked on the dev data)",
      number: { min: 0 },
    },
    'max-length': {
      type: 'string',
      value: 'N',
      help: 'tokens per dev example',
      default: String(D.maxLength),
      number: { int: true, min: 3 },
    },
    threads: {
      type: 'string',
      value: 'N',
      help: 'onnxruntime threads',
      default: String(D.threads),
      number: { int: true, min: 1 },
    },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
});

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const model = required(p, 'model');
  const baseline = required(p, 'baseline');
  const out = required(p, 'out');
  if (out === model || out === baseline)
    throw new UserError('hybrid: --out must be a new directory, not one of the inputs');
  const dev = str(p, 'data') ? dataSource(p) : undefined;
  const alpha = optionalNum(p, 'alpha');
  if (!dev && alpha === undefined)
    throw new UserError('hybrid: give --task T --data PATH to pick alpha on dev data, or --alpha X');
  checkOutDir(out);
  const res = await combineHybrid(model, baseline, dev, {
    ...D,
    out,
    alpha,
    maxLength: num(p, 'max-length'),
    threads: num(p, 'threads'),
  });
  if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(res)}\n`);
  else if (res.score === undefined)
    process.stdout.write(`hybrid at alpha ${res.alpha} (not scored); model written to ${out}\n`);
  else {
    const alone = res.path.find((x) => x.alpha === 0)?.score;
    process.stdout.write(
      `dev (${res.devExamples} examples): transformer ${alone?.toFixed(2) ?? '-'}, baseline ${res.baselineScore!.toFixed(2)}, hybrid ${res.score.toFixed(2)} at alpha ${res.alpha} (picked on this dev set); model written to ${out}\n`,
    );
  }
}

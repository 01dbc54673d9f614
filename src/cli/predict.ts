/**
 * `minnow predict`: a label per input line. Each line is one text; for a model fine-tuned on pairs (or
 * with --pairs) it is a text and its pair separated by one TAB. Empty lines and wrong field counts give an
 * error naming the line.
 */
import { join } from 'node:path';
import type { Example } from '../data/tabular.js';
import { firstNonFinite, nonFiniteMessage } from '../infer/finite-logits.js';
import { loadClassifier, readHeadConfig } from '../infer/load.js';
import { taskHead } from '../infer/task-head.js';
import { classifierInput } from '../infer/runtime.js';
import { isBlank } from '../util/blank.js';
import { UserError } from '../util/errors.js';
import { readTextInput } from '../util/text-input.js';
import { command, flag, num, type Parsed, required, str } from './args.js';
import { backendOrt, INFERENCE_OPTIONS } from './options.js';

export const spec = command({
  name: 'predict',
  summary: 'predict labels for lines of text',
  usage: 'minnow predict --model DIR [--input FILE] [--pairs] [--quantized] [--json]',
  options: {
    model: { type: 'string', value: 'DIR', help: 'fine-tuned model directory' },
    input: {
      type: 'string',
      value: 'FILE',
      help: 'input text, one example per line ("text", or "text<TAB>pair" for a pair model); default stdin',
    },
    pairs: {
      type: 'boolean',
      help: 'read every line as text<TAB>pair (the default for models fine-tuned on pairs)',
    },
    quantized: { type: 'boolean', help: "an exported folder's int8 model (onnx/*_quantized.onnx)" },
    ...INFERENCE_OPTIONS,
    json: {
      type: 'boolean',
      help: 'JSON lines {label, scores, logits} instead of "label<TAB>probability" (regression: the value)',
    },
  },
});

/** Lines of the input as examples: whole lines, or exactly two TAB-separated fields for pairs. */
function readExamples(text: string, name: string, pairs: boolean): Example[] {
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l, i) => {
    const where = `${name}:${i + 1}`;
    if (!pairs) {
      if (isBlank(l)) throw new UserError(`${where}: empty text (or only control or zero-width characters)`);
      return { text: l, label: Number.NaN, line: i + 1 };
    }
    const f = l.split('\t');
    if (f.length !== 2)
      throw new UserError(`${where}: expected text<TAB>pair (2 fields) for a pair model, got ${f.length}`);
    if (isBlank(f[0]) || isBlank(f[1])) throw new UserError(`${where}: empty text or pair`);
    return { text: f[0], pair: f[1], label: Number.NaN, line: i + 1 };
  });
}

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const dir = required(p, 'model');
  const head = taskHead(readHeadConfig(dir), join(dir, 'config.json'));
  const input = str(p, 'input');
  // Bounded: `--input /dev/zero` is one line of error, not memory without end.
  const text = readTextInput(input ?? 0, input === undefined ? 'stdin' : `--input ${input}`);
  const examples = readExamples(text, input ?? 'stdin', flag(p, 'pairs') || head.pairs === true);
  const clf = await loadClassifier(dir, {
    maxLength: num(p, 'max-length'),
    threads: num(p, 'threads'),
    quantized: flag(p, 'quantized'),
    ort: await backendOrt(p),
  });
  const preds = await clf.classify(examples.map(classifierInput), num(p, 'batch-size'));
  await clf.release();
  const bad = firstNonFinite(preds.map((x) => x.logits));
  if (bad >= 0)
    throw new UserError(
      nonFiniteMessage(dir, preds[bad].logits, `${input ?? 'stdin'}:${examples[bad].line}`),
    );
  const json = flag(p, 'json');
  const out = preds.map(({ label, scores, logits, score }) => {
    if (json) return JSON.stringify({ label, scores, logits });
    return typeof label === 'number' ? String(label) : `${label}\t${score.toFixed(4)}`;
  });
  process.stdout.write(out.length ? `${out.join('\n')}\n` : '');
}

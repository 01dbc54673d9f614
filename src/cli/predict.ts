/**
 * `minnow predict`: one JSON object per input line ({label, scores, logits}). Input lines are a text,
 * or a text and its pair separated by a tab. Empty lines give an error naming the line.
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../model/io.js';
import { decide, predictLogits } from '../infer/predict.js';
import { encodeAll } from '../data/task.js';
import { UserError } from '../util/errors.js';
import { type CommandSpec, num, type Parsed, str } from './args.js';

export const spec: CommandSpec = {
  name: 'predict',
  summary: 'predict labels for lines of text (JSON lines out)',
  usage: 'minnow predict --model DIR [--input FILE] [--json]',
  options: {
    model: { type: 'string', value: 'DIR', help: 'fine-tuned model directory' },
    input: {
      type: 'string',
      value: 'FILE',
      help: 'input text, one example per line ("text" or "text<TAB>pair"); default stdin',
    },
    'max-length': { type: 'string', value: 'N', help: 'maximum tokens per example', default: '128' },
    threads: { type: 'string', value: 'N', help: 'onnxruntime threads', default: '2' },
    json: { type: 'boolean', help: 'JSON lines (the default; kept for symmetry with the other commands)' },
  },
};

export async function run(p: Parsed): Promise<void> {
  const dir = str(p, 'model');
  if (!dir) throw new UserError('predict: --model DIR is required');
  const input = str(p, 'input');
  let text: string;
  try {
    text = readFileSync(input ?? 0, 'utf8');
  } catch (e) {
    throw new UserError(
      `${input ?? 'stdin'}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const examples = lines.map((l, i) => {
    const [a, b] = l.split('\t');
    if (!a || a.trim() === '') throw new UserError(`${input ?? 'stdin'}:${i + 1}: empty text`);
    return { text: a, pair: b, label: Number.NaN, line: i + 1 };
  });
  const m0 = loadModel(dir);
  const n = m0.config.num_labels;
  if (!n) throw new UserError(`${dir}/config.json: no task head (num_labels); fine-tune the model first`);
  const m = loadModel(dir, { numLabels: n });
  const regression = m.config.problem_type === 'regression';
  const id2label = m.config.id2label ?? {};
  const items = encodeAll(
    m.tokenizer,
    examples,
    Math.min(num(p, 'max-length', { int: true, min: 3 }), m.config.max_position_embeddings),
  );
  const logits = await predictLogits(m, items, n, 64, num(p, 'threads', { int: true, min: 1 }));
  for (const l of logits) {
    const logitArr = Array.from(l);
    if (regression) {
      process.stdout.write(`${JSON.stringify({ label: l[0], scores: [l[0]], logits: logitArr })}\n`);
      continue;
    }
    const max = Math.max(...logitArr);
    const exps = logitArr.map((x) => Math.exp(x - max));
    const z = exps.reduce((a, b) => a + b, 0);
    const k = decide(l, false);
    process.stdout.write(
      `${JSON.stringify({ label: id2label[String(k)] ?? String(k), scores: exps.map((e) => e / z), logits: logitArr })}\n`,
    );
  }
}

/** `minnow eval`: metrics of a fine-tuned model on labelled data. */
import { evaluateModel } from '../infer/evaluate.js';
import { command, flag, num, type Parsed, required, str } from './args.js';
import { backendOrt, DATA_OPTIONS, dataSource, INFERENCE_OPTIONS } from './options.js';

export const spec = command({
  name: 'eval',
  summary: 'evaluate a fine-tuned model or an exported folder on labelled data (official GLUE metrics)',
  usage: 'minnow eval --model DIR (--task T | --text-column NAME) --data PATH [--json]',
  options: {
    model: { type: 'string', value: 'DIR', help: 'fine-tuned model directory' },
    ...DATA_OPTIONS,
    split: {
      type: 'string',
      value: 'S',
      help: 'for a GLUE folder: train or dev',
      default: 'dev',
      choices: ['train', 'dev'],
    },
    quantized: { type: 'boolean', help: "an exported folder's int8 model (onnx/*_quantized.onnx)" },
    ...INFERENCE_OPTIONS,
    json: { type: 'boolean', help: 'print one JSON object' },
  },
});

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const dir = required(p, 'model');
  const src = dataSource(p);
  const res = await evaluateModel(dir, src, str(p, 'split') === 'train' ? 'train' : 'dev', {
    maxLength: num(p, 'max-length'),
    batchSize: num(p, 'batch-size'),
    threads: num(p, 'threads'),
    quantized: flag(p, 'quantized'),
    ort: await backendOrt(p),
  });
  if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(res)}\n`);
  else
    process.stdout.write(
      `${res.task} ${res.file} (${res.examples} examples): ${Object.entries(res.metrics)
        .map(([k, v]) => `${k} ${(100 * (v ?? 0)).toFixed(2)}`)
        .join(', ')}\n`,
    );
}

/** `minnow export`: a fine-tuned model as a transformers.js-ready folder with fp32 and int8 ONNX files. */
import { DEFAULT_EXPORT, exportModel } from '../infer/export-folder.js';
import { checkOutDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { choice, command, flag, num, type Parsed, required, str, optionalNum } from './args.js';
import { DATA_OPTIONS, dataSource } from './options.js';

const D = DEFAULT_EXPORT;

export const spec = command({
  name: 'export',
  summary: 'export a fine-tuned model: ONNX (fp32 and int8) in a transformers.js-ready folder',
  usage: 'minnow export --model DIR --out DIR [--quantize none|int8] [--check T --data PATH] [--max-drop X]',
  details:
    'Writes config.json, tokenizer.json, tokenizer_config.json, vocab.txt and onnx/model.onnx (input_ids,\n' +
    'attention_mask, token_type_ids -> logits; runs on any onnxruntime and in transformers.js), with int8\n' +
    'onnx/model_quantized.onnx. Hash-embedding models also get onnx/model_compact.onnx (+ _quantized): no\n' +
    "embedding table stored; minnow's runtime computes it from the vocabulary. With --check, fp32 and int8\n" +
    'are scored on the data and an int8 file that loses more than --max-drop points is not written (exit 1).',
  options: {
    model: {
      type: 'string',
      value: 'DIR',
      help: 'fine-tuned model directory (minnow or transformers BERT classifier)',
    },
    out: {
      type: 'string',
      value: 'DIR',
      help: 'output folder (replaced atomically if it is an earlier export)',
    },
    quantize: {
      type: 'string',
      value: 'none|int8',
      help: 'also write int8 files',
      default: D.quantize,
      choices: ['none', 'int8'],
    },
    int8: {
      type: 'string',
      value: 'SCHEME',
      help:
        "static (int8 products; activations quantised with ranges calibrated on the model's anchors.txt or the --check texts), " +
        'weight-only (int8 storage, float products) or dynamic (int8 products; activations quantised per token at run time). ' +
        'Default: static, or weight-only where there is nothing to calibrate on',
      choices: ['static', 'weight-only', 'dynamic'],
    },
    check: {
      type: 'string',
      value: 'T',
      help: 'score fp32 and int8 on this task (GLUE name, or a name for own data)',
    },
    data: { ...DATA_OPTIONS.data, help: 'with --check: the labelled data (GLUE folder: its dev split)' },
    'text-column': DATA_OPTIONS['text-column'],
    'text-pair-column': DATA_OPTIONS['text-pair-column'],
    'label-column': DATA_OPTIONS['label-column'],
    regression: DATA_OPTIONS.regression,
    'max-drop': {
      type: 'string',
      value: 'X',
      help: 'largest int8 loss of the task score (points) that is accepted',
      default: String(D.maxDrop),
      number: { min: 0 },
    },
    'max-length': {
      type: 'string',
      value: 'N',
      help: 'tokens per example for --check',
      default: String(D.maxLength),
      number: { int: true, min: 3 },
    },
    'max-positions': {
      type: 'string',
      value: 'N',
      help: "keep the first N position embeddings (e.g. 128: 49 kB less int8 for a 512-position width-128 model); the export then reads at most N tokens per example (default: all the model's)",
      number: { int: true, min: 3 },
    },
    threads: {
      type: 'string',
      value: 'N',
      help: 'onnxruntime threads for --check',
      default: String(D.threads),
      number: { int: true, min: 1, max: 256 },
    },
    json: { type: 'boolean', help: 'print the result as one JSON object' },
  },
});

const kb = (b: number) => `${(b / 1000).toFixed(1)} kB`;

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const model = required(p, 'model');
  const out = required(p, 'out');
  const task = str(p, 'check');
  if (!task && str(p, 'data')) throw new UserError('export: --data needs --check TASK');
  const check = task
    ? { src: dataSource({ spec: p.spec, values: { ...p.values, task } }), split: 'dev' as const }
    : undefined;
  checkOutDir(out, '--out', { create: false }); // a file in the way or a read-only disk: before any work
  const res = await exportModel(model, out, {
    quantize: choice(p, 'quantize', ['none', 'int8'] as const),
    scheme: str(p, 'int8') ? choice(p, 'int8', ['static', 'weight-only', 'dynamic'] as const) : D.scheme,
    staticFallback: !str(p, 'int8'),
    check,
    maxDrop: num(p, 'max-drop'),
    threads: num(p, 'threads'),
    maxLength: num(p, 'max-length'),
    maxPositions: optionalNum(p, 'max-positions'),
  });
  if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(res)}\n`);
  else {
    const lines = [
      `exported ${model} to ${out} (tokenizer and config files ${kb(res.tokenizerBytes)}; model.safetensors, the fp32 weights for fine-tuning, ${kb(res.weightsBytes)})`,
      ...(res.int8 ? [`int8 ${res.int8.note}`] : []),
    ];
    lines.push(
      '| file | bytes | gzip | with the files its loader reads (gzip) | score | drop |',
      '|---|---|---|---|---|---|',
    );
    for (const v of res.variants)
      lines.push(
        `| ${v.file}${v.written ? '' : ' (not written)'} | ${kb(v.bytes)} | ${kb(v.gzipBytes)} | ${kb(v.totalBytes)} (${kb(v.totalGzipBytes)}) | ${v.score?.toFixed(2) ?? '-'} | ${v.drop?.toFixed(2) ?? '-'} |`,
      );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (res.refused.length)
    throw new UserError(
      `int8 lost more than --max-drop ${num(p, 'max-drop')} points: ${res.refused.map((v) => v.replace('_', ' ')).join(', ')} not written`,
    );
}

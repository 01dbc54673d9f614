/** `minnow eval`: metrics of a fine-tuned model on a labelled file. */
import { loadModel } from '../model/io.js';
import { decide, predictLogits } from '../infer/predict.js';
import { metricsFor } from '../eval/task-metrics.js';
import { encodeAll, readTask } from '../data/task.js';
import { taskScore } from '../eval/glue-score.js';
import { UserError } from '../util/errors.js';
import { type CommandSpec, num, type Parsed, str } from './args.js';
import { DATA_OPTIONS, dataSource } from './data-options.js';

export const spec: CommandSpec = {
  name: 'eval',
  summary: 'evaluate a fine-tuned model on labelled data (official GLUE metrics)',
  usage: 'minnow eval --model DIR --task T --data PATH [--json]',
  options: {
    model: { type: 'string', value: 'DIR', help: 'fine-tuned model directory' },
    ...DATA_OPTIONS,
    split: { type: 'string', value: 'S', help: 'for a GLUE folder: train or dev', default: 'dev' },
    'max-length': { type: 'string', value: 'N', help: 'maximum tokens per example', default: '128' },
    threads: { type: 'string', value: 'N', help: 'onnxruntime threads', default: '2' },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
};

export async function run(p: Parsed): Promise<void> {
  const dir = str(p, 'model');
  if (!dir) throw new UserError('eval: --model DIR is required');
  const split = str(p, 'split');
  if (split !== 'train' && split !== 'dev')
    throw new UserError(`--split: expected train or dev, got "${split}"`);
  const src = dataSource(p);
  const m0 = loadModel(dir);
  if (!m0.config.num_labels)
    throw new UserError(`${dir}/config.json: no task head (num_labels); fine-tune the model first`);
  const data = readTask(src, split);
  const regression = m0.config.problem_type === 'regression';
  if ((data.labels === null) !== regression)
    throw new UserError(
      `${dir}: a ${regression ? 'regression' : 'classification'} model cannot be evaluated on ${data.labels === null ? 'regression' : 'classification'} data`,
    );
  const n = m0.config.num_labels;
  if (!regression && data.labels!.length !== n)
    throw new UserError(`${data.file}: ${data.labels!.length} classes but the model has ${n}`);
  const m = loadModel(dir, { numLabels: n });
  const items = encodeAll(
    m.tokenizer,
    data.examples,
    Math.min(num(p, 'max-length', { int: true, min: 3 }), m.config.max_position_embeddings),
  );
  const t0 = performance.now();
  const logits = await predictLogits(m, items, n, 128, num(p, 'threads', { int: true, min: 1 }));
  const seconds = (performance.now() - t0) / 1000;
  const metrics = metricsFor(
    data.task,
    data.labels,
    logits.map((l) => decide(l, regression)),
    items.map((x) => x.label),
  );
  const res = {
    task: data.task,
    file: data.file,
    examples: items.length,
    metrics,
    score: taskScore(metrics),
    examples_per_s: items.length / seconds,
  };
  if (p.values.json) process.stdout.write(`${JSON.stringify(res)}\n`);
  else
    process.stdout.write(
      `${data.task} ${data.file} (${items.length} examples): ${Object.entries(metrics)
        .map(([k, v]) => `${k} ${(100 * (v ?? 0)).toFixed(2)}`)
        .join(', ')}\n`,
    );
}

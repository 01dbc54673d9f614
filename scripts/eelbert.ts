/**
 * Reproduce the EELBERT claim here: pre-train bert-tiny, eelbert-tiny and uno-eelbert on the same corpus
 * with the same token budget, fine-tune each (and each without pre-training) on SST-2, CoLA, MRPC, STS-B,
 * RTE and WNLI, evaluate on dev, and write results/eelbert.json and results/eelbert.md.
 *
 *   npm run build && npx tsx scripts/eelbert.ts [--tokens N] [--batch-size N] [--shared ../shared] [--runs runs/eelbert]
 *       [--cli runs/frozen/dist/cli/main.js]
 *
 * Defaults: two passes over gutenberg_train (2 x 23,677,920 tokens at seq 128) in updates of 16 sequences
 * at lr 1e-3. A 4M-token probe (`minnow pretrain --preset bert-tiny --corpus .../gutenberg_train.txt --valid
 * .../gutenberg_valid.txt --tokens 4000000 --batch-size 16 --lr 1e-3`, and `--batch-size 64 --lr 2e-3`) ended at
 * valid MLM loss 6.20 and 6.37: small batches (more updates per token) win at this budget (batch and lr were
 * changed together; one seed).
 *
 * Every step runs the `minnow` CLI in a child process and is skipped when its output already exists, so
 * an interrupted run continues where it stopped (pre-training itself resumes from its checkpoints).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GLUE_DIR as glueDir, metricCell, readJson as json, ROOT as root, runMinnow } from './lib/minnow.js';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '47355840' }, // two passes over gutenberg_train at seq 128
    'batch-size': { type: 'string', default: '16' },
    cli: { type: 'string' }, // a frozen build, so that rebuilding dist/ mid-run changes nothing
    shared: { type: 'string', default: '../shared' },
    runs: { type: 'string', default: 'runs/eelbert' },
    models: { type: 'string', default: 'bert-tiny,eelbert-tiny,uno-eelbert' },
    tasks: { type: 'string', default: 'sst2,cola,mrpc,stsb,rte,wnli' },
    'pretrain-lr': { type: 'string', default: '1e-3' },
    'finetune-lr': { type: 'string', default: '2e-4' },
    seed: { type: 'string', default: '0' },
  },
});

const shared = resolve(values.shared!);
const runs = resolve(values.runs!);
const corpus = join(shared, 'data', 'corpus', 'gutenberg_train.txt');
const valid = join(shared, 'data', 'corpus', 'gutenberg_valid.txt');
const epochs = { sst2: 2, cola: 4, mrpc: 4, stsb: 4, rte: 4, wnli: 4 } as Record<string, number>;

const minnow = (args: string[]) => runMinnow(args, values.cli ? resolve(values.cli) : undefined);

mkdirSync(runs, { recursive: true });
const models = values.models!.split(',');
const tasks = values.tasks!.split(',');
const seed = values.seed!;
const results: Record<string, unknown>[] = [];

// All pre-training first (so the shipped models are ready early), then all fine-tuning.
for (const preset of models) {
  const pre = join(runs, `${preset}-pretrained`);
  if (!existsSync(join(pre, 'pretrain_result.json'))) {
    const out = minnow([
      'pretrain',
      '--preset',
      preset,
      '--corpus',
      corpus,
      '--valid',
      valid,
      '--out',
      pre,
      '--tokens',
      values.tokens!,
      '--batch-size',
      values['batch-size']!,
      '--lr',
      values['pretrain-lr']!,
      '--eval-every',
      '2000',
      '--checkpoint-every',
      '1000',
      '--cache-dir',
      join(runs, 'cache'),
      '--seed',
      seed,
      '--resume',
      '--json',
    ]);
    writeFileSync(join(pre, 'pretrain_result.json'), out.trim().split('\n').pop()!);
  }
}

for (const preset of models) {
  const pre = join(runs, `${preset}-pretrained`);
  const pretrainResult = json<{ tokens_per_s: number; updates: number; evals: Record<string, number>[] }>(
    join(pre, 'pretrain_result.json'),
  );
  const info = JSON.parse(minnow(['info', pre, '--json'])) as { parameters: number; bytes_weights: number };
  for (const pretrained of [true, false]) {
    const row: Record<string, unknown> = {
      model: preset,
      pretrained,
      parameters: info.parameters,
      bytes_on_disk: info.bytes_weights,
      pretrain_tokens: pretrained ? Number(values.tokens) : 0,
      pretrain_batch: pretrained ? Number(values['batch-size']) : null,
      pretrain_tokens_per_s: pretrained ? pretrainResult.tokens_per_s : null,
      pretrain_valid: pretrained ? pretrainResult.evals[pretrainResult.evals.length - 1] : null,
    };
    for (const task of tasks) {
      const out = join(runs, `${preset}-${pretrained ? 'pt' : 'scratch'}-${task}`);
      if (!existsSync(join(out, 'eval_results.json'))) {
        minnow([
          'finetune',
          ...(pretrained ? ['--model', pre] : ['--preset', preset]),
          '--task',
          task,
          '--data',
          join(shared, 'data', 'glue', glueDir[task]),
          '--out',
          out,
          '--epochs',
          String(epochs[task]),
          '--lr',
          values['finetune-lr']!,
          '--batch-size',
          '32',
          '--seed',
          seed,
        ]);
      }
      const r = json<{ metrics: Record<string, number>; score: number }>(join(out, 'eval_results.json'));
      row[task] = { ...r.metrics, score: r.score };
    }
    const scores = tasks.map((t) => (row[t] as { score: number }).score);
    row.average = scores.reduce((a, b) => a + b, 0) / scores.length;
    const noWnli = tasks.filter((t) => t !== 'wnli').map((t) => (row[t] as { score: number }).score);
    row.average_without_wnli = noWnli.reduce((a, b) => a + b, 0) / noWnli.length;
    results.push(row);
  }
}

// Results: JSON and a Markdown table.
mkdirSync(join(root, 'results'), { recursive: true });
writeFileSync(
  join(root, 'results', 'eelbert.json'),
  `${JSON.stringify({ command: `npx tsx scripts/eelbert.ts --tokens ${values.tokens} --batch-size ${values['batch-size']} --pretrain-lr ${values['pretrain-lr']} --finetune-lr ${values['finetune-lr']} --seed ${seed}`, date: new Date().toISOString(), tasks, results }, null, 2)}\n`,
);
const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(1) : '-');
const cell = (task: string, r: Record<string, unknown>) =>
  metricCell(task, r[task] as Record<string, number>);
const head = [
  'model',
  'pre-trained',
  ...tasks.map((t) => glueDir[t]),
  'avg',
  'avg w/o WNLI',
  'params',
  'MB',
  'pre-train tok/s',
];
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
for (const r of results) {
  lines.push(
    `| ${r.model} | ${r.pretrained ? 'yes' : 'no'} | ${tasks.map((t) => cell(t, r)).join(' | ')} | ${fmt(r.average)} | ${fmt(r.average_without_wnli)} | ${(r.parameters as number).toLocaleString('en-US')} | ${((r.bytes_on_disk as number) / 1e6).toFixed(2)} | ${r.pretrain_tokens_per_s ? Math.round(r.pretrain_tokens_per_s as number).toLocaleString('en-US') : '-'} |`,
  );
}
writeFileSync(join(root, 'results', 'eelbert.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);

/**
 * K-BERT results (issue 12): bert-tiny (random init: no pre-trained bert-tiny ships) and eelbert-tiny (the
 * shipped pre-trained model), fine-tuned with and without WordNet knowledge on SST-2 (a 20,000-sentence
 * sample), MRPC, STS-B, RTE and low-data SST-2 (1,000 sentences, where unseen words may be reached through
 * synonyms), plus the visible-matrix ablation on low-data SST-2; what the injection costs: tokens per
 * example (the table), and with --speed-reps, medians of inference sentences/s and training throughput on a
 * quiet host (each row's JSON also keeps its own wall time and eval speed, taken while other work ran).
 * The score is the task's (MRPC: mean of F1 and accuracy; STS-B: mean of Pearson and Spearman).
 * Writes results/kbert.json and results/kbert.md.
 *
 *   npm run build && npx tsx scripts/kbert.ts [--shared ../shared] [--runs runs/kbert] [--threads 2]
 *       [--cli dist/cli/main.js] [--report-only]
 *
 * Each fine-tuning runs the `minnow` CLI in a child process and is skipped when its result exists, so an
 * interrupted run continues where it stopped (`--cli` can point at a frozen copy of the build).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../src/util/rng.js';
import { GLUE_DIR, metricCell, readJson, ROOT, runMinnow } from './lib/minnow.js';

const { values } = parseArgs({
  options: {
    shared: { type: 'string', default: '../shared' },
    runs: { type: 'string', default: 'runs/kbert' },
    threads: { type: 'string', default: '2' },
    lr: { type: 'string', default: '1e-3' },
    cli: { type: 'string' },
    'report-only': { type: 'boolean', default: false },
    /** Also time the injection on a quiet host: eval and one training epoch of low-data SST-2, N runs each. */
    'speed-reps': { type: 'string', default: '0' },
  },
});
const runs = join(ROOT, values.runs!);
const glue = join(values.shared!, 'data', 'glue');

interface Task {
  name: string; // row label
  task: string; // GLUE task
  data: string; // folder
  epochs: number;
}

/** A GLUE SST-2 folder whose train.tsv is a seeded sample of n sentences (dev.tsv unchanged). */
function sst2Sample(n: number): string {
  const dir = join(runs, 'data', `SST-2-${n}`);
  if (!existsSync(join(dir, 'train.tsv'))) {
    const [header, ...rows] = readFileSync(join(glue, 'SST-2', 'train.tsv'), 'utf8')
      .trimEnd()
      .split('\n');
    const sample = new Rng(17).shuffle(rows).slice(0, n);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'train.tsv'), `${[header, ...sample].join('\n')}\n`);
    writeFileSync(join(dir, 'dev.tsv'), readFileSync(join(glue, 'SST-2', 'dev.tsv')));
  }
  return dir;
}

// Cheap tasks first, so an interrupted run has the most rows.
const TASKS: Task[] = [
  { name: 'SST-2 (1k)', task: 'sst2', data: sst2Sample(1_000), epochs: 5 },
  { name: 'MRPC', task: 'mrpc', data: join(glue, GLUE_DIR.mrpc), epochs: 3 },
  { name: 'STS-B', task: 'stsb', data: join(glue, GLUE_DIR.stsb), epochs: 3 },
  { name: 'RTE', task: 'rte', data: join(glue, GLUE_DIR.rte), epochs: 3 },
  { name: 'SST-2 (20k)', task: 'sst2', data: sst2Sample(20_000), epochs: 2 },
];
const MODELS: Record<string, string[]> = {
  'bert-tiny': ['--preset', 'bert-tiny'],
  'eelbert-tiny': ['--model', 'models/eelbert-tiny'],
};
const KNOWLEDGE: Record<string, string[]> = {
  none: [],
  wordnet: ['--knowledge', 'wordnet'],
  'wordnet, no visible matrix': ['--knowledge', 'wordnet', '--visible-matrix', 'off'],
};

interface Row {
  model: string;
  task: string;
  knowledge: string;
  metrics: Record<string, number>;
  score: number;
  train_s: number;
  train_tokens_per_s: number;
  tokens_per_example: number;
  eval_examples_per_s: number;
}

function run(model: string, t: Task, knowledge: string): Row | undefined {
  const out = join(
    runs,
    `${model}-${t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${knowledge.replace(/[^a-z]+/g, '-')}`,
  );
  const file = join(out, 'kbert_row.json');
  if (existsSync(file)) return readJson<Row>(file);
  if (values['report-only']) return undefined;
  const t0 = performance.now();
  const res = JSON.parse(
    runMinnow(
      [
        'finetune',
        ...MODELS[model],
        '--task',
        t.task,
        '--data',
        t.data,
        '--out',
        out,
        '--epochs',
        String(t.epochs),
        '--lr',
        values.lr!,
        '--threads',
        values.threads!,
        ...KNOWLEDGE[knowledge],
        '--json',
      ],
      values.cli,
    ),
  );
  const trainS = (performance.now() - t0) / 1000;
  const ev = JSON.parse(
    runMinnow(
      ['eval', '--model', out, '--task', t.task, '--data', t.data, '--threads', values.threads!, '--json'],
      values.cli,
    ),
  );
  const row: Row = {
    model,
    task: t.name,
    knowledge,
    metrics: res.metrics,
    score: res.score,
    train_s: trainS,
    train_tokens_per_s: res.tokensPerSecond,
    tokens_per_example: res.tokensPerExample,
    eval_examples_per_s: ev.examples_per_s,
  };
  writeFileSync(file, `${JSON.stringify(row, null, 2)}\n`);
  return row;
}

const rows: Row[] = [];
for (const t of TASKS)
  for (const model of Object.keys(MODELS))
    for (const k of Object.keys(KNOWLEDGE)) {
      if (k === 'wordnet, no visible matrix' && t.name !== 'SST-2 (1k)') continue;
      const r = run(model, t, k);
      if (r) rows.push(r);
    }

const find = (model: string, task: string, k: string) =>
  rows.find((r) => r.model === model && r.task === task && r.knowledge === k);
const lines = [
  '| model | task | metric | no knowledge | WordNet | gain (score) | tokens/example |',
  '|---|---|---|---|---|---|---|',
];
for (const model of Object.keys(MODELS))
  for (const t of TASKS) {
    const a = find(model, t.name, 'none');
    const b = find(model, t.name, 'wordnet');
    if (!a && !b) continue;
    const metric = { sst2: 'accuracy', mrpc: 'F1/accuracy', stsb: 'Pearson/Spearman', rte: 'accuracy' }[
      t.task
    ];
    const gain = a && b ? (b.score - a.score).toFixed(1) : '-';
    const pair = (f: (r: Row) => string) => `${a ? f(a) : '-'} -> ${b ? f(b) : '-'}`;
    lines.push(
      `| ${model} | ${t.name} | ${metric} | ${a ? metricCell(t.task, a.metrics) : '-'} | ${b ? metricCell(t.task, b.metrics) : '-'} | ${gain} | ${pair((r) => r.tokens_per_example.toFixed(1))} |`,
    );
  }
lines.push(
  '',
  'Visible-matrix ablation (low-data SST-2, accuracy):',
  '',
  '| model | no knowledge | WordNet | WordNet, no visible matrix |',
  '|---|---|---|---|',
);
for (const model of Object.keys(MODELS)) {
  const cells = Object.keys(KNOWLEDGE).map((k) => find(model, 'SST-2 (1k)', k));
  lines.push(`| ${model} | ${cells.map((r) => (r ? metricCell('sst2', r.metrics) : '-')).join(' | ')} |`);
}
/** Medians of `reps` timed runs: inference sentences/s on SST-2 dev and training tokens/s, with and without WordNet. */
interface Speed {
  model: string;
  knowledge: string;
  eval_examples_per_s: number;
  train_tokens_per_s: number;
  train_examples_per_s: number;
  tokens_per_example: number;
}
const speed: Speed[] = [];
const reps = Number(values['speed-reps']);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
if (reps > 0) {
  const t = TASKS.find((x) => x.name === 'SST-2 (1k)')!;
  for (const model of Object.keys(MODELS))
    for (const k of ['none', 'wordnet']) {
      const dir = join(runs, `${model}-sst-2-1k--${k}`);
      const evals: number[] = [];
      const trains: { tps: number; eps: number; tpe: number }[] = [];
      for (let r = 0; r < reps; r++) {
        const ev = JSON.parse(
          runMinnow(
            [
              'eval',
              '--model',
              dir,
              '--task',
              'sst2',
              '--data',
              t.data,
              '--threads',
              values.threads!,
              '--json',
            ],
            values.cli,
          ),
        );
        evals.push(ev.examples_per_s);
        const t0 = performance.now();
        const res = JSON.parse(
          runMinnow(
            [
              'finetune',
              '--model',
              dir,
              '--task',
              'sst2',
              '--data',
              t.data,
              '--out',
              join(runs, 'speed', `${model}-${k}-${r}`),
              '--epochs',
              '1',
              '--threads',
              values.threads!,
              '--json',
              ...KNOWLEDGE[k],
            ],
            values.cli,
          ),
        );
        trains.push({
          tps: res.tokensPerSecond,
          eps: res.trainExamples / ((performance.now() - t0) / 1000),
          tpe: res.tokensPerExample,
        });
      }
      speed.push({
        model,
        knowledge: k,
        eval_examples_per_s: median(evals),
        train_tokens_per_s: median(trains.map((x) => x.tps)),
        train_examples_per_s: median(trains.map((x) => x.eps)),
        tokens_per_example: trains[0].tpe,
      });
    }
  lines.push(
    '',
    `Speed (low-data SST-2, median of ${reps}; ${values.threads} threads): inference over the 872 dev sentences, one training epoch over 1,000 sentences (wall time includes loading):`,
    '',
    '| model | knowledge | tokens/example | eval sentences/s | train tokens/s | train sentences/s |',
    '|---|---|---|---|---|---|',
  );
  for (const x of speed)
    lines.push(
      `| ${x.model} | ${x.knowledge} | ${x.tokens_per_example.toFixed(1)} | ${x.eval_examples_per_s.toFixed(0)} | ${x.train_tokens_per_s.toFixed(0)} | ${x.train_examples_per_s.toFixed(0)} |`,
    );
}
mkdirSync(join(ROOT, 'results'), { recursive: true });
writeFileSync(
  join(ROOT, 'results', 'kbert.json'),
  `${JSON.stringify({ lr: values.lr, threads: values.threads, rows, speed }, null, 2)}\n`,
);
writeFileSync(join(ROOT, 'results', 'kbert.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);

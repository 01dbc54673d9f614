/**
 * Tiny embeddings at equal bytes: each embedding variant on the same fine-tuning recipe from random init,
 * scored on dev in fp32 and int8, against the bytes of the int8 file minnow ships for it (the compact file
 * for hash models, whose table is computed at load; the portable file for table and lowrank models).
 * Writes results/embedding-bytes.json and results/embedding-bytes.md.
 *
 *   npm run build && npx tsx scripts/embedding-bytes.ts [--variants uno-eelbert,lowrank-k4,...] [--tasks sst2,stsb]
 *       [--seeds 0,1] [--threads 2] [--runs runs/embedding-bytes] [--cli runs/frozen/dist/cli/main.js]
 *       [--shared ../shared]
 *
 * Recipe (every variant, every task): lr 1e-3, batch 32, 3 epochs (the recipe that did best for uno-eelbert
 * in the issue's probe); SST-2 on its first 20,000 training sentences, dev whole. No pre-training: this
 * isolates what the embedding brings to a model trained on the task alone; scripts/budget-curve.ts measures
 * what pre-training adds. Each step is a `minnow` child process, skipped when its output exists.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exportChecked, glueData, mean, portablePaths, readJson, ROOT, runMinnow } from './lib/minnow.js';
import { VARIANTS } from './lib/variants.js';

const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: VARIANTS.map((v) => v.name).join(',') },
    tasks: { type: 'string', default: 'sst2,stsb' },
    seeds: { type: 'string', default: '0' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: 'runs/embedding-bytes' },
    cli: { type: 'string' },
    shared: { type: 'string', default: '../shared' },
  },
});
const runs = resolve(values.runs!);
const shared = resolve(values.shared!);
const tasks = values.tasks!.split(',');
const seeds = values.seeds!.split(',');
const chosen = values.variants!.split(',').map((n) => {
  const v = VARIANTS.find((x) => x.name === n);
  if (!v) throw new Error(`unknown variant "${n}" (variants: ${VARIANTS.map((x) => x.name).join(', ')})`);
  return v;
});
const minnow = (args: string[]) => runMinnow(args, values.cli ? resolve(values.cli) : undefined);
const epochs = '3';
mkdirSync(runs, { recursive: true });

/** One variant, task and seed: fine-tune (skipped when done), export with the int8 check (likewise). */
function run(v: (typeof VARIANTS)[number], task: string, seed: string) {
  const out = join(runs, `${v.name}-${task}-s${seed}`);
  const data = glueData(shared, runs, task);
  if (!existsSync(join(out, 'eval_results.json')))
    minnow([
      'finetune',
      ...v.flags,
      '--task',
      task,
      '--data',
      data,
      '--out',
      out,
      '--epochs',
      epochs,
      '--lr',
      '1e-3',
      '--batch-size',
      '32',
      '--threads',
      values.threads!,
      '--seed',
      seed,
    ]);
  const ex = exportChecked(minnow, out, task, data, values.threads!);
  const metrics = readJson<{ metrics: Record<string, number> }>(join(out, 'eval_results.json')).metrics;
  return {
    file: ex.file,
    bytes: ex.bytes,
    gzip: ex.gzip,
    dir: out,
    fp32: ex.fp32,
    int8: ex.int8,
    metrics,
  };
}

const rows = chosen.map((v) => {
  const per = tasks.map((task) => ({ task, seeds: seeds.map((s) => run(v, task, s)) }));
  const first = per[0].seeds[0];
  const int8 = Object.fromEntries(per.map((t) => [t.task, mean(t.seeds.map((r) => r.int8))]));
  const fp32 = Object.fromEntries(per.map((t) => [t.task, mean(t.seeds.map((r) => r.fp32))]));
  return {
    name: v.name,
    what: v.what,
    encoder: `${v.layers ?? 1} layer${(v.layers ?? 1) > 1 ? 's' : ''}`,
    file: first.file,
    int8_bytes: first.bytes,
    int8_gzip: first.gzip,
    parameters: (JSON.parse(minnow(['info', first.dir, '--json'])) as { parameters: number }).parameters,
    fp32,
    int8,
    avg_int8: mean(tasks.map((t) => int8[t])),
    runs: per,
  };
});

const kB = (b: number) => `${(b / 1000).toFixed(1)} kB`;
const f = (x: number) => x.toFixed(1);
const sorted = [...rows].sort((a, b) => a.int8_bytes - b.int8_bytes);
const lines = [
  `Fine-tuned from random init (lr 1e-3, batch 32, ${epochs} epochs; SST-2 on its first 20,000 sentences), seeds ${seeds.join(', ')} (mean), ${values.threads} threads. Scores on dev: int8 (fp32 in brackets).`,
  '',
  `| variant | embedding | encoder | int8 file | bytes (gzip) | stored parameters | ${tasks.map((t) => t.toUpperCase()).join(' | ')} | mean int8 |`,
  `|---|---|---|---|---|---|${tasks.map(() => '---').join('|')}|---|`,
  ...sorted.map(
    (r) =>
      `| ${r.name} | ${r.what} | ${r.encoder} | ${r.file.replace('_quantized', ' int8')} | ${kB(r.int8_bytes)} (${kB(r.int8_gzip)}) | ${r.parameters.toLocaleString('en-US')} | ${tasks.map((t) => `${f(r.int8[t])} (${f(r.fp32[t])})`).join(' | ')} | ${f(r.avg_int8)} |`,
  ),
  '',
  ...statements(sorted),
];
const command = `npx tsx scripts/embedding-bytes.ts --variants ${values.variants} --tasks ${values.tasks} --seeds ${values.seeds} --threads ${values.threads}`;
writeFileSync(
  join(ROOT, 'results', 'embedding-bytes.json'),
  `${JSON.stringify({ command, date: new Date().toISOString(), epochs: Number(epochs), lr: 1e-3, batch: 32, sst2_train: 20_000, rows }, portablePaths(shared), 2)}\n`,
);
writeFileSync(join(ROOT, 'results', 'embedding-bytes.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);

/**
 * Equal bytes: variants whose int8 files are within 10% of each other's size form a class; in each class
 * the best mean int8 score is named with its margin (one seed or few: differences under a point are even).
 */
function statements(rs: typeof rows): string[] {
  const out: string[] = ['Equal-byte classes (int8 files within 10% of the smallest in the class):', ''];
  let i = 0;
  while (i < rs.length) {
    let j = i + 1;
    while (j < rs.length && rs[j].int8_bytes <= 1.1 * rs[i].int8_bytes) j++;
    const cls = rs.slice(i, j);
    const best = [...cls].sort((a, b) => b.avg_int8 - a.avg_int8);
    const range = `${kB(cls[0].int8_bytes)}${cls.length > 1 ? ` - ${kB(cls[cls.length - 1].int8_bytes)}` : ''}`;
    out.push(
      cls.length === 1
        ? `- ${range}: ${best[0].name} alone (${f(best[0].avg_int8)}).`
        : `- ${range}: ${best[0].name} is best (${f(best[0].avg_int8)}), ${best
            .slice(1)
            .map(
              (r) =>
                `${r.name} ${r.avg_int8 - best[0].avg_int8 >= 0 ? '+' : ''}${f(r.avg_int8 - best[0].avg_int8)}`,
            )
            .join(
              ', ',
            )}${best[0].avg_int8 - best[1].avg_int8 < 1 ? ' (within a point of the next: even)' : ''}; ${tasks
            .map((t) => {
              const top = [...cls].sort((a, b) => b.int8[t] - a.int8[t]);
              return `${t.toUpperCase()} best ${top[0].name} (${f(top[0].int8[t])}, next ${top[1].name} ${f(top[1].int8[t])})`;
            })
            .join('; ')}.`,
    );
    i = j;
  }
  return out;
}

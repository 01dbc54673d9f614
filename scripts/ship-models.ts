/**
 * Ship the winners. For each shipped model (models/eelbert-tiny, models/uno-eelbert): score the model now in
 * models/ and every pre-trained point of the budget curve for that model (results/curve.json, under
 * --runs) with the curve's fixed fine-tuning recipe (scripts/lib/curve-finetune.ts), and write
 * results/shipped.json and results/shipped.md: each candidate's scores, the best, and bert-tiny's best at
 * the same budget. With --ship, the best replaces models/NAME: config.json + model.safetensors only (the
 * vocabulary is the shipped assets/bert-base-uncased-vocab.txt, named in config.json; no MLM head), and
 * config.json's `minnow_pretraining` record (`minnow info` shows it) says how it was made.
 *
 *   npm run build && npx tsx scripts/ship-models.ts [--models eelbert-tiny,uno-eelbert] [--ship]
 *       [--runs runs/curve] [--cli runs/frozen/dist/cli/main.js] [--threads 2] [--seed 0] [--finetune-seeds 0,1]
 *   npx tsx scripts/ship-models.ts --copy runs/x/eelbert-tiny-pretrained:models/eelbert-tiny ...   (copy as is)
 *
 * The shipped model's fine-tuning runs are named by a hash of its weights, so a re-shipped model is scored
 * afresh and never read from an older model's runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel, modelBytes, readConfig, saveModel } from '../src/model/io.js';
import { type PretrainConfig, pretrainingRecord } from '../src/train/pretrain.js';
import type { Point } from './lib/curve-record.js';
import { CURVE_RECIPE, curveFinetuner, NOISE, type Scores } from './lib/curve-finetune.js';
import { GLUE_DIR, metricCell, portablePaths, readJson, ROOT, runMinnow } from './lib/minnow.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    models: { type: 'string', default: 'eelbert-tiny,uno-eelbert' },
    ship: { type: 'boolean', default: false },
    copy: { type: 'boolean', default: false },
    runs: { type: 'string', default: 'runs/curve' },
    cli: { type: 'string' },
    shared: { type: 'string', default: '../shared' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '0' },
    'finetune-seeds': { type: 'string' }, // default: the curve's (results/curve.json); e.g. 0,1
  },
});

/** Copies a model directory FROM to TO as a shipped model, with its pre-training record. */
function ship(from: string, to: string): void {
  const m = loadModel(from);
  const cfgPath = join(from, 'pretrain_config.json');
  const resPath = join(from, 'pretrain_result.json');
  if (!m.config.minnow_pretraining && existsSync(cfgPath) && existsSync(resPath)) {
    // Runs made before models recorded their pre-training: rebuild the record from the run's files.
    const r = JSON.parse(readFileSync(resPath, 'utf8')) as {
      updates: number;
      evals: Record<string, number>[];
    };
    const c = JSON.parse(readFileSync(cfgPath, 'utf8')) as PretrainConfig;
    m.config.minnow_pretraining = [pretrainingRecord(c, r.updates, r.evals, statSync(resPath).mtime)];
  }
  saveModel(to, m, { shippedVocab: 'bert-base-uncased', mlmHead: false });
  const b = modelBytes(to);
  process.stdout.write(
    `${from} -> ${to}: ${(b.total / 1e6).toFixed(3)} MB (model.safetensors ${(b.weights / 1e6).toFixed(3)} MB)\n`,
  );
}

/** A developer script still says what is wrong in one line, not a stack trace. */
function fail(message: string): never {
  process.stderr.write(`ship-models: ${message}\n`);
  process.exit(2);
}

if (values.copy) {
  if (positionals.length === 0) fail('--copy needs FROM:TO arguments (model directory : models/NAME)');
  for (const arg of positionals) {
    const [from, to, ...rest] = arg.split(':');
    if (!from || !to || rest.length > 0) fail(`--copy: "${arg}" is not FROM:TO`);
    if (!existsSync(join(from, 'config.json')))
      fail(`--copy: ${from} is not a model directory (no config.json)`);
    ship(from, to);
  }
  process.exit(0);
}

const runs = resolve(values.runs!);
const curveFile = join(ROOT, 'results', 'curve.json');
if (!existsSync(curveFile))
  fail(
    `${curveFile} is missing: the candidates are the budget curve's points (run scripts/budget-curve.ts first)`,
  );
const curveJson = readJson<{ tasks: string[]; finetune_seeds: number[]; points: Point[] }>(curveFile);
const tasks = curveJson.tasks;
const seeds = values['finetune-seeds']?.split(',') ?? curveJson.finetune_seeds.map(String);
const minnow = (args: string[]) => runMinnow(args, values.cli ? resolve(values.cli) : undefined);
const curve = curveFinetuner({
  runs,
  shared: resolve(values.shared!),
  tasks,
  seeds,
  seed: values.seed!,
  threads: values.threads!,
  minnow,
});

interface Candidate extends Scores {
  name: string;
  dir: string;
  shipped: boolean;
  minutes: number | null; // the curve's budget; null for the shipped model (its record has tokens)
  tokens: number;
  objective: string;
}

const f = (v: number) => v.toFixed(1);
const sha8 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 8);
const report: { model: string; candidates: Candidate[]; best: string; shipped_now: boolean }[] = [];
const lines: string[] = [];
for (const model of values.models!.split(',')) {
  const shippedDir = join(ROOT, 'models', model);
  const record = readConfig(shippedDir).minnow_pretraining?.at(-1);
  const points: Omit<Candidate, keyof Scores>[] = curveJson.points
    .filter((p) => p.model === model && p.minutes > 0)
    .map((p) => {
      const name = `${model}-${p.objective}-${p.minutes}m`;
      const dir = join(runs, name);
      // A point shipped earlier is recognised by its pre-training record (same run: same end date).
      const shipped = readConfig(dir).minnow_pretraining?.at(-1)?.date === record?.date;
      return { name, dir, shipped, minutes: p.minutes, tokens: p.tokens, objective: p.objective };
    });
  const made = points.some((c) => c.shipped)
    ? points
    : [
        {
          name: `shipped-${model}-${sha8(join(shippedDir, 'model.safetensors'))}`,
          dir: shippedDir,
          shipped: true,
          minutes: null,
          tokens: record?.tokens ?? 0,
          objective: record?.objective ?? 'mlm',
        },
        ...points,
      ];
  const candidates: Candidate[] = made.map((c) => ({ ...c, ...curve.finetuned(['--model', c.dir], c.name) }));
  // The shipped model is replaced only by a candidate that beats it by more than fine-tuning noise.
  const top = [...candidates].sort((a, b) => b.glue_avg - a.glue_avg)[0];
  const now = candidates.find((c) => c.shipped)!;
  const best = top.glue_avg > now.glue_avg + NOISE ? top : now;
  /** bert-tiny's best on the curve at a candidate's budget (the shipped model has no curve budget). */
  const bertTiny = (c: Candidate) =>
    c.minutes === null
      ? undefined
      : curveJson.points
          .filter((p) => p.model === 'bert-tiny' && p.minutes === c.minutes)
          .sort((a, b) => b.glue_avg - a.glue_avg)[0];
  lines.push(
    `### ${model}`,
    '',
    `| candidate | objective | curve minutes | tokens | ${tasks.map((t) => GLUE_DIR[t]).join(' | ')} | GLUE avg | bert-tiny's best there |`,
    `|---|---|---|---|${tasks.map(() => '---').join('|')}|---|---|`,
    ...candidates.map((c) => {
      const b = bertTiny(c);
      return `| ${c.shipped ? `models/${model} (shipped now${c.minutes === null ? '' : `: ${c.name}`})` : c.name} | ${c.objective} | ${c.minutes ?? '-'} | ${c.tokens.toLocaleString('en-US')} | ${tasks.map((t) => metricCell(t, c.metrics[t])).join(' | ')} | ${c === best ? `**${f(c.glue_avg)}**` : f(c.glue_avg)} | ${b ? `${f(b.glue_avg)} (${f((100 * c.glue_avg) / b.glue_avg)}%)` : '-'} |`;
    }),
    '',
    best.shipped
      ? `Kept: the model shipped now (${f(best.glue_avg)})${top === best ? ' is the best' : `; the best candidate, ${top.name} (${f(top.glue_avg)}), does not beat it by more than ${NOISE} point`}, so models/${model} stays.`
      : `Best: ${best.name} (${f(best.glue_avg)}), against ${f(now.glue_avg)} for the model shipped before; ${values.ship ? `now shipped as models/${model}` : `ship it with --ship`}.`,
    '',
  );
  report.push({ model, candidates, best: best.name, shipped_now: best.shipped });
  if (values.ship && !best.shipped) ship(best.dir, shippedDir);
}

const seedsNote =
  seeds.length === 1 ? 'one fine-tuning seed' : `the mean of ${seeds.length} fine-tuning seeds`;
lines.unshift(
  `Every candidate fine-tuned with the budget curve's fixed recipe (${CURVE_RECIPE}), ${seedsNote}; GLUE avg over ${tasks.map((t) => GLUE_DIR[t]).join(', ')}. The model in models/ is replaced only by a candidate more than ${NOISE} point better (fine-tuning noise is about a point). bert-tiny's column is the budget curve's (results/curve.json, fine-tuning seeds ${curveJson.finetune_seeds.join(', ')}).`,
  '',
);
const command = `npx tsx scripts/ship-models.ts --models ${values.models} --finetune-seeds ${seeds.join(',')}${values.ship ? ' --ship' : ''}`;
writeFileSync(
  join(ROOT, 'results', 'shipped.json'),
  `${JSON.stringify({ command, date: new Date().toISOString(), tasks, finetune_seeds: seeds.map(Number), models: report }, portablePaths(values.shared!), 2)}\n`,
);
writeFileSync(join(ROOT, 'results', 'shipped.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);

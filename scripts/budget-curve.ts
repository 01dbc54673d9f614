/**
 * Quality per CPU-hour: GLUE dev scores of tiny models against their pre-training budget in wall-clock
 * minutes on this machine (the same time per point, not the same tokens), for each objective, from 0
 * (random init) up. Writes results/curve.json, results/curve.md and results/curve.svg.
 *
 *   npm run build && npx tsx scripts/budget-curve.ts [--minutes 0,5,15] [--models bert-tiny,uno-eelbert]
 *       [--objectives mlm,electra,electra-t2] [--tasks sst2,cola,mrpc,stsb,rte] [--threads 2] [--runs runs/curve]
 *       [--cli runs/frozen/dist/cli/main.js] [--shared ../shared] [--seed 0] [--finetune-seeds 0,1]
 *       [--done-only] [--fresh]
 *
 * A budget of M minutes becomes a token count: each (model, objective) is first timed on a 100-update
 * probe (tokens/s of the training loop, this machine, --threads), then pre-trained for rate x M x 60 tokens
 * with the recipe of scripts/eelbert.ts (batch 16, lr 1e-3, seq 128, gutenberg_train); the wall time the
 * run really took is recorded beside it. Fine-tuning is the same fixed recipe for every point
 * (scripts/lib/curve-finetune.ts: lr 2e-4, batch 32; SST-2 on its first 20,000 training sentences, 2
 * epochs; CoLA, MRPC, STS-B, RTE 4 epochs), once per fine-tuning seed (--finetune-seeds; the scores are their
 * mean). A model is a preset or an embedding variant of scripts/lib/variants.ts (e.g. lowrank-k4); an
 * objective is mlm, electra, or electra-tT (ELECTRA with the generator sampled at temperature T). Every
 * step is a `minnow` child process skipped when its output exists, and pre-training resumes from its
 * checkpoints: an interrupted curve continues where it stopped, across sittings. Run it alone:
 * two CPU-heavy jobs at once distort both the calibration and the budget.
 *
 * results/curve.json is added to, not replaced (scripts/lib/curve-record.ts): a point whose runs are not
 * under --runs (a fresh clone has none) is carried from it as recorded, so one new point can be measured,
 * or the tables and plots regenerated with --done-only, without re-running the others. --fresh reports
 * only what --runs holds.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { constantGuessLoss } from '../src/train/electra.js';
import { GLUE_DIR, mean, metricCell, readJson, ROOT, runMinnow, SST2_TRAIN } from './lib/minnow.js';
import { curveFinetuner, NOISE } from './lib/curve-finetune.js';
import { mergeCurve, type Point, pointKey, recordedPoints } from './lib/curve-record.js';
import { modelFlags } from './lib/variants.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '0,5,15' },
    models: { type: 'string', default: 'bert-tiny,eelbert-tiny,uno-eelbert' },
    objectives: { type: 'string', default: 'mlm,electra' },
    tasks: { type: 'string', default: 'sst2,cola,mrpc,stsb,rte' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: 'runs/curve' },
    cli: { type: 'string' },
    shared: { type: 'string', default: '../shared' },
    seed: { type: 'string', default: '0' }, // pre-training (and by default fine-tuning) seed
    'finetune-seeds': { type: 'string' }, // e.g. 0,1: each point fine-tuned once per seed, scores averaged
    'done-only': { type: 'boolean', default: false }, // report the finished points only, start no work
    fresh: { type: 'boolean', default: false }, // report only what --runs holds: do not carry results/curve.json's points
  },
});

const shared = resolve(values.shared!);
const runs = resolve(values.runs!);
const corpus = join(shared, 'data', 'corpus', 'gutenberg_train.txt');
const valid = join(shared, 'data', 'corpus', 'gutenberg_valid.txt');
const minutes = values.minutes!.split(',').map(Number);
const models = values.models!.split(',');
const objectives = values.objectives!.split(',');
objectives.forEach(objectiveFlags); // a bad name fails before any work
/** A line style per objective, in --objectives order: solid, dashed, dotted, dash-dot, sparse dots. */
const DASHES = ['', '5,3', '2,2', '8,3,2,3', '1,4'];
const tasks = values.tasks!.split(',');
const threads = values.threads!;
const seed = values.seed!;
const finetuneSeeds = (values['finetune-seeds'] ?? seed).split(',');
const PRETRAIN = [
  '--batch-size',
  '16',
  '--lr',
  '1e-3',
  '--seq-len',
  '128',
  '--threads',
  threads,
  '--seed',
  seed,
];

const minnow = (args: string[]) => runMinnow(args, values.cli ? resolve(values.cli) : undefined);
mkdirSync(runs, { recursive: true });

const curve = curveFinetuner({ runs, shared, tasks, seeds: finetuneSeeds, seed, threads, minnow });

/** The `minnow pretrain` flags of an objective: mlm, electra, or electra-tT (samples at temperature T). */
function objectiveFlags(objective: string): string[] {
  const t = /^electra-t(\d+(?:\.\d+)?)$/.exec(objective);
  if (t) return ['--objective', 'electra', '--sample-temperature', t[1]];
  if (objective === 'mlm' || objective === 'electra') return ['--objective', objective];
  console.error(`--objectives: mlm, electra or electra-tT (e.g. electra-t2), got ${objective}`);
  process.exit(2);
}

/** How the statements name an objective. */
const objectiveName = (o: string) =>
  o === 'mlm' ? 'MLM' : o === 'electra' ? 'ELECTRA' : `ELECTRA at T = ${o.slice('electra-t'.length)}`;
const isElectra = (o: string) => o.startsWith('electra');

/**
 * One `minnow pretrain` of a preset (or an embedding variant of scripts/lib/variants.ts) with the curve's
 * recipe; returns its JSON result line.
 */
function pretrainRun(model: string, objective: string, out: string, tokens: number, extra: string[]): string {
  const r = minnow([
    'pretrain',
    ...modelFlags(model),
    ...objectiveFlags(objective),
    '--corpus',
    corpus,
    '--out',
    out,
    '--tokens',
    String(tokens),
    '--cache-dir',
    join(runs, 'cache'),
    ...PRETRAIN,
    ...extra,
    '--json',
  ]);
  return r.trim().split('\n').pop()!;
}

/**
 * Training-loop tokens/s of (model, objective) here, from a 100-update probe (cached). Where the probe is
 * not under --runs but results/curve.json records a pre-trained point of the pair, the rate those points
 * were budgeted with is taken from it (tokens / seconds), so a point added later stands on the same
 * budget as the recorded ones instead of a new probe's.
 */
function rate(model: string, objective: string): number {
  const out = join(runs, `probe-${model}-${objective}`);
  const file = join(out, 'probe.json');
  const known = record.points.find((p) => p.model === model && p.objective === objective && p.minutes > 0);
  if (!existsSync(file) && known) return known.tokens / (known.minutes * 60);
  if (!existsSync(file))
    writeFileSync(file, pretrainRun(model, objective, out, 100 * 16 * 126, ['--checkpoint-every', '0']));
  return readJson<{ tokens_per_s: number }>(file).tokens_per_s;
}

/** What marks each step of a point done (and skipped): the files its `minnow` run writes last. */
const pretrainDone = (dir: string) => existsSync(join(dir, 'pretrain_result.json'));
function pretrained(
  model: string,
  objective: string,
  m: number,
): { dir: string; tokens: number; wall: number | null; valid: Record<string, number> | null } {
  const dir = join(runs, `${model}-${objective}-${m}m`);
  const file = join(dir, 'pretrain_result.json');
  if (!pretrainDone(dir)) {
    const tokens = Math.round(rate(model, objective) * m * 60);
    const t0 = performance.now();
    const resumed = existsSync(join(dir, 'checkpoints'));
    const res = JSON.parse(
      pretrainRun(model, objective, dir, tokens, ['--valid', valid, '--checkpoint-every', '500', '--resume']),
    );
    const wall = resumed ? null : (performance.now() - t0) / 1000;
    writeFileSync(file, `${JSON.stringify({ ...res, tokens, wall_s: wall })}\n`);
  }
  const res = readJson<{ tokens: number; wall_s: number | null; evals: Record<string, number>[] }>(file);
  return { dir, tokens: res.tokens, wall: res.wall_s, valid: res.evals.at(-1) ?? null };
}

const doneOnly = values['done-only']!;
/** With --done-only: whether a point's pre-training (if any) and every fine-tuning have finished. */
const finished = (name: string, pretrainDir?: string) =>
  (!pretrainDir || pretrainDone(pretrainDir)) && curve.finished(name);
/** Whether any run of a point is under --runs: then it is measured from them, not carried. */
const started = (name: string) => existsSync(join(runs, name)) || curve.started(name);

// The points recorded so far (results/curve.json) are carried unless their runs are here: a fresh clone
// adds to the curve instead of replacing it. Points scored another way are not mixed in: refused, or
// replaced with --fresh.
const curveFile = join(ROOT, 'results', 'curve.json');
const scoring = { tasks, finetune_seeds: finetuneSeeds.map(Number), sst2_train: SST2_TRAIN };
const record = values.fresh
  ? { points: [] }
  : recordedPoints(existsSync(curveFile) ? JSON.parse(readFileSync(curveFile, 'utf8')) : undefined, scoring);
if (record.setAside) {
  console.error(
    `budget-curve: ${curveFile}: ${record.setAside}; run with the same scoring to add to it, or pass --fresh to replace it`,
  );
  process.exit(2);
}
const recorded = new Set(record.points.map(pointKey));

const measured: Point[] = [];
const missing: string[] = [];
for (const model of models)
  for (const m of minutes) {
    for (const objective of m === 0 ? ['none'] : objectives) {
      const name = m === 0 ? `${model}-scratch` : `${model}-${objective}-${m}m`;
      const isRecorded = recorded.has(pointKey({ model, objective, minutes: m }));
      if (isRecorded && !started(name)) continue; // carried
      if (doneOnly && !finished(name, m === 0 ? undefined : join(runs, name))) {
        if (!isRecorded) missing.push(m === 0 ? `${model} random init` : `${model} ${objective} ${m} min`);
        continue;
      }
      if (m === 0) {
        measured.push({
          model,
          objective,
          minutes: 0,
          tokens: 0,
          wall_s: 0,
          valid: null,
          ...curve.finetuned(modelFlags(model), name),
        });
        continue;
      }
      const p = pretrained(model, objective, m);
      measured.push({
        model,
        objective,
        minutes: m,
        tokens: p.tokens,
        wall_s: p.wall,
        valid: p.valid,
        ...curve.finetuned(['--model', p.dir], name),
      });
    }
  }
const merged = mergeCurve(measured, record.points, models, objectives);
const { points, carried } = merged;
/** Every model and objective on the curve, those of --models and --objectives first. */
const [allModels, allObjectives] = [merged.models, merged.objectives];

// JSON, a Markdown table and SVG plots (GLUE average, SST-2 and STS-B against minutes, one line per model
// and objective).
const command = `npx tsx scripts/budget-curve.ts --minutes ${values.minutes} --models ${values.models} --objectives ${values.objectives} --tasks ${values.tasks} --threads ${threads} --seed ${seed} --finetune-seeds ${finetuneSeeds.join(',')}${doneOnly ? ' --done-only' : ''}${values.fresh ? ' --fresh' : ''}`;
writeFileSync(
  curveFile,
  `${JSON.stringify({ command, date: new Date().toISOString(), threads: Number(threads), finetune_seeds: scoring.finetune_seeds, sst2_train: SST2_TRAIN, tasks, points, carried_from_record: carried.map(pointKey), not_yet_measured: missing }, null, 2)}\n`,
);
console.error(
  `budget-curve: ${measured.length} points measured from ${runs}, ${carried.length} carried from the earlier ${curveFile}`,
);
const head = [
  'model',
  'objective',
  'minutes',
  'tokens',
  'wall s',
  ...tasks.map((t) => GLUE_DIR[t]),
  'GLUE avg',
  ...(finetuneSeeds.length > 1 ? [`per seed (${finetuneSeeds.join(', ')})`] : []),
];
/** The GLUE average of each fine-tuning seed alone (the spread behind a mean). */
const perSeed = (p: Point) =>
  finetuneSeeds.map((_, i) => mean(tasks.map((t) => p.seed_scores[t][i])).toFixed(1)).join(', ');
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
for (const p of points)
  lines.push(
    `| ${p.model} | ${p.objective} | ${p.minutes} | ${p.tokens.toLocaleString('en-US')} | ${p.wall_s === null ? '-' : Math.round(p.wall_s)} | ${tasks.map((t) => metricCell(t, p.metrics[t])).join(' | ')} | ${p.glue_avg.toFixed(1)} |${finetuneSeeds.length > 1 ? ` ${perSeed(p)} |` : ''}`,
  );
if (missing.length) lines.push('', `Not yet measured (--done-only): ${missing.join(', ')}.`);
lines.push('', ...statements(points), ...electraChecks(points));
writeFileSync(join(ROOT, 'results', 'curve.md'), `${lines.join('\n')}\n`);
const glueTitle = `GLUE dev average (${tasks.map((t) => GLUE_DIR[t]).join(', ')})`;
writeFileSync(
  join(ROOT, 'results', 'curve.svg'),
  svg(points, (p) => p.glue_avg, glueTitle),
);
for (const task of ['sst2', 'stsb'].filter((t) => tasks.includes(t)))
  writeFileSync(
    join(ROOT, 'results', `curve-${task}.svg`),
    svg(points, (p) => p.scores[task], `${GLUE_DIR[task]} dev score`),
  );
process.stdout.write(`${lines.join('\n')}\n`);

/**
 * The plain statements the curve is for, per model: from which budget pre-training beats random init,
 * whether ELECTRA beats MLM at any budget, and how the EELBERT models' share of bert-tiny moves.
 */
function statements(ps: Point[]): string[] {
  const seeds = finetuneSeeds.length === 1 ? 'one seed each' : `mean of ${finetuneSeeds.length} seeds each`;
  const out: string[] = [`Differences within ${NOISE} point (${seeds}) are called even.`, ''];
  const f = (v: number) => v.toFixed(1);
  const budgets = (model: string, objective: string) =>
    ps.filter((p) => p.model === model && p.objective === objective).sort((a, b) => a.minutes - b.minutes);
  for (const model of allModels) {
    const scratch = ps.find((p) => p.model === model && p.minutes === 0);
    if (!scratch) continue;
    for (const objective of allObjectives) {
      const runs = budgets(model, objective);
      if (!runs.length) continue;
      const wins = runs.find((p) => p.glue_avg > scratch.glue_avg + NOISE);
      const top = runs[runs.length - 1].minutes;
      out.push(
        wins
          ? `- ${model}, ${objective}: pre-training beats random init from ${wins.minutes} minutes (${f(wins.glue_avg)} vs ${f(scratch.glue_avg)}; by budget: ${runs.map((p) => `${p.minutes} min ${f(p.glue_avg)}`).join(', ')}).`
          : `- ${model}, ${objective}: pre-training does not beat random init (${f(scratch.glue_avg)}) by more than ${NOISE} point at any budget measured (up to ${top} minutes: ${runs.map((p) => f(p.glue_avg)).join(', ')}).`,
      );
    }
    for (const objective of allObjectives.filter(isElectra)) {
      const pairs = budgets(model, 'mlm').flatMap((m) => {
        const e = budgets(model, objective).find((x) => x.minutes === m.minutes);
        return e ? [{ minutes: m.minutes, d: e.glue_avg - m.glue_avg }] : [];
      });
      if (!pairs.length) continue;
      const better = pairs.filter((x) => x.d > NOISE);
      const name = objectiveName(objective);
      out.push(
        `- ${model}: ${name} ${better.length ? `beats MLM at ${better.map((x) => `${x.minutes} min (+${f(x.d)})`).join(', ')}` : 'beats MLM at no budget measured'} (${name} - MLM: ${pairs.map((x) => `${x.minutes} min ${x.d >= 0 ? '+' : ''}${f(x.d)}`).join(', ')}).`,
      );
    }
  }
  const base = (minutes: number, objective: string) =>
    ps.find((p) => p.model === 'bert-tiny' && p.minutes === minutes && p.objective === objective);
  /** bert-tiny's best point at a budget, whatever its objective. */
  const baseBest = (minutes: number) =>
    ps
      .filter((p) => p.model === 'bert-tiny' && p.minutes === minutes)
      .sort((a, b) => b.glue_avg - a.glue_avg)[0];
  const gaps = ps.filter((p) => p.model !== 'bert-tiny' && baseBest(p.minutes));
  if (gaps.length) {
    out.push(
      '',
      "Each point against bert-tiny at the same budget: with the same objective, and at bert-tiny's best objective there (the paper's comparison).",
      '',
      "| model | objective | minutes | GLUE avg | % of bert-tiny, same objective | % of bert-tiny's best (objective) |",
      '|---|---|---|---|---|---|',
    );
    for (const p of gaps) {
      const [same, best] = [base(p.minutes, p.objective), baseBest(p.minutes)];
      const pct = (b: Point) => `${f((100 * p.glue_avg) / b.glue_avg)}%`;
      out.push(
        `| ${p.model} | ${p.objective} | ${p.minutes} | ${f(p.glue_avg)} | ${same ? pct(same) : '-'} | ${pct(best)} (${best.objective}) |`,
      );
    }
    // The targets compare each model at its best against bert-tiny at its best, at the largest budget
    // measured for both (a partial curve may have a larger point for one of them only).
    const at = (model: string, m: number) => ps.filter((p) => p.model === model && p.minutes === m);
    const bestAt = (model: string, m: number) => at(model, m).sort((a, b) => b.glue_avg - a.glue_avg)[0];
    const best: string[] = [];
    for (const model of allModels.filter((m) => m !== 'bert-tiny')) {
      const shared = ps
        .filter((p) => p.model === model && at('bert-tiny', p.minutes).length)
        .map((p) => p.minutes);
      if (!shared.length) continue;
      const top = Math.max(...shared);
      const [b, ref] = [bestAt(model, top), bestAt('bert-tiny', top)];
      /** Whether every objective has its point at this budget (random init has only one). */
      const complete = (name: string) =>
        top === 0 || allObjectives.every((o) => at(name, top).some((p) => p.objective === o));
      const partial = !complete(model) || !complete('bert-tiny');
      best.push(
        `- ${model} at ${top} minutes: ${f(b.glue_avg)} (${b.objective}) against bert-tiny's ${f(ref.glue_avg)} (${ref.objective}): ${f((100 * b.glue_avg) / ref.glue_avg)}%${partial ? ' (not every objective is measured there yet)' : ''}.`,
      );
    }
    if (best.length)
      out.push(
        '',
        "At the largest budget measured for both, each model's best objective against bert-tiny's best:",
        ...best,
      );
    out.push('', 'The paper: eelbert-tiny within 2% of bert-tiny (>= 98%), uno-eelbert within 4% (>= 96%).');
  }
  return out;
}

/**
 * Whether each ELECTRA discriminator learned anything: its validation RTD loss against the loss of the best
 * constant guess (the entropy of the replaced fraction), and the generator's MLM loss beside them.
 */
function electraChecks(ps: Point[]): string[] {
  const rows = ps.filter((p) => isElectra(p.objective) && p.valid?.valid_rtd_loss !== undefined);
  if (!rows.length) return [];
  const out = [
    '',
    'ELECTRA validation: a discriminator that learned nothing has an RTD loss equal to the constant guess (the entropy of the replaced fraction q).',
    '',
    '| model | objective | minutes | generator MLM loss | replaced q | RTD loss | constant guess | RTD accuracy | 1 - q |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const p of rows) {
    const v = p.valid!;
    const q = v.valid_replaced_fraction;
    const h = constantGuessLoss(q);
    out.push(
      `| ${p.model} | ${p.objective} | ${p.minutes} | ${v.valid_generator_mlm_loss.toFixed(3)} | ${q.toFixed(4)} | ${v.valid_rtd_loss.toFixed(4)} | ${h.toFixed(4)} | ${v.valid_rtd_accuracy.toFixed(4)} | ${(1 - q).toFixed(4)} |`,
    );
  }
  return out;
}

function svg(ps: Point[], value: (p: Point) => number, title: string): string {
  const W = 640;
  const H = 400;
  const pad = { l: 56, r: 170, t: 44, b: 44 };
  const xs = [...new Set(ps.map((p) => p.minutes))].sort((a, b) => a - b);
  const ys = ps.map(value);
  const [y0, y1] = [Math.floor(Math.min(...ys) - 1), Math.ceil(Math.max(...ys) + 1)];
  // Square-root scale: budgets grow by factors (0, 5, 15, 60 ...), and a linear axis would crowd the small ones.
  const x = (m: number) => pad.l + ((W - pad.l - pad.r) * Math.sqrt(m)) / Math.sqrt(Math.max(1, ...xs));
  const y = (v: number) => H - pad.b - ((H - pad.t - pad.b) * (v - y0)) / Math.max(1e-9, y1 - y0);
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  const series = new Map<string, Point[]>();
  // Random init starts the line of each objective the model was pre-trained with (alone: a point of its own).
  const trained = (model: string) => [
    ...new Set(ps.filter((q) => q.model === model && q.objective !== 'none').map((q) => q.objective)),
  ];
  for (const p of ps) {
    const objs =
      p.objective !== 'none' ? [p.objective] : trained(p.model).length ? trained(p.model) : ['random init'];
    for (const o of objs) {
      const k = `${p.model} ${o}`;
      series.set(k, [...(series.get(k) ?? []), p]);
    }
  }
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${pad.l}" y="16">${title} vs pre-training minutes (${threads} threads)</text>`,
  ];
  for (const m of xs) out.push(`<text x="${x(m)}" y="${H - pad.b + 18}" text-anchor="middle">${m}</text>`);
  out.push(
    `<text x="${(pad.l + W - pad.r) / 2}" y="${H - 8}" text-anchor="middle">pre-training minutes (wall clock, square-root scale)</text>`,
  );
  for (let v = y0; v <= y1; v += Math.max(1, Math.round((y1 - y0) / 6))) {
    out.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(`<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  [...series.entries()].forEach(([k, s], i) => {
    const c = colours[allModels.indexOf(s[0].model) % colours.length]; // a colour per model, a dash per objective
    const pattern =
      DASHES[Math.max(0, allObjectives.indexOf(k.slice(s[0].model.length + 1))) % DASHES.length];
    const dash = pattern ? ` stroke-dasharray="${pattern}"` : '';
    const pts = s.sort((a, b) => a.minutes - b.minutes).map((p) => `${x(p.minutes)},${y(value(p))}`);
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`);
    for (const p of s) out.push(`<circle cx="${x(p.minutes)}" cy="${y(value(p))}" r="3" fill="${c}"/>`);
    out.push(
      `<line x1="${W - pad.r + 12}" x2="${W - pad.r + 36}" y1="${pad.t + 18 * i}" y2="${pad.t + 18 * i}" stroke="${c}" stroke-width="2"${dash}/>`,
    );
    out.push(`<text x="${W - pad.r + 42}" y="${pad.t + 18 * i + 4}">${k}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

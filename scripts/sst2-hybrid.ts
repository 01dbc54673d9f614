/**
 * The n-gram baseline and the hybrid on all of SST-2: the baseline at several feature sets and table sizes,
 * each added to models/sst2-sentiment with `minnow hybrid`, the int8 export's bytes and score, and one epoch
 * of joint fine-tuning of the hybrid at a fixed alpha.
 *
 *   npx tsx scripts/sst2-hybrid.ts [--shared ../shared] [--runs runs/sst2-hybrid] [--threads 2]
 *
 * alpha picked on the dev set is optimistic, so each row also gives a cross-fitted estimate: the dev set is
 * split in halves at random (2,000 times, seeded), alpha is picked on one half and scored on the other,
 * both ways, and the scores averaged. Writes results/sst2-hybrid.{json,md}.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readTask } from '../src/data/task.js';
import { Rng } from '../src/util/rng.js';
import { readJson, ROOT, runMinnow } from './lib/minnow.js';

const { values } = parseArgs({
  options: {
    shared: { type: 'string', default: join(ROOT, '..', 'shared') },
    runs: { type: 'string', default: join(ROOT, 'runs', 'sst2-hybrid') },
    threads: { type: 'string', default: '2' },
  },
});
const data = join(values.shared!, 'data', 'glue', 'SST-2');
const runs = values.runs!;
const threads = values.threads!;
const TRANSFORMER = join(ROOT, 'models', 'sst2-sentiment');
mkdirSync(runs, { recursive: true });

/** Baselines tried: name, flags. 32,768 buckets with word n-grams keep the hybrid under 500 kB int8. */
const BASELINES: [string, string[]][] = [
  ['word 1-2, 2^15 buckets', ['--buckets', '32768', '--char-ngrams', 'none']],
  ['word 1-2, 2^16 buckets', ['--buckets', '65536', '--char-ngrams', 'none']],
  ['word 1-2 + char 2-5, 2^15 buckets', ['--buckets', '32768']],
  ['word 1-2 + char 2-5, 2^18 buckets (default)', []],
];

const dev = readTask({ task: 'sst2', data }, 'dev');
const gold = dev.examples.map((e) => e.label);
const devText = join(runs, 'dev.txt');
writeFileSync(devText, `${dev.examples.map((e) => e.text).join('\n')}\n`);

/** z = logit(positive) - logit(negative) of each dev sentence. */
function margins(model: string): number[] {
  return runMinnow(['predict', '--model', model, '--input', devText, '--json', '--threads', threads])
    .trim()
    .split('\n')
    .map((l) => {
      const x = JSON.parse(l).logits as number[];
      return x[1] - x[0];
    });
}

const GRID = [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 8];

/** Alpha picked on one half of dev and scored on the other, both ways, averaged over seeded splits. */
function crossFitted(t: number[], n: number[]): number {
  const right = GRID.map((a) => t.map((v, i) => (v + a * n[i] > 0 ? 1 : 0) === gold[i]));
  const rng = new Rng(0);
  let sum = 0;
  let count = 0;
  const idx = gold.map((_, i) => i);
  for (let r = 0; r < 2000; r++) {
    const order = rng.shuffle([...idx]);
    const halves = [order.slice(0, order.length >> 1), order.slice(order.length >> 1)];
    for (const [pick, score] of [halves, [halves[1], halves[0]]]) {
      const acc = (k: number, rows: number[]) => rows.filter((i) => right[k][i]).length / rows.length;
      let best = 0;
      for (let k = 1; k < GRID.length; k++) if (acc(k, pick) > acc(best, pick)) best = k;
      sum += acc(best, score);
      count++;
    }
  }
  return (100 * sum) / count;
}

interface Row {
  baseline: string;
  baselineScore: number;
  baselineSeconds: number;
  baselineInt8Bytes: number;
  alpha: number;
  hybridDevPicked: number;
  hybridCrossFitted: number;
  hybridInt8Bytes: number;
  hybridInt8Score: number;
}

const transformerMargins = margins(TRANSFORMER);
const transformerScore =
  (100 * transformerMargins.filter((v, i) => (v > 0 ? 1 : 0) === gold[i]).length) / gold.length;
const rows: Row[] = [];
for (const [name, flags] of BASELINES) {
  const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  const b = join(runs, `baseline-${slug}`);
  const fit = JSON.parse(
    runMinnow(['baseline', '--task', 'sst2', '--data', data, '--out', b, '--json', ...flags]),
  ) as { score: number; seconds: number };
  const bx = join(runs, `baseline-${slug}-export`);
  runMinnow(['export', '--model', b, '--out', bx]);
  const info = JSON.parse(runMinnow(['info', b, '--json'])) as { bytes_int8_onnx: number };
  const h = join(runs, `hybrid-${slug}`);
  const res = JSON.parse(
    runMinnow([
      'hybrid',
      '--model',
      TRANSFORMER,
      '--baseline',
      b,
      '--out',
      h,
      '--task',
      'sst2',
      '--data',
      data,
      '--threads',
      threads,
      '--json',
    ]),
  ) as { alpha: number; score: number };
  const hx = join(runs, `hybrid-${slug}-export`);
  const exp = runMinnow([
    'export',
    '--model',
    h,
    '--out',
    hx,
    '--check',
    'sst2',
    '--data',
    data,
    '--threads',
    threads,
    '--json',
  ]);
  const q = (
    JSON.parse(exp) as { variants: { variant: string; bytes: number; score: number }[] }
  ).variants.find((v) => v.variant === 'portable_quantized')!;
  rows.push({
    baseline: name,
    baselineScore: fit.score,
    baselineSeconds: fit.seconds,
    baselineInt8Bytes: info.bytes_int8_onnx,
    alpha: res.alpha,
    hybridDevPicked: res.score,
    hybridCrossFitted: crossFitted(transformerMargins, margins(b)),
    hybridInt8Bytes: q.bytes,
    hybridInt8Score: q.score,
  });
}

// Joint training: the smallest hybrid at a fixed alpha (no choice made on dev), one epoch at lr 1e-4.
const joint: { alpha: number; before: number; after: number }[] = [];
const smallest = join(runs, `baseline-${BASELINES[0][0].replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
for (const alpha of [1, 2]) {
  const h = join(runs, `joint-a${alpha}`);
  runMinnow(['hybrid', '--model', TRANSFORMER, '--baseline', smallest, '--out', h, '--alpha', String(alpha)]);
  const before = JSON.parse(
    runMinnow(['eval', '--model', h, '--task', 'sst2', '--data', data, '--threads', threads, '--json']),
  ).score as number;
  const out = join(runs, `joint-a${alpha}-ft`);
  if (!existsSync(join(out, 'eval_results.json')))
    runMinnow([
      'finetune',
      '--model',
      h,
      '--task',
      'sst2',
      '--data',
      data,
      '--out',
      out,
      '--epochs',
      '1',
      '--lr',
      '1e-4',
      '--threads',
      threads,
    ]);
  joint.push({ alpha, before, after: readJson<{ score: number }>(join(out, 'eval_results.json')).score });
}

const kB = (b: number) => (b / 1000).toFixed(1);
const md = [
  '<!-- generated by: npx tsx scripts/sst2-hybrid.ts -->',
  `SST-2 dev accuracy (872 sentences). Transformer: models/sst2-sentiment, ${transformerScore.toFixed(2)} alone. Baselines fitted on all 67,349 training sentences, C picked on dev from 1, 3, 10, 30; the hybrid's alpha picked on dev from ${GRID.join(', ')} ("dev-picked", optimistic) and cross-fitted (picked on one half of dev, scored on the other, 2,000 seeded splits).`,
  '',
  '| baseline | baseline dev | fit s | baseline int8 | hybrid dev-picked (alpha) | hybrid cross-fitted | hybrid int8 | hybrid int8 dev |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.baseline} | ${r.baselineScore.toFixed(2)} | ${r.baselineSeconds.toFixed(0)} | ${kB(r.baselineInt8Bytes)} kB | ${r.hybridDevPicked.toFixed(2)} (${r.alpha}) | ${r.hybridCrossFitted.toFixed(2)} | ${kB(r.hybridInt8Bytes)} kB | ${r.hybridInt8Score.toFixed(2)} |`,
  ),
  '',
  "Joint training (the first row's hybrid at a fixed alpha, then `minnow finetune --epochs 1 --lr 1e-4` on SST-2: both parts train):",
  '',
  '| alpha | hybrid dev | after one epoch |',
  '|---|---|---|',
  ...joint.map((j) => `| ${j.alpha} | ${j.before.toFixed(2)} | ${j.after.toFixed(2)} |`),
  '',
].join('\n');
mkdirSync(join(ROOT, 'results'), { recursive: true });
writeFileSync(join(ROOT, 'results', 'sst2-hybrid.md'), md);
writeFileSync(
  join(ROOT, 'results', 'sst2-hybrid.json'),
  `${JSON.stringify({ transformer: 'models/sst2-sentiment', transformerScore, rows, joint }, null, 2)}\n`,
);
process.stdout.write(md);

/**
 * Does teaching a few sentences break the model? Scenarios of sentences drawn from SST-2 train (never dev)
 * that models/sst2-sentiment gets wrong, each taught with their gold label, once with the earlier plain
 * fine-tuning (PLAIN_TEACH: 10 steps, whole model, no anchors) and once with minnow teach's defaults
 * (DEFAULT_TEACH: LwF on the model's anchors.txt, L2-SP, stop when right, roll back on divergence).
 * Per run: the share of taught sentences flipped to the taught label, SST-2 dev accuracy after (fp32), the
 * guard (anchor) labels that changed, the seconds the teach took and its steps.
 *
 *   npx tsx scripts/teach-forgetting.ts [--data ../shared/data] [--model models/sst2-sentiment]
 *     [--scenarios 10] [--size 5] [--seed 0] [--threads 1] [--variant NAME=JSON ...] [--out results]
 *   npx tsx scripts/teach-forgetting.ts --write-anchors 256     (writes MODEL/anchors.txt: how it was made)
 *
 * --data defaults to $SHARED/data when SHARED is set (else ../shared/data); --variant adds a setting
 * (DEFAULT_TEACH with the JSON's fields) to the table. Writes OUT/teach.md and OUT/teach.json.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readTask } from '../src/data/task.js';
import type { Example } from '../src/data/tabular.js';
import { loadModel } from '../src/model/io.js';
import type { OrtBackend } from '../src/runtime/session.js';
import type { Model } from '../src/model/model.js';
import { DEFAULT_TEACH, PLAIN_TEACH, type TeachConfig, teach } from '../src/train/teach.js';
import { Rng } from '../src/util/rng.js';
import { predictedLabels, readAnchors, teachScenarios } from './lib/teach-scenarios.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string', default: join(ROOT, 'models', 'sst2-sentiment') },
    scenarios: { type: 'string', default: '10' },
    size: { type: 'string', default: '5' },
    seed: { type: 'string', default: '0' },
    threads: { type: 'string', default: '1' },
    variant: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: join(ROOT, 'results') },
    'write-anchors': { type: 'string' },
  },
});
const shared = process.env.SHARED ? join(process.env.SHARED, 'data') : join(ROOT, '..', 'shared', 'data');
const dataDir = values.data ?? shared;
const sst2 = join(dataDir, 'glue', 'SST-2');
if (!existsSync(join(sst2, 'train.tsv'))) {
  process.stderr.write(
    `teach-forgetting: ${sst2}/train.tsv not found (give --data DIR, the shared data folder)\n`,
  );
  process.exit(2);
}
const modelDir = values.model!;
const threads = Number(values.threads);
const nScenarios = Number(values.scenarios);
const size = Number(values.size);
const anchorsFile = join(modelDir, 'anchors.txt');
if (values['write-anchors']) {
  // The anchors the model ships: N train sentences of 4+ words (seed 1), one per line.
  const n = Number(values['write-anchors']);
  const picked = new Rng(1)
    .shuffle(readTask({ task: 'sst2', data: sst2 }, 'train').examples)
    .filter((e) => e.text.trim().split(' ').length >= 4)
    .slice(0, n)
    .map((e) => e.text.trim());
  writeFileSync(anchorsFile, `${picked.join('\n')}\n`);
  process.stderr.write(`wrote ${n} anchors to ${relative(ROOT, anchorsFile)}\n`);
  process.exit(0);
}
const anchors = readAnchors(modelDir);

const SETTINGS: [string, TeachConfig][] = [
  ['plain fine-tuning (earlier defaults)', { ...PLAIN_TEACH }],
  ['minnow teach (defaults)', { ...DEFAULT_TEACH }],
  ...values.variant!.map((v): [string, TeachConfig] => {
    const eq = v.indexOf('=');
    return [v.slice(0, eq), { ...DEFAULT_TEACH, ...(JSON.parse(v.slice(eq + 1)) as Partial<TeachConfig>) }];
  }),
];

const load = (): Model => loadModel(modelDir, { numLabels: 2 });
const labels = (m: Model, xs: Example[]) => predictedLabels(m, xs, threads);

const dev = readTask({ task: 'sst2', data: sst2 }, 'dev').examples;
const accuracy = async (m: Model) => {
  const p = await labels(m, dev);
  return (100 * p.filter((y, i) => y === dev[i].label).length) / dev.length;
};

// Candidates: train sentences of 6+ words, not anchors, that the model gets wrong (a seeded sample).
const base = load();
const baseDev = await accuracy(base);
const { scenarios, wrong, sampled } = await teachScenarios({
  sst2,
  model: base,
  anchors,
  seed: Number(values.seed),
  count: nScenarios,
  size,
  threads,
});
const anchorBefore = await labels(
  base,
  anchors.map((text, i) => ({ text, label: 0, line: i + 1 })),
);
process.stderr.write(
  `model ${relative(ROOT, modelDir)}: dev ${baseDev.toFixed(2)}; ${wrong} of ${sampled} sampled train sentences wrong; ${anchors.length} anchors\n`,
);

interface Run {
  setting: string;
  scenario: number;
  flipped: number;
  dev: number;
  anchorsChanged: number;
  seconds: number;
  steps: number;
  status: string;
}
const runs: Run[] = [];
for (const [name, config] of SETTINGS)
  for (const [s, examples] of scenarios.entries()) {
    const m = load();
    const t0 = performance.now();
    const r = await teach(
      m,
      examples.map((e) => ({ text: e.text, label: e.label })),
      config,
      { threads, anchors },
    );
    const seconds = (performance.now() - t0) / 1000;
    const after = await labels(m, examples);
    const anchorAfter = await labels(
      m,
      anchors.map((text, i) => ({ text, label: 0, line: i + 1 })),
    );
    const run: Run = {
      setting: name,
      scenario: s,
      flipped: after.filter((y, i) => y === examples[i].label).length / examples.length,
      dev: await accuracy(m),
      anchorsChanged: anchorAfter.filter((y, i) => y !== anchorBefore[i]).length,
      seconds,
      steps: r.updates,
      status: r.status,
    };
    runs.push(run);
    process.stderr.write(
      `${name} #${s}: flipped ${(run.flipped * 100).toFixed(0)}%, dev ${run.dev.toFixed(2)}, anchors changed ${run.anchorsChanged}, ${seconds.toFixed(2)} s, ${r.updates} steps (${r.status})\n`,
    );
  }

/** JSON has no Infinity (PLAIN_TEACH's divergence): written as a string. */
const infinity = (_: string, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v);
// The page's backend: the first scenario taught again on onnxruntime-web (WebAssembly, as in Chromium).
const ortWeb = (await import('onnxruntime-web')) as unknown as OrtBackend & {
  env: { wasm: { numThreads?: number } };
};
ortWeb.env.wasm.numThreads = 1;
const examples0 = scenarios[0].map((e) => ({ text: e.text, label: e.label }));
const [nodeRun, webRun] = [
  await teach(load(), examples0, DEFAULT_TEACH, { threads, anchors }),
  await teach(load(), examples0, DEFAULT_TEACH, { threads, anchors, backend: ortWeb }),
];
const webDiff = Math.max(...nodeRun.losses.map((l, i) => Math.abs(l - (webRun.losses[i] ?? Number.NaN))));
const web = {
  steps: [nodeRun.updates, webRun.updates],
  maxLossDiff: webDiff,
};
process.stderr.write(
  `onnxruntime-web vs onnxruntime-node, scenario 0: ${webRun.updates} vs ${nodeRun.updates} steps, max |loss diff| ${webDiff.toExponential(2)}\n`,
);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rows = SETTINGS.map(([name, config]) => {
  const rs = runs.filter((r) => r.setting === name);
  return {
    setting: name,
    config,
    flipped: 100 * mean(rs.map((r) => r.flipped)),
    allFlipped: rs.filter((r) => r.flipped === 1).length,
    dev: mean(rs.map((r) => r.dev)),
    devMin: Math.min(...rs.map((r) => r.dev)),
    anchorsChanged: mean(rs.map((r) => r.anchorsChanged)),
    seconds: mean(rs.map((r) => r.seconds)),
    steps: mean(rs.map((r) => r.steps)),
    diverged: rs.filter((r) => r.status === 'diverged').length,
  };
});

const command = `npx tsx scripts/teach-forgetting.ts --threads ${threads}${values.variant!.map((v) => ` --variant '${v}'`).join('')}`;
const md = [
  '# Teaching without forgetting: models/sst2-sentiment',
  '',
  `${nScenarios} scenarios of ${size} SST-2 train sentences the model gets wrong (6+ words, seed ${values.seed}), each taught ` +
    `its gold label; dev = SST-2 dev accuracy after teaching (fp32; the model alone: ${baseDev.toFixed(2)}); ` +
    `anchors = the ${anchors.length} texts of ${relative(ROOT, anchorsFile)} whose label changed; seconds per teach at --threads ${threads}.`,
  '',
  `Command: \`${command}\``,
  '',
  '| setting | taught flipped | all 5 flipped | dev after (mean) | dev after (worst) | dev change | anchors changed | steps | seconds | rolled back |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.setting} | ${r.flipped.toFixed(0)}% | ${r.allFlipped} of ${nScenarios} | ${r.dev.toFixed(2)} | ${r.devMin.toFixed(2)} | ` +
      `${(r.dev - baseDev).toFixed(2)} | ${r.anchorsChanged.toFixed(1)} of ${anchors.length} | ${r.steps.toFixed(1)} | ${r.seconds.toFixed(2)} | ${r.diverged} |`,
  ),
  '',
  `The page's backend: scenario 0 taught with onnxruntime-web (WebAssembly, in Node) takes ${web.steps[1]} steps ` +
    `(onnxruntime-node: ${web.steps[0]}); the largest difference between their losses is ${web.maxLossDiff.toExponential(2)}.`,
  '',
  'In headless Chromium through the page, every scenario: results/teach-chromium.md (`npx tsx scripts/teach-chromium.ts`).',
  '',
  'Settings:',
  '',
  ...rows.map((r) => `- ${r.setting}: \`${JSON.stringify(r.config, infinity)}\``),
  '',
].join('\n');
writeFileSync(join(values.out!, 'teach.md'), md);
writeFileSync(
  join(values.out!, 'teach.json'),
  `${JSON.stringify(
    {
      command,
      model: relative(ROOT, modelDir),
      anchors: relative(ROOT, anchorsFile),
      baseDev,
      scenarios: scenarios.map((xs) => xs.map((e) => ({ text: e.text, label: e.label }))),
      summary: rows,
      web,
      runs,
    },
    infinity,
    2,
  )}\n`,
);
process.stdout.write(md);

/**
 * How good a teacher fit's distillation stage has: every candidate of finished SST-2 fits scored on dev
 * again from its model directory, and the ensembles of them that could teach (the mean of their softmaxes
 * at T 2, as src/distill/ensemble.ts makes the soft targets), beside the distilled student and its hybrid.
 *
 *   npx tsx scripts/fit-teachers.ts [--runs runs/fit-glue-v2] [--seeds 0,1,2] [--shared ../shared]
 *
 * Prints a table (stdout); reads RUNS/sst2-sSEED/stages/STAGE/result.json and the candidate models.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readTask } from '../src/data/task.js';
import { ensembleLogits } from '../src/distill/ensemble.js';
import { loadClassifier } from '../src/infer/load.js';
import { stackRows } from '../src/infer/predict.js';
import { classifierInput } from '../src/infer/runtime.js';
import { ROOT } from './lib/minnow.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: join(ROOT, 'runs', 'fit-glue-v2') },
    seeds: { type: 'string', default: '0,1,2' },
    shared: { type: 'string', default: join(ROOT, '..', 'shared') },
  },
});
const TEACHERS = [
  'baseline',
  'finetune-uno-eelbert',
  'hybrid-uno-eelbert',
  'finetune-eelbert-tiny',
  'hybrid-eelbert-tiny',
];
const STUDENTS = ['distill-eelbert-tiny', 'hybrid-distill-eelbert-tiny'];
const dev = readTask({ task: 'sst2', data: join(values.shared!, 'data', 'glue', 'SST-2') }, 'dev').examples;
const inputs = dev.map(classifierInput);
const accuracy = (z: Float32Array) =>
  (100 * dev.filter((e, i) => (z[2 * i + 1] > z[2 * i] ? 1 : 0) === e.label).length) / dev.length;

const header = ['seed', ...TEACHERS, 'best 2', "best 3 (fit's teacher)", 'all 5', ...STUDENTS];
const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
for (const seed of values.seeds!.split(',')) {
  const dir = join(values.runs!, `sst2-s${seed}`, 'stages');
  const logits = new Map<string, Float32Array>();
  for (const stage of [...TEACHERS, ...STUDENTS]) {
    const file = join(dir, stage, 'result.json');
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8')) as { candidate?: { model: string } };
    if (!r.candidate) continue;
    const clf = await loadClassifier(join(dir, stage, r.candidate.model), { threads: 1, maxLength: 128 });
    logits.set(stage, stackRows(await clf.logits(clf.encode(inputs), 64), 2));
    await clf.release();
  }
  const score = (s: string) => (logits.has(s) ? accuracy(logits.get(s)!) : Number.NaN);
  const ranked = TEACHERS.filter((s) => logits.has(s)).sort((a, b) => score(b) - score(a));
  const ensemble = (n: number) =>
    accuracy(
      ensembleLogits(
        ranked.slice(0, n).map((s) => logits.get(s)!),
        2,
        2,
        false,
      ),
    );
  const cells = [
    ...TEACHERS.map(score),
    ensemble(2),
    ensemble(3),
    ensemble(ranked.length),
    ...STUDENTS.map(score),
  ];
  lines.push(`| ${seed} | ${cells.map((x) => (Number.isNaN(x) ? '-' : x.toFixed(2))).join(' | ')} |`);
}
process.stdout.write(
  `SST-2 dev accuracy (872 sentences) of each fit's candidates and of ensembles of the best of them (softmax mean at T 2), ${values.runs}:\n\n${lines.join('\n')}\n`,
);

/**
 * The SST-2 targets by distillation: how far Hinton KD from fine-tuned eelbert-tiny teachers lifts tiny
 * students on all of SST-2 (67,349 training sentences; dev whole). Teachers: the shipped eelbert-tiny
 * fine-tuned with three seeds. Recipes, each student trained with every seed of --seeds:
 *   finetune  the student fine-tuned alone (no teacher);
 *   self      KD from the seed-0 fine-tune (one teacher; for eelbert-tiny, self-distillation);
 *   ens3      KD from the three fine-tunes (an ensemble: the mean of their softmaxes at T);
 *   ens9      KD from a second generation of nine: the three fine-tunes and eelbert-tiny's six self and
 *             ens3 students;
 *   mix6      KD from six students of two kinds: eelbert-tiny's three ens3 students and the low-rank
 *             codes' three ens9 students (eelbert-tiny only).
 * One recipe throughout: lr 1e-3, batch 32, 3 epochs; KD at T = 2, alpha 0.5 (minnow distill's defaults).
 * Writes results/sst2-distill.json and results/sst2-distill.md.
 *
 *   npm run build && npx tsx scripts/sst2-distill.ts [--students eelbert-tiny,lowrank-k4,uno-eelbert]
 *       [--seeds 0,1,2] [--threads 2] [--runs runs/sst2-distill] [--cli runs/frozen/dist/cli/main.js]
 *       [--shared ../shared]
 *
 * Each student's best row (by mean) is also exported with `minnow export --check sst2`: the int8 file minnow
 * ships for it (compact for hash models, portable for low-rank codes), its bytes and its dev accuracy.
 * Every step is a `minnow` child process skipped when its eval_results.json exists, so the script resumes
 * where it stopped. Scores are dev accuracy; the recipes were chosen by looking at dev (the seed-0 runs came
 * first), so the best row is optimistic, as best-of-grid is; the means over seeds are the figures to quote.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exportChecked, mean, readJson, ROOT, runMinnow } from './lib/minnow.js';

const { values } = parseArgs({
  options: {
    students: { type: 'string', default: 'eelbert-tiny,lowrank-k4,uno-eelbert' },
    seeds: { type: 'string', default: '0,1,2' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: 'runs/sst2-distill' },
    cli: { type: 'string' },
    shared: { type: 'string', default: '../shared' },
  },
});
const runs = resolve(values.runs!);
const data = join(resolve(values.shared!), 'data', 'glue', 'SST-2');
const seeds = values.seeds!.split(',');
const threads = values.threads!;
const minnow = (args: string[]) => runMinnow(args, values.cli ? resolve(values.cli) : undefined);
mkdirSync(runs, { recursive: true });

/** A student: how `minnow finetune` and `minnow distill` start it, and which recipes it gets. */
interface Student {
  name: string;
  finetune: string[];
  distill: string[];
  recipes: Recipe[];
  what: string;
}
type Recipe = 'finetune' | 'self' | 'ens3' | 'ens9' | 'mix6';
const STUDENTS: Student[] = [
  {
    name: 'eelbert-tiny',
    finetune: ['--model', 'models/eelbert-tiny'],
    distill: ['--student', 'models/eelbert-tiny'],
    recipes: ['finetune', 'self', 'ens3', 'ens9', 'mix6'],
    what: 'models/eelbert-tiny (shipped, pre-trained)',
  },
  {
    name: 'lowrank-k4',
    finetune: ['--preset', 'uno-lowrank', '--lowrank-dim', '4'],
    distill: ['--student', 'uno-lowrank', '--lowrank-dim', '4'],
    recipes: ['finetune', 'ens9'],
    what: 'uno-lowrank with 4-wide codes, random init',
  },
  {
    name: 'uno-eelbert',
    finetune: ['--model', 'models/uno-eelbert'],
    distill: ['--student', 'models/uno-eelbert'],
    recipes: ['finetune', 'ens9'],
    what: 'models/uno-eelbert (shipped, pre-trained)',
  },
];
const chosen = values.students!.split(',').map((n) => {
  const s = STUDENTS.find((x) => x.name === n);
  if (!s) throw new Error(`unknown student "${n}" (students: ${STUDENTS.map((x) => x.name).join(', ')})`);
  return s;
});
const RECIPE = ['--task', 'sst2', '--data', data, '--epochs', '3', '--lr', '1e-3', '--batch-size', '32'];
const dir = (student: string, recipe: Recipe, seed: string) => join(runs, `${student}-${recipe}-s${seed}`);

/** The teacher directories of a recipe: eelbert-tiny's runs (made first when missing). */
function teachers(recipe: Recipe): string[] {
  const eel = STUDENTS[0];
  const ft = seeds.map((s) => train(eel, 'finetune', s));
  if (recipe === 'self') return [ft[0]];
  if (recipe === 'ens3') return ft;
  if (recipe === 'mix6') {
    const codes = STUDENTS.find((x) => x.name === 'lowrank-k4')!;
    return [...seeds.map((s) => train(eel, 'ens3', s)), ...seeds.map((s) => train(codes, 'ens9', s))];
  }
  return [...ft, ...seeds.map((s) => train(eel, 'self', s)), ...seeds.map((s) => train(eel, 'ens3', s))];
}

/** One run of a student, recipe and seed (skipped when done); returns its directory. */
function train(st: Student, recipe: Recipe, seed: string): string {
  const out = dir(st.name, recipe, seed);
  if (existsSync(join(out, 'eval_results.json'))) return out;
  const common = [...RECIPE, '--out', out, '--seed', seed, '--threads', threads];
  if (recipe === 'finetune') minnow(['finetune', ...st.finetune, ...common]);
  else
    minnow([
      'distill',
      '--teacher',
      teachers(recipe).join(','),
      ...st.distill,
      '--method',
      'hinton',
      '--teacher-cache',
      join(runs, 'teacher-cache'),
      ...common,
    ]);
  return out;
}

interface Row {
  student: string;
  recipe: Recipe;
  teachers: number;
  teacher_score: number | null; // the teacher (or ensemble) on dev
  scores: number[]; // dev accuracy (percent), one per seed
  mean: number;
}
const rows: Row[] = [];
for (const st of chosen)
  for (const recipe of st.recipes) {
    const results = seeds.map((s) =>
      readJson<{ score: number; teacher?: { score: number } }>(
        join(train(st, recipe, s), 'eval_results.json'),
      ),
    );
    const scores = results.map((r) => r.score);
    rows.push({
      student: st.name,
      recipe,
      teachers: recipe === 'finetune' ? 0 : teachers(recipe).length,
      teacher_score: results[0].teacher?.score ?? null,
      scores,
      mean: mean(scores),
    });
  }

const f = (v: number) => v.toFixed(2);
const WHAT: Record<Recipe, string> = {
  finetune: 'fine-tuned alone',
  self: 'KD from 1 teacher (eelbert-tiny seed 0)',
  ens3: 'KD from an ensemble of 3 (the fine-tunes)',
  ens9: 'KD from an ensemble of 9 (fine-tunes, self and ens3 students)',
  mix6: 'KD from an ensemble of 6 of two kinds (eelbert-tiny ens3 and low-rank ens9 students)',
};
const lines = [
  `SST-2 dev accuracy (872 sentences), trained on all 67,349 training sentences: lr 1e-3, batch 32, 3 epochs; KD at T = 2, alpha 0.5; seeds ${seeds.join(', ')}. Every teacher is eelbert-tiny's own run or a student it taught; none is bigger than eelbert-tiny.`,
  '',
  `| student | recipe | teacher dev | ${seeds.map((s) => `seed ${s}`).join(' | ')} | mean | min - max |`,
  `|---|---|---|${seeds.map(() => '---').join('|')}|---|---|`,
  ...rows.map(
    (r) =>
      `| ${r.student} | ${WHAT[r.recipe]} | ${r.teacher_score === null ? '-' : f(r.teacher_score)} | ${r.scores.map(f).join(' | ')} | **${f(r.mean)}** | ${f(Math.min(...r.scores))} - ${f(Math.max(...r.scores))} |`,
  ),
  '',
  'Students: ' + chosen.map((s) => `${s.name}: ${s.what}`).join('; ') + '.',
];
const targets: Record<string, number> = { 'eelbert-tiny': 82, 'lowrank-k4': 80, 'uno-eelbert': 80 };
const best: Record<string, Row & { int8: ReturnType<typeof exportChecked>[] }> = {};
for (const st of chosen) {
  const top = rows.filter((r) => r.student === st.name).sort((a, b) => b.mean - a.mean)[0];
  best[st.name] = {
    ...top,
    int8: seeds.map((s) => exportChecked(minnow, dir(st.name, top.recipe, s), 'sst2', data, threads)),
  };
}
lines.push(
  '',
  "Each student's best row in int8 (`minnow export --check sst2`, the file minnow ships):",
  '',
  `| student | recipe | int8 file | bytes | ${seeds.map((s) => `seed ${s}`).join(' | ')} | mean int8 | mean fp32 |`,
  `|---|---|---|---|${seeds.map(() => '---').join('|')}|---|---|`,
  ...Object.values(best).map(
    (b) =>
      `| ${b.student} | ${b.recipe} | ${b.int8[0].file} | ${(b.int8[0].bytes / 1000).toFixed(1)} kB | ${b.int8.map((x) => f(x.int8)).join(' | ')} | **${f(mean(b.int8.map((x) => x.int8)))}** | ${f(b.mean)} |`,
  ),
  '',
);
for (const st of chosen) {
  const b = best[st.name];
  const base = rows.find((r) => r.student === st.name && r.recipe === 'finetune')!;
  const target = targets[st.name];
  const int8Mean = mean(b.int8.map((x) => x.int8));
  const met =
    int8Mean >= target && b.mean >= target
      ? 'met on the mean, in fp32 and int8'
      : Math.max(...b.scores) >= target
        ? `met by ${b.scores.filter((x) => x >= target).length} of ${b.scores.length} seeds, not on the mean`
        : 'not met';
  lines.push(
    `- ${st.name}: best mean ${f(b.mean)} (${WHAT[b.recipe]}; int8 ${f(int8Mean)} at ${(b.int8[0].bytes / 1000).toFixed(1)} kB), ${b.mean - base.mean >= 0 ? '+' : ''}${f(b.mean - base.mean)} over fine-tuning alone (${f(base.mean)}); the ${target}% target: ${met}.`,
  );
}
const command = `npx tsx scripts/sst2-distill.ts --students ${values.students} --seeds ${values.seeds} --threads ${threads}`;
writeFileSync(
  join(ROOT, 'results', 'sst2-distill.json'),
  `${JSON.stringify({ command, date: new Date().toISOString(), seeds: seeds.map(Number), rows, best: Object.values(best) }, null, 2)}\n`,
);
writeFileSync(join(ROOT, 'results', 'sst2-distill.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);

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
 *             codes' three ens9 students (eelbert-tiny only);
 *   ens3-e5   as ens3, for 5 epochs instead of 3 (eelbert-tiny only);
 *   ens3-wn2  as ens3, on SST-2 augmented with WordNet synonyms: each sentence and 2 copies in which each
 *             word is replaced with probability 0.3 by one of its first 8 synonyms (`minnow augment
 *             --synonyms wordnet --n 2 --p 0.3 --k 8`, written to RUNS/sst2-wn-n2; eelbert-tiny only);
 *   ens3-wn4  the same with 4 copies (RUNS/sst2-wn-n4);
 *   ens9-wn4  ens9's teachers on that set (lowrank-k4 only).
 * One recipe throughout: lr 1e-3, batch 32, 3 epochs (but ens3-e5); KD at T = 2, alpha 0.5 (minnow distill's
 * defaults).
 * Writes results/sst2-distill.json and results/sst2-distill.md.
 *
 *   npm run build && npx tsx scripts/sst2-distill.ts [--students eelbert-tiny,lowrank-k4,uno-eelbert]
 *       [--seeds 0,1,2] [--threads 2] [--runs runs/sst2-distill] [--cli runs/frozen/dist/cli/main.js]
 *       [--shared ../shared]
 *
 * Each student's best row (by mean) is also exported with `minnow export --check sst2`: the int8 file minnow
 * ships for it (compact for hash models, portable for low-rank codes), its bytes and its dev accuracy.
 *
 * --ship STUDENT copies that student's best row, first seed (not the best seed: a rule fixed before looking),
 * to models/sst2-sentiment (config.json + model.safetensors; the vocabulary is the shipped one) with a model
 * card (README.md), and records it as `shipped` in results/sst2-distill.json; src/model/shipped.test.ts
 * checks the model against that record on examples/sst2/dev.tsv (the whole SST-2 dev set).
 * Every step is a `minnow` child process skipped when its eval_results.json exists, so the script resumes
 * where it stopped. Scores are dev accuracy; the recipes were chosen by looking at dev (the seed-0 runs came
 * first), so the best row is optimistic, as best-of-grid is; the means over seeds are the figures to quote.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel, modelBytes, readConfig, saveModel } from '../src/model/io.js';
import { exportChecked, mean, readJson, ROOT, runMinnow } from './lib/minnow.js';

const { values } = parseArgs({
  options: {
    students: { type: 'string', default: 'eelbert-tiny,lowrank-k4,uno-eelbert' },
    seeds: { type: 'string', default: '0,1,2' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: 'runs/sst2-distill' },
    cli: { type: 'string' },
    shared: { type: 'string', default: '../shared' },
    ship: { type: 'string' },
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
type Recipe =
  'finetune' | 'self' | 'ens3' | 'ens9' | 'mix6' | 'ens3-e5' | 'ens3-wn2' | 'ens3-wn4' | 'ens9-wn4';
const STUDENTS: Student[] = [
  {
    name: 'eelbert-tiny',
    finetune: ['--model', 'models/eelbert-tiny'],
    distill: ['--student', 'models/eelbert-tiny'],
    recipes: ['finetune', 'self', 'ens3', 'ens9', 'mix6', 'ens3-e5', 'ens3-wn2', 'ens3-wn4'],
    what: 'models/eelbert-tiny (shipped, pre-trained)',
  },
  {
    name: 'lowrank-k4',
    finetune: ['--preset', 'uno-lowrank', '--lowrank-dim', '4'],
    distill: ['--student', 'uno-lowrank', '--lowrank-dim', '4'],
    recipes: ['finetune', 'ens9', 'ens9-wn4'],
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
if (values.ship && !chosen.some((s) => s.name === values.ship))
  throw new Error(`--ship ${values.ship}: not among --students (${values.students})`); // before any training
const RECIPE = ['--task', 'sst2', '--lr', '1e-3', '--batch-size', '32'];
const epochs = (recipe: Recipe) => (recipe === 'ens3-e5' ? '5' : '3');
/** The ens3-wnN augmentation: N copies, each word replaced with probability 0.3 by one of 8 synonyms. */
const WORDNET_AUGMENT = ['--synonyms', 'wordnet', '--p', '0.3', '--k', '8', '--seed', '0'];
/** The training data of a recipe: SST-2, or SST-2 augmented with WordNet synonyms (made when missing). */
function dataFor(recipe: Recipe): string {
  const copies = { 'ens3-wn2': '2', 'ens3-wn4': '4', 'ens9-wn4': '4' }[recipe as string];
  if (copies === undefined) return data;
  const out = join(runs, `sst2-wn-n${copies}`);
  if (!existsSync(join(out, 'augment.json')))
    minnow(['augment', ...WORDNET_AUGMENT, '--n', copies, '--task', 'sst2', '--data', data, '--out', out]);
  return out;
}
const dir = (student: string, recipe: Recipe, seed: string) => join(runs, `${student}-${recipe}-s${seed}`);

/** The teacher directories of a recipe: eelbert-tiny's runs (made first when missing). */
function teachers(recipe: Recipe): string[] {
  const eel = STUDENTS[0];
  const ft = seeds.map((s) => train(eel, 'finetune', s));
  if (recipe === 'self') return [ft[0]];
  if (recipe.startsWith('ens3')) return ft;
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
  const common = [
    ...RECIPE,
    ...['--data', dataFor(recipe), '--epochs', epochs(recipe)],
    ...['--out', out, '--seed', seed, '--threads', threads],
  ];
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
  'ens3-e5': 'KD from the ensemble of 3 (the fine-tunes), 5 epochs',
  'ens3-wn2':
    'KD from the ensemble of 3 (the fine-tunes), on SST-2 with 2 WordNet-synonym copies of each sentence',
  'ens3-wn4':
    'KD from the ensemble of 3 (the fine-tunes), on SST-2 with 4 WordNet-synonym copies of each sentence',
  'ens9-wn4': 'KD from the ensemble of 9, on SST-2 with 4 WordNet-synonym copies of each sentence',
};
const lines = [
  `SST-2 dev accuracy (872 sentences), trained on all 67,349 training sentences: lr 1e-3, batch 32, 3 epochs (unless the recipe says otherwise); KD at T = 2, alpha 0.5; seeds ${seeds.join(', ')}. Every teacher is eelbert-tiny's own run or a student it taught; none is bigger than eelbert-tiny.`,
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
const command = `npx tsx scripts/sst2-distill.ts --students ${values.students} --seeds ${values.seeds} --threads ${threads}${values.ship ? ` --ship ${values.ship}` : ''}`;
const resultsPath = join(ROOT, 'results', 'sst2-distill.json');
const SHIP_DIR = join(ROOT, 'models', 'sst2-sentiment');
/** The shipped sentiment model: which run it is and its dev scores (what shipped.test.ts checks). */
interface Shipped {
  dir: string;
  student: string;
  recipe: Recipe;
  seed: number;
  fp32: number;
  int8: number;
  int8_file: string;
  int8_bytes: number;
}
let shipped: Shipped | undefined;
if (values.ship) {
  const b = best[values.ship];
  shipped = {
    dir: relative(ROOT, SHIP_DIR),
    student: b.student,
    recipe: b.recipe,
    seed: Number(seeds[0]),
    fp32: b.scores[0],
    int8: b.int8[0].int8,
    int8_file: b.int8[0].file,
    int8_bytes: b.int8[0].bytes,
  };
  const st = STUDENTS.find((x) => x.name === b.student)!;
  shipModel(dir(b.student, b.recipe, seeds[0]), st, b, shipped);
} else if (existsSync(resultsPath) && existsSync(SHIP_DIR))
  shipped = readJson<{ shipped?: Shipped }>(resultsPath).shipped; // still in models/: keep its record
writeFileSync(
  resultsPath,
  `${JSON.stringify({ command, date: new Date().toISOString(), seeds: seeds.map(Number), rows, best: Object.values(best), shipped }, null, 2)}\n`,
);
writeFileSync(join(ROOT, 'results', 'sst2-distill.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);

/** Copies run FROM to models/sst2-sentiment with a model card. */
function shipModel(from: string, st: Student, b: Row, rec: Shipped): void {
  const m = loadModel(from, { numLabels: readConfig(from).num_labels }); // the classifier too
  saveModel(SHIP_DIR, m, { shippedVocab: 'bert-base-uncased', mlmHead: false });
  const c = m.config;
  const params = m.store.params.reduce((n, p) => n + p.shape.reduce((a, d) => a * d, 1), 0);
  const card = [
    '# sst2-sentiment: English sentiment in ' + `${(rec.int8_bytes / 1000).toFixed(0)} kB`,
    '',
    `Binary sentiment (negative / positive) of English sentences, trained on GLUE SST-2 (movie-review`,
    `sentences). SST-2 dev accuracy (872 sentences): **${f(rec.fp32)}** in fp32, **${f(rec.int8)}** in int8`,
    `(\`onnx/model_quantized.onnx\` after \`minnow export\`, ${(rec.int8_bytes / 1000).toFixed(1)} kB). Majority class: 50.9.`,
    '',
    '```sh',
    'echo "a gorgeous, witty, seductive movie." | npx minnow predict --model models/sst2-sentiment',
    'npx minnow export --model models/sst2-sentiment --out sentiment   # transformers.js folder: fp32 and int8 ONNX',
    'npx minnow serve --model sentiment --quantized                   # HTTP: POST /v1/classify',
    '```',
    '',
    '## What it is',
    `- ${c.num_hidden_layers} transformer layer, width ${c.hidden_size}, ${c.num_attention_heads} heads, FFN ${c.intermediate_size}; ` +
      `word embeddings are learned ${c.vocab_size} x ${c.lowrank_dim} codes projected to ${c.hidden_size} ` +
      `(\`embedding_type: lowrank\`, after NeuML's BERT Hash models). ${params.toLocaleString('en-US')} parameters; ` +
      `model.safetensors ${(modelBytes(SHIP_DIR).weights / 1e6).toFixed(2)} MB in fp32. BERT's uncased vocabulary; at most 512 positions (128 tokens by default).`,
    `- How it was made (\`scripts/sst2-distill.ts --ship ${rec.student}\`): ${st.what}, then Hinton knowledge ` +
      `distillation on ${dataFor(b.recipe) === data ? 'all 67,349 SST-2 training sentences' : `all 67,349 SST-2 training sentences and ${b.recipe.endsWith('wn4') ? 4 : 2} copies of each with words swapped for WordNet synonyms (\`minnow augment --synonyms wordnet\`)`} (lr 1e-3, batch 32, 3 epochs, T = 2, alpha 0.5, seed ` +
      `${rec.seed}) from an ensemble of ${b.teachers} eelbert-tiny SST-2 models (the mean of their softmaxes; ` +
      `${b.teacher_score === null ? '' : `the ensemble scores ${f(b.teacher_score)} on dev`}). No pre-training.`,
    `- Seeds: the recipe's three seeds score ${b.scores.map(f).join(', ')} in fp32 (mean ${f(b.mean)}); this is ` +
      `seed ${rec.seed}, chosen as the first seed, not the best. The recipe was chosen on the dev set, so dev is ` +
      `a slightly optimistic estimate.`,
    '',
    '## Limits',
    '- Trained on movie-review sentences only; other domains and long documents are not measured and will likely ' +
      'score lower. English only; no neutral class (every input is negative or positive).',
    '- A small model: BERT-base scores 93.5 on SST-2 (the GLUE test set, in the BERT paper).',
    "- SST-2 (Socher et al. 2013, in GLUE) is used under its source's terms.",
    '',
    '## Teaching it',
    "- `anchors.txt` holds 256 SST-2 training sentences (`scripts/teach-forgetting.ts --write-anchors 256`): `minnow teach --model models/sst2-sentiment --examples FILE --out DIR` and the page's teach panel (its export ships them) keep the model's answers on them while it learns your sentences; results/teach.md measures what that keeps.",
    '',
  ];
  writeFileSync(join(SHIP_DIR, 'README.md'), card.join('\n'));
  process.stdout.write(`shipped ${relative(ROOT, from)} -> ${relative(ROOT, SHIP_DIR)}\n`);
}

/**
 * Distillation results: a bert-mini teacher (pre-trained on the corpus here, then fine-tuned per task)
 * and three students (bert-tiny, eelbert-tiny, uno-eelbert; each pre-trained by scripts/eelbert.ts) trained
 * three ways on SST-2, CoLA, MRPC, STS-B, RTE and WNLI:
 *   - no KD:    plain fine-tuning (same epochs, lr, batch and seed as the distilled runs)
 *   - Hinton:   soft targets at T = 2 mixed 50/50 with the hard labels (minnow distill --method hinton)
 *   - TinyBERT: intermediate layers (embeddings, hidden states through a learned projection, head-averaged
 *               attention scores; uniform mapping), then the prediction layer (minnow distill --method tinybert)
 * Writes results/distill.json and results/distill.md (dev metrics, averages, size, inference speed).
 *
 *   npm run build && npx tsx scripts/distill-table.ts [--shared ../shared] [--runs runs/distill]
 *       [--students-from runs/eelbert] [--teacher-tokens 3000000] [--cli dist/cli/main.js]
 *
 * Every step runs the `minnow` CLI in a child process and is skipped when its output already exists, so an
 * interrupted run continues where it stopped. `--cli` lets a long run use a frozen copy of the build while
 * the source tree changes (`mkdir -p runs/frozen && cp -r dist runs/frozen/dist && ln -s ../../assets
 * runs/frozen/assets`, then `--cli runs/frozen/dist/cli/main.js`). Students that are missing are pre-trained by running scripts/eelbert.ts first.
 * `--report-only` trains nothing and writes the tables from the runs that exist (missing cells shown as -).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel, readConfig } from '../src/model/io.js';
import { classifierForward } from '../src/infer/predict.js';
import { readTask } from '../src/data/task.js';
import { encodeAll, padBatch } from '../src/data/batch.js';
import type { Forward } from '../src/runtime/forward.js';
import { GLUE_DIR, mean, median, metricCell, readJson, ROOT, runMinnow } from './lib/minnow.js';

const { values } = parseArgs({
  options: {
    shared: { type: 'string', default: '../shared' },
    runs: { type: 'string', default: 'runs/distill' },
    'students-from': { type: 'string', default: 'runs/eelbert' },
    students: { type: 'string', default: 'bert-tiny,eelbert-tiny,uno-eelbert' },
    tasks: { type: 'string', default: 'sst2,cola,mrpc,stsb,rte,wnli' },
    teacher: { type: 'string', default: 'bert-mini' },
    'teacher-tokens': { type: 'string', default: '3000000' },
    'teacher-lr': { type: 'string', default: '1e-4' },
    // 1e-3 (what bert-tiny pre-trains with) collapsed bert-mini: MLM accuracy stuck at 5.7% (one token
    // predicted everywhere), and the fine-tuned teacher stayed at chance on SST-2.
    'teacher-pretrain-lr': { type: 'string', default: '3e-4' },
    'report-only': { type: 'boolean', default: false },
    lr: { type: 'string', default: '2e-4' },
    cli: { type: 'string' },
    'speed-reps': { type: 'string', default: '5' },
    seed: { type: 'string', default: '0' },
  },
});

const shared = resolve(values.shared!);
const runs = resolve(values.runs!);
const studentsFrom = resolve(values['students-from']!);
const cli = values.cli ? resolve(values.cli) : undefined;
const minnow = (args: string[]) => runMinnow(args, cli);
const tasks = values.tasks!.split(',');
const students = values.students!.split(',');
const seed = values.seed!;
const data = (task: string) => join(shared, 'data', 'glue', GLUE_DIR[task]);
// Epochs: students as scripts/eelbert.ts fine-tunes them (SST-2 is 67k sentences, the rest are small);
// the teacher is ~8x slower per example, so it gets one epoch of SST-2.
const studentEpochs: Record<string, number> = { sst2: 2, cola: 4, mrpc: 4, stsb: 4, rte: 4, wnli: 4 };
const teacherEpochs: Record<string, number> = { sst2: 1, cola: 4, mrpc: 4, stsb: 4, rte: 4, wnli: 4 };
const intermediateEpochs: Record<string, number> = { sst2: 1, cola: 4, mrpc: 4, stsb: 4, rte: 4, wnli: 4 };
mkdirSync(runs, { recursive: true });

// 1. Teacher: pre-train on the corpus, then fine-tune per task.
const teacherPre = join(runs, 'teacher-pretrained');
const train = !values['report-only'];
if (train && !existsSync(join(teacherPre, 'pretrain_result.json'))) {
  const out = minnow([
    'pretrain',
    '--preset',
    values.teacher!,
    '--corpus',
    join(shared, 'data', 'corpus', 'gutenberg_train.txt'),
    '--valid',
    join(shared, 'data', 'corpus', 'gutenberg_valid.txt'),
    '--out',
    teacherPre,
    '--tokens',
    values['teacher-tokens']!,
    '--batch-size',
    '64',
    '--lr',
    values['teacher-pretrain-lr']!,
    '--eval-every',
    '200',
    '--checkpoint-every',
    '100',
    '--cache-dir',
    join(studentsFrom, 'cache'),
    '--seed',
    seed,
    '--resume',
    '--json',
  ]);
  writeFileSync(join(teacherPre, 'pretrain_result.json'), out.trim().split('\n').pop()!);
}
const teacherDir = (task: string) => join(runs, `teacher-${task}`);
for (const task of train ? tasks : []) {
  if (existsSync(join(teacherDir(task), 'eval_results.json'))) continue;
  minnow([
    'finetune',
    '--model',
    teacherPre,
    '--task',
    task,
    '--data',
    data(task),
    '--out',
    teacherDir(task),
    '--epochs',
    String(teacherEpochs[task]),
    '--lr',
    values['teacher-lr']!,
    '--batch-size',
    '32',
    '--seed',
    seed,
  ]);
}

// 2. Students: pre-trained by scripts/eelbert.ts (run first if missing).
const studentPre = (s: string) => join(studentsFrom, `${s}-pretrained`);
if (train && students.some((s) => !existsSync(join(studentPre(s), 'model.safetensors')))) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts', 'eelbert.ts'), '--runs', studentsFrom, '--shared', shared],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('scripts/eelbert.ts failed');
}

// 3. Distilled students.
// Plain fine-tuning first (the twins), then Hinton, then TinyBERT: rows complete in that order.
const methods = ['hinton', 'tinybert'] as const;
const kdDir = (s: string, m: string, task: string) => join(runs, `${s}-${m}-${task}`);
for (const s of train ? students : []) {
  for (const task of tasks) {
    if (existsSync(join(kdDir(s, 'none', task), 'eval_results.json'))) continue;
    minnow([
      'finetune',
      '--model',
      studentPre(s),
      '--task',
      task,
      '--data',
      data(task),
      '--out',
      kdDir(s, 'none', task),
      '--epochs',
      String(studentEpochs[task]),
      '--lr',
      values.lr!,
      '--batch-size',
      '32',
      '--seed',
      seed,
    ]);
  }
}
for (const method of train ? methods : []) {
  for (const s of students) {
    for (const task of tasks) {
      const out = kdDir(s, method, task);
      if (existsSync(join(out, 'eval_results.json'))) continue;
      minnow([
        'distill',
        '--teacher',
        teacherDir(task),
        '--student',
        studentPre(s),
        '--task',
        task,
        '--data',
        data(task),
        '--out',
        out,
        '--method',
        method,
        '--epochs',
        String(studentEpochs[task]),
        ...(method === 'tinybert' ? ['--intermediate-epochs', String(intermediateEpochs[task])] : []),
        '--lr',
        values.lr!,
        '--batch-size',
        '32',
        '--seed',
        seed,
        // One cache for every student: the logits of a teacher on a task are computed once.
        '--teacher-cache',
        join(runs, 'teacher-cache'),
      ]);
    }
  }
}

// 4. Inference speed on SST-2 dev (872 sentences), 1 thread, models interleaved within each repetition.
const speedTask = tasks.includes('sst2') ? 'sst2' : tasks[0];
interface Speed {
  batch32_sentences_per_s: number;
  batch1_ms_per_sentence: number;
}
async function speeds(dirs: Record<string, string>): Promise<Record<string, Speed>> {
  if (Object.keys(dirs).length === 0) return {};
  const src = { task: speedTask, data: data(speedTask) };
  const dev = readTask(src, 'dev');
  const fwds: Record<string, { fwd: Forward; items: ReturnType<typeof encodeAll> }> = {};
  for (const [name, dir] of Object.entries(dirs)) {
    const labels = readConfig(dir).num_labels ?? 2;
    const m = loadModel(dir, { numLabels: labels });
    const fwd = await classifierForward(m, labels, 1);
    fwds[name] = { fwd, items: encodeAll(m.tokenizer, dev.examples, 128) };
  }
  const run = async (name: string, batch: number, count: number) => {
    const { fwd, items } = fwds[name];
    count = Math.min(count, items.length);
    const t0 = performance.now();
    for (let i = 0; i < count; i += batch) {
      const b = padBatch(items.slice(i, Math.min(i + batch, count)), true, 0);
      const { labels: _, ...feeds } = b.feeds;
      await fwd.run(feeds, b.sizes);
    }
    return performance.now() - t0;
  };
  const n = fwds[Object.keys(fwds)[0]].items.length;
  const n1 = Math.min(200, n); // batch-1 latency on the first 200 sentences
  const samples: Record<string, { b32: number[]; b1: number[] }> = {};
  const reps = Number(values['speed-reps']);
  for (let rep = -1; rep < reps; rep++) {
    for (const name of Object.keys(fwds)) {
      const b32 = await run(name, 32, n);
      const b1 = await run(name, 1, n1);
      if (rep < 0) continue; // warm-up
      samples[name] ??= { b32: [], b1: [] };
      samples[name].b32.push(n / (b32 / 1000));
      samples[name].b1.push(b1 / n1);
    }
    process.stderr.write(`speed: repetition ${rep + 1}/${reps}\n`);
  }
  for (const { fwd } of Object.values(fwds)) await fwd.release();
  return Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [
      k,
      { batch32_sentences_per_s: median(v.b32), batch1_ms_per_sentence: median(v.b1) },
    ]),
  );
}

// 5. Results.
type Row = Record<string, unknown> & { scores: Record<string, number> };
const info = (dir: string) =>
  JSON.parse(minnow(['info', dir, '--json'])) as { parameters: number; bytes_weights: number };
function row(model: string, method: string, dirOf: (task: string) => string): Row {
  const r: Row = { model, method, scores: {} };
  for (const task of tasks) {
    const file = join(dirOf(task), 'eval_results.json');
    if (!existsSync(file)) continue; // not run (yet): the cell and the averages stay empty
    const e = readJson<{ metrics: Record<string, number>; score: number }>(file);
    r[task] = e.metrics;
    r.scores[task] = e.score;
  }
  const complete = tasks.every((t) => t in r.scores);
  r.average = complete ? mean(tasks.map((t) => r.scores[t])) : null;
  r.average_without_wnli = complete ? mean(tasks.filter((t) => t !== 'wnli').map((t) => r.scores[t])) : null;
  const done = tasks.find((t) => t in r.scores);
  const i = done ? info(dirOf(done)) : { parameters: Number.NaN, bytes_weights: Number.NaN };
  r.parameters = i.parameters;
  r.bytes_on_disk = i.bytes_weights;
  return r;
}
const rows: Row[] = [row(values.teacher!, 'teacher', teacherDir)];
for (const s of students) {
  for (const m of ['none', ...methods]) rows.push(row(s, m, (t) => kdDir(s, m, t)));
}
const speedDirs: Record<string, string> = { [values.teacher!]: teacherDir(speedTask) };
for (const s of students) speedDirs[s] = kdDir(s, 'none', speedTask);
for (const [k, d] of Object.entries(speedDirs))
  if (!existsSync(join(d, 'model.safetensors'))) delete speedDirs[k];
const speed = await speeds(speedDirs);
for (const r of rows) r.inference = speed[r.model as string];

const avg = (model: string, method: string) =>
  rows.find((r) => r.model === model && r.method === method)!.average as number | null;
const checks: Record<string, unknown> = {};
for (const s of students)
  for (const m of methods)
    if (avg(s, m) !== null && avg(s, 'none') !== null)
      checks[`${s} ${m} beats ${s} without KD`] = {
        holds: avg(s, m)! > avg(s, 'none')!,
        kd: avg(s, m),
        none: avg(s, 'none'),
      };
if (students.includes('uno-eelbert') && students.includes('bert-tiny'))
  for (const m of methods)
    if (avg('uno-eelbert', m) !== null && avg('bert-tiny', 'none') !== null)
      checks[`uno-eelbert ${m} >= bert-tiny without KD`] = {
        holds: avg('uno-eelbert', m)! >= avg('bert-tiny', 'none')!,
        kd: avg('uno-eelbert', m),
        bert_tiny_none: avg('bert-tiny', 'none'),
      };

const teacherPretrain = JSON.parse(readFileSync(join(teacherPre, 'pretrain_result.json'), 'utf8'));
mkdirSync(join(ROOT, 'results'), { recursive: true });
writeFileSync(
  join(ROOT, 'results', 'distill.json'),
  `${JSON.stringify(
    {
      command: ['npx tsx scripts/distill-table.ts', ...process.argv.slice(2)].join(' '),
      date: new Date().toISOString(),
      tasks,
      settings: {
        teacher_pretrain_tokens: Number(values['teacher-tokens']),
        teacher_pretrain_valid: teacherPretrain.evals?.at(-1) ?? null,
        teacher_epochs: teacherEpochs,
        teacher_lr: Number(values['teacher-lr']),
        student_epochs: studentEpochs,
        tinybert_intermediate_epochs: intermediateEpochs,
        student_lr: Number(values.lr),
        batch_size: 32,
        seed: Number(seed),
        inference: `${speedTask} dev, 1 onnxruntime thread, median of ${values['speed-reps']} repetitions with the models interleaved`,
      },
      results: rows,
      checks,
    },
    null,
    2,
  )}\n`,
);

const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(1));
const head = [
  'model',
  'KD',
  ...tasks.map((t) => GLUE_DIR[t]),
  'avg',
  'avg w/o WNLI',
  'MB',
  'sent/s (B=32)',
  'ms/sent (B=1)',
];
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
for (const r of rows) {
  const sp = r.inference as Speed | undefined;
  lines.push(
    `| ${r.model} | ${r.method} | ${tasks.map((t) => (r[t] ? metricCell(t, r[t] as Record<string, number>) : '-')).join(' | ')} | ${fmt(r.average as number | null)} | ${fmt(r.average_without_wnli as number | null)} | ${((r.bytes_on_disk as number) / 1e6).toFixed(2)} | ${sp ? Math.round(sp.batch32_sentences_per_s).toLocaleString('en-US') : '-'} | ${sp ? sp.batch1_ms_per_sentence.toFixed(2) : '-'} |`,
  );
}
lines.push('');
for (const [k, v] of Object.entries(checks))
  lines.push(`- ${k}: ${(v as { holds: boolean }).holds ? 'yes' : 'NO'} (${JSON.stringify(v)})`);
writeFileSync(join(ROOT, 'results', 'distill.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);

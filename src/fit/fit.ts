/**
 * `minnow fit`: the whole recipe in one resumable command. The data is checked, the stages planned
 * (stages.ts: the n-gram baseline, a fine-tune of each shipped model whose int8 file fits --max-bytes, the
 * export), then run in order, each in OUT/stages/NAME with its result.json written atomically when it
 * finishes. --resume keeps the finished stages (an unfinished fine-tune resumes from its checkpoints);
 * --budget skips the stages that would start after it is spent. The winner (pick.ts) is exported to
 * OUT/export with a model card; OUT/fit.json records the settings and the outcome.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataSource } from '../data/task.js';
import { checkOutDir, ensureDir, writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { formatSeconds, info } from '../util/progress.js';
import { modelCard } from './card.js';
import { exportDir, type FitConfig, stageDir } from './config.js';
import { type FitData, readFitData } from './data.js';
import { Budget } from './limits.js';
import { pick } from './pick.js';
import type { ExportSummary, FitResult, FitRow } from './report.js';
import { isExcluded, type Plan, type Stage, type StageResult } from './stage.js';
import { fitStages } from './stages.js';

/** What a fit's directory was made with; --resume with other values is refused. */
function settingsOf(src: DataSource, dev: DataSource | undefined, c: FitConfig) {
  return {
    task: src.task,
    data: resolve(src.data),
    dev: dev ? resolve(dev.data) : null,
    textColumn: src.textColumn ?? null,
    textPairColumn: src.textPairColumn ?? null,
    labelColumn: src.labelColumn ?? null,
    regression: !!src.regression,
    seed: c.seed,
    devFraction: c.devFraction,
    maxBytes: c.maxBytes,
  };
}

const SETTING_FLAGS: Record<keyof ReturnType<typeof settingsOf>, string> = {
  task: '--task',
  data: '--data',
  dev: '--dev',
  textColumn: '--text-column',
  textPairColumn: '--text-pair-column',
  labelColumn: '--label-column',
  regression: '--regression',
  seed: '--seed',
  devFraction: '--dev-fraction',
  maxBytes: '--max-bytes',
};

export const FIT_FILE = 'fit.json';

/** A fit already in `out` (its fit.json, or stages a killed first run left), and its settings if recorded. */
function earlierFit(out: string): { settings?: Record<string, unknown> } | undefined {
  const file = join(out, FIT_FILE);
  if (existsSync(file)) {
    try {
      return {
        settings: (JSON.parse(readFileSync(file, 'utf8')) as { settings?: Record<string, unknown> }).settings,
      };
    } catch {
      return {};
    }
  }
  return existsSync(join(out, 'stages')) ? {} : undefined;
}

/** Refuse an OUT holding a fit without --resume, and a --resume with other settings. */
function checkEarlierFit(out: string, resume: boolean, settings: ReturnType<typeof settingsOf>): void {
  const earlier = earlierFit(out);
  if (!earlier) {
    if (resume) info(`fit: --resume given but ${out} holds no fit; starting a new one`);
    return;
  }
  if (!resume)
    throw new UserError(
      `fit: --out ${out} already holds a fit; give --resume to continue it, or choose another --out`,
    );
  if (!earlier.settings) return;
  const differ = (Object.keys(settings) as (keyof typeof settings)[]).filter(
    (k) => JSON.stringify(earlier.settings![k] ?? null) !== JSON.stringify(settings[k]),
  );
  if (differ.length)
    throw new UserError(
      `fit: --resume: ${out} was made with other settings (${differ
        .map(
          (k) =>
            `${SETTING_FLAGS[k]} ${JSON.stringify(earlier.settings![k])}, now ${JSON.stringify(settings[k])}`,
        )
        .join('; ')}); resume with the same settings, or choose another --out`,
    );
}

const RESULT_FILE = 'result.json';

function readResult(dir: string): StageResult | undefined {
  const file = join(dir, RESULT_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StageResult) : undefined;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const points = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(2));

/**
 * Run a fit of `src` (dev data: `dev`, GLUE's dev split, or held-out rows) into c.out. `plan` gives the
 * stages (tests give their own).
 */
export async function fit(
  src: DataSource,
  dev: DataSource | undefined,
  c: FitConfig,
  plan: (data: FitData, c: FitConfig) => Plan = fitStages,
): Promise<FitResult> {
  const budget = new Budget(c.budgetSeconds);
  const settings = settingsOf(src, dev, c);
  checkEarlierFit(c.out, c.resume, settings);
  const data = readFitData(src, dev, c); // bad data is refused before anything is written
  const entries = plan(data, c);
  checkOutDir(c.out);
  writeFileAtomic(join(c.out, FIT_FILE), `${JSON.stringify({ settings, status: 'running' }, null, 2)}\n`);
  const stages = entries.filter((e): e is Stage => !isExcluded(e));

  const results = new Map<string, StageResult>();
  const rows: FitRow[] = [];
  for (const entry of entries) {
    if (isExcluded(entry)) {
      info(`fit: ${entry.stage}: not run: ${entry.reason}`);
      rows.push({
        stage: entry.stage,
        status: 'excluded',
        int8: entry.int8,
        picked: false,
        note: entry.reason,
      });
      continue;
    }
    const stage = entry;
    const label = `fit: stage ${stages.indexOf(stage) + 1}/${stages.length} ${stage.name}`;
    const dir = stageDir(c.out, stage.name);
    const earlier = new Map(results);
    const key = stage.key?.({ earlier, config: c });
    const done = readResult(dir);
    if (done && (done.key ?? null) === (key ?? null)) {
      info(`${label}: finished earlier (${done.note}); kept`);
      results.set(stage.name, done);
      rows.push(rowOf(done, 'earlier'));
      continue;
    }
    const anyCandidate = [...results.values()].some((r) => r.candidate);
    if (stage.budgeted && anyCandidate && budget.spent()) {
      info(`${label}: skipped: ${budget.describe()} spent (fit --resume with a larger --budget runs it)`);
      rows.push({ stage: stage.name, status: 'skipped', picked: false, note: stage.what });
      continue;
    }
    const unfinished = existsSync(dir) && !done;
    info(`${label}: ${stage.what}${unfinished ? ' (resuming an unfinished run)' : ''}`);
    const deadline = budget.deadline();
    const result = await runStage(stage, { dir, unfinished, earlier, key, c, src, dev, data, deadline });
    info(
      `${label}: ${result.score !== undefined ? `dev score ${points(result.score)}, ` : ''}${result.note} (${formatSeconds(result.seconds)})`,
    );
    results.set(stage.name, result);
    rows.push(rowOf(result, 'ran'));
  }
  const chosen = pick(results.values(), c.maxBytes);
  for (const r of rows) r.picked = r.stage === chosen.winner.stage;
  const exported = results.get('export');
  if (!exported) throw new Error('fit: the plan has no export stage');
  const x = exported.details as unknown as ExportSummary & { winner: string };
  const res: FitResult = {
    out: c.out,
    exportDir: exportDir(c.out),
    card: join(exportDir(c.out), 'README.md'),
    task: data.task,
    data: {
      file: data.file,
      trainExamples: data.train.examples.length,
      devExamples: data.dev.examples.length,
      devSource: data.devSource,
      devFile:
        data.devSource === 'held-out' ? join(stageDir(c.out, 'export'), 'dev-held-out.jsonl') : data.dev.file,
    },
    classes: data.head.names,
    maxBytes: c.maxBytes,
    budgetSeconds: c.budgetSeconds,
    seed: c.seed,
    rows,
    winner: chosen.winner.stage,
    winnerScore: chosen.winner.score,
    baselineScore: chosen.baseline?.score,
    message: chosen.message,
    export: {
      file: x.file,
      bytes: x.bytes,
      gzipBytes: x.gzipBytes,
      totalBytes: x.totalBytes,
      written: x.written,
      score: exported.score,
      fp32Score: x.fp32Score,
      drop: x.drop,
    },
    seconds: budget.elapsed(),
    command: c.command,
  };
  ensureDir(res.exportDir);
  writeFileAtomic(res.card, modelCard(res));
  writeFileAtomic(
    join(c.out, FIT_FILE),
    `${JSON.stringify({ settings, status: 'done', ...res }, null, 2)}\n`,
  );
  info(`fit: ${chosen.message}; ${budget.describe()} used`);
  return res;
}

/** Run one stage in its directory, timed, and record its result.json. */
async function runStage(
  stage: Stage,
  o: {
    dir: string;
    unfinished: boolean;
    earlier: ReadonlyMap<string, StageResult>;
    key?: string;
    c: FitConfig;
    src: DataSource;
    dev: DataSource | undefined;
    data: FitData;
    deadline: number;
  },
): Promise<StageResult> {
  ensureDir(o.dir);
  const t0 = performance.now();
  const cpu0 = cpuNow();
  const out = await stage.run({
    dir: o.dir,
    config: o.c,
    src: o.src,
    dev: o.dev,
    data: o.data,
    unfinished: o.unfinished,
    earlier: o.earlier,
    deadline: o.deadline,
  });
  const result: StageResult = {
    stage: stage.name,
    ...out,
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: cpuNow() - cpu0,
    finishedAt: new Date().toISOString(),
    ...(o.key !== undefined ? { key: o.key } : {}),
  };
  writeFileAtomic(join(o.dir, RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

function rowOf(r: StageResult, status: 'ran' | 'earlier'): FitRow {
  return {
    stage: r.stage,
    status,
    score: r.score,
    int8: r.candidate?.int8,
    seconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    picked: false,
    note: r.note,
  };
}

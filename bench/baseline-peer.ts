/**
 * `minnow baseline` beside scikit-learn on the same GLUE files: minnow's hashed word 1-2-gram + character
 * 2-5-gram TF-IDF with L2 logistic regression (ridge for STS-B), against scikit-learn's
 * `TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)` + `LogisticRegression` (`Ridge(alpha=1/C)` for
 * STS-B), and that plus `char_wb` 2-5-grams in a FeatureUnion, since minnow counts character n-grams by
 * default. Each side picks C on dev from the same grid and is scored on dev with GLUE's metrics (the task
 * score is their mean, in percent). Seconds are each side's own count of the fit: featurisation and every
 * fit of the grid, one thread each. The two run one after the other, never side by side. Writes
 * results/baseline-peer.json and results/baseline-peer.md.
 *
 *   npm run build && npx tsx bench/baseline-peer.ts [--tasks sst2,mrpc] [--glue ../shared/data/glue]
 *       [--C 1,3,10,30] [--python PATH]
 *
 * Needs a Python with scikit-learn (--python, $MINNOW_PYTHON, else python3) for the peer (bench/baseline-peer.py);
 * without one it says so in one line, runs minnow's side alone, prints its table and leaves results/ as it is.
 * Not the same text features: minnow splits words as BERT's BasicTokenizer does (punctuation and 1-character
 * words are words), hashes into 2^18 buckets, L2-normalises words and characters together and adds the words
 * two sentences share; scikit-learn's default token_pattern keeps words of 2+ word characters only, its
 * vocabulary is exact, the FeatureUnion normalises each half on its own, and a pair is one text (see the .py).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { glueTask } from '../src/data/glue.js';

const DEFAULTS = { tasks: 'sst2,mrpc', glue: '../shared/data/glue', C: '1,3,10,30' };
const { values: v } = parseArgs({
  options: {
    tasks: { type: 'string', default: DEFAULTS.tasks },
    glue: { type: 'string', default: DEFAULTS.glue },
    C: { type: 'string', default: DEFAULTS.C },
    python: { type: 'string', default: process.env.MINNOW_PYTHON ?? 'python3' },
  },
});
const BENCH = 'baseline-peer';
const tasks = v.tasks!.split(',').map((t) => glueTask(t.trim()));
const python = v.python!;

/** What the CLI's --json prints (the fields read here). */
interface MinnowResult {
  task: string;
  metrics: Record<string, number>;
  score: number;
  C: number;
  path: { C: number; score: number; iterations: number }[];
  trainExamples: number;
  devExamples: number;
  featuresPerExample: number;
  seconds: number;
  wallSeconds: number;
}

/** One line of bench/baseline-peer.py. */
interface PeerResult {
  task: string;
  features: 'word' | 'word+char';
  metrics: Record<string, number>;
  score: number;
  C: number;
  path: { C: number; score: number; iterations: number | null }[];
  trainExamples: number;
  devExamples: number;
  featureColumns: number;
  featuresPerExample: number;
  seconds: number;
  system: string;
}

/** The peer when `python` imports scikit-learn and SciPy; otherwise one line saying it is skipped. */
function sklearnPeer(): boolean {
  const probe = spawnSync(python, ['-c', 'import sklearn, scipy'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  process.stdout.write(
    `${BENCH}: peer skipped: ${python} cannot import sklearn and scipy (set --python or MINNOW_PYTHON); minnow's side only\n`,
  );
  return false;
}

/** `minnow baseline` on the task's GLUE folder from this checkout's build, into a scratch directory. */
function minnowBaseline(task: string, dir: string): MinnowResult {
  const out = mkdtempSync(join(tmpdir(), 'minnow-baseline-peer-'));
  try {
    const t0 = performance.now();
    const m = spawnSync(
      process.execPath,
      [
        'dist/cli/main.js',
        'baseline',
        '--task',
        task,
        '--data',
        join(v.glue!, dir),
        '--out',
        join(out, 'model'),
        '--C',
        v.C!,
        '--json',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const wallSeconds = (performance.now() - t0) / 1000;
    if (m.status !== 0) throw new Error(`minnow baseline --task ${task} failed`);
    return { ...(JSON.parse(m.stdout) as Omit<MinnowResult, 'wallSeconds'>), wallSeconds };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** bench/baseline-peer.py on the task: its two feature sets. */
function peer(task: string): PeerResult[] {
  const py = spawnSync(
    python,
    [resolve('bench', 'baseline-peer.py'), '--glue', v.glue!, '--task', task, '--C', v.C!],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (py.status !== 0) throw new Error(`the scikit-learn peer (baseline-peer.py --task ${task}) failed`);
  return py.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as PeerResult);
}

const withPeer = sklearnPeer();
const rows = tasks.map((spec) => {
  process.stderr.write(`${BENCH}: ${spec.title}: minnow baseline\n`);
  const minnow = minnowBaseline(spec.name, spec.dir);
  let word: PeerResult | undefined;
  let both: PeerResult | undefined;
  if (withPeer) {
    process.stderr.write(`${BENCH}: ${spec.title}: scikit-learn\n`);
    const p = peer(spec.name);
    word = p.find((r) => r.features === 'word');
    both = p.find((r) => r.features === 'word+char');
    for (const r of p)
      if (r.trainExamples !== minnow.trainExamples || r.devExamples !== minnow.devExamples)
        throw new Error(
          `${spec.title}: scikit-learn read ${r.trainExamples} train / ${r.devExamples} dev rows, minnow ${minnow.trainExamples} / ${minnow.devExamples}`,
        );
  }
  return {
    task: spec.name,
    title: spec.title,
    metrics: [...spec.metrics],
    minnow,
    sklearn_word: word,
    sklearn_word_char: both,
  };
});

const METRIC: Record<string, string> = {
  accuracy: 'accuracy',
  f1: 'F1',
  mcc: 'Matthews corr.',
  pearson: 'Pearson',
  spearman: 'Spearman',
};
const f2 = (x: number) => x.toFixed(2);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
/** The task score, with the metrics it averages when there are two. */
const scoreCell = (names: string[], r: { score: number; metrics: Record<string, number> }) =>
  names.length > 1
    ? `${f2(r.score)} (${names.map((n) => (100 * r.metrics[n]).toFixed(1)).join('/')})`
    : f2(r.score);
const cell = (
  names: string[],
  r: { score: number; metrics: Record<string, number>; C: number; seconds: number },
) => `${scoreCell(names, r)} | ${r.C} | ${r.seconds.toFixed(1)}`;
const none = '- | - | -';

const system = rows.find((r) => r.sklearn_word)?.sklearn_word?.system;
const command = [
  'npx tsx bench/baseline-peer.ts',
  `--tasks ${tasks.map((t) => t.name).join(',')}`,
  ...(v.glue !== DEFAULTS.glue ? [`--glue ${v.glue}`] : []),
  ...(v.C !== DEFAULTS.C ? [`--C ${v.C}`] : []),
].join(' ');
const lines = [
  `Made by \`npm run build && ${command}\` (with a Python that has scikit-learn as --python or $MINNOW_PYTHON). GLUE dev scores in percent, each side trained on all of train with C picked on dev from ${v.C!.split(',').join(', ')}; seconds: the fit with featurisation and the whole C grid, one thread, on a shared machine (indicative). minnow: \`minnow baseline\` defaults (hashed word 1-2-grams + char 2-5-grams within words, 2^18 buckets, sublinear TF-IDF, L2 logistic regression / ridge by L-BFGS). ${system ?? 'scikit-learn'}: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True) + LogisticRegression(max_iter=1000) / Ridge(alpha=1/C); "+ char_wb" adds a FeatureUnion with TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True). Pairs: minnow hashes the two sentences apart and adds their shared words; scikit-learn reads them joined by a separator word. Two metrics: the score is their mean (GLUE's), the metrics in brackets. Dev examples: ${rows.map((r) => `${r.title} ${r.minnow.devExamples}${r.metrics.includes('accuracy') ? ` (one is ${(100 / r.minnow.devExamples).toFixed(2)} points of accuracy)` : ''}`).join(', ')}.`,
  '',
  '| task | metric | minnow baseline | C | s | scikit-learn word 1-2 | C | s | scikit-learn word 1-2 + char_wb 2-5 | C | s | minnow - word 1-2 | minnow - word+char |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.title} | ${r.metrics.map((m) => METRIC[m]).join('/')} | ${cell(r.metrics, r.minnow)} | ${r.sklearn_word ? cell(r.metrics, r.sklearn_word) : none} | ${r.sklearn_word_char ? cell(r.metrics, r.sklearn_word_char) : none} | ${r.sklearn_word ? signed(r.minnow.score - r.sklearn_word.score) : '-'} | ${r.sklearn_word_char ? signed(r.minnow.score - r.sklearn_word_char.score) : '-'} |`,
  ),
];
if (withPeer) {
  lines.push(
    '',
    ...rows.map((r) => {
      const d = r.minnow.score - r.sklearn_word!.score;
      const verdict =
        d >= 0
          ? `${f2(d)} points above`
          : d >= -0.5
            ? `${f2(-d)} points below (within 0.5 of)`
            : `${f2(-d)} points below (more than 0.5 under)`;
      return `- ${r.title}: minnow ${f2(r.minnow.score)} (C ${r.minnow.C}) is ${verdict} scikit-learn word 1-2 ${f2(r.sklearn_word!.score)} (C ${r.sklearn_word!.C}); against scikit-learn word 1-2 + char_wb, ${f2(r.sklearn_word_char!.score)} (C ${r.sklearn_word_char!.C}), minnow is ${signed(r.minnow.score - r.sklearn_word_char!.score)}.`;
    }),
  );
}
process.stdout.write(`${lines.join('\n')}\n`);

if (withPeer) {
  const root = resolve('results');
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, 'baseline-peer.json'),
    `${JSON.stringify({ command, C: v.C!.split(',').map(Number), peer: system, node: process.version, tasks: rows }, null, 2)}\n`,
  );
  writeFileSync(join(root, 'baseline-peer.md'), `${lines.join('\n')}\n`);
} else process.stdout.write(`${BENCH}: results/ left as it is (no peer to compare with)\n`);

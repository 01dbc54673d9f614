/** `minnow baseline`: bag-of-n-grams TF-IDF + logistic (or ridge) regression, the model to beat. */
import { type ClassWeight, DEFAULT_BASELINE, trainBaseline } from '../train/baseline.js';
import { checkOutDir } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { choice, command, flag, num, type Parsed, required, str } from './args.js';
import { DATA_OPTIONS, dataSource, devOptions } from './options.js';

const D = DEFAULT_BASELINE;

export const spec = command({
  name: 'baseline',
  summary: 'fit the baseline a user tries first: n-gram TF-IDF + logistic regression, in seconds',
  usage:
    'minnow baseline --task T --data PATH --out DIR [--C 1,3,10,30] [--buckets N] [--char-ngrams 2-5] ...',
  details:
    'Hashed word 1-2-grams and character n-grams within words, sublinear TF-IDF, L2-normalised; L2 logistic regression (ridge regression for numeric labels) with C picked on dev data. The model directory works with predict, eval, export (fp32 and int8 ONNX), serve and the page.',
  options: {
    ...DATA_OPTIONS,
    ...devOptions(D, 'for picking C', 'no dev, the middle C'),
    out: { type: 'string', value: 'DIR', help: 'output model directory' },
    C: {
      type: 'string',
      value: 'LIST',
      help: 'inverse regularisation strengths to try, comma-separated (the best on dev is kept)',
      default: D.C.join(','),
    },
    buckets: {
      type: 'string',
      value: 'N',
      help: 'hash buckets: rows of the weight table (int8 export: about N bytes per class column, plus N for idf)',
      default: String(D.ngram.buckets),
      number: { int: true, min: 16, max: 1 << 24 },
    },
    'word-ngrams': {
      type: 'string',
      value: 'N',
      help: 'word n-grams of 1..N words (0: none)',
      default: String(D.ngram.word_ngrams),
      number: { int: true, min: 0, max: 4 },
    },
    'char-ngrams': {
      type: 'string',
      value: 'A-B',
      help: 'character n-grams of A..B characters within words, or "none"',
      default: D.ngram.char_ngrams ? D.ngram.char_ngrams.join('-') : 'none',
    },
    'pair-features': {
      type: 'boolean',
      help: 'text pairs: also 16 measures of how alike the two texts are (shared words, bigrams, character trigrams, lengths, numbers)',
    },
    'class-weight': {
      type: 'string',
      value: 'W',
      help: 'none, or balanced: each class weighs the same in the loss (for the Matthews correlation or F1 on imbalanced classes)',
      default: D.classWeight,
      choices: ['none', 'balanced'],
    },
    probes: {
      type: 'string',
      value: 'N',
      help: 'rows each n-gram is hashed to: 2-3 make collisions in a small table (--buckets) cheaper',
      default: String(D.ngram.probes),
      number: { int: true, min: 1, max: 8 },
    },
    'max-iterations': {
      type: 'string',
      value: 'N',
      help: 'L-BFGS iterations per C',
      default: String(D.maxIterations),
      number: { int: true, min: 1 },
    },
    seed: {
      type: 'string',
      value: 'N',
      help: 'seed of the held-out dev rows (own data) and of the hash',
      default: String(D.seed),
      number: { int: true, min: 0, max: 2 ** 32 - 1 },
    },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
});

/** "2-5" -> [2, 5]; "none" -> null. */
function charRange(raw: string): [number, number] | null {
  if (raw === 'none' || raw === '0') return null;
  const m = /^(\d+)-(\d+)$/.exec(raw.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < Number(m[1]) || Number(m[2]) > 8)
    throw new UserError(
      `baseline: --char-ngrams ${raw}: expected A-B with 1 <= A <= B <= 8 (e.g. 2-5), or none`,
    );
  return [Number(m[1]), Number(m[2])];
}

function cList(raw: string): number[] {
  const xs = raw.split(',').map((s) => s.trim());
  const out = xs.map(Number);
  if (xs.some((s) => s === '') || out.some((x) => !Number.isFinite(x) || x <= 0))
    throw new UserError(
      `baseline: --C ${raw}: expected positive numbers separated by commas (e.g. 1,3,10,30)`,
    );
  return out;
}

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const out = required(p, 'out');
  const src = dataSource(p);
  const seed = num(p, 'seed');
  const ngram = {
    buckets: num(p, 'buckets'),
    word_ngrams: num(p, 'word-ngrams'),
    char_ngrams: charRange(str(p, 'char-ngrams')!),
    probes: num(p, 'probes'),
    seed,
    ...(flag(p, 'pair-features') ? { pair_features: true } : {}),
  };
  if (ngram.word_ngrams === 0 && ngram.char_ngrams === null)
    throw new UserError('baseline: no features: --word-ngrams 0 with --char-ngrams none');
  const C = cList(str(p, 'C')!);
  const devPath = str(p, 'dev');
  checkOutDir(out); // before reading any data
  const res = trainBaseline(src, devPath ? { ...src, data: devPath } : undefined, {
    out,
    ngram,
    C,
    maxIterations: num(p, 'max-iterations'),
    devFraction: num(p, 'dev-fraction'),
    seed,
    classWeight: choice<typeof spec.options, ClassWeight>(p, 'class-weight', ['none', 'balanced']),
  });
  if (flag(p, 'json')) process.stdout.write(`${JSON.stringify(res)}\n`);
  else if (res.devSource === 'none')
    process.stdout.write(`${res.task}: no dev data, C ${res.C}, no metrics; model written to ${out}\n`);
  else {
    const m = Object.entries(res.metrics).map(([k, v]) => `${k} ${(100 * (v ?? Number.NaN)).toFixed(2)}`);
    const which = res.devSource === 'held-out' ? 'held-out dev' : 'dev';
    process.stdout.write(
      `${res.task} ${which} (${res.devExamples} examples): ${m.join(', ')} at C ${res.C} (picked on this dev set); ${res.seconds.toFixed(1)} s; model written to ${out}\n`,
    );
  }
}

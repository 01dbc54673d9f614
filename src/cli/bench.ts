/**
 * `minnow bench train-step`: the engine benchmark (see src/bench/train-step.ts), with the real BERT
 * vocabulary as a second row and TF.js-wasm as a side-by-side peer in the same run. `minnow bench
 * mlm-step`: the pre-training step (src/bench/mlm-step.ts). `minnow bench infer`: classifier inference,
 * minnow's runtime beside transformers.js and onnxruntime-web (src/bench/infer.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchInfer, DEFAULT_MODELS, inferTable } from '../bench/infer.js';
import { benchMlmStep } from '../bench/mlm-step.js';
import { benchTrainStep, type TrainStepBenchResult } from '../bench/train-step.js';
import { BERT_VOCAB } from '../util/assets.js';
import { UserError } from '../util/errors.js';
import { checkNumber, command, flag, num, type NumberRule, optionalNum, type Parsed, str } from './args.js';

/** --threads: one number for train-step and mlm-step, a list for infer (checked by the command). */
const THREADS: NumberRule = { int: true, min: 1, max: 256 };
const TRAIN_THREADS = 2;
const BATCH: NumberRule = { int: true, min: 1, max: 4096 };

export const spec = command({
  name: 'bench',
  summary: 'benchmark the engine (train-step, mlm-step, infer)',
  usage:
    'minnow bench (train-step | mlm-step | infer) [--threads N] [--json] [--reps N] [--steps N] [--out FILE]',
  positionals:
    'benchmarks: train-step (BERT-tiny-shaped classification training step, B=32, T=128)\n' +
    '            mlm-step (masked-LM pre-training step of --preset, B=64, T=128, 30,522-word decoder)\n' +
    '            infer (classifying SST-2 dev sentences, tokenization included: minnow beside\n' +
    '              transformers.js and onnxruntime-web, fp32 and int8, per --batch and --threads)',
  details:
    'infer: --models takes exported folders (minnow export) as they are and exports fine-tuned model\n' +
    'folders; pre-trained ones without a task head, and preset:NAME, are first fine-tuned for 1 epoch\n' +
    'on examples/sst2 (seconds; for timing only). Default: models/uno-eelbert, models/eelbert-tiny and\n' +
    'preset:bert-tiny, kept under --cache. Your own models, made by hand:\n' +
    '  minnow finetune --model models/uno-eelbert --task sst2 --data examples/sst2 --out ft/uno --epochs 1\n' +
    '  minnow finetune --preset bert-tiny --task sst2 --data examples/sst2 --out ft/bert-tiny --epochs 1\n' +
    '  minnow export --model ft/uno --out ex/uno\n' +
    '  minnow bench infer --models ex/uno,ft/bert-tiny',
  options: {
    threads: {
      type: 'string',
      value: 'N',
      help: `onnxruntime intra-op threads (train-step, mlm-step: default ${TRAIN_THREADS}; infer: a comma list, default 1,2, also transformers.js's and the wasm threads of onnxruntime-web)`,
    },
    reps: {
      type: 'string',
      value: 'N',
      help: 'repetitions (train-step, mlm-step: each with a fresh session; infer: passes over the sentences)',
      default: '5',
      number: { int: true, min: 1 },
    },
    steps: {
      type: 'string',
      value: 'N',
      help: 'timed steps per repetition',
      default: '10',
      number: { int: true, min: 1 },
    },
    warmup: {
      type: 'string',
      value: 'N',
      help: 'untimed steps per repetition',
      default: '2',
      number: { int: true, min: 0 },
    },
    vocab: {
      type: 'string',
      value: 'N',
      help: 'vocabulary of the main row',
      default: '8000',
      number: { int: true, min: 1001 },
    },
    dropout: {
      type: 'string',
      value: 'P',
      help: 'dropout probability (engine-notes workload: 0)',
      default: '0',
      number: { min: 0, below: 1 },
    },
    'no-real-vocab': { type: 'boolean', help: 'skip the row with the real BERT vocabulary (30,522)' },
    'no-peer': {
      type: 'boolean',
      help: 'skip the TF.js-wasm peer (a dev dependency, run side by side; best effort)',
    },
    models: {
      type: 'string',
      value: 'DIR,...',
      help: `infer: model folders or preset:NAME, comma-separated (default ${DEFAULT_MODELS.join(',')})`,
    },
    sentences: {
      type: 'string',
      value: 'N',
      help: 'infer: the first N SST-2 dev sentences (default all 872)',
      number: { int: true, min: 1 },
    },
    batch: { type: 'string', value: 'N,...', help: 'infer: batch sizes, comma-separated', default: '1,32' },
    'no-peers': { type: 'boolean', help: 'infer: minnow only (no transformers.js, no onnxruntime-web)' },
    cache: {
      type: 'string',
      value: 'DIR',
      help: 'infer: where models the bench fine-tunes and exports are kept',
      default: 'bench/out/infer-models',
    },
    json: { type: 'boolean', help: 'print one JSON object on stdout (progress goes to stderr)' },
    out: {
      type: 'string',
      value: 'FILE',
      help: 'also write the JSON here (mlm-step: bench/out/mlm-step.json; infer: bench/out/infer.json)',
      default: 'bench/out/train-step.json',
    },
    seed: {
      type: 'string',
      value: 'N',
      help: 'random seed',
      default: '1',
      number: { int: true, min: 0, max: 2 ** 32 - 1 },
    },
    preset: { type: 'string', value: 'NAME', help: 'mlm-step: the model preset', default: 'eelbert-tiny' },
  },
});

type BenchParsed = Parsed<typeof spec.options>;

interface PeerRow {
  system: string;
  threads: number;
  msPerStepMedian: number;
  tokensPerSecMedian: number;
  error?: string;
}

/** Run the TF.js peer in a child process (it is a dev-only TypeScript file run with tsx). */
function runPeer(root: string, steps: number, log: (s: string) => void): PeerRow | { error: string } {
  const file = join(root, 'bench', 'tfjs-peer.ts');
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  if (!existsSync(file) || !existsSync(tsx))
    return { error: 'peer not available (needs the repo checkout with dev dependencies)' };
  log('  TF.js-wasm peer (child process) ...');
  const r = spawnSync(process.execPath, [tsx, file, '--steps', String(steps), '--warmup', '1'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  try {
    return JSON.parse(r.stdout) as PeerRow;
  } catch {
    return { error: `peer failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-1)[0]}` };
  }
}

async function runMlm(p: BenchParsed, json: boolean, log: (s: string) => void): Promise<void> {
  const name = str(p, 'preset') ?? 'eelbert-tiny';
  const threads = num(p, 'threads', TRAIN_THREADS, THREADS);
  log(`bench mlm-step: ${name}, B=64 T=128, ${threads} threads`);
  const r = await benchMlmStep(
    {
      preset: name,
      vocabPath: BERT_VOCAB,
      batch: 64,
      seq: 128,
      threads,
      steps: num(p, 'steps'),
      warmup: num(p, 'warmup'),
      reps: num(p, 'reps'),
      seed: num(p, 'seed'),
    },
    log,
  );
  const out = str(p, 'out') === spec.options.out.default ? 'bench/out/mlm-step.json' : str(p, 'out');
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(r, null, 2)}\n`);
  }
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else
    process.stdout.write(
      `| ${r.preset} MLM step | B=64 T=128 | ${r.threads} threads | ${fmt(r.ms_per_step_median)} ms/step | ${fmt(r.tokens_per_s_median, 0)} tokens/s |\n`,
    );
}

/** A comma list of numbers, each checked against the rule (errors name the flag). */
export function numberList(name: string, raw: string, rule: NumberRule): number[] {
  const parts = raw.split(',').map((x) => x.trim());
  if (parts.some((x) => x === ''))
    throw new UserError(`--${name}: expected numbers separated by commas, got "${raw}"`);
  return [...new Set(parts.map((x) => checkNumber(name, x, rule)))];
}

async function runInfer(p: BenchParsed, json: boolean, log: (s: string) => void): Promise<void> {
  const models = str(p, 'models')
    ?.split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (models !== undefined && models.length === 0) throw new UserError('--models: no model given');
  const r = await benchInfer(
    {
      models: models ?? DEFAULT_MODELS,
      sentences: optionalNum(p, 'sentences'),
      reps: num(p, 'reps'),
      threads: numberList('threads', str(p, 'threads') ?? '1,2', THREADS),
      batches: numberList('batch', str(p, 'batch') ?? '1,32', BATCH),
      peers: !flag(p, 'no-peers') && !flag(p, 'no-peer'),
      cacheDir: str(p, 'cache') ?? 'bench/out/infer-models',
    },
    log,
  );
  const out = str(p, 'out') === spec.options.out.default ? 'bench/out/infer.json' : str(p, 'out');
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(r, null, 2)}\n`);
  }
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    process.stdout.write(`${inferTable(r)}\n`);
    if (out) process.stdout.write(`JSON written to ${out}\n`);
  }
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

export async function run(p: BenchParsed): Promise<void> {
  if (p.positionals.length > 1)
    throw new UserError(`bench: one benchmark at a time, got ${p.positionals.join(' ')}`);
  const which = p.positionals[0];
  const json = flag(p, 'json');
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (which === 'mlm-step') return runMlm(p, json, log);
  if (which === 'infer') return runInfer(p, json, log);
  if (which !== 'train-step') {
    throw new UserError(`bench: unknown benchmark "${which ?? ''}" (available: train-step, mlm-step, infer)`);
  }
  const base = {
    batch: 32,
    seq: 128,
    threads: num(p, 'threads', TRAIN_THREADS, THREADS),
    reps: num(p, 'reps'),
    steps: num(p, 'steps'),
    warmup: num(p, 'warmup'),
    dropout: num(p, 'dropout'),
    seed: num(p, 'seed'),
  };
  const vocab = num(p, 'vocab');
  log(
    `bench train-step: B=32 T=128 H=128 L=2 A=2 FFN=512, ${base.threads} threads, ${base.reps} reps x ${base.steps} steps`,
  );
  const rows: TrainStepBenchResult[] = [];
  log(`  vocab ${vocab}`);
  rows.push(await benchTrainStep({ ...base, vocab }, log));
  if (!flag(p, 'no-real-vocab') && vocab !== 30522) {
    log('  vocab 30522 (real BERT vocabulary)');
    rows.push(await benchTrainStep({ ...base, vocab: 30522 }, log));
  }
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const peer = flag(p, 'no-peer') ? undefined : runPeer(root, 3, log);
  const main = rows[0];
  const result = {
    benchmark: 'train-step',
    ms_per_step_median: main.ms_per_step_median,
    tokens_per_s_median: main.tokens_per_s_median,
    threads: main.threads,
    rows,
    peer: peer ?? null,
    speedup_vs_peer:
      peer && 'tokensPerSecMedian' in peer && peer.tokensPerSecMedian > 0
        ? main.tokens_per_s_median / peer.tokensPerSecMedian
        : null,
    host: { node: process.version, platform: `${process.platform}-${process.arch}` },
    date: new Date().toISOString(),
  };
  const out = str(p, 'out');
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const lines = [
    '| system | vocab | threads | ms/step (median) | tokens/s (median) | cpu ms/step |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| minnow (onnxruntime-node) | ${r.vocab} | ${r.threads} | ${fmt(r.ms_per_step_median)} | ${fmt(r.tokens_per_s_median, 0)} | ${fmt(r.cpu_ms_per_step_median)} |`,
    ),
  ];
  if (peer && 'tokensPerSecMedian' in peer && !peer.error) {
    lines.push(
      `| ${peer.system} | ${vocab} | ${peer.threads} | ${fmt(peer.msPerStepMedian)} | ${fmt(peer.tokensPerSecMedian, 0)} | - |`,
    );
  } else if (peer) {
    lines.push(`| TF.js peer | - | - | - | ${peer.error} | - |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (result.speedup_vs_peer)
    process.stdout.write(`minnow / TF.js-wasm: ${fmt(result.speedup_vs_peer)}x tokens/s\n`);
  if (out) process.stdout.write(`JSON written to ${out}\n`);
}

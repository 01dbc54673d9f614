/**
 * `minnow pretrain` beside its peer, Hugging Face BertForMaskedLM on PyTorch (CPU), in one run: the same
 * model shape, corpus pieces (the peer reads minnow's token caches), token budget, batch, sequence length,
 * learning-rate schedule, AdamW and clip. Compared: validation masked-LM loss and accuracy, and training
 * tokens/s (the two run one after the other, never side by side on the CPU). Tokens/s counts whole
 * sequences (batch x 128) per second: the peer's over its training loop, minnow's over its training loop
 * including the end-of-run validation and save (which favours the peer a little).
 *
 *   npm run build && npx tsx bench/mlm-peer.ts [--preset bert-tiny] [--tokens 1000000] [--threads 2]
 *       [--corpus FILE] [--valid FILE] [--python PATH] [--out bench/out/mlm-peer.json]
 *
 * Needs a Python with torch and transformers (--python, $MINNOW_PYTHON, else python3); without one it says
 * so and exits 0. Not the same batches: each side draws its own window order and masks (minnow's are
 * seeded its way, the peer's by numpy), and the peer scores the first N validation windows while minnow
 * scores N windows of its seeded order; with N = 512 (about 9,800 masked pieces) the loss's sampling error
 * is a few hundredths.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { cacheOf, minnowPretrain, requireTorch, runPeer, tablePreset } from './peer-python.js';

const { values: v } = parseArgs({
  options: {
    preset: { type: 'string', default: 'bert-tiny' },
    tokens: { type: 'string', default: '1000000' },
    threads: { type: 'string', default: '2' },
    corpus: { type: 'string', default: '../shared/data/corpus/gutenberg_train.txt' },
    valid: { type: 'string', default: '../shared/data/corpus/gutenberg_valid.txt' },
    python: { type: 'string', default: process.env.MINNOW_PYTHON ?? 'python3' },
    'cache-dir': { type: 'string', default: '.minnow-cache' },
    out: { type: 'string', default: 'bench/out/mlm-peer.json' },
  },
});

const preset = tablePreset(v.preset!, 'mlm-peer');
requireTorch(v.python!, 'mlm-peer');

/** The recipe both sides run, as flags with the same names in `minnow pretrain` and mlm-peer.py. */
const common = {
  tokens: v.tokens!,
  threads: v.threads!,
  'seq-len': '128',
  'batch-size': '64',
  lr: '1e-3',
  warmup: '0.02',
  'valid-sequences': '512',
};
const recipe = Object.entries(common).flatMap(([k, x]) => [`--${k}`, x]);
const outDir = join('bench', 'out', `mlm-peer-${v.preset}`);
const t0 = performance.now();
const mout = minnowPretrain([
  '--preset',
  v.preset!,
  '--corpus',
  v.corpus!,
  '--valid',
  v.valid!,
  '--out',
  outDir,
  ...recipe,
  '--cache-dir',
  v['cache-dir']!,
  '--checkpoint-every',
  '0',
]);
const minnowWall = (performance.now() - t0) / 1000;
const mres = JSON.parse(mout) as {
  updates: number;
  tokens_per_s: number;
  evals: { valid_mlm_loss: number; valid_mlm_accuracy: number }[];
};

const peerOut = runPeer(
  v.python!,
  'mlm-peer.py',
  [
    '--train-cache',
    cacheOf(v.corpus!, v['cache-dir']!),
    '--valid-cache',
    cacheOf(v.valid!, v['cache-dir']!),
    ...recipe,
  ],
  preset,
);
const pres = JSON.parse(peerOut.at(-1)!) as {
  system: string;
  tokens_per_s: number;
  valid_mlm_loss: number;
  valid_mlm_accuracy: number;
  updates: number;
};

const last = mres.evals[mres.evals.length - 1];
const rows = [
  [
    'minnow pretrain (onnxruntime-node)',
    mres.updates,
    last.valid_mlm_loss,
    last.valid_mlm_accuracy,
    mres.tokens_per_s,
  ],
  [pres.system, pres.updates, pres.valid_mlm_loss, pres.valid_mlm_accuracy, pres.tokens_per_s],
] as const;
const table = [
  `${v.preset}, ${Number(common.tokens).toLocaleString('en-US')} tokens, batch ${common['batch-size']} x ${common['seq-len']}, lr ${common.lr}, ${common.threads} threads:`,
  '',
  '| system | updates | valid MLM loss | valid MLM accuracy | train tokens/s |',
  '|---|---|---|---|---|',
  ...rows.map(
    (r) => `| ${r[0]} | ${r[1]} | ${r[2].toFixed(3)} | ${(100 * r[3]).toFixed(2)}% | ${Math.round(r[4])} |`,
  ),
  '',
  `minnow / PyTorch tokens/s: ${(mres.tokens_per_s / pres.tokens_per_s).toFixed(2)}x; loss difference ${(last.valid_mlm_loss - pres.valid_mlm_loss).toFixed(3)} nats (minnow wall ${minnowWall.toFixed(0)} s incl. caching)`,
];
process.stdout.write(`${table.join('\n')}\n`);
mkdirSync(dirname(v.out!), { recursive: true });
writeFileSync(
  v.out!,
  `${JSON.stringify({ preset: v.preset, ...common, minnow: mres, peer: pres }, null, 2)}\n`,
);

/**
 * `minnow pretrain --objective electra` beside its peer, Hugging Face ELECTRA on PyTorch (CPU), in one run:
 * the same discriminator shape (a table preset), generator width, corpus pieces (the peer reads minnow's
 * token caches), token budget, batch, sequence length, schedule, AdamW, clip and lambda. Compared at every
 * evaluation: the generator's validation MLM loss, and the discriminator's RTD loss against the constant
 * guess (the entropy of the replaced fraction q, the best loss that ignores the text). Whether the
 * discriminator learns at a budget is a property of the objective and recipe, not of minnow, exactly when
 * the peer agrees. The two run one after the other, never side by side on the CPU.
 *
 *   npm run build && npx tsx bench/electra-peer.ts [--preset bert-tiny] [--tokens 819200] [--eval-every 50]
 *       [--generator-hidden 64] [--rtd-weight 50] [--lr 1e-3] [--threads 1] [--python PATH]
 *       [--out bench/out/electra-peer.json]
 *
 * Needs a Python with torch and transformers (--python, $MINNOW_PYTHON, else python3); without one it says
 * so and exits 0. Not the same batches, masks or samples: each side draws its own (seeded), and the peer
 * scores the first N validation windows while minnow scores N windows of its seeded order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { constantGuessLoss } from '../src/train/electra.js';
import { cacheOf, minnowPretrain, requireTorch, runPeer, tablePreset } from './peer-python.js';

const { values: v } = parseArgs({
  options: {
    preset: { type: 'string', default: 'bert-tiny' },
    tokens: { type: 'string', default: '819200' },
    'eval-every': { type: 'string', default: '50' },
    'generator-hidden': { type: 'string', default: '0' },
    'rtd-weight': { type: 'string', default: '50' },
    lr: { type: 'string', default: '1e-3' },
    threads: { type: 'string', default: '1' },
    corpus: { type: 'string', default: '../shared/data/corpus/gutenberg_train.txt' },
    valid: { type: 'string', default: '../shared/data/corpus/gutenberg_valid.txt' },
    python: { type: 'string', default: process.env.MINNOW_PYTHON ?? 'python3' },
    'cache-dir': { type: 'string', default: '.minnow-cache' },
    out: { type: 'string', default: 'bench/out/electra-peer.json' },
  },
});

const preset = tablePreset(v.preset!, 'electra-peer');
requireTorch(v.python!, 'electra-peer');

interface Eval {
  update: number;
  valid_generator_mlm_loss: number;
  valid_rtd_loss: number;
  valid_rtd_accuracy: number;
  valid_replaced_fraction: number;
}

/** The recipe both sides run, as flags with the same names in `minnow pretrain` and electra-peer.py. */
const common = {
  tokens: v.tokens!,
  threads: v.threads!,
  'seq-len': '128',
  'batch-size': '16',
  lr: v.lr!,
  warmup: '0.02',
  'valid-sequences': '128',
  'eval-every': v['eval-every']!,
  'rtd-weight': v['rtd-weight']!,
};
const recipe = Object.entries(common).flatMap(([k, x]) => [`--${k}`, x]);
const generator = Number(v['generator-hidden']) > 0 ? ['--generator-hidden', v['generator-hidden']!] : [];
const outDir = join('bench', 'out', `electra-peer-${v.preset}`);
const mout = minnowPretrain([
  '--preset',
  v.preset!,
  '--objective',
  'electra',
  ...generator,
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
const mine = (JSON.parse(mout) as { evals: Eval[] }).evals;

const lines = runPeer(
  v.python!,
  'electra-peer.py',
  [
    '--train-cache',
    cacheOf(v.corpus!, v['cache-dir']!),
    '--valid-cache',
    cacheOf(v.valid!, v['cache-dir']!),
    ...recipe,
    '--gen-hidden',
    v['generator-hidden']!,
  ],
  preset,
).map((l) => JSON.parse(l));
const system = (lines.pop() as { system: string }).system;
const theirs = lines as Eval[];

const cell = (e: Eval | undefined) =>
  e
    ? `${e.valid_generator_mlm_loss.toFixed(3)} | ${e.valid_rtd_loss.toFixed(4)} | ${constantGuessLoss(e.valid_replaced_fraction).toFixed(4)}`
    : '- | - | -';
const updates = [...new Set([...mine, ...theirs].map((e) => e.update))].sort((a, b) => a - b);
const table = [
  `${v.preset} ELECTRA, ${Number(common.tokens).toLocaleString('en-US')} tokens, batch ${common['batch-size']} x ${common['seq-len']}, lr ${common.lr}, lambda ${common['rtd-weight']}, ${common.threads} thread(s); minnow vs ${system}:`,
  '',
  '| update | minnow generator MLM | minnow RTD | constant | peer generator MLM | peer RTD | constant |',
  '|---|---|---|---|---|---|---|',
  ...updates.map(
    (u) =>
      `| ${u} | ${cell(mine.find((e) => e.update === u))} | ${cell(theirs.find((e) => e.update === u))} |`,
  ),
];
const gap = (e: Eval) => e.valid_rtd_loss - constantGuessLoss(e.valid_replaced_fraction);
const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
table.push(
  '',
  `RTD loss - constant guess at the end (negative: the discriminator uses the text): minnow ${sign(gap(mine.at(-1)!))}, peer ${sign(gap(theirs.at(-1)!))}.`,
);
process.stdout.write(`${table.join('\n')}\n`);
mkdirSync(dirname(v.out!), { recursive: true });
writeFileSync(
  v.out!,
  `${JSON.stringify({ preset: v.preset, ...common, generator_hidden: Number(v['generator-hidden']), minnow: mine, peer: { system, evals: theirs } }, null, 2)}\n`,
);

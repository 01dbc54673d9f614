/**
 * Test support (not built into dist/): the built CLI, and a tiny classifier fine-tuned on the glue-mini
 * fixture and exported with int8, as the export, runtime-web, transformers.js and page tests use it.
 * Assumes dist/ is built (npm test builds it first).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const CLI = resolve('dist', 'cli', 'main.js');
export const GLUE_MINI = resolve('test', 'fixtures', 'glue-mini');

/** Run the CLI; a non-zero exit fails the test with its stderr. Returns stdout. */
export function minnow(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: '' });
  assert.equal(r.status, 0, `minnow ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** Hand-written sentiment facts for K-BERT tests. */
export const SENTIMENT_FACTS = resolve('test', 'fixtures', 'sentiment-facts.tsv');

/**
 * Fine-tune `preset` on glue-mini (4 epochs at 3e-3, all kept: both labels and confident scores; 2 epochs at 1e-3
 * predicts one class everywhere at about 0.52) into DIR/NAME (`extra`: more finetune flags) and export it with
 * static int8 (calibrated on glue-mini's dev texts) to DIR/NAME-export.
 */
export function tinyExport(
  dir: string,
  preset = 'uno-eelbert',
  name = preset,
  extra: string[] = [],
): { model: string; folder: string } {
  const model = join(dir, name);
  const folder = join(dir, `${name}-export`);
  minnow(
    'finetune',
    '--preset',
    preset,
    '--task',
    'sst2',
    '--data',
    GLUE_MINI,
    '--out',
    model,
    '--epochs',
    '4',
    '--lr',
    '3e-3',
    '--patience',
    '0', // the last epoch: early on, a tie at 50% (one class everywhere) would be kept as the best
    ...extra,
  );
  // The check texts calibrate static int8, the default a fit ships (without them: weight-only).
  minnow(
    'export',
    '--model',
    model,
    '--out',
    folder,
    '--quantize',
    'int8',
    '--check',
    'sst2',
    '--data',
    GLUE_MINI,
  );
  return { model, folder };
}

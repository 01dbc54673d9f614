/** The model card says what ships, how it was made (every stage, bytes, minutes, data) and its limits. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { modelCard } from './card.js';
import type { FitResult } from './report.js';

const int8 = (bytes: number) => ({
  variant: 'portable_quantized' as const,
  file: 'onnx/model_quantized.onnx',
  bytes,
});

function result(o: Partial<FitResult> = {}): FitResult {
  return {
    out: 'out',
    exportDir: 'out/export',
    card: 'out/export/README.md',
    task: 'reviews',
    data: {
      file: 'reviews.csv',
      trainExamples: 900,
      devExamples: 100,
      devSource: 'held-out',
      devFile: 'out/stages/export/dev-held-out.jsonl',
    },
    classes: ['neg', 'pos'],
    maxBytes: 500_000,
    budgetSeconds: 600,
    seed: 3,
    rows: [
      {
        stage: 'baseline',
        status: 'ran',
        score: 81.5,
        int8: int8(499_999),
        seconds: 120,
        cpuSeconds: 118,
        picked: true,
        note: 'C 1',
      },
      {
        stage: 'finetune-uno-eelbert',
        status: 'earlier',
        score: 80.25,
        int8: int8(305_198),
        seconds: 1800,
        cpuSeconds: 3500,
        picked: false,
        note: 'lr 0.001',
      },
      { stage: 'finetune-eelbert-tiny', status: 'skipped', picked: false, note: 'fine-tune eelbert-tiny' },
      {
        stage: 'export',
        status: 'ran',
        score: 81.4,
        seconds: 6,
        cpuSeconds: 6,
        picked: false,
        note: 'baseline: ...',
      },
    ],
    winner: 'baseline',
    winnerScore: 81.5,
    baselineScore: 81.5,
    message: 'the n-gram baseline beats the tiny transformers on this data: shipping it',
    export: {
      file: 'onnx/model_quantized.onnx',
      bytes: 499_999,
      gzipBytes: 300_000,
      totalBytes: 501_000,
      written: true,
      score: 81.4,
      fp32Score: 81.5,
      drop: 0.1,
    },
    seconds: 130,
    command: 'minnow fit --data reviews.csv --text-column text --out out',
    ...o,
  };
}

describe('modelCard', () => {
  test('what ships, every stage with its score, bytes and minutes, the data and the command', () => {
    const card = modelCard(result());
    assert.match(card, /^# reviews: a 2-class classifier in 500\.0 kB \(int8\), made by `minnow fit`/);
    assert.match(card, /^The n-gram baseline beats the tiny transformers on this data: shipping it\.$/m);
    assert.match(card, /int8 file: `onnx\/model_quantized\.onnx`, 499,999 bytes/);
    assert.match(card, /int8 81\.40, fp32 81\.50/);
    assert.match(card, /^\| \*\*baseline\*\* \| 81\.50 \| 499,999 \| 2\.00 \| 1\.97 \| C 1 \|$/m);
    assert.match(
      card,
      /^\| finetune-uno-eelbert \| 80\.25 \| 305,198 \| 30\.00 \| 58\.33 \| finished earlier: lr 0\.001 \|$/m,
    );
    assert.match(
      card,
      /^\| finetune-eelbert-tiny \| - \| - \| - \| - \| skipped: the budget was spent: fine-tune eelbert-tiny \|$/m,
    );
    assert.match(
      card,
      /Dev rows: 100 rows of reviews\.csv held out \(seed 3; written to out\/stages\/export\/dev-held-out\.jsonl\)/,
    );
    assert.match(card, /`minnow fit --data reviews\.csv --text-column text --out out`/);
    assert.match(card, /picked the winner and is reported on the same dev set it was picked on/);
    assert.match(card, /`minnow fit --resume` with a larger --budget runs them/);
  });

  test("a transformer winner is shown beside the baseline's score; a refused int8 file is said plainly", () => {
    const card = modelCard(
      result({
        winner: 'finetune-uno-eelbert',
        winnerScore: 82.1,
        message: 'finetune-uno-eelbert beats the n-gram baseline (dev 82.10 against 81.50): shipping it',
        export: {
          file: 'onnx/model_compact_quantized.onnx',
          bytes: 305_198,
          gzipBytes: 1,
          totalBytes: 1,
          written: false,
          score: 79,
          fp32Score: 82.1,
          drop: 3.1,
        },
      }),
    );
    assert.match(
      card,
      /Shipped: \*\*finetune-uno-eelbert\*\*, dev score \*\*82\.10\*\* \(the n-gram baseline: 81\.50\)/,
    );
    assert.match(card, /\*\*The int8 file was not written\*\*: it lost 3\.10 points/);
    assert.doesNotMatch(card, /--quantized/);
  });
});

/** The distillation stage's choices: which candidates teach, and how many WordNet copies fit the row limit. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { copiesFor, DEFAULT_FIT_DISTILL, teachersOf } from './distill-stage.js';
import type { StageResult } from './stage.js';

const result = (stage: string, score?: number, bytes = 400_000): StageResult => ({
  stage,
  note: '',
  seconds: 1,
  cpuSeconds: 1,
  finishedAt: 'then',
  ...(score === undefined
    ? {}
    : {
        score,
        candidate: {
          model: 'model',
          kind: 'transformer' as const,
          int8: { variant: 'portable_quantized' as const, file: 'f.onnx', bytes },
        },
      }),
});

describe('distill stage', () => {
  test('the teachers are the best candidates by dev score, whatever their size; stages without a model are not', () => {
    const earlier = new Map(
      [
        result('baseline', 82),
        result('tapt-a'),
        result('finetune-a', 80),
        result('hybrid-a', 84, 900_000),
        result('finetune-b', 83),
      ].map((r) => [r.stage, r]),
    );
    assert.deepEqual(
      teachersOf(earlier, 3).map((t) => t.stage),
      ['hybrid-a', 'finetune-b', 'baseline'],
    );
    assert.deepEqual(teachersOf(new Map(), 3), []);
  });

  test('copies: 2 a row, fewer where the rows and copies would pass 200,000 rows, none past it', () => {
    assert.equal(copiesFor(3_668, DEFAULT_FIT_DISTILL), 2);
    assert.equal(copiesFor(67_349, DEFAULT_FIT_DISTILL), 1); // SST-2: 134,698 rows
    assert.equal(copiesFor(150_000, DEFAULT_FIT_DISTILL), 0);
  });
});

/**
 * The distillation stage's choices (which candidates teach, how many WordNet copies fit the row limit), and
 * a new word-table student distilled for real on the glue-mini fixture.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readConfig } from '../model/io.js';
import { weightsFile } from '../model/model.js';
import { baselineStage } from './candidates.js';
import { DEFAULT_FIT, stageDir } from './config.js';
import { readFitData } from './data.js';
import { exportStage } from './export-stage.js';
import {
  copiesFor,
  DEFAULT_FIT_DISTILL,
  distillStage,
  randomModel,
  teacherLabelled,
  teachersOf,
  WORD_TABLE_STUDENT,
  wordTableConfig,
} from './distill-stage.js';
import { fit } from './fit.js';
import { modelInt8, transformerInt8 } from './sizes.js';
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

  test("teacher-labelled copies take the teacher's answer (the largest logit), the rest of the row kept", () => {
    const rows = [
      { line: 2, text: 'a fine film', label: 1 },
      { line: 3, text: 'a dull film', label: 1 },
      { line: 4, text: 'a film', label: 0 },
    ];
    const logits = Float32Array.from([-1, 2, 0.5, -0.5, 0, 3, 1, 1, 0]);
    assert.deepEqual(teacherLabelled(rows, logits.subarray(0, 6), 2), [
      { line: 2, text: 'a fine film', label: 1 },
      { line: 3, text: 'a dull film', label: 0 },
      { line: 4, text: 'a film', label: 1 },
    ]);
    // Three classes; a tie goes to the first.
    assert.deepEqual(
      teacherLabelled(rows, logits, 3).map((r) => r.label),
      [1, 2, 0],
    );
  });

  test('copies: 2 a row, fewer where the rows and copies would pass 200,000 rows, none past it', () => {
    assert.equal(copiesFor(3_668, DEFAULT_FIT_DISTILL), 2);
    assert.equal(copiesFor(67_349, DEFAULT_FIT_DISTILL), 1); // SST-2: 134,698 rows
    assert.equal(copiesFor(150_000, DEFAULT_FIT_DISTILL), 0);
  });
});

describe('distill stage: a new word-table student', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'minnow-distill-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('is made from its preset with seeded weights in STAGE/init, learns from the teachers, and its int8 file is measured once trained', async () => {
    const src = { task: 'sst2', data: join('test', 'fixtures', 'glue-mini') };
    const c = { ...DEFAULT_FIT, out: join(tmp, 'fit'), threads: 1, seed: 3 };
    const { head } = readFitData(src, undefined, c);
    const config = wordTableConfig();
    const planned = modelInt8(randomModel(config, 0, 2), head, 128);
    const student = { name: WORD_TABLE_STUDENT.name, config };
    const d = { ...WORD_TABLE_STUDENT.distill, copies: 1, epochs: 1 };
    await fit(src, undefined, c, () => [baselineStage(4096), distillStage(student, planned, d), exportStage]);

    const dir = stageDir(c.out, 'distill-uno-lowrank');
    const r = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as StageResult;
    assert.deepEqual(
      (r.details!.teachers as { stage: string }[]).map((t) => t.stage),
      ['baseline'],
    );
    assert.equal(r.details!.copies, 1);
    // The copies train on the teacher's answers, as WORD_TABLE_STUDENT asks.
    assert.equal(r.details!.copyLabels, 'teacher');
    assert.match(r.note, /1 copies each, labelled by the teacher/);
    assert.equal(r.details!.trainExamples, 2 * 96);
    // The start: the seeded random model, written whole (no .tmp left).
    assert.equal(r.details!.from, join(dir, 'init'));
    assert.deepEqual(
      readFileSync(join(dir, 'init', 'model.safetensors')),
      Buffer.from(weightsFile(randomModel(config, c.seed))),
    );
    assert.ok(!existsSync(join(dir, 'init.tmp')));
    // What it made: the word-table model, with its file's bytes measured as trained (its shapes fix them).
    const m = readConfig(join(dir, 'model'));
    assert.equal(m.embedding_type, 'lowrank');
    assert.equal(m.lowrank_dim, 4);
    assert.equal(m.minnow_preset, 'uno-lowrank');
    assert.deepEqual(r.candidate!.int8, transformerInt8(join(dir, 'model'), head, 128));
    assert.equal(r.candidate!.int8.bytes, planned.bytes);
  });
});

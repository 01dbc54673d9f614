/** Fuzz tests of the CSV/TSV/JSONL reader (targets in tabular.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { TABULAR_FUZZ } from './tabular.fuzz.js';

for (const target of TABULAR_FUZZ)
  test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

/** Fuzz tests of the safetensors decoder (targets in safetensors.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { SAFETENSORS_FUZZ } from './safetensors.fuzz.js';

for (const target of SAFETENSORS_FUZZ)
  test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

/** Fuzz tests of the GLUE TSV reader (targets in glue.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { GLUE_FUZZ } from './glue.fuzz.js';

for (const target of GLUE_FUZZ) test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

/** Fuzz tests of taught examples (targets in teach.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { TEACH_FUZZ } from './teach.fuzz.js';

for (const target of TEACH_FUZZ) test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

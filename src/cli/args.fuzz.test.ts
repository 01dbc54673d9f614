/** Fuzz tests of command-line parsing (targets in args.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { ARGS_FUZZ } from './args.fuzz.js';

for (const target of ARGS_FUZZ) test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

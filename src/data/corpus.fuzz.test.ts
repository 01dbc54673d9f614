/** Fuzz tests of the token cache reader (targets in corpus.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { CORPUS_FUZZ } from './corpus.fuzz.js';

for (const target of CORPUS_FUZZ) test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

/** Fuzz tests of the WordPiece tokenizer and vocabulary files (targets in wordpiece.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { WORDPIECE_FUZZ } from './wordpiece.fuzz.js';

for (const target of WORDPIECE_FUZZ)
  test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

/** Fuzz tests of the knowledge readers (targets in triples.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { KNOWLEDGE_FUZZ } from './triples.fuzz.js';

for (const target of KNOWLEDGE_FUZZ)
  test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

/** Fuzz tests of the server (targets in server.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { SERVER_FUZZ } from './server.fuzz.js';

for (const target of SERVER_FUZZ) test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

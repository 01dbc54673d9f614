/** Fuzz test of config.json reading (target in config.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import { assertFuzz } from '../util/fuzzing.js';
import { CONFIG_FUZZ } from './config.fuzz.js';

for (const target of CONFIG_FUZZ) test(`fuzz ${target.name}`, { timeout: 120_000 }, () => assertFuzz(target));

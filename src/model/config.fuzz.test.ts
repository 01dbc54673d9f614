/** Fuzz test of config.json reading (target in config.fuzz.ts; MINNOW_FUZZ_RUNS sets the case count). */
import { test } from 'node:test';
import fc from 'fast-check';
import { CONFIG_FUZZ, configFuzzRuns } from './config.fuzz.js';

const seed = process.env.MINNOW_FUZZ_SEED ? Number(process.env.MINNOW_FUZZ_SEED) | 0 : undefined;

for (const target of CONFIG_FUZZ)
  test(`fuzz ${target.name}`, { timeout: 120_000 }, () =>
    fc.assert(fc.property(target.arbitrary, target.predicate), {
      numRuns: configFuzzRuns(),
      includeErrorInReport: true,
      ...(seed === undefined ? {} : { seed }),
    }),
  );

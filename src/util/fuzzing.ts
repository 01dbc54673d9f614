/**
 * Property-based fuzzing of minnow's file readers with fast-check. A reader fed any input must either
 * succeed or throw a {@link UserError} whose message is one line (the CLI prints it as such); any other
 * exception (TypeError, RangeError, a raw Node system error, a failed invariant) is a crash.
 *
 * Each reader's properties live beside it in `<reader>.fuzz.ts` as lists of {@link FuzzTarget}s (name,
 * arbitrary, predicate); its `<reader>.fuzz.test.ts` runs them with a small case count under `npm test`
 * ({@link assertFuzz}: stops at the first failure and prints the shrunk input and the seed), and
 * `bench/fuzz.ts` runs them all with a large one ({@link runFuzz}: counts every crash). Environment:
 * - `MINNOW_FUZZ_RUNS`: cases per target in the tests (default {@link DEFAULT_FUZZ_RUNS}; a target's
 *   `weight` scales it).
 * - `MINNOW_FUZZ_SEED`: fast-check seed, to replay the seed printed by a failing run.
 */
import fc from 'fast-check';
import { UserError } from './errors.js';

/** Cases per target under `npm test` unless MINNOW_FUZZ_RUNS says otherwise. */
export const DEFAULT_FUZZ_RUNS = 40;

/** A failed property: the reader crashed or broke an invariant. */
export class FuzzFailure extends Error {
  override name = 'FuzzFailure';
}

function positiveIntEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return v;
}

/** Cases per target: MINNOW_FUZZ_RUNS or {@link DEFAULT_FUZZ_RUNS}. */
export function fuzzRuns(): number {
  return positiveIntEnv('MINNOW_FUZZ_RUNS') ?? DEFAULT_FUZZ_RUNS;
}

/** The fast-check seed from MINNOW_FUZZ_SEED (any 32-bit integer), or undefined for a random one. */
export function fuzzSeed(): number | undefined {
  const raw = process.env.MINNOW_FUZZ_SEED;
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v)) throw new Error(`MINNOW_FUZZ_SEED must be an integer, got "${raw}"`);
  return v | 0;
}

/** Throws a {@link FuzzFailure} unless `cond` holds. */
export function check(cond: boolean, what: string | (() => string)): asserts cond {
  if (!cond) throw new FuzzFailure(typeof what === 'string' ? what : what());
}

/** What a reader did with one input: returned a value, or threw a UserError. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: UserError };

export interface UserErrorRules {
  /** The message must start with this (the file name the reader was given). */
  prefix?: string;
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${e.stack ?? ''}`;
  return `non-Error value ${String(e)}`;
}

/** Check the shape of a UserError message: non-empty, one line, starting with `rules.prefix`. */
export function checkUserError(e: UserError, rules: UserErrorRules = {}): void {
  check(e.message.trim() !== '', 'UserError with an empty message');
  check(!/[\r\n]/.test(e.message), () => `UserError message is not one line: ${JSON.stringify(e.message)}`);
  if (rules.prefix !== undefined) {
    const prefix = rules.prefix;
    check(
      e.message.startsWith(prefix),
      () => `UserError message does not start with ${JSON.stringify(prefix)}: ${JSON.stringify(e.message)}`,
    );
  }
}

function classify<T>(e: unknown, rules: UserErrorRules): Outcome<T> {
  if (e instanceof FuzzFailure) throw e;
  if (!(e instanceof UserError)) {
    throw new FuzzFailure(`expected success or a UserError, got ${describeError(e)}`, { cause: e });
  }
  checkUserError(e, rules);
  return { ok: false, error: e };
}

/** Run `fn`: its value, or the UserError it threw (checked by `rules`); anything else is a FuzzFailure. */
export function expectUserErrorOrSuccess<T>(fn: () => T, rules: UserErrorRules = {}): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return classify<T>(e, rules);
  }
}

/** {@link expectUserErrorOrSuccess} for async readers. */
export async function expectUserErrorOrSuccessAsync<T>(
  fn: () => Promise<T>,
  rules: UserErrorRules = {},
): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return classify<T>(e, rules);
  }
}

/** One fuzzed property: inputs, and a predicate that throws (a FuzzFailure) when the reader misbehaves. */
export interface FuzzTarget<T = unknown> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  predicate(input: T): void | Promise<void>;
  /** Case count relative to the default (e.g. 0.5 for an expensive target). Default 1. */
  weight?: number;
}

/** A target of any input type, for lists of targets. */
export type SomeFuzzTarget = FuzzTarget<any>;

/** Identity, for type inference: `fuzzTarget({ name, arbitrary, predicate })`. */
export function fuzzTarget<T>(t: FuzzTarget<T>): FuzzTarget<T> {
  return t;
}

/** Cases for a target of weight `weight` when each target gets `runs`. */
export function targetRuns(weight: number | undefined, runs: number): number {
  return Math.max(1, Math.round(runs * (weight ?? 1)));
}

function asyncProperty<T>(target: FuzzTarget<T>, onCase?: (input: T) => Promise<void>) {
  return fc.asyncProperty(target.arbitrary, onCase ?? (async (input: T) => target.predicate(input)));
}

/**
 * fast-check's assert on a target (for the tests): fails with the shrunk counterexample, the seed and
 * the path to replay it. `runs` defaults to {@link fuzzRuns} scaled by the target's weight.
 */
export async function assertFuzz<T>(target: FuzzTarget<T>, runs = fuzzRuns()): Promise<void> {
  const seed = fuzzSeed();
  await fc.assert(asyncProperty(target), {
    numRuns: targetRuns(target.weight, runs),
    includeErrorInReport: true,
    ...(seed === undefined ? {} : { seed }),
  });
}

export interface FuzzReport {
  name: string;
  cases: number;
  crashes: number;
  seconds: number;
  /** Slowest single case, in milliseconds. */
  slowestMs: number;
  seed: number;
  /** The first failure: its message and fast-check's shrunk counterexample. */
  firstCrash?: { message: string; counterexample: string };
}

/**
 * Run every case of a target without stopping at the first failure (for the benchmark): counts the
 * crashes, times the cases, and shrinks the first crash to a small counterexample.
 */
export async function runFuzz<T>(target: FuzzTarget<T>, cases: number, seed: number): Promise<FuzzReport> {
  let crashes = 0;
  let slowestMs = 0;
  let n = 0;
  let firstMessage: string | undefined;
  const t0 = performance.now();
  await fc.check(
    asyncProperty(target, async (input: T) => {
      const c0 = performance.now();
      try {
        await target.predicate(input);
      } catch (e) {
        crashes++;
        firstMessage ??= e instanceof Error ? e.message : String(e);
      } finally {
        slowestMs = Math.max(slowestMs, performance.now() - c0);
        n++;
      }
    }),
    { numRuns: cases, seed },
  );
  const seconds = (performance.now() - t0) / 1000;
  const report: FuzzReport = { name: target.name, cases: n, crashes, seconds, slowestMs, seed };
  if (firstMessage !== undefined) {
    const details = await fc.check(asyncProperty(target), { numRuns: cases, seed });
    report.firstCrash = {
      message: firstMessage.split('\n')[0],
      counterexample: details.counterexample
        ? fc.stringify(details.counterexample[0]).slice(0, 2000)
        : '(not reproduced)',
    };
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Shared generators.

/** Lone surrogates, BOMs, NUL, C0/C1 controls, line and paragraph separators, replacement char. */
export const ODD_CHARS = [
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ufeff',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\u200b',
  '\u200d',
  '\ufffd',
  '\uffff',
  '\u0301',
  '\u{1f600}',
  '\u{10ffff}',
] as const;

/** Any UTF-16 string: full-Unicode code points, ASCII, graphemes, and lone surrogates mixed in. */
export function anyText(maxLength = 40): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary-ascii', maxLength }),
    fc.string({
      unit: fc.oneof(
        fc.constantFrom(...ODD_CHARS),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
      maxLength,
    }),
  );
}

/** Strings over a small alphabet of structure characters (quotes, delimiters, newlines, ...). */
export function textOver(alphabet: readonly string[], maxLength = 60): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...alphabet), maxLength });
}

/** One field that can be very long: a run of one character up to `max` long. */
export function hugeRun(max = 200_000): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom('a', 'x y', '"', ',', '\t', '\u00e9', '\u{1f600}', '\ud800'), fc.nat(max))
    .map(([c, n]) => c.repeat(Math.ceil(n / c.length)));
}

/** A text edit: insert, delete or replace a slice; positions are fractions of the length. */
export type Edit =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; len: number }
  | { op: 'replace'; at: number; len: number; text: string };

export function editArb(insertions: fc.Arbitrary<string>): fc.Arbitrary<Edit> {
  const at = fc.double({ min: 0, max: 1, noNaN: true });
  return fc.oneof(
    fc.record({ op: fc.constant('insert' as const), at, text: insertions }),
    fc.record({ op: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 8 }) }),
    fc.record({
      op: fc.constant('replace' as const),
      at,
      len: fc.integer({ min: 1, max: 4 }),
      text: insertions,
    }),
  );
}

/** Apply edits in order to a string. */
export function applyEdits(s: string, edits: readonly Edit[]): string {
  for (const e of edits) {
    const i = Math.min(s.length, Math.floor(e.at * (s.length + 1)));
    if (e.op === 'insert') s = s.slice(0, i) + e.text + s.slice(i);
    else if (e.op === 'delete') s = s.slice(0, i) + s.slice(i + e.len);
    else s = s.slice(0, i) + e.text + s.slice(i + e.len);
  }
  return s;
}

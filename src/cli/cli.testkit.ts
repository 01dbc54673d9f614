/** Test support (not built into dist/): run the built CLI as a user does, and check one-line errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The built CLI; MINNOW_CLI points the tests at another build (e.g. one made with `tsc --outDir .dist-x`). */
export const CLI = process.env.MINNOW_CLI ?? join('dist', 'cli', 'main.js');

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

export interface RunOptions {
  /** stdin (default: empty). */
  input?: string;
  /** Added to the environment. */
  env?: Record<string, string>;
  /** Modules node imports before the CLI (e.g. a file-system fault injector, run through tsx). */
  preload?: string[];
}

/** `minnow ARGS...` as a user runs it, with `o.input` on stdin: exit code, stdout, stderr. */
export function minnowWith(args: readonly string[], o: RunOptions = {}): Run {
  const pre = (o.preload ?? []).flatMap((m) => ['--import', m]);
  const r = spawnSync(process.execPath, [...(pre.length ? ['--import', 'tsx', ...pre] : []), CLI, ...args], {
    encoding: 'utf8',
    input: o.input ?? '',
    env: { ...process.env, ...o.env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `minnow ARGS...` with empty stdin. */
export function minnow(...args: string[]): Run {
  return minnowWith(args);
}

/**
 * The command failed with exit code 2 and one error line on stderr, "minnow: ..." matching `pattern`, and
 * no stack trace. With `warnings`, other lines (warnings before the error) may come too.
 */
export function failsWith(r: Run, pattern: RegExp, o: { warnings?: boolean } = {}) {
  assert.equal(r.code, 2, `exit code ${r.code}; stdout: ${r.out}; stderr: ${r.err}`);
  const all = r.err.trim().split('\n');
  const lines = o.warnings ? all.filter((l) => l.startsWith('minnow:') || /^\s+at /.test(l)) : all;
  assert.equal(lines.length, 1, `expected one error line, got: ${r.err}`);
  assert.match(lines[0], /^minnow: /);
  assert.match(lines[0], pattern);
}

/** The command succeeded (exit 0; stderr shown otherwise); returns its result. */
export function ok(r: Run) {
  assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.err}`);
  return r;
}

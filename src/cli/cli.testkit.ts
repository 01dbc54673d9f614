/** Test support (not built into dist/): run the built CLI as a user does, and check one-line errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The built CLI; MINNOW_CLI points the tests at another build (e.g. one made with `tsc --outDir .dist-x`). */
export const CLI = process.env.MINNOW_CLI ?? join('dist', 'cli', 'main.js');

/** `minnow ARGS...` with empty stdin: exit code, stdout, stderr. */
export function minnow(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The command failed with exit code 2 and one line on stderr that matches. */
export function failsWith(r: ReturnType<typeof minnow>, pattern: RegExp) {
  assert.equal(r.code, 2, `exit code ${r.code}; stderr: ${r.err}`);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got: ${r.err}`);
  assert.match(lines[0], pattern);
}

/** The command succeeded (exit 0; stderr shown otherwise); returns its result. */
export function ok(r: ReturnType<typeof minnow>) {
  assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.err}`);
  return r;
}

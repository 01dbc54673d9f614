/**
 * `minnow serve` stopped with SIGTERM while 16 large requests (about 1 MB each) are on their way: every
 * one is answered 200 and the process exits 0. Before the drain (server.ts close), requests still in the
 * listen backlog were reset and those parsed during the close got 503. Runs the built CLI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { CLI } from '../cli/cli.testkit.js';

test('SIGTERM with 16 large requests in flight: 16 answers, exit 0', async () => {
  const srv = spawn(
    process.execPath,
    [CLI, 'serve', '--model', 'models/sst2-sentiment', '--port', '0', '--threads', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  srv.stdout.on('data', (d) => (log += d));
  srv.stderr.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((r) => srv.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${log}`)), 60_000);
    srv.stderr.on('data', () => {
      const m = /loaded; POST (http:\S+)\/v1\/classify/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const text = 'a gorgeous , witty , seductive movie . '.repeat(380); // 15k characters
  const body = JSON.stringify({ inputs: Array(64).fill(text) });
  assert.ok(body.length > 900_000);
  const answers = Array.from({ length: 16 }, () =>
    fetch(`${url}/v1/classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    }).then(
      (r) => String(r.status),
      (e: Error & { cause?: { code?: string } }) => `error ${e.cause?.code ?? e.message}`,
    ),
  );
  await new Promise((r) => setTimeout(r, 5));
  srv.kill('SIGTERM');
  assert.deepEqual(await Promise.all(answers), Array(16).fill('200'), log);
  assert.equal(await exited, 0, log);
  assert.match(log, /SIGTERM/);
});

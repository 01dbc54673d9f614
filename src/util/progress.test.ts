/**
 * Progress off a TTY (a pipe, a log file, CI): plain lines at the interval and never more often; on a
 * TTY the bar as before.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { formatBytes, JsonLog, Progress } from './progress.js';

/** A Progress on a fake clock; `lines` collects what it writes. */
function fake(opts: { tty?: boolean; intervalMs?: number } = {}) {
  let t = 5000; // not zero: the clock's origin must not matter
  const lines: string[] = [];
  const p = new Progress('train', 1000, {
    now: () => t,
    write: (s) => lines.push(s),
    tty: opts.tty ?? false,
    intervalMs: opts.intervalMs,
  });
  return {
    p,
    lines,
    at: (ms: number) => {
      t = 5000 + ms;
    },
  };
}

const saved = { env: { ...process.env }, isTTY: process.stderr.isTTY, write: process.stderr.write };
afterEach(() => {
  for (const k of ['CI', 'MINNOW_PROGRESS_INTERVAL_MS']) {
    if (saved.env[k] === undefined) delete process.env[k];
    else process.env[k] = saved.env[k];
  }
  Object.defineProperty(process.stderr, 'isTTY', { value: saved.isTTY, configurable: true, writable: true });
  process.stderr.write = saved.write;
});

describe('Progress off a TTY', () => {
  test('a plain line every 10 s by default, never more often, with the fields, elapsed and ETA', () => {
    delete process.env.MINNOW_PROGRESS_INTERVAL_MS;
    const { p, lines, at } = fake();
    // An update every 100 ms for 35 s: lines at 10, 20 and 30 s only.
    for (let ms = 0; ms <= 35_000; ms += 100) {
      at(ms);
      p.update(Math.floor(ms / 100), { loss: '2.3100', 'tok/s': '35.0k' });
    }
    assert.deepEqual(lines, [
      'train 100/1000 (10%)  loss 2.3100  tok/s 35.0k  elapsed 0m10s  ETA 1m30s\n',
      'train 200/1000 (20%)  loss 2.3100  tok/s 35.0k  elapsed 0m20s  ETA 1m20s\n',
      'train 300/1000 (30%)  loss 2.3100  tok/s 35.0k  elapsed 0m30s  ETA 1m10s\n',
    ]);
    p.done();
    assert.equal(lines.length, 3, 'done() adds nothing off a TTY');
  });

  test('sparse updates: a line as soon as an interval has passed, then none for another interval', () => {
    const { p, lines, at } = fake({ intervalMs: 1000 });
    const when: number[] = [];
    for (const ms of [500, 999, 1000, 1500, 1999, 2600, 2700, 3599, 3600, 9000]) {
      at(ms);
      const n = lines.length;
      p.update(ms);
      if (lines.length > n) when.push(ms);
    }
    assert.deepEqual(when, [1000, 2600, 3600, 9000]);
  });

  test('env MINNOW_PROGRESS_INTERVAL_MS sets the interval; the default writer is stderr', () => {
    process.env.MINNOW_PROGRESS_INTERVAL_MS = '50';
    const written: string[] = [];
    process.stderr.write = ((s: string | Uint8Array) => {
      written.push(String(s));
      return true;
    }) as typeof process.stderr.write;
    let t = 0;
    const p = new Progress('pretrain', 10, { now: () => t, tty: false });
    for (t = 0; t <= 200; t += 10) p.update(Math.floor(t / 20));
    process.stderr.write = saved.write;
    assert.deepEqual(
      written.map((l) => l.split('  ')[0]),
      ['pretrain 2/10 (20%)', 'pretrain 5/10 (50%)', 'pretrain 7/10 (70%)', 'pretrain 10/10 (100%)'],
    );
  });

  test('under CI, even on a TTY: no bar, but the periodic plain lines', () => {
    process.env.CI = 'true';
    process.env.MINNOW_PROGRESS_INTERVAL_MS = '1000';
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true, writable: true });
    const written: string[] = [];
    process.stderr.write = ((s: string | Uint8Array) => {
      written.push(String(s));
      return true;
    }) as typeof process.stderr.write;
    let t = 0;
    const p = new Progress('finetune', 100, { now: () => t });
    for (t = 0; t <= 2500; t += 50) p.update(t / 25);
    p.done();
    process.stderr.write = saved.write;
    assert.deepEqual(written, [
      'finetune 40/100 (40%)  elapsed 0m01s  ETA 0m01s\n',
      'finetune 80/100 (80%)  elapsed 0m02s  ETA 0m00s\n',
    ]);
  });
});

describe('Progress on a TTY', () => {
  test('the bar is redrawn in place at most 10 times a second, and done() ends its line', () => {
    const { p, lines, at } = fake({ tty: true });
    for (let ms = 0; ms <= 1000; ms += 10) {
      at(ms);
      p.update(ms, { loss: '1.0000' });
    }
    assert.ok(lines.length >= 10 && lines.length <= 11, `${lines.length} redraws in 1 s`);
    assert.ok(lines.every((l) => l.startsWith('\rtrain [')));
    assert.match(lines[lines.length - 1], /^\rtrain \[#{24}\] 1000\/1000 {2}loss 1\.0000 {2}ETA 0m00s/);
    p.done();
    assert.equal(lines[lines.length - 1], '\n');
  });
});

test('formatBytes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(4203), '4.2 kB');
  assert.equal(formatBytes(9_600_000), '9.6 MB');
  assert.equal(formatBytes(999_999), '1.0 MB');
  assert.equal(formatBytes(1.3e9), '1.3 GB');
});

test('JsonLog: one object per line; a line a killed run cut short is closed first, never joined', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minnow-log-'));
  try {
    const path = join(dir, 'log.jsonl');
    new JsonLog(path).write({ event: 'train', update: 1 });
    appendFileSync(path, '{"event":"eval","upd'); // killed mid-write
    const log = new JsonLog(path);
    log.write({ event: 'train', update: 2 });
    log.write({ event: 'train', update: 3 });
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines[1], '{"event":"eval","upd');
    assert.deepEqual(
      [0, 2, 3].map((i) => JSON.parse(lines[i]).update),
      [1, 2, 3],
    );
    new JsonLog(join(dir, 'new.jsonl')).write({ update: 0 }); // a new file starts at its first line
    assert.equal(readFileSync(join(dir, 'new.jsonl'), 'utf8').split('\n').length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** bench/serve-rounds.ts on bad input: one line and exit 2, never a stack trace; --from prints a record again. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-serve-rounds-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const rounds = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'bench/serve-rounds.ts', ...args], { encoding: 'utf8' });

/** A record of two setups, two rounds, one level. */
const level = (rps: number) => ({
  connections: 16,
  seconds: 8,
  requests_per_s: rps,
  latency_p50_ms: 1,
  latency_p99_ms: 3,
  server_cpu_us_per_request: 100,
  codes: { '200': rps * 8 },
});
const record = join(tmp, 'record.json');
writeFileSync(
  record,
  JSON.stringify({
    command: '',
    date: '',
    rounds: 2,
    pin: true,
    setups: { a: '--model A', b: '--model B' },
    runs: { a: [[level(100)], [level(200)]], b: [[level(110)], [level(180)]] },
  }),
);

test('bad setups, a missing or foreign --from file, an unknown --compare: one line, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [[], /^usage: /],
    [['--setup', 'no-equals-sign'], /^usage: /],
    [
      ['--from', join(tmp, 'missing.json')],
      /^--from .*missing\.json: not a record this script wrote \(ENOENT/,
    ],
    [
      ['--from', join('package.json')],
      /^--from package\.json: not a record this script wrote \(no "setups" and "runs"\)/,
    ],
    [['--from', record, '--compare', 'a/c'], /^--compare a\/c: no such setup \(the setups: a, b\)/],
  ];
  for (const [args, want] of cases) {
    const r = rounds(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr.trim(), want);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

test('--from prints the medians and per-round ratios of a record', () => {
  const r = rounds('--from', record, '--compare', 'b/a');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\| a \| 16 \| 150 \| 100-200 \| 150 \| - \|/m);
  // b over a, round by round: 110%, 90%; median 100%.
  assert.match(r.stdout, /^\| b \| 16 \| 145 \| 110-180 \| 145 \| 100% \(90%-110%\) \|/m);
  assert.match(r.stdout, /^\| b \/ a \| 16 \| 100% \(90%-110%\) \|$/m);
});

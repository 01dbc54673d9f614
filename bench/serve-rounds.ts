/**
 * Several `minnow serve` setups under the same load, taking turns for several rounds (bench/serve.ts
 * each time), so that the drift of a shared machine hits them alike: medians over the rounds, and each
 * setup's requests/s against the first setup's (or A against B with --compare A/B), round by round.
 *
 *   npx tsx bench/serve-rounds.ts --rounds 6 [--concurrency 1,16,64] [--duration 8] [--pin] [--out NAME]
 *       --setup "old=--model OLD_EXPORT --cli OLD/dist/cli/main.js"
 *       --setup "new=--model NEW_EXPORT -- --max-wait-ms 1" ... [--compare new/old]
 *   npx tsx bench/serve-rounds.ts --from bench/out/serve-rounds-NAME.json [--compare A/B]   (tables again)
 *
 * A setup is NAME=FLAGS for bench/serve.ts, then optionally ` -- ` and flags for `minnow serve`. Every
 * setup serves the int8 model (--quantized); a setup with --overload adds bench/serve.ts's overload run
 * (a row "256, overload", where the 200s/s column, answers that classified, matters). --pin keeps the server on CPU 0 with one onnxruntime thread
 * and the load generator on CPU 1 (Linux taskset). Prints a table and writes
 * bench/out/serve-rounds-NAME.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from '../src/bench/train-step.js';

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}
const every = (name: string) =>
  process.argv.flatMap((a, i) => (a === `--${name}` ? [process.argv[i + 1]] : []));
const from = arg('from');
const setups = every('setup');
if (from ? setups.length > 0 : !setups.length || setups.some((s) => !/^[\w.-]+=/.test(s ?? ''))) {
  console.error(
    'usage: npx tsx bench/serve-rounds.ts --rounds N --setup "NAME=FLAGS" --setup ... | --from FILE (see the header)',
  );
  process.exit(2);
}
const rounds = Number(arg('rounds', '6'));
const levels = arg('concurrency', '1,16,64')!;
const duration = arg('duration', '8')!;
const pin = process.argv.includes('--pin');
const outName = arg('out', 'latest')!;

interface Level {
  connections: number;
  /** The --overload run (a server with --max-queue 64 under 256 connections). */
  overload?: boolean;
  seconds: number;
  requests_per_s: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  server_cpu_us_per_request: number;
  codes: Record<string, number>;
}

/** What a run is compared on: requests/s; under overload, the answers that classified (200s) a second. */
const rate = (x: Level) => (x.overload ? (x.codes['200'] ?? 0) / x.seconds : x.requests_per_s);
const where = (x: Level) => (x.overload ? `${x.connections}, overload (200s/s)` : String(x.connections));

/** One bench/serve.ts run of a setup; its per-level results. */
function runOnce(name: string, flags: string, round: number): Level[] {
  const [bench, serveArgs = ''] = flags.split(' -- ');
  const words = bench.split(' ').filter(Boolean);
  const label = `rounds-${outName}-${name}-${round}`;
  const args = [
    'tsx',
    'bench/serve.ts',
    ...words,
    '--quantized',
    '--duration',
    duration,
    '--concurrency',
    levels,
    '--label',
    label,
    ...(pin ? ['--server-cpus', '0'] : []),
    '--serve-args',
    `${pin ? '--threads 1 ' : ''}${serveArgs.trim()}`.trim(),
  ];
  const r = pin
    ? spawnSync('taskset', ['-c', '1', 'npx', ...args], { encoding: 'utf8' })
    : spawnSync('npx', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name}, round ${round}: bench/serve.ts failed\n${r.stderr}`);
  const got = JSON.parse(readFileSync(join('bench', 'out', `serve-${label}.json`), 'utf8')) as {
    levels: Level[];
    overload?: Level;
  };
  return [...got.levels, ...(got.overload ? [{ ...got.overload, overload: true }] : [])];
}

interface Record_ {
  command: string;
  date: string;
  rounds: number;
  pin: boolean;
  setups: Record<string, string>;
  runs: Record<string, Level[][]>;
}
let rec: Record_;
if (from) {
  try {
    rec = JSON.parse(readFileSync(from, 'utf8')) as Record_;
    if (typeof rec.setups !== 'object' || typeof rec.runs !== 'object')
      throw new Error('no "setups" and "runs"');
  } catch (e) {
    console.error(`--from ${from}: not a record this script wrote (${(e as Error).message.split('\n')[0]})`);
    process.exit(2);
  }
} else {
  const named = setups.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)] as const);
  const runs: Record<string, Level[][]> = Object.fromEntries(named.map(([n]) => [n, []]));
  for (let r = 1; r <= rounds; r++)
    for (const [name, flags] of named) {
      const got = runOnce(name, flags, r);
      runs[name].push(got);
      console.error(
        `round ${r}/${rounds} ${name}: ${got.map((l) => `${where(l)} conns ${Math.round(rate(l))}/s`).join(', ')}`,
      );
    }
  const command = process.argv.slice(2).join(' ');
  rec = { command, date: new Date().toISOString(), rounds, pin, setups: Object.fromEntries(named), runs };
}
const results = rec.runs;
const names = Object.keys(rec.setups);
const pct = (x: number) => `${Math.round(100 * x)}%`;
/** A's rate over B's, round by round, at level i: median and range. */
const ratio = (a: string, b: string, i: number) => {
  const r = results[a].map((run, k) => rate(run[i]) / rate(results[b][k][i]));
  return { median: median(r), min: Math.min(...r), max: Math.max(...r) };
};
const shown = (x: ReturnType<typeof ratio>) => `${pct(x.median)} (${pct(x.min)}-${pct(x.max)})`;

const first = names[0];
const table = [
  `| setup | connections | req/s, median of ${rec.rounds} | range | 200s/s, median | / ${first}, per-round median (range) | server CPU us/request | p50 ms | p99 ms |`,
  '|---|---|---|---|---|---|---|---|---|',
];
const summary: Record<string, unknown>[] = [];
for (const name of names)
  results[name][0].forEach((l, i) => {
    const at = (n: string) => results[n].map((run) => run[i]);
    const rps = at(name).map((x) => x.requests_per_s);
    const vsFirst = ratio(name, first, i);
    const cpu = median(at(name).map((x) => x.server_cpu_us_per_request));
    const ok = median(at(name).map((x) => (x.codes['200'] ?? 0) / x.seconds));
    const p50 = at(name).map((x) => x.latency_p50_ms);
    const p99 = at(name).map((x) => x.latency_p99_ms);
    table.push(
      `| ${name} | ${where(l)} | ${Math.round(median(rps)).toLocaleString('en-US')} | ${Math.round(Math.min(...rps)).toLocaleString('en-US')}-${Math.round(Math.max(...rps)).toLocaleString('en-US')} | ${Math.round(ok).toLocaleString('en-US')} | ${name === first ? '-' : shown(vsFirst)} | ${cpu.toFixed(1)} | ${Math.min(...p50)}-${Math.max(...p50)} | ${Math.min(...p99)}-${Math.max(...p99)} |`,
    );
    summary.push({
      setup: name,
      connections: l.connections,
      overload: l.overload ?? false,
      ok_per_s_median: ok,
      requests_per_s_median: median(rps),
      requests_per_s: rps,
      ratio_to_first_median: vsFirst.median,
      server_cpu_us_per_request_median: cpu,
      non_200: at(name).reduce(
        (s, x) => s + Object.entries(x.codes).reduce((t, [c, n]) => t + (c === '200' ? 0 : n), 0),
        0,
      ),
    });
  });
const pairs = every('compare').map((c) => c.split('/'));
for (const [a, b] of pairs)
  if (!results[a] || !results[b]) {
    console.error(`--compare ${a}/${b}: no such setup (the setups: ${names.join(', ')})`);
    process.exit(2);
  }
if (pairs.length) {
  table.push('', '| per-round ratio | connections | median (range) |', '|---|---|---|');
  for (const [a, b] of pairs)
    results[a][0].forEach((l, i) => table.push(`| ${a} / ${b} | ${where(l)} | ${shown(ratio(a, b, i))} |`));
}
console.log(table.join('\n'));
if (!from) {
  mkdirSync(join('bench', 'out'), { recursive: true });
  const file = join('bench', 'out', `serve-rounds-${outName}.json`);
  writeFileSync(file, `${JSON.stringify({ ...rec, summary }, null, 2)}\n`);
  console.log(`JSON written to ${file}`);
}

/**
 * Load and soak benchmark of `minnow serve` on loopback, with autocannon, bounded in time and count.
 * The server runs as its own process (built CLI), as it would in production; autocannon shares the
 * same 2 cores, so the figures are for the whole machine.
 *
 *   npx tsx bench/serve.ts --model EXPORTED_DIR [--quantized] [--duration 10] [--concurrency 1,16,64]
 *                          [--soak 100000] [--overload] [--label NAME] [--serve-args "--threads 2 ..."]
 *                          [--cli dist/cli/main.js] [--server-cpus 0]
 *
 * Each request classifies one SST-2 dev sentence (rotating over the first 256). Runs: one per
 * concurrency level (--duration seconds each, after a 2 s warm-up); a soak of --soak requests at
 * concurrency 16 with the server's RSS sampled every second from /metrics; with --overload, a server with
 * --max-queue 64 under 256 connections, which must answer 429s instead of queueing without bound.
 * Beside requests/s (noisy where autocannon and the server share 2 cores: alternate several runs), each
 * run reports the server process's CPU time per request (Linux /proc), a steadier measure of its cost.
 * --cli runs another build's CLI (e.g. an earlier commit's, built in a worktree) under the same load.
 * Prints a table and writes bench/out/serve-LABEL.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? 'true' : v;
}

const model = arg('model');
if (!model) {
  console.error('usage: npx tsx bench/serve.ts --model EXPORTED_DIR [--quantized] ...');
  process.exit(2);
}
const quantized = arg('quantized') === 'true';
const duration = Number(arg('duration', '10'));
const levels = (arg('concurrency', '1,16,64') ?? '').split(',').map(Number);
const soak = Number(arg('soak', '0'));
const overload = arg('overload') === 'true';
const label = arg('label', model.split('/').filter(Boolean).pop())!;
const cli = arg('cli', 'dist/cli/main.js')!;
/**
 * Pin the server to these CPUs (Linux taskset), e.g. --server-cpus 0 --serve-args "--threads 1" with the
 * bench itself under `taskset -c 1`: the load generator and the server then keep off each other's core.
 */
const serverCpus = arg('server-cpus');
/** Extra `minnow serve` flags, e.g. --serve-args "--threads 2 --max-wait-ms 1". */
const serveArgs = (process.argv[process.argv.indexOf('--serve-args') + 1] ?? '')
  .split(' ')
  .filter((x) => process.argv.includes('--serve-args') && x);

const devFile = ['../shared/data/glue/SST-2/dev.tsv', 'examples/sst2/dev.tsv'].find((f) => {
  try {
    readFileSync(f);
    return true;
  } catch {
    return false;
  }
})!;
const sentences = readFileSync(devFile, 'utf8')
  .trim()
  .split('\n')
  .slice(1, 257)
  .map((l) => l.split('\t')[0]);
const bodies = sentences.map((s) => JSON.stringify({ inputs: s }));

interface ServerProcess {
  url: string;
  pid: number;
  stop(): Promise<number | null>;
}

/** CPU seconds (user + system) a process has used so far; NaN where /proc is not there. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

/** Start `minnow serve` on a free port; resolves when the model is loaded. */
function serve(extra: string[] = []): Promise<ServerProcess> {
  const args = [
    cli,
    'serve',
    '--model',
    model!,
    '--port',
    '0',
    ...(quantized ? ['--quantized'] : []),
    ...serveArgs,
    ...extra,
  ];
  // taskset execs node in its own process: the pid (and its /proc CPU time) is the server's.
  const child = serverCpus
    ? spawn('taskset', ['-c', serverCpus, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let url = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      url ||= /listening on (\S+)/.exec(err)?.[1] ?? '';
      if (url && /loaded/.test(err))
        resolve({
          url,
          pid: child.pid!,
          stop: () =>
            new Promise((done) => {
              child.once('exit', (code) => done(code));
              child.kill('SIGTERM');
            }),
        });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

async function load(
  url: string,
  connections: number,
  o: { duration?: number; amount?: number },
  pid?: number,
) {
  let i = 0;
  const cpu0 = pid === undefined ? Number.NaN : cpuSeconds(pid);
  const r = await autocannon({
    url: `${url}/v1/classify`,
    connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.duration }),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }),
      },
    ],
  });
  const codes = Object.fromEntries(
    Object.entries(r.statusCodeStats ?? {}).map(([code, v]) => [code, (v as { count: number }).count]),
  );
  return {
    connections,
    requests: r.requests.total,
    requests_per_s: r.requests.average,
    latency_p50_ms: r.latency.p50,
    latency_p99_ms: r.latency.p99,
    latency_max_ms: r.latency.max,
    codes,
    /** The server's CPU time per request, microseconds. */
    server_cpu_us_per_request: ((cpuSeconds(pid ?? -1) - cpu0) / r.requests.total) * 1e6,
    errors: r.errors,
    timeouts: r.timeouts,
    seconds: r.duration,
  };
}

async function rss(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

const out: Record<string, unknown> = {
  model,
  quantized,
  label,
  date: new Date().toISOString(),
  node: process.version,
};
const rows: string[] = [];
const row = (what: string, r: Awaited<ReturnType<typeof load>>) =>
  rows.push(
    `| ${what} | ${r.connections} | ${r.requests} | ${Math.round(r.requests_per_s)} | ${r.server_cpu_us_per_request.toFixed(1)} | ${r.latency_p50_ms} | ${r.latency_p99_ms} | ${JSON.stringify(r.codes)} | ${r.errors} |`,
  );

const server = await serve();
try {
  await load(server.url, 16, { duration: 2 }); // warm-up
  const runs = [];
  for (const c of levels) {
    const r = await load(server.url, c, { duration }, server.pid);
    runs.push(r);
    row(`${duration} s`, r);
  }
  out.levels = runs;
  if (soak > 0) {
    const before = await rss(server.url);
    const samples: number[] = [before];
    const timer = setInterval(() => {
      rss(server.url).then(
        (v) => samples.push(v),
        () => {},
      );
    }, 1000);
    const r = await load(server.url, 16, { amount: soak }, server.pid);
    clearInterval(timer);
    const after = await rss(server.url);
    samples.push(after);
    out.soak = {
      ...r,
      rss_before: before,
      rss_after: after,
      rss_max: Math.max(...samples),
      rss_samples: samples,
    };
    row(`soak ${soak}`, r);
    rows.push(
      `soak RSS: ${(before / 1e6).toFixed(1)} MB before, ${(after / 1e6).toFixed(1)} MB after, max ${(Math.max(...samples) / 1e6).toFixed(1)} MB (${(100 * (after / before - 1)).toFixed(1)}% growth)`,
    );
  }
} finally {
  out.exit_code = await server.stop();
}
if (overload) {
  const small = await serve(['--max-queue', '64']);
  try {
    const r = await load(small.url, 256, { duration }, small.pid);
    out.overload = r;
    row('overload, --max-queue 64', r);
  } finally {
    await small.stop();
  }
}

console.log(
  `minnow serve ${label}${quantized ? ' (int8)' : ''}: one SST-2 sentence per request, loopback, autocannon`,
);
console.log(
  '| run | connections | requests | requests/s | server CPU us/request | p50 ms | p99 ms | status codes | errors |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
mkdirSync(join('bench', 'out'), { recursive: true });
writeFileSync(join('bench', 'out', `serve-${label}.json`), `${JSON.stringify(out, null, 2)}\n`);
console.log(`JSON written to bench/out/serve-${label}.json`);

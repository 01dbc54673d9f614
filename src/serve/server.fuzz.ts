/**
 * Fuzzing the server: generated requests (methods, paths, content types and other headers, bodies that
 * are JSON of every shape, broken JSON, huge or odd texts, pairs) against one server with a stub model,
 * through fastify's inject (no sockets). Every answer must be a known status with a JSON body that says
 * why (4xx), or the classification of every input (200); never a 500, never a crash.
 */
import fc from 'fast-check';
import type { TokenRow } from '../data/batch.js';
import type { Classifier } from '../infer/runtime.js';
import { anyText, check, fuzzTarget, type SomeFuzzTarget } from '../util/fuzzing.js';
import { DEFAULT_SERVE, type Server, startServer } from './server.js';

/** A model that answers every text: two logits from its length. */
const stub = {
  labels: ['no', 'yes'],
  regression: false,
  modelBytes: 1,
  maxLength: 128,
  encode: (xs: readonly unknown[]) =>
    xs.map((x) => ({ ids: [101, String(x).length % 50, 102], types: [0, 0, 0] })),
  logits: async (rows: TokenRow[]) => rows.map((r) => Float32Array.from([0, r.ids[1] % 2 ? 1 : -1])),
  release: async () => {},
} as unknown as Classifier;

const LIMITS = { maxBodyBytes: 4096, maxInputs: 8, maxChars: 200 };
let server: Promise<Server> | undefined;

/** The one server of a fuzz run, started on first use; it does not keep the process alive. */
function theServer(): Promise<Server> {
  server ??= startServer(async () => stub, { ...DEFAULT_SERVE, port: 0, ...LIMITS }).then(async (s) => {
    await s.ready;
    s.app.server.unref();
    return s;
  });
  return server;
}

const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    anyText(30),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(anyText(6), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** Request bodies: well-formed ones, wrong shapes, texts of every kind, broken and oversized JSON. */
const body: fc.Arbitrary<string> = fc.oneof(
  fc.array(anyText(40), { maxLength: 10 }).map((inputs) => JSON.stringify({ inputs })),
  anyText(60).map((inputs) => JSON.stringify({ inputs })),
  fc
    .array(
      fc.oneof(anyText(20), fc.tuple(anyText(20), anyText(20)), fc.array(anyText(5), { maxLength: 3 })),
      {
        maxLength: 10,
      },
    )
    .map((inputs) => JSON.stringify({ inputs })),
  jsonValue.map((v) => JSON.stringify({ inputs: v })),
  jsonValue.map((v) => JSON.stringify(v) ?? ''),
  anyText(80),
  fc.nat(300).map((n) => JSON.stringify({ inputs: 'x'.repeat(n) })),
  fc.nat(6000).map((n) => `{"inputs": "${'y'.repeat(n)}"}`),
  fc.constantFrom(
    '',
    '{',
    '{"inputs": [',
    'null',
    '[]',
    '{"inputs": "\\ud800"}',
    '{"__proto__": {"inputs": 1}}',
  ),
);

const headerName = fc.constantFrom(
  'content-type',
  'accept',
  'content-encoding',
  'transfer-encoding',
  'x-forwarded-for',
  'authorization',
  'accept-encoding',
  'x-anything',
);
const headerValue = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'gzip',
    'chunked',
    '*/*',
    '',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((s) => s.replace(/[\r\n\0]/g, ' ')),
);

interface Request {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'HEAD';
  url: string;
  headers: Record<string, string>;
  body: string;
}

const request: fc.Arbitrary<Request> = fc.record({
  method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'OPTIONS', 'HEAD'),
  url: fc.oneof(
    fc.constantFrom('/v1/classify', '/v1/classify', '/v1/classify', '/health', '/info', '/metrics'),
    fc.constantFrom('/v1/classify?x=1', '/v1/classify/', '//v1/classify', '/v1/%', '/nope'),
    fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((s) => `/${encodeURIComponent(s)}`),
  ),
  headers: fc.oneof(
    fc.constant({ 'content-type': 'application/json' }),
    fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
  ),
  body,
});

const STATUSES = new Set([200, 404, 405, 406, 413, 415, 422, 400]);

export const SERVER_FUZZ: SomeFuzzTarget[] = [
  fuzzTarget({
    name: 'serve: requests (bodies, headers, methods, paths)',
    arbitrary: request,
    predicate: async (r) => {
      const s = await theServer();
      const res = await s.app.inject({
        method: r.method,
        url: r.url,
        headers: r.headers,
        payload: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body,
      });
      check(STATUSES.has(res.statusCode), () => `status ${res.statusCode}: ${res.body.slice(0, 200)}`);
      if (r.method === 'HEAD' || res.statusCode === 200) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.body);
      } catch {
        check(
          false,
          () => `status ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`,
        );
      }
      const e = parsed as { status?: unknown; error?: unknown };
      check(e.status === res.statusCode, () => `body status ${String(e.status)} for ${res.statusCode}`);
      check(typeof e.error === 'string' && e.error !== '', 'error body without a message');
    },
    weight: 1,
  }),
  fuzzTarget({
    name: 'serve: a classification per input, in order',
    arbitrary: fc.array(
      fc.oneof(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
        fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ minLength: 1, maxLength: 20 })),
      ),
      { minLength: 1, maxLength: 8 },
    ),
    predicate: async (inputs) => {
      const s = await theServer();
      const res = await s.app.inject({ method: 'POST', url: '/v1/classify', payload: { inputs } });
      if (res.statusCode !== 200) {
        check([413, 422].includes(res.statusCode), () => `status ${res.statusCode}: ${res.body}`);
        return;
      }
      const out = JSON.parse(res.body) as { results: { label: string; score: number }[] };
      check(out.results.length === inputs.length, 'one result per input');
      for (const x of out.results)
        check(stub.labels.includes(x.label) && x.score >= 0 && x.score <= 1, () => JSON.stringify(x));
    },
    weight: 0.5,
  }),
];

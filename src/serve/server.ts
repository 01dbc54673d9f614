/**
 * `minnow serve`: an HTTP server for an exported model folder or a fine-tuned model directory, on
 * fastify (kept by the Node.js ecosystem's core maintainers, fast JSON handling, a body-size limit and
 * graceful close built in; the routing and errors here are small enough to read in one page).
 *
 *   POST /v1/classify  {"inputs": "text" | ["text", ...] | [["a", "b"], ...]}
 *                      -> {"results": [{"label", "score", "scores": {label: probability}}, ...]}
 *   GET  /health       200 once the model is loaded, 503 before
 *   GET  /info         model, labels, sizes, limits
 *   GET  /metrics      Prometheus text: requests by code, inputs, latency and batch-size histograms
 *
 * Requests share model runs through the dynamic batcher (batcher.ts). Errors are JSON {"error", "status"}:
 * 404 unknown path, 413 body or input count over the limits, 415 not JSON, 422 malformed JSON or wrong
 * types, 429 queue full (with Retry-After), 503 not ready, 500 model failure.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type onRequestHookHandler } from 'fastify';
import { firstNonFinite, nonFiniteMessage } from '../infer/finite-logits.js';
import type { Classifier, ClassifierInput } from '../infer/runtime.js';
import { interpret } from '../infer/runtime.js';
import { isBlank } from '../util/blank.js';
import { UserError } from '../util/errors.js';
import { Batcher, QueueFull } from './batcher.js';
import { renderMetrics, serverMetrics } from './metrics.js';

export interface ServeOptions {
  host: string;
  port: number;
  maxBatchTokens: number; // padded tokens per batch (rows x longest row)
  maxWaitMs: number; // how long the first input of a batch may wait for company (0: none)
  maxQueue: number; // inputs waiting before 429
  maxInputs: number; // texts per request before 413
  maxBodyBytes: number;
  maxChars: number; // characters per text before 413
  /** Shutdown: keep answering until no request has arrived for this long (see Server.close). */
  drainQuietMs: number;
  /** Shutdown: requests not answered this long after it began get 503, and the server exits. */
  drainTimeoutMs: number;
}

export const DEFAULT_SERVE: Readonly<ServeOptions> = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  maxBatchTokens: 8192,
  maxWaitMs: 0,
  maxQueue: 1024,
  maxInputs: 64,
  maxBodyBytes: 1 << 20,
  maxChars: 20_000,
  drainQuietMs: 500,
  drainTimeoutMs: 10_000,
});

/** The drain timeout passed before this request's inputs ran. */
class ShuttingDown extends Error {}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The inputs of a classify body, or an HttpError saying what is wrong with it. */
export function parseInputs(
  body: unknown,
  o: Pick<ServeOptions, 'maxInputs' | 'maxChars'>,
): ClassifierInput[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(422, 'body must be a JSON object {"inputs": ...}');
  const raw = (body as Record<string, unknown>).inputs;
  if (raw === undefined) throw new HttpError(422, 'missing field "inputs"');
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list)) throw new HttpError(422, '"inputs" must be a string or an array');
  if (list.length === 0) throw new HttpError(422, '"inputs" is empty');
  if (list.length > o.maxInputs)
    throw new HttpError(413, `"inputs" has ${list.length} texts; at most ${o.maxInputs} per request`);
  const text = (x: unknown, where: string): string => {
    if (typeof x !== 'string') throw new HttpError(422, `${where} must be a string`);
    if (isBlank(x)) throw new HttpError(422, `${where} is empty (or only control or zero-width characters)`);
    if (x.length > o.maxChars)
      throw new HttpError(413, `${where} has ${x.length} characters; at most ${o.maxChars}`);
    return x;
  };
  return list.map((x, i) => {
    if (Array.isArray(x)) {
      if (x.length !== 2) throw new HttpError(422, `inputs[${i}] must be a text or a pair [text, text]`);
      return [text(x[0], `inputs[${i}][0]`), text(x[1], `inputs[${i}][1]`)] as const;
    }
    return text(x, `inputs[${i}]`);
  });
}

export interface Server {
  app: FastifyInstance;
  url: string;
  /** Resolves once the model is loaded (the server answers 503 until then). */
  ready: Promise<void>;
  /**
   * Graceful shutdown (SIGTERM): /health turns 503 at once; requests keep being answered until none has
   * arrived for drainQuietMs (requests sent just before the signal may still sit in the listen backlog,
   * and closing the listener would reset them); then the server stops listening and finishes the
   * requests in flight. Whatever is unanswered drainTimeoutMs after the start gets 503. Releases the model.
   */
  close(): Promise<void>;
}

/** Why listening failed, in one line naming the flag to change; other errors as they are. */
export function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return new UserError(
      `--port ${port}: already in use on ${host}; stop the other server or choose another port`,
    );
  if (code === 'EACCES' || code === 'EPERM')
    return new UserError(`--port ${port}: not allowed on ${host} (${code}); choose a port above 1023`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EADDRNOTAVAIL')
    return new UserError(
      `--host ${host}: not an address of this machine (${code}); use 127.0.0.1, 0.0.0.0 or one of its addresses`,
    );
  return e;
}

/** Start listening at once; `load` provides the model (health is 503 until it resolves). */
export async function startServer(
  load: () => Promise<Classifier>,
  o: ServeOptions,
  describe: () => Record<string, unknown> = () => ({}),
): Promise<Server> {
  const metrics = serverMetrics();
  let clf: Classifier | undefined;
  let batcher: Batcher | undefined;
  let loadError: string | undefined;
  let draining = false; // close() began
  let lastActivity = 0; // performance.now() of the latest connection or request
  // Requests waiting for the model, rejected when the drain times out. (Racing each against one shared
  // never-settling promise would add a reaction to it per request, kept until shutdown: a leak.)
  const waiting = new Set<(e: Error) => void>();
  let expired = false;
  const expire = () => {
    expired = true;
    for (const reject of waiting) reject(new ShuttingDown());
    waiting.clear();
  };
  const classify = (rows: ReturnType<Classifier['encode']>, b: Batcher) =>
    new Promise<Float32Array[]>((resolve, reject) => {
      if (expired) return reject(new ShuttingDown());
      waiting.add(reject);
      void b
        .submit(rows)
        .then(resolve, reject)
        .finally(() => waiting.delete(reject));
    });
  // return503OnClosing false: a request that reaches an open connection while closing is answered.
  const app = Fastify({
    bodyLimit: o.maxBodyBytes,
    logger: false,
    return503OnClosing: false,
    // A URL fastify cannot decode (`/v1/%`) gets the same JSON error body as every other 4xx.
    frameworkErrors: (err, _req, reply) => {
      const r = reply as unknown as FastifyReply;
      void r.code(400).send({ error: `malformed request: ${err.message.split('\n')[0]}`, status: 400 });
    },
  });
  app.server.on('connection', () => {
    lastActivity = performance.now();
  });
  app.addHook('onRequest', (_req, _reply, done) => {
    lastActivity = performance.now();
    done();
  });
  app.removeContentTypeParser('text/plain'); // JSON only: anything else is 415

  const fail = (reply: FastifyReply, status: number, message: string) => {
    if (status === 429) reply.header('retry-after', '1');
    return reply.code(status).send({ error: message, status });
  };
  const overloaded = (reply: FastifyReply, e: QueueFull) =>
    fail(reply, 429, `overloaded: ${e.message}; retry later`);
  app.addHook('onResponse', (_req, reply, done) => {
    metrics.requests.inc(String(reply.statusCode));
    done();
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 404, `no route ${req.method} ${req.url}`));
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    if (err instanceof HttpError) return fail(reply, err.status, err.message);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return fail(reply, 413, `body over ${o.maxBodyBytes} bytes`);
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return fail(reply, 415, 'send application/json');
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return fail(reply, 422, `malformed request: ${err.message}`);
    return fail(reply, 500, `internal error: ${err.message.split('\n')[0]}`);
  });

  app.get('/health', async (_req, reply) => {
    if (draining) return fail(reply, 503, 'shutting down');
    if (clf) return { status: 'ok' };
    return fail(reply, 503, loadError ? `model failed to load: ${loadError}` : 'model loading');
  });
  app.get('/info', async () => ({
    ready: !!clf,
    labels: clf?.labels ?? null,
    regression: clf?.regression ?? null,
    model_bytes: clf?.modelBytes ?? null,
    max_length: clf?.maxLength ?? null,
    limits: {
      max_batch_tokens: o.maxBatchTokens,
      max_wait_ms: o.maxWaitMs,
      max_queue: o.maxQueue,
      max_inputs: o.maxInputs,
      max_body_bytes: o.maxBodyBytes,
      max_chars: o.maxChars,
    },
    ...describe(),
  }));
  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4');
    return renderMetrics(metrics, batcher?.depth ?? 0);
  });
  // A full queue refuses before the body is read: shedding load costs no JSON parsing or tokenizing.
  const shed: onRequestHookHandler = (_req, reply, done) => {
    if (batcher?.full) return void overloaded(reply, new QueueFull(batcher.depth));
    done();
  };
  app.post('/v1/classify', { onRequest: shed }, async (req, reply) => {
    const t0 = performance.now();
    if (!clf || !batcher) return fail(reply, 503, 'model loading');
    const inputs = parseInputs(req.body, o);
    let logits: Float32Array[];
    try {
      logits = await classify(clf.encode(inputs), batcher);
    } catch (e) {
      if (e instanceof ShuttingDown) return fail(reply, 503, 'shutting down; retry elsewhere');
      metrics.inputs.inc(e instanceof QueueFull ? 'refused' : 'failed', inputs.length);
      if (e instanceof QueueFull) return overloaded(reply, e);
      throw e;
    }
    const bad = firstNonFinite(logits);
    if (bad >= 0) {
      metrics.inputs.inc('failed', inputs.length);
      return fail(reply, 500, nonFiniteMessage('model failure', logits[bad], `inputs[${bad}]`));
    }
    metrics.inputs.inc('classified', inputs.length);
    const labels = clf.labels;
    const results = logits.map((l) => {
      const r = interpret(l, labels, clf!.regression);
      if (clf!.regression) return { label: r.label, score: r.score };
      return {
        label: r.label,
        score: r.score,
        scores: Object.fromEntries(labels.map((n, i) => [n, r.scores[i]])),
      };
    });
    metrics.latency.observe((performance.now() - t0) / 1000);
    return { results };
  });

  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    await app.close();
    throw listenError(e, o.host, o.port);
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const ready = load().then(
    (c) => {
      clf = c;
      batcher = new Batcher(
        (rows) => c.logits(rows, rows.length, Infinity), // a batch's runs back to back (eachRun)
        o,
        (b) => {
          metrics.batchRows.observe(b.rows);
          metrics.batchSeconds.observe(b.seconds);
        },
      );
    },
    (e: Error) => {
      loadError = e.message.split('\n')[0];
      throw e;
    },
  );
  ready.catch(() => {}); // reported through /health and to whoever awaits `ready`
  let closing: Promise<void> | undefined;
  return {
    app,
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    ready,
    close() {
      closing ??= (async () => {
        draining = true;
        const start = performance.now();
        lastActivity = start;
        const left = () => o.drainTimeoutMs - (performance.now() - start);
        while (performance.now() - lastActivity < o.drainQuietMs && left() > 0)
          await new Promise((r) => setTimeout(r, Math.min(25, Math.max(1, left()))));
        const timer = setTimeout(
          () => {
            expire(); // waiting requests answer 503
            batcher?.cancelQueued(new ShuttingDown()); // and their inputs do not run
            setTimeout(() => app.server.closeAllConnections(), 100).unref(); // then bodies still uploading
          },
          Math.max(0, left()),
        );
        await app.close(); // stop listening; requests in flight finish first
        clearTimeout(timer);
        await batcher?.drained();
        await clf?.release();
      })();
      return closing;
    },
  };
}

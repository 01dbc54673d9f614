/** `minnow serve`: classify over HTTP with dynamic batching (src/serve/server.ts). */
import { loadClassifier } from '../infer/load.js';
import { DEFAULT_SERVE, startServer } from '../serve/server.js';
import { info } from '../util/progress.js';
import { command, flag, num, type Parsed, required, str } from './args.js';

const D = DEFAULT_SERVE;
const int = (min: number, max?: number) => ({ int: true, min, ...(max === undefined ? {} : { max }) });

export const spec = command({
  name: 'serve',
  summary: 'serve a model over HTTP: /v1/classify with dynamic batching, /health, /info, /metrics',
  usage: 'minnow serve --model DIR [--port 8080] [--host 127.0.0.1] [--quantized] [--threads N]',
  details:
    'POST /v1/classify {"inputs": ["text", ...]} or pairs {"inputs": [["a", "b"], ...]} -> {"results": [{label,\n' +
    'score, scores}]}. Concurrent requests share model runs (up to --max-batch-tokens padded tokens): a batch\n' +
    'starts when the model is free, with the inputs that arrived during the last run (with --max-wait-ms N,\n' +
    'once the first has waited N ms); more than --max-queue waiting inputs get 429. SIGTERM or SIGINT: /health\n' +
    'turns 503, requests keep being answered until none has come for half a second, then the server stops\n' +
    'listening, finishes the requests in flight (those left after --drain-timeout-ms get 503) and exits 0.',
  options: {
    model: {
      type: 'string',
      value: 'DIR',
      help: 'exported folder (minnow export) or fine-tuned model directory',
    },
    host: { type: 'string', value: 'HOST', help: 'address to listen on', default: D.host },
    port: {
      type: 'string',
      value: 'N',
      help: 'port (0: any free port)',
      default: String(D.port),
      number: int(0, 65535),
    },
    quantized: { type: 'boolean', help: "an exported folder's int8 model" },
    threads: {
      type: 'string',
      value: 'N',
      help: 'onnxruntime threads per model run',
      default: '1',
      number: int(1, 256),
    },
    'max-length': {
      type: 'string',
      value: 'N',
      help: 'tokens per text (longer texts are truncated)',
      default: '128',
      number: int(3),
    },
    'max-batch-tokens': {
      type: 'string',
      value: 'N',
      help: 'padded tokens per batch (rows x longest row)',
      default: String(D.maxBatchTokens),
      number: int(1),
    },
    'max-wait-ms': {
      type: 'string',
      value: 'MS',
      help: 'longest wait of a batch for more requests (0: start as soon as the model is free)',
      default: String(D.maxWaitMs),
      number: { min: 0, max: 10_000 },
    },
    'max-queue': {
      type: 'string',
      value: 'N',
      help: 'inputs waiting before requests get 429',
      default: String(D.maxQueue),
      number: int(1),
    },
    'max-inputs': {
      type: 'string',
      value: 'N',
      help: 'texts per request before 413',
      default: String(D.maxInputs),
      number: int(1),
    },
    'drain-timeout-ms': {
      type: 'string',
      value: 'MS',
      help: 'on SIGTERM, how long requests in flight may take before they get 503',
      default: String(D.drainTimeoutMs),
      number: int(0, 600_000),
    },
    'max-body-bytes': {
      type: 'string',
      value: 'N',
      help: 'request body size before 413',
      default: String(D.maxBodyBytes),
      number: int(64),
    },
  },
});

export async function run(p: Parsed<typeof spec.options>): Promise<void> {
  const dir = required(p, 'model');
  const o = {
    host: str(p, 'host') ?? D.host,
    port: num(p, 'port'),
    maxBatchTokens: num(p, 'max-batch-tokens'),
    maxWaitMs: num(p, 'max-wait-ms'),
    maxQueue: num(p, 'max-queue'),
    maxInputs: num(p, 'max-inputs'),
    maxBodyBytes: num(p, 'max-body-bytes'),
    maxChars: D.maxChars,
    drainQuietMs: D.drainQuietMs,
    drainTimeoutMs: num(p, 'drain-timeout-ms'),
  };
  const load = {
    threads: num(p, 'threads'),
    maxLength: num(p, 'max-length'),
    quantized: flag(p, 'quantized'),
  };
  const server = await startServer(
    () => loadClassifier(dir, load),
    o,
    () => ({
      model: dir,
      quantized: load.quantized,
      threads: load.threads,
    }),
  );
  info(`serve: listening on ${server.url} (loading ${dir})`);
  try {
    await server.ready;
  } catch (e) {
    await server.close();
    throw e;
  }
  info(`serve: ${dir} loaded; POST ${server.url}/v1/classify`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      info(`serve: ${sig}: finishing requests in flight`);
      server.close().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  info('serve: stopped');
}

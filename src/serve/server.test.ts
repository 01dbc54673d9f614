/**
 * The server on an ephemeral loopback port: every endpoint, every error code, dynamic batching, the
 * bounded queue and a graceful close. A stub classifier whose runs wait on the test makes queueing and
 * shutdown deterministic; one real exported model checks the answers equal the runtime's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TokenRow } from '../data/batch.js';
import { readTask } from '../data/task.js';
import { DEFAULT_EXPORT, exportModel } from '../infer/export-folder.js';
import { loadClassifier } from '../infer/load.js';
import type { Classifier } from '../infer/runtime.js';
import { preset } from '../model/config.js';
import { createModel, saveModel } from '../model/io.js';
import { DEFAULT_FINETUNE, finetune } from '../train/finetune.js';
import { Rng } from '../util/rng.js';
import { DEFAULT_SERVE, type Server, startServer } from './server.js';

const tmp = mkdtempSync(join(tmpdir(), 'minnow-serve-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A classifier whose model runs wait until the test releases them; it records batch sizes. */
function stub() {
  const gates: (() => void)[] = [];
  const batches: number[] = [];
  let hold = false;
  const clf = {
    labels: ['no', 'yes'],
    regression: false,
    modelBytes: 1,
    maxLength: 128,
    encode: (xs: readonly unknown[]) =>
      xs.map((x) => ({ ids: [101, String(x).length % 50, 102], types: [0, 0, 0] })),
    logits: async (rows: TokenRow[]) => {
      batches.push(rows.length);
      if (hold) await new Promise<void>((r) => gates.push(r));
      return rows.map((r) => Float32Array.from([0, r.ids[1] % 2 ? 1 : -1]));
    },
    release: async () => {},
  };
  return {
    clf: clf as unknown as Classifier,
    batches,
    hold: (on: boolean) => {
      hold = on;
    },
    open: () => {
      for (const g of gates.splice(0)) g();
    },
    waiting: () => gates.length,
  };
}

const post = (s: Server, body: unknown, type = 'application/json') =>
  fetch(`${s.url}/v1/classify`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function until(cond: () => boolean) {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition never held');
}

describe('minnow serve', () => {
  let real = '';
  before(async () => {
    const init = join(tmp, 'init');
    saveModel(
      init,
      createModel(preset('uno-eelbert'), join('assets', 'bert-base-uncased-vocab.txt'), new Rng(1)),
    );
    real = join(tmp, 'ft');
    await finetune(init, { task: 'sst2', data: join('test', 'fixtures', 'glue-mini') }, undefined, {
      ...DEFAULT_FINETUNE,
      out: real,
      epochs: 1,
      threads: 1,
    });
  });

  test('503 until the model is loaded; then /health, /info, classify equal to the runtime, /metrics', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await startServer(
      async () => {
        await gate;
        return loadClassifier(real, { threads: 1, maxLength: 128 });
      },
      { ...DEFAULT_SERVE, port: 0 },
    );
    try {
      const early = await fetch(`${s.url}/health`);
      assert.equal(early.status, 503);
      assert.deepEqual(await early.json(), { error: 'model loading', status: 503 });
      assert.equal((await post(s, { inputs: 'hello' })).status, 503);
      release();
      await s.ready;
      assert.deepEqual(await (await fetch(`${s.url}/health`)).json(), { status: 'ok' });
      const infoBody = await (await fetch(`${s.url}/info`)).json();
      assert.deepEqual(infoBody.labels, ['negative', 'positive']);
      const texts = ['a wonderful , moving delight', 'a dull and tedious mess', 'fine'];
      const r = await post(s, { inputs: texts });
      assert.equal(r.status, 200);
      const { results } = await r.json();
      const clf = await loadClassifier(real, { threads: 1, maxLength: 128 });
      const want = await clf.classify(texts);
      await clf.release();
      results.forEach((x: { label: string; score: number; scores: Record<string, number> }, i: number) => {
        assert.equal(x.label, want[i].label);
        assert.ok(Math.abs(x.score - want[i].score) < 1e-6);
        assert.ok(Math.abs(x.scores.negative + x.scores.positive - 1) < 1e-6);
      });
      assert.equal((await (await post(s, { inputs: 'one text' })).json()).results.length, 1);
      assert.equal((await post(s, { inputs: [['a question', 'an answer']] })).status, 200);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(metrics, /^minnow_requests_total\{code="200"\} \d+$/m);
      assert.match(metrics, /^minnow_requests_total\{code="503"\} 2$/m);
      assert.match(metrics, /^minnow_inputs_total\{outcome="classified"\} 5$/m);
      assert.match(metrics, /^minnow_request_duration_seconds_count 3$/m);
      assert.match(metrics, /^minnow_batch_size_bucket\{le="\+Inf"\} \d+$/m);
    } finally {
      await s.close();
    }
  });

  test('under concurrent load a text scores as it does alone, bit for bit (fp32, int8 weight-only and static)', async () => {
    const DATA = join('test', 'fixtures', 'glue-mini');
    const plain = join(tmp, 'export'); // nothing to calibrate on: weight-only int8
    const calibrated = join(tmp, 'export-static');
    await exportModel(real, plain, { ...DEFAULT_EXPORT, threads: 1 });
    const made = await exportModel(real, calibrated, {
      ...DEFAULT_EXPORT,
      check: { src: { task: 'sst2', data: DATA }, split: 'dev' },
      threads: 1,
    });
    assert.equal(made.int8?.scheme, 'static');
    // The fixture's sentences (5-9 tokens) joined in ones to sevens: rows of several padded lengths.
    const sentences = readTask({ task: 'sst2', data: DATA }, 'dev').examples.map((e) => e.text);
    const texts = sentences
      .slice(0, 24)
      .map((t, i) => [t, ...sentences.slice(i + 1, i + [1, 2, 4, 7][i % 4])].join(' , '));
    for (const [folder, quantized] of [
      [plain, false],
      [plain, true],
      [calibrated, true],
    ] as const) {
      const load = () => loadClassifier(folder, { quantized, threads: 1, maxLength: 128 });
      const clf = await load();
      const alone: number[][] = [];
      for (const t of texts) alone.push((await clf.classify([t]))[0].scores);
      await clf.release();
      const s = await startServer(load, { ...DEFAULT_SERVE, port: 0 });
      await s.ready;
      try {
        // 64 requests at once of 1-7 texts each, in a rotating mix: batches of many sizes and lengths.
        const asked = Array.from({ length: 64 }, (_, i) =>
          Array.from({ length: 1 + (i % 7) }, (_, j) => (i * 5 + j * 3) % texts.length),
        );
        const answers = await Promise.all(
          asked.map(async (ids) => {
            const r = await post(s, { inputs: ids.map((k) => texts[k]) });
            assert.equal(r.status, 200);
            return (await r.json()).results as { scores: Record<string, number> }[];
          }),
        );
        const wrong = asked.flatMap((ids, i) =>
          ids.flatMap((k, j) => {
            const got = answers[i][j].scores;
            return got.negative === alone[k][0] && got.positive === alone[k][1]
              ? []
              : [`request ${i}, text ${k}`];
          }),
        );
        const what = `${quantized ? 'int8' : 'fp32'} of the ${folder === plain ? 'plain' : 'calibrated'} export`;
        assert.deepEqual(wrong, [], `${what}: scores differ from the texts' alone`);
        const metrics = await (await fetch(`${s.url}/metrics`)).text();
        const single = Number(/^minnow_batch_size_bucket\{le="1"\} (\d+)$/m.exec(metrics)?.[1]);
        const batches = Number(/^minnow_batch_size_count (\d+)$/m.exec(metrics)?.[1]);
        assert.ok(single < batches, `requests shared batches (${batches} batches, ${single} of one input)`);
      } finally {
        await s.close();
      }
    }
  });

  test('every error code has a JSON body: 404, 413, 415, 422', async () => {
    const st = stub();
    const s = await startServer(async () => st.clf, {
      ...DEFAULT_SERVE,
      port: 0,
      maxBodyBytes: 2000,
      maxInputs: 4,
      maxChars: 100,
    });
    await s.ready;
    try {
      const expect = async (r: Response, status: number, re: RegExp) => {
        assert.equal(r.status, status);
        const body = await r.json();
        assert.equal(body.status, status);
        assert.match(body.error, re);
      };
      await expect(await fetch(`${s.url}/nope`), 404, /no route GET \/nope/);
      await expect(await fetch(`${s.url}/v1/%`), 400, /malformed request/); // a URL that does not decode
      await expect(await post(s, { inputs: 'x'.repeat(3000) }), 413, /body over 2000 bytes/);
      await expect(await post(s, { inputs: ['a', 'b', 'c', 'd', 'e'] }), 413, /5 texts; at most 4/);
      await expect(await post(s, { inputs: 'y'.repeat(101) }), 413, /101 characters; at most 100/);
      await expect(await post(s, 'inputs=a', 'text/plain'), 415, /application\/json/);
      await expect(await post(s, '{"inputs": ['), 422, /malformed request/);
      await expect(await post(s, { text: 'a' }), 422, /missing field "inputs"/);
      await expect(await post(s, { inputs: 3 }), 422, /string or an array/);
      await expect(await post(s, { inputs: [] }), 422, /empty/);
      await expect(await post(s, { inputs: ['ok', 7] }), 422, /inputs\[1\] must be a string/);
      await expect(await post(s, { inputs: [['a']] }), 422, /pair/);
      await expect(await post(s, { inputs: ['  '] }), 422, /inputs\[0\] is empty/);
      // Nothing to read is empty too: NUL, other control characters, zero-width spaces and joiners.
      await expect(await post(s, { inputs: ['ok', '\u0000'] }), 422, /inputs\[1\] is empty/);
      await expect(await post(s, { inputs: ['\u200b\u200d\ufeff\u0007'] }), 422, /inputs\[0\] is empty/);
      await expect(await post(s, { inputs: [['a', '\u0000\u0000']] }), 422, /inputs\[0\]\[1\] is empty/);
      await expect(await post(s, [1, 2]), 422, /JSON object/);
    } finally {
      await s.close();
    }
  });

  test('a model whose output is not a number answers 500, not score: null', async () => {
    const st = stub();
    const clf = {
      ...(st.clf as object),
      logits: async (rows: TokenRow[]) => rows.map(() => Float32Array.from([Number.NaN, 0])),
    };
    const s = await startServer(async () => clf as unknown as Classifier, { ...DEFAULT_SERVE, port: 0 });
    await s.ready;
    try {
      const r = await post(s, { inputs: ['a good film'] });
      assert.equal(r.status, 500);
      assert.match((await r.json()).error, /output is NaN for inputs\[0\]/);
    } finally {
      await s.close();
    }
  });

  test('a port in use or a host that does not resolve: one line naming the flag', async () => {
    const st = stub();
    const s = await startServer(async () => st.clf, { ...DEFAULT_SERVE, port: 0 });
    try {
      const port = Number(new URL(s.url).port);
      await assert.rejects(
        startServer(async () => st.clf, { ...DEFAULT_SERVE, port }),
        new RegExp(`^UserError: --port ${port}: already in use on 127\\.0\\.0\\.1`),
      );
      await assert.rejects(
        startServer(async () => st.clf, { ...DEFAULT_SERVE, host: 'no-such-host.invalid', port: 0 }),
        /^UserError: --host no-such-host\.invalid: not an address of this machine/,
      );
    } finally {
      await s.close();
    }
  });

  test('concurrent requests share model runs; a full queue answers 429 at once', async () => {
    const st = stub();
    const s = await startServer(async () => st.clf, { ...DEFAULT_SERVE, port: 0, maxQueue: 3, maxWaitMs: 5 });
    await s.ready;
    try {
      st.hold(true);
      const first = post(s, { inputs: ['a'] }); // runs alone and blocks
      await until(() => st.waiting() === 1);
      const queued = [post(s, { inputs: ['b'] })];
      await new Promise((r) => setTimeout(r, 50));
      // 1 input waits: 3 more would pass the limit (refused once its body is read, counting its inputs).
      const tooMany = await post(s, { inputs: ['e', 'f', 'g'] });
      assert.equal(tooMany.status, 429);
      assert.match((await tooMany.json()).error, /overloaded: queue full \(1 inputs waiting\)/);
      queued.push(post(s, { inputs: ['c', 'd'] })); // 3 inputs wait: the queue is full
      await new Promise((r) => setTimeout(r, 50));
      const refused = await post(s, { inputs: ['e'] }); // refused before its body is read
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.match((await refused.json()).error, /overloaded: queue full \(3 inputs waiting\)/);
      st.hold(false);
      st.open();
      const all = await Promise.all([first, ...queued]);
      assert.deepEqual(
        all.map((r) => r.status),
        [200, 200, 200],
      );
      assert.deepEqual(st.batches, [1, 3], 'the two waiting requests ran as one batch');
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(metrics, /^minnow_requests_total\{code="429"\} 2$/m);
      assert.match(metrics, /^minnow_inputs_total\{outcome="refused"\} 3$/m);
    } finally {
      await s.close();
    }
  });

  test('close: /health turns 503, requests keep being answered until quiet, then new connections are refused', async () => {
    const st = stub();
    const s = await startServer(async () => st.clf, { ...DEFAULT_SERVE, port: 0, drainQuietMs: 200 });
    await s.ready;
    st.hold(true);
    const inFlight = post(s, { inputs: ['slow'] });
    await until(() => st.waiting() === 1);
    const closing = s.close();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await fetch(`${s.url}/health`)).status, 503); // draining: load balancers look elsewhere
    st.hold(false);
    const late = post(s, { inputs: ['sent just after the signal'] });
    st.open();
    assert.equal((await inFlight).status, 200);
    assert.equal((await late).status, 200);
    await closing;
    await assert.rejects(fetch(`${s.url}/health`));
  });

  test('close: a request still unanswered after drainTimeoutMs gets 503, and close returns', async () => {
    const st = stub();
    const s = await startServer(async () => st.clf, {
      ...DEFAULT_SERVE,
      port: 0,
      drainQuietMs: 10,
      drainTimeoutMs: 300,
      maxWaitMs: 0,
    });
    await s.ready;
    st.hold(true);
    const running = post(s, { inputs: ['runs and never finishes'] });
    await until(() => st.waiting() === 1);
    const queued = post(s, { inputs: ['waits behind it'] });
    await new Promise((r) => setTimeout(r, 30));
    const closing = s.close();
    const [a, b] = await Promise.all([running, queued]);
    assert.deepEqual([a.status, b.status], [503, 503]);
    assert.match((await b.json()).error, /shutting down/);
    st.open(); // the model run ends; close can release it
    await closing;
  });
});

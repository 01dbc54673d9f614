/** Loading onnxruntime in Node: the WebAssembly build for `--backend web`, and a clear line without it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../util/errors.js';
import { ortFor, webOrt } from './load.js';

test('--backend web without onnxruntime-web installed: one line saying how to install it', async () => {
  await assert.rejects(
    webOrt('onnxruntime-web-not-installed'),
    (e: unknown) =>
      e instanceof UserError &&
      e.message === '--backend web needs onnxruntime-web: npm install onnxruntime-web',
  );
});

test('--backend web gives onnxruntime-web on one thread; node gives onnxruntime-node', async () => {
  const web = (await ortFor('web')) as unknown as { env: { wasm: { numThreads?: number } } };
  assert.equal(web.env.wasm.numThreads, 1);
  const node = await ortFor('node');
  assert.notEqual(node, web);
  assert.equal(typeof node.InferenceSession.create, 'function');
});

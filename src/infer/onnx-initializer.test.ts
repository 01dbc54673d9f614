import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Graph } from '../graph/graph.js';
import { toOnnx } from '../graph/onnx.js';
import * as o from '../graph/ops.js';
import { withInitializer } from './onnx-initializer.js';

/** y = x @ t, with t a graph input: the shape of the compact export's word table. */
function model(): Uint8Array {
  const g = new Graph('splice');
  const x = g.input('x', 'float32', ['B', 3]);
  const t = g.input('t', 'float32', [3, 2]);
  g.output(o.matmul(x, t), 'y');
  return toOnnx(g);
}

test('withInitializer: the input becomes a constant, and onnxruntime runs the graph without feeding it', async () => {
  const t = Float32Array.from([1, 2, 3, 4, 5, -6.5]);
  const spliced = withInitializer(model(), 't', [3, 2], t);
  const s = await ort.InferenceSession.create(spliced);
  const x = new ort.Tensor('float32', Float32Array.from([1, 0, 2, 0, 1, 1]), [2, 3]);
  const y = (await s.run({ x })).y.data as Float32Array;
  // [1,0,2] @ t = [1+10, 2-13]; [0,1,1] @ t = [3+5, 4-6.5]
  assert.deepEqual(Array.from(y), [11, -11, 8, -2.5]);
  assert.deepEqual(s.inputNames, ['x']); // no longer an input: a constant onnxruntime may fold
  await s.release();
});

test('withInitializer: bytes that are not an ONNX model are refused with a message', () => {
  assert.throws(
    () => withInitializer(Uint8Array.from([0x0a, 0x05, 1]), 't', [1], new Float32Array(1)),
    /truncated/,
  );
  assert.throws(
    () => withInitializer(Uint8Array.from([0x08, 0x07]), 't', [1], new Float32Array(1)),
    /no graph/,
  );
  assert.throws(() => withInitializer(Uint8Array.from([0x0b]), 't', [1], new Float32Array(1)), /wire type 3/);
});

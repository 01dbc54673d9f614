/**
 * minnow's training graphs on onnxruntime-web (the WebAssembly build a browser page runs): ten fine-tuning
 * steps of uno-eelbert (forward, autodiff backward, dropout, AdamW) give the losses of the same run on
 * onnxruntime-node. This is the ground a fine-tuning page stands on; the page itself is not built yet.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeAll, padBatch, readTask } from '../data/task.js';
import { softmaxCrossEntropy } from '../graph/losses.js';
import { bertInputs, classifier, encoder } from '../model/bert.js';
import { preset } from '../model/config.js';
import { createModel } from '../model/io.js';
import { AdamW, DEFAULT_ADAMW } from '../runtime/optim.js';
import type { OrtBackend } from '../runtime/session.js';
import { Rng } from '../util/rng.js';
import { TrainStep } from './step.js';

/** onnxruntime-web, or why not (a variable specifier: this file compiles without the package). */
const WEB_PACKAGE = 'onnxruntime-web';
const web = await import(WEB_PACKAGE).then(
  (m) => ({ ort: m as OrtBackend & { env: { wasm: { numThreads?: number } } }, why: '' }),
  (e: Error) => ({ ort: undefined, why: `onnxruntime-web is not resolvable (${e.message.split('\n')[0]})` }),
);

/** Losses of `steps` fine-tuning steps on the given onnxruntime backend (undefined: onnxruntime-node). */
async function losses(backend: OrtBackend | undefined, steps: number): Promise<number[]> {
  const m = createModel(preset('uno-eelbert'), join('assets', 'bert-base-uncased-vocab.txt'), new Rng(7), {
    numLabels: 2,
  });
  const data = readTask({ task: 'sst2', data: join('test', 'fixtures', 'glue-mini') }, 'train');
  const items = encodeAll(m.tokenizer, data.examples, 64);
  const step = await TrainStep.create(
    (g, w, drop) => {
      const logits = classifier(w, m.config, encoder(w, m.config, bertInputs(g), drop), 2, drop);
      return { loss: softmaxCrossEntropy(logits, g.input('labels', 'int64', ['B'])) };
    },
    m.store,
    { seed: 3, threads: 1, backend },
  );
  const optim = new AdamW(step.params, { ...DEFAULT_ADAMW, lr: 1e-3 });
  const out: number[] = [];
  for (let k = 0; k < steps; k++) {
    const b = padBatch(items.slice(k * 8, k * 8 + 8), false, m.tokenizer.padId);
    const r = await step.run(b.feeds, b.sizes, k);
    optim.update(r.grads, 1e-3);
    out.push(r.loss);
  }
  await step.release();
  return out;
}

describe('training graphs on onnxruntime-web', { skip: web.why || false }, () => {
  test('ten fine-tuning steps give onnxruntime-node losses (within 1e-3; dropout and AdamW included)', async () => {
    web.ort!.env.wasm.numThreads = 1;
    const node = await losses(undefined, 10);
    const wasm = await losses(web.ort, 10);
    const diff = Math.max(...node.map((l, i) => Math.abs(l - wasm[i])));
    console.log(
      `# losses node ${node.map((l) => l.toFixed(5)).join(' ')}; max |web - node| ${diff.toExponential(2)}`,
    );
    assert.ok(node.every(Number.isFinite) && node[9] !== node[0], 'the model trains');
    assert.ok(diff <= 1e-3, `max |loss difference| ${diff}`);
  });
});

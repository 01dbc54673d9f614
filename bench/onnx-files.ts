/**
 * onnxruntime alone on exported classifier files: batch B x T tokens, 1 thread, the session options of
 * minnow's runtime; files interleaved, 7 rounds of 2,000 runs after 200 warm-up runs; medians in ms per run.
 * Compares int8 schemes and fp32 without tokenization or JavaScript around them.
 *
 * Run: npx tsx bench/onnx-files.ts [--tokens 25] [--batch 1] FILE.onnx FILE.onnx ...
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { withInitializer } from '../src/infer/onnx-initializer.js';
import { COMPACT_TABLE } from '../src/infer/runtime.js';

const args = process.argv.slice(2);
const at = args.indexOf('--tokens');
const T = at >= 0 ? Number(args.splice(at, 2)[1]) : 25;
const bt = args.indexOf('--batch');
const B = bt >= 0 ? Number(args.splice(bt, 2)[1]) : 1;
const files = args;
if (!files.length || !Number.isInteger(T) || T < 1 || !Number.isInteger(B) || B < 1) {
  console.error('usage: npx tsx bench/onnx-files.ts [--tokens N] [--batch B] FILE.onnx ...');
  process.exit(2);
}
/**
 * A file's bytes as the runtime loads them: a compact graph's table input (its folder's config.json gives
 * V x H) becomes a constant; the values do not matter for timing.
 */
function loadable(file: string): Uint8Array {
  const bytes = readFileSync(file);
  if (!file.includes('compact')) return bytes;
  const c = JSON.parse(readFileSync(join(dirname(file), '..', 'config.json'), 'utf8'));
  const table = new Float32Array(c.vocab_size * c.hidden_size).fill(0.01);
  return withInitializer(bytes, COMPACT_TABLE, [c.vocab_size, c.hidden_size], table);
}

const sessions = await Promise.all(
  files.map((f) =>
    ort.InferenceSession.create(loadable(f), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      extra: { session: { disable_quant_qdq: '1' } },
    }),
  ),
);
const feeds = sessions.map(() => {
  const f: Record<string, ort.Tensor> = {
    attention_mask: new ort.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
  };
  f.input_ids = new ort.Tensor('int64', new BigInt64Array(B * T).fill(2000n), [B, T]);
  return f;
});
const times: number[][] = files.map(() => []);
for (let r = 0; r < 7; r++)
  for (let k = 0; k < files.length; k++) {
    for (let i = 0; i < 200; i++) await sessions[k].run(feeds[k]);
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) await sessions[k].run(feeds[k]);
    times[k].push((performance.now() - t0) / 2000);
  }
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`| file | ms per run (median of 7), batch ${B} x ${T} tokens, 1 thread | rounds |`);
console.log('|---|---|---|');
files.forEach((f, k) =>
  console.log(`| ${f} | ${median(times[k]).toFixed(4)} | ${times[k].map((x) => x.toFixed(3)).join(' ')} |`),
);

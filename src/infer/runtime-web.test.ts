/**
 * The runtime in a browser's onnxruntime: onnxruntime-web (its WebAssembly backend, which is what it runs
 * in Node) runs every ONNX file `minnow export` writes for a hash model (portable and compact, fp32 and
 * int8) through `Classifier.load(reader, { ort })` and gives onnxruntime-node's logits. And the runtime
 * bundled for the browser (scripts/runtime-size.ts) stays small and free of Node built-ins.
 *
 * Assumes dist/ is built (npm test builds it first): the model is made with the CLI. onnxruntime-web
 * comes with @huggingface/transformers (a dev dependency); where it cannot be imported the model tests
 * skip. Nothing is fetched: the .wasm file is read from node_modules/onnxruntime-web/dist by the module
 * itself, and global fetch throws while these tests run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ortNode from 'onnxruntime-node';
import { runtimeBundle } from '../../scripts/runtime-size.js';
import { folderReader } from './load.js';
import { type Classification, Classifier, type OrtModule } from './runtime.js';
import { GLUE_MINI as DATA, tinyExport } from './tiny-export.testkit.js';

type OrtWeb = OrtModule & { env: { wasm: { numThreads?: number } } };
/** onnxruntime-web, or why not (a variable specifier: this file compiles without the package). */
const WEB_PACKAGE = 'onnxruntime-web';
const web = await import(WEB_PACKAGE).then(
  (m: OrtWeb) => ({ ort: m, why: '' }),
  (e: Error) => ({
    ort: undefined,
    why: `onnxruntime-web is not resolvable from the project root (${e.message.split('\n')[0]})`,
  }),
);

/** The fixture's dev sentences, and texts that pad (very different lengths) and truncate (> 128 pieces). */
const TEXTS = [
  ...readFileSync(join(DATA, 'dev.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t')[0]),
  'a',
  'WONDERFUL!!! and funny , a warm , charming delight … 😀',
  Array.from({ length: 90 }, (_, i) => (i % 3 ? 'boring' : 'wonderful film')).join(' '),
];

/** fp32: the two backends' largest |logit difference| allowed. */
const FP32_TOL = 1e-5;
/**
 * int8: the same labels, and logits this close. With 8-bit weights onnxruntime-node's x64 kernel for
 * uint8 x int8 MatMulInteger saturated 16-bit pair sums on this AVX2 CPU without VNNI (node 0.06 from
 * fp32, wasm 0.008); the export now keeps dense int8 weights to 7 bits. The backends then agree to
 * ~1e-7 unless an activation sits on a rounding boundary of its row's uint8 codes, where a last-bit
 * difference before quantisation moves it one uint8 step (seen: 1.2e-3): the bound allows a few steps.
 */
const INT8_TOL = 1e-2;

let tmp = '';
let folder = '';
const realFetch = globalThis.fetch;

async function classify(
  ort: OrtModule,
  o: { variant: 'portable' | 'compact'; quantized: boolean },
): Promise<Classification[]> {
  const clf = await Classifier.load(folderReader(folder), { ort, ...o });
  try {
    return await clf.classify(TEXTS, 8);
  } finally {
    await clf.release();
  }
}

const maxAbsDiff = (a: Classification[], b: Classification[]) =>
  Math.max(...a.map((r, i) => Math.max(...r.logits.map((x, j) => Math.abs(x - b[i].logits[j])))));

describe('onnxruntime-web runs the exported files like onnxruntime-node', { skip: web.why || false }, () => {
  const fp32: Partial<Record<'portable' | 'compact', Classification[]>> = {};

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'minnow-runtime-web-'));
    folder = tinyExport(tmp).folder;
    web.ort!.env.wasm.numThreads = 1; // no worker threads
    globalThis.fetch = async (input: string | URL | Request) => {
      throw new Error(`test tried to fetch ${String(input)}`);
    };
  });

  after(() => {
    globalThis.fetch = realFetch;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  for (const variant of ['portable', 'compact'] as const)
    for (const quantized of [false, true])
      test(`${variant} ${quantized ? 'int8' : 'fp32'}`, async (t) => {
        const node = await classify(ortNode as unknown as OrtModule, { variant, quantized });
        const wasm = await classify(web.ort!, { variant, quantized });
        assert.equal(wasm.length, TEXTS.length);
        const d = maxAbsDiff(wasm, node);
        const labels = wasm.filter((r, i) => r.label === node[i].label).length;
        if (!quantized) fp32[variant] = node;
        const ref = quantized ? fp32[variant] : undefined;
        const vsFp32 = ref
          ? `; vs fp32 (node): web ${maxAbsDiff(wasm, ref).toExponential(2)}, node ${maxAbsDiff(node, ref).toExponential(2)}`
          : '';
        t.diagnostic(
          `${TEXTS.length} texts: max |logit diff| web vs node ${d.toExponential(2)}; labels equal ${labels}/${TEXTS.length}${vsFp32}`,
        );
        assert.equal(labels, TEXTS.length, 'labels differ');
        assert.ok(d <= (quantized ? INT8_TOL : FP32_TOL), `logits differ by ${d}`);
      });
});

describe('the runtime bundled for the browser (scripts/runtime-size.ts)', () => {
  test('has no Node built-in and is under 200 kB', async (t) => {
    const b = await runtimeBundle();
    t.diagnostic(`${b.bytes} bytes, gzip ${b.gzipBytes}; external: ${b.external.join(', ') || 'none'}`);
    assert.deepEqual(
      b.builtins.map((x) => [...x.chain, x.module].join(' -> ')),
      [],
    );
    assert.deepEqual(b.nodeGlobals, []);
    assert.ok(b.bytes < 200_000, `${b.bytes} bytes`);
  });

  test('names the import chain to a built-in, and Node globals', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minnow-runtime-size-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = b;\n");
      writeFileSync(
        join(dir, 'b.ts'),
        "import { join } from 'path';\nimport { gzipSync } from 'node:zlib';\n" +
          "export const b = () => [join('x'), gzipSync, process.env.X, Buffer.from('y')];\n",
      );
      const b = await runtimeBundle(join(dir, 'a.ts'));
      assert.deepEqual(
        b.builtins.map((x) => [...x.chain.map((f) => f.split('/').pop()), x.module]),
        [
          ['a.ts', 'b.ts', 'path'],
          ['a.ts', 'b.ts', 'node:zlib'],
        ],
      );
      assert.deepEqual(b.nodeGlobals, ['Buffer', 'process']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

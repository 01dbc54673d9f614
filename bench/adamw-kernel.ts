/**
 * Times one AdamW step over 1.5 M floats: the JS loop from optim.ts (`new AdamW(...).update`, which also
 * computes the global gradient norm) against the WebAssembly SIMD kernel (`sumsq` for the norm + `update`).
 * Interleaved repetitions after a warm-up (so V8 has tiered both up), medians printed and written to
 * bench/out/adamw-simd.json. Timings are printed, not asserted.
 *
 * Run: npx tsx bench/adamw-kernel.ts [--n 1500000] [--reps 30]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimdAdamWKernel, WasmArena } from '../src/runtime/adamw-simd.js';
import { AdamW, type AdamWConfig } from '../src/runtime/optim.js';
import type { Param } from '../src/runtime/params.js';
import { Rng } from '../src/util/rng.js';

function arg(flag: string, dflt: number): number {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

const n = arg('--n', 1_500_000);
const reps = arg('--reps', 30);
const warmup = 5;
const cfg: AdamWConfig = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, clipNorm: 1.0 };
const rng = new Rng(1);

// JS side: one parameter of n floats (plain Float32Arrays).
const param: Param = { name: 'encoder.weight', shape: [n], data: new Float32Array(n), init: 'normal' };
const gradJs = new Float32Array(n);
for (let i = 0; i < n; i++) {
  param.data[i] = rng.normal() * 0.02;
  gradJs[i] = rng.normal() * 1e-3;
}
const opt = new AdamW([param], cfg);

// SIMD side: the same data in a wasm arena.
const arena = WasmArena.create(WasmArena.floatsFor([n, n, n, n]));
const w = arena.alloc(n);
const g = arena.alloc(n);
const m = arena.alloc(n);
const v = arena.alloc(n);
w.set(param.data);
g.set(gradJs);
const kernel = await SimdAdamWKernel.create(arena);
let simdStep = 0;

/** What AdamW.update does, with the kernel: norm, clip factor, bias corrections, update. */
function simdUpdate(lr: number): number {
  const norm = Math.sqrt(kernel.sumsq(g));
  const clip = cfg.clipNorm > 0 && norm > cfg.clipNorm ? cfg.clipNorm / norm : 1;
  simdStep++;
  const stepSize = lr / (1 - cfg.beta1 ** simdStep);
  const invBc2 = 1 / Math.sqrt(1 - cfg.beta2 ** simdStep);
  kernel.update(w, g, m, v, clip, cfg.beta1, cfg.beta2, stepSize, invBc2, cfg.eps, 1 - lr * cfg.weightDecay);
  return norm;
}

const jsMs: number[] = [];
const simdMs: number[] = [];
const simdNormMs: number[] = [];
const jsWarmupMs: number[] = []; // first calls: V8 has not tiered the JS loop / wasm code up yet
const simdWarmupMs: number[] = [];
for (let r = 0; r < warmup + reps; r++) {
  let t0 = performance.now();
  opt.update([gradJs], cfg.lr);
  const tJs = performance.now() - t0;
  t0 = performance.now();
  simdUpdate(cfg.lr);
  const tSimd = performance.now() - t0;
  t0 = performance.now();
  kernel.sumsq(g);
  const tNorm = performance.now() - t0;
  if (r >= warmup) {
    jsMs.push(tJs);
    simdMs.push(tSimd);
    simdNormMs.push(tNorm);
  } else {
    jsWarmupMs.push(tJs);
    simdWarmupMs.push(tSimd);
  }
}

// Sanity: both sides ran the same number of steps on the same data.
let maxDiff = 0;
let maxW = 0;
for (let i = 0; i < n; i++) {
  maxDiff = Math.max(maxDiff, Math.abs(w[i] - param.data[i]));
  maxW = Math.max(maxW, Math.abs(param.data[i]));
}

const result = {
  bench: 'adamw-simd',
  n,
  reps,
  warmup,
  node: process.version,
  arch: process.arch,
  js_update_median_ms: median(jsMs),
  simd_update_median_ms: median(simdMs),
  simd_sumsq_only_median_ms: median(simdNormMs),
  speedup_js_over_simd: median(jsMs) / median(simdMs),
  max_abs_w_diff: maxDiff,
  max_abs_w: maxW,
  js_warmup_ms: jsWarmupMs,
  simd_warmup_ms: simdWarmupMs,
  js_ms: jsMs,
  simd_ms: simdMs,
  command: 'npx tsx bench/adamw-kernel.ts',
};

console.log(`AdamW step over ${n} floats, ${reps} interleaved reps (+${warmup} warm-up), medians:`);
console.log(`  JS loop (AdamW.update, incl. global norm): ${result.js_update_median_ms.toFixed(3)} ms`);
console.log(`  wasm SIMD (sumsq + adamw):                 ${result.simd_update_median_ms.toFixed(3)} ms`);
console.log(`    of which sumsq alone:                    ${result.simd_sumsq_only_median_ms.toFixed(3)} ms`);
console.log(`  ratio JS / SIMD: ${result.speedup_js_over_simd.toFixed(2)}x`);
console.log(
  `  max |w_js - w_simd| after ${warmup + reps} steps: ${maxDiff.toExponential(2)} (max |w| ${maxW.toFixed(4)})`,
);

const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'out');
fs.mkdirSync(outDir, { recursive: true });
const outFile = path.join(outDir, 'adamw-simd.json');
fs.writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${outFile}`);

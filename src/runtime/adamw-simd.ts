/**
 * AdamW update as a WebAssembly SIMD kernel (128-bit, f32x4), hand-assembled here because there is no wasm
 * toolchain in the build: a tiny module builder writes the binary (type, import, function, export and code
 * sections) byte by byte. Node 20 enables wasm SIMD by default.
 *
 * The module imports its memory as `env.memory` (non-shared) and exports two functions:
 *
 *   adamw(w, g, m, v: i32 byte offsets, n: i32, gscale, beta1, beta2, oneMinusBeta1, oneMinusBeta2,
 *         stepSize, invBc2, eps, decayAmount: f32)
 *     for i in [0, n):
 *       gi   = g[i] * gscale
 *       m[i] = beta1 * m[i] + oneMinusBeta1 * gi
 *       v[i] = beta2 * v[i] + oneMinusBeta2 * gi * gi           (left to right: (oneMinusBeta2 * gi) * gi)
 *       w[i] = w[i] - (w[i] * decayAmount + stepSize * m[i] / (sqrt(v[i]) * invBc2 + eps))
 *     which is w * decay - stepSize * m / (...) with decayAmount = 1 - decay (= lr * weightDecay), arranged
 *     for f32 on purpose:
 *     - decay is passed as its small complement: decay itself (1 - 1e-6 for lr 1e-4, wd 0.01) rounded to f32
 *       is a multiple of 2^-24 below 1, which would change the effective weight decay by 1.3% at lr 1e-4 and
 *       by up to 2x during warmup (lr * wd < 6e-8); decayAmount in f32 keeps ~7 significant digits.
 *       `SimdAdamWKernel.update` still takes `decay` and computes 1 - decay in float64.
 *     - the two small terms are added first so w is rounded once per step, like the JS loop (rounding after
 *       the decay and again after the update drifts by ~1 ulp per step when gradients repeat).
 *     f32x4 main loop over floor(n / 4) groups, then a scalar loop over the n % 4 tail. Only the n elements
 *     of each array are read or written. The four offsets must be 16-byte aligned (the arena guarantees it).
 *
 *   sumsq(g: i32 byte offset, n: i32) -> f64
 *     sum of g[i]^2. Each f32 is promoted to f64 before squaring (so every product is exact) and the
 *     products are summed in f64: four f64 partial sums (two f64x2 accumulators) over the groups of four,
 *     then the partials and the scalar tail are added in f64. Precision is that of a float64 sum, like
 *     `globalNorm` in optim.ts; only the summation order differs (relative difference ~1e-16 * sqrt(n)).
 *
 * Precision of `adamw`: every operation is an f32 operation (the scalars arrive rounded to f32, the
 * arithmetic is IEEE f32 with no fused multiply-add), so the results are bit-identical to the same formula
 * (in the operation order written above) evaluated in JS with Math.fround after every operation. The JS
 * loop in optim.ts (`AdamW.update`) does the arithmetic in float64 and only rounds when storing to the
 * Float32Arrays, so it differs from this kernel by float32 rounding of the intermediates: a few f32 ulp of
 * the update term (~1e-7 relative to it, far below the ulp of the weights), and m and v by ~1 ulp; w
 * itself then comes out equal or 1 ulp apart after a step (measured: 1.5 M weights with max |w| 0.1, 35
 * steps with the same gradient every step: max |w_js - w_simd| = 1.5e-8, i.e. 2 f32 ulp of a weight near
 * 0.063). The scalars are rounded to f32 (beta2 = 0.999 becomes 0.99900001; 1 - beta is passed separately,
 * so beta + (1 - beta) is 1 + ~1e-8).
 *
 * Memory: `WasmArena` owns one `WebAssembly.Memory` sized once, up front, and never grows it (growing would
 * detach every Float32Array view handed out). Parameters, gradients and the two moment buffers must live in
 * the arena; the kernel checks `view.buffer === arena.memory.buffer` and 16-byte alignment on every call.
 *
 * V8 compiles wasm with its baseline compiler first and tiers hot functions up to the optimising compiler
 * for later calls, so the first few calls on large arrays are slower than the steady state.
 */

// ---------------------------------------------------------------------------------------------------------
// Binary encoding helpers

/** Unsigned LEB128. */
function u32leb(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`u32leb: bad value ${n}`);
  const out: number[] = [];
  let x = n;
  do {
    let byte = x & 0x7f;
    x = Math.floor(x / 128);
    if (x !== 0) byte |= 0x80;
    out.push(byte);
  } while (x !== 0);
  return out;
}

/** Signed LEB128 for i32 constants. */
function i32leb(n: number): number[] {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new Error(`i32leb: bad value ${n}`);
  const out: number[] = [];
  let x = n | 0;
  for (;;) {
    const byte = x & 0x7f;
    x >>= 7;
    const done = (x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...u32leb(bytes.length), ...bytes];
}

function vec(items: number[][]): number[] {
  return [...u32leb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...u32leb(body.length), ...body];
}

// Value types.
const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;

/**
 * Opcodes used by the kernel. Core: control 0x02-0x0d, locals 0x20-0x22, memory 0x2a/0x38, numeric 0x41-0xbb.
 * SIMD: prefix 0xfd then a LEB128 u32 sub-opcode (all below are < 0x80 or encoded with u32leb).
 */
const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  br_if: 0x0d,
  end: 0x0b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  f32_load: 0x2a,
  f32_store: 0x38,
  i32_const: 0x41,
  f64_const: 0x44,
  i32_eqz: 0x45,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_and: 0x71,
  i32_shr_u: 0x76,
  f32_sqrt: 0x91,
  f32_add: 0x92,
  f32_sub: 0x93,
  f32_mul: 0x94,
  f32_div: 0x95,
  f64_add: 0xa0,
  f64_mul: 0xa2,
  f64_promote_f32: 0xbb,
} as const;

/** SIMD sub-opcodes (after the 0xfd prefix), from the WebAssembly SIMD proposal / spec 2.0. */
const SIMD = {
  v128_load: 0x00, // memarg
  v128_store: 0x0b, // memarg
  i8x16_shuffle: 0x0d, // 16 lane-index immediates
  f32x4_splat: 0x13,
  f64x2_splat: 0x14,
  f64x2_extract_lane: 0x21, // lane immediate
  f64x2_promote_low_f32x4: 0x5f,
  f32x4_sqrt: 0xe3,
  f32x4_add: 0xe4,
  f32x4_sub: 0xe5,
  f32x4_mul: 0xe6,
  f32x4_div: 0xe7,
  f64x2_add: 0xf0,
  f64x2_mul: 0xf2,
} as const;

/** Small instruction emitter. */
class Code {
  readonly bytes: number[] = [];
  op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  get(i: number): this {
    return this.op(OP.local_get, ...u32leb(i));
  }
  set(i: number): this {
    return this.op(OP.local_set, ...u32leb(i));
  }
  tee(i: number): this {
    return this.op(OP.local_tee, ...u32leb(i));
  }
  i32(n: number): this {
    return this.op(OP.i32_const, ...i32leb(n));
  }
  f64(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, true);
    return this.op(OP.f64_const, ...b);
  }
  simd(sub: number, ...imm: number[]): this {
    return this.op(0xfd, ...u32leb(sub), ...imm);
  }
  /** memarg: alignment exponent, then offset. */
  v128load(): this {
    return this.simd(SIMD.v128_load, 4, 0);
  }
  v128store(): this {
    return this.simd(SIMD.v128_store, 4, 0);
  }
  f32load(): this {
    return this.op(OP.f32_load, 2, 0);
  }
  f32store(): this {
    return this.op(OP.f32_store, 2, 0);
  }
  /** local[i] += delta (i32). */
  addTo(i: number, delta: number): this {
    return this.get(i).i32(delta).op(OP.i32_add).set(i);
  }
}

interface FuncDef {
  name: string;
  params: number[];
  results: number[];
  /** Extra locals, one value type each, numbered after the params. */
  locals: number[];
  body: Code;
}

function encodeLocals(locals: number[]): number[] {
  // Run-length groups of equal types.
  const groups: number[][] = [];
  for (let i = 0; i < locals.length;) {
    let j = i;
    while (j < locals.length && locals[j] === locals[i]) j++;
    groups.push([...u32leb(j - i), locals[i]]);
    i = j;
  }
  return vec(groups);
}

function buildModule(funcs: FuncDef[]): Uint8Array<ArrayBuffer> {
  const types = section(
    1,
    vec(funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))])),
  );
  // import "env" "memory" (memory, limits flag 0x00 = min only, not shared, min 0 pages).
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...u32leb(0)]]));
  const functions = section(3, vec(funcs.map((_, i) => u32leb(i))));
  const exports = section(7, vec(funcs.map((f, i) => [...name(f.name), 0x00, ...u32leb(i)])));
  const code = section(
    10,
    vec(
      funcs.map((f) => {
        const body = [...encodeLocals(f.locals), ...f.body.bytes, OP.end];
        return [...u32leb(body.length), ...body];
      }),
    ),
  );
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  return new Uint8Array([...header, ...types, ...imports, ...functions, ...exports, ...code]);
}

// ---------------------------------------------------------------------------------------------------------
// The two kernels

function adamwFunc(): FuncDef {
  // Params.
  const W = 0;
  const G = 1;
  const M = 2;
  const V = 3;
  const N = 4;
  const GS = 5;
  const B1 = 6;
  const B2 = 7;
  const OB1 = 8;
  const OB2 = 9;
  const SS = 10;
  const IBC = 11;
  const EPS = 12;
  const DEC = 13; // decayAmount = 1 - decay
  // Locals.
  const CNT = 14; // i32 loop counter
  const vGS = 15; // v128 splats of the scalars
  const vB1 = 16;
  const vB2 = 17;
  const vOB1 = 18;
  const vOB2 = 19;
  const vSS = 20;
  const vIBC = 21;
  const vEPS = 22;
  const vDEC = 23;
  const vG = 24; // v128 per-group values
  const vM = 25;
  const vV = 26;
  const sG = 27; // f32 tail values
  const sM = 28;
  const sV = 29;

  const c = new Code();
  const splats: [number, number][] = [
    [GS, vGS],
    [B1, vB1],
    [B2, vB2],
    [OB1, vOB1],
    [OB2, vOB2],
    [SS, vSS],
    [IBC, vIBC],
    [EPS, vEPS],
    [DEC, vDEC],
  ];
  for (const [s, v] of splats) c.get(s).simd(SIMD.f32x4_splat).set(v);

  // CNT = n >>> 2 groups of four.
  c.get(N).i32(2).op(OP.i32_shr_u).set(CNT);
  c.op(OP.block, 0x40).op(OP.loop, 0x40);
  c.get(CNT).op(OP.i32_eqz).op(OP.br_if, 1);
  // gi = g * gscale
  c.get(G).v128load().get(vGS).simd(SIMD.f32x4_mul).set(vG);
  // m = beta1 * m + oneMinusBeta1 * gi ; store
  c.get(M);
  c.get(vB1).get(M).v128load().simd(SIMD.f32x4_mul);
  c.get(vOB1).get(vG).simd(SIMD.f32x4_mul);
  c.simd(SIMD.f32x4_add).tee(vM).v128store();
  // v = beta2 * v + (oneMinusBeta2 * gi) * gi ; store
  c.get(V);
  c.get(vB2).get(V).v128load().simd(SIMD.f32x4_mul);
  c.get(vOB2).get(vG).simd(SIMD.f32x4_mul).get(vG).simd(SIMD.f32x4_mul);
  c.simd(SIMD.f32x4_add).tee(vV).v128store();
  // w = w - (w * decayAmount + (stepSize * m) / (sqrt(v) * invBc2 + eps)) ; store
  c.get(W);
  c.get(W).v128load().tee(vG).get(vG).get(vDEC).simd(SIMD.f32x4_mul);
  c.get(vSS).get(vM).simd(SIMD.f32x4_mul);
  c.get(vV).simd(SIMD.f32x4_sqrt).get(vIBC).simd(SIMD.f32x4_mul).get(vEPS).simd(SIMD.f32x4_add);
  c.simd(SIMD.f32x4_div).simd(SIMD.f32x4_add).simd(SIMD.f32x4_sub).v128store();
  // advance
  c.addTo(W, 16).addTo(G, 16).addTo(M, 16).addTo(V, 16).addTo(CNT, -1);
  c.op(OP.br, 0).op(OP.end).op(OP.end);

  // Scalar tail: CNT = n & 3.
  c.get(N).i32(3).op(OP.i32_and).set(CNT);
  c.op(OP.block, 0x40).op(OP.loop, 0x40);
  c.get(CNT).op(OP.i32_eqz).op(OP.br_if, 1);
  c.get(G).f32load().get(GS).op(OP.f32_mul).set(sG);
  c.get(M);
  c.get(B1).get(M).f32load().op(OP.f32_mul);
  c.get(OB1).get(sG).op(OP.f32_mul);
  c.op(OP.f32_add).tee(sM).f32store();
  c.get(V);
  c.get(B2).get(V).f32load().op(OP.f32_mul);
  c.get(OB2).get(sG).op(OP.f32_mul).get(sG).op(OP.f32_mul);
  c.op(OP.f32_add).tee(sV).f32store();
  c.get(W);
  c.get(W).f32load().tee(sG).get(sG).get(DEC).op(OP.f32_mul);
  c.get(SS).get(sM).op(OP.f32_mul);
  c.get(sV).op(OP.f32_sqrt).get(IBC).op(OP.f32_mul).get(EPS).op(OP.f32_add);
  c.op(OP.f32_div).op(OP.f32_add).op(OP.f32_sub).f32store();
  c.addTo(W, 4).addTo(G, 4).addTo(M, 4).addTo(V, 4).addTo(CNT, -1);
  c.op(OP.br, 0).op(OP.end).op(OP.end);

  return {
    name: 'adamw',
    params: [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, F32],
    results: [],
    locals: [I32, ...Array<number>(12).fill(V128), F32, F32, F32],
    body: c,
  };
}

function sumsqFunc(): FuncDef {
  const G = 0;
  const N = 1;
  const CNT = 2; // i32
  const ACC0 = 3; // v128: f64x2 sums of lanes 0, 1
  const ACC1 = 4; // v128: f64x2 sums of lanes 2, 3
  const X = 5; // v128: the loaded f32x4
  const P = 6; // v128: promoted pair
  const S = 7; // f64 total
  const c = new Code();
  c.f64(0).simd(SIMD.f64x2_splat).tee(ACC0).set(ACC1);
  c.get(N).i32(2).op(OP.i32_shr_u).set(CNT);
  c.op(OP.block, 0x40).op(OP.loop, 0x40);
  c.get(CNT).op(OP.i32_eqz).op(OP.br_if, 1);
  c.get(G).v128load().tee(X);
  c.simd(SIMD.f64x2_promote_low_f32x4).tee(P).get(P).simd(SIMD.f64x2_mul);
  c.get(ACC0).simd(SIMD.f64x2_add).set(ACC0);
  // Move f32 lanes 2, 3 (bytes 8..15) down to lanes 0, 1, then promote.
  const hi = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  c.get(X)
    .get(X)
    .simd(SIMD.i8x16_shuffle, ...hi);
  c.simd(SIMD.f64x2_promote_low_f32x4).tee(P).get(P).simd(SIMD.f64x2_mul);
  c.get(ACC1).simd(SIMD.f64x2_add).set(ACC1);
  c.addTo(G, 16).addTo(CNT, -1);
  c.op(OP.br, 0).op(OP.end).op(OP.end);
  // S = (acc0[0] + acc0[1]) + (acc1[0] + acc1[1])
  c.get(ACC0).simd(SIMD.f64x2_extract_lane, 0).get(ACC0).simd(SIMD.f64x2_extract_lane, 1).op(OP.f64_add);
  c.get(ACC1).simd(SIMD.f64x2_extract_lane, 0).get(ACC1).simd(SIMD.f64x2_extract_lane, 1).op(OP.f64_add);
  c.op(OP.f64_add).set(S);
  // Tail.
  c.get(N).i32(3).op(OP.i32_and).set(CNT);
  c.op(OP.block, 0x40).op(OP.loop, 0x40);
  c.get(CNT).op(OP.i32_eqz).op(OP.br_if, 1);
  c.get(G)
    .f32load()
    .op(OP.f64_promote_f32)
    .tee(S + 1)
    .get(S + 1)
    .op(OP.f64_mul);
  c.get(S).op(OP.f64_add).set(S);
  c.addTo(G, 4).addTo(CNT, -1);
  c.op(OP.br, 0).op(OP.end).op(OP.end);
  c.get(S);
  return {
    name: 'sumsq',
    params: [I32, I32],
    results: [F64],
    locals: [I32, V128, V128, V128, V128, F64, F64],
    body: c,
  };
}

let cachedBytes: Uint8Array<ArrayBuffer> | null = null;
let cachedModule: Promise<WebAssembly.Module> | null = null;

/** The wasm binary of the kernel module (built once). */
export function adamwWasmBytes(): Uint8Array<ArrayBuffer> {
  cachedBytes ??= buildModule([adamwFunc(), sumsqFunc()]);
  return cachedBytes;
}

function compiledModule(): Promise<WebAssembly.Module> {
  if (!cachedModule) {
    const bytes = adamwWasmBytes();
    if (!WebAssembly.validate(bytes)) {
      throw new Error('adamw-simd: the kernel module does not validate (WebAssembly SIMD unsupported?)');
    }
    cachedModule = WebAssembly.compile(bytes);
  }
  return cachedModule;
}

// ---------------------------------------------------------------------------------------------------------
// Arena and kernel wrapper

const PAGE = 65536;
const ALIGN = 16;
const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit

/**
 * One fixed-size `WebAssembly.Memory` and a bump allocator over it. Sized once at creation and never grown:
 * growing a memory detaches every view on its old buffer. Nothing in this class grows it; do not call
 * `memory.grow` yourself. New memory is zero-filled and space is never reused, so `alloc` returns zeros.
 */
export class WasmArena {
  private offset = 0; // next free byte

  private constructor(readonly memory: WebAssembly.Memory) {}

  /**
   * An arena holding at least `totalFloats` floats. Each allocation is rounded up to a multiple of four
   * floats (16 bytes), so pass the sum of the rounded sizes: `WasmArena.floatsFor(lengths)`.
   */
  static create(totalFloats: number): WasmArena {
    if (!Number.isInteger(totalFloats) || totalFloats < 0) {
      throw new Error(`WasmArena.create: totalFloats must be a non-negative integer, got ${totalFloats}`);
    }
    const pages = Math.max(1, Math.ceil((totalFloats * 4) / PAGE));
    if (pages > MAX_PAGES) {
      throw new Error(
        `WasmArena.create: ${totalFloats} floats need ${pages} pages, over the 4 GiB wasm32 limit`,
      );
    }
    return new WasmArena(new WebAssembly.Memory({ initial: pages, maximum: pages }));
  }

  /** Floats an arena needs for allocations of these lengths (each rounded up to a multiple of 4). */
  static floatsFor(lengths: Iterable<number>): number {
    let total = 0;
    for (const n of lengths) total += Math.ceil(n / 4) * 4;
    return total;
  }

  /** Capacity in bytes (whole pages). */
  get capacityBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes handed out so far, including alignment padding. */
  get usedBytes(): number {
    return this.offset;
  }

  /** A zero-filled Float32Array of `n` floats starting on a 16-byte boundary. Throws when out of space. */
  alloc(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new Error(`WasmArena.alloc: bad length ${n}`);
    const start = this.offset;
    const end = start + Math.ceil((n * 4) / ALIGN) * ALIGN;
    if (end > this.capacityBytes) {
      throw new Error(
        `WasmArena.alloc: out of space: ${n} floats (${n * 4} bytes) requested, ` +
          `${this.capacityBytes - start} of ${this.capacityBytes} bytes left`,
      );
    }
    this.offset = end;
    return new Float32Array(this.memory.buffer, start, n);
  }
}

interface KernelExports {
  adamw(
    w: number,
    g: number,
    m: number,
    v: number,
    n: number,
    gscale: number,
    beta1: number,
    beta2: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    stepSize: number,
    invBc2: number,
    eps: number,
    decay: number,
  ): void;
  sumsq(g: number, n: number): number;
}

/** The SIMD AdamW kernel bound to one arena. All arrays passed in must be views into that arena. */
export class SimdAdamWKernel {
  private constructor(
    readonly arena: WasmArena,
    private readonly fns: KernelExports,
  ) {}

  static async create(arena: WasmArena): Promise<SimdAdamWKernel> {
    const instance = await WebAssembly.instantiate(await compiledModule(), { env: { memory: arena.memory } });
    return new SimdAdamWKernel(arena, instance.exports as unknown as KernelExports);
  }

  private check(label: string, a: Float32Array): void {
    if (!(a instanceof Float32Array)) throw new Error(`SimdAdamWKernel: ${label} is not a Float32Array`);
    if (a.buffer !== this.arena.memory.buffer) {
      throw new Error(
        `SimdAdamWKernel: ${label} is not a view into this kernel's WasmArena memory ` +
          '(allocate it with arena.alloc)',
      );
    }
    if (a.byteOffset % ALIGN !== 0) {
      throw new Error(`SimdAdamWKernel: ${label} starts at byte ${a.byteOffset}, not 16-byte aligned`);
    }
  }

  /**
   * One AdamW update in place on `w`, `m`, `v` from gradient `g` (all the same length):
   *   gi = g*gscale; m = beta1*m + (1-beta1)*gi; v = beta2*v + (1-beta2)*gi*gi;
   *   w = w*decay - stepSize*m / (sqrt(v)*invBc2 + eps)
   * in f32 arithmetic (see the file header). Scalars are rounded to f32 on the way in; 1 - beta1, 1 - beta2
   * and 1 - decay are computed in float64 first (w*decay is evaluated as w - w*(1 - decay)), so pass `decay`
   * as computed in float64 (1 - lr * weightDecay), as in optim.ts.
   */
  update(
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    gscale: number,
    beta1: number,
    beta2: number,
    stepSize: number,
    invBc2: number,
    eps: number,
    decay: number,
  ): void {
    this.check('w', w);
    this.check('g', g);
    this.check('m', m);
    this.check('v', v);
    const n = w.length;
    if (g.length !== n || m.length !== n || v.length !== n) {
      throw new Error(
        `SimdAdamWKernel.update: length mismatch: w ${n}, g ${g.length}, m ${m.length}, v ${v.length}`,
      );
    }
    this.fns.adamw(
      w.byteOffset,
      g.byteOffset,
      m.byteOffset,
      v.byteOffset,
      n,
      gscale,
      beta1,
      beta2,
      1 - beta1,
      1 - beta2,
      stepSize,
      invBc2,
      eps,
      1 - decay,
    );
  }

  /** Sum of squares of `g`, accumulated in float64 (see the file header). */
  sumsq(g: Float32Array): number {
    this.check('g', g);
    return this.fns.sumsq(g.byteOffset, g.length);
  }
}

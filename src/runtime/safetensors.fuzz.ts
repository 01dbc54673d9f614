/**
 * Fuzz targets for the safetensors decoder (safetensors.ts); run by safetensors.fuzz.test.ts and
 * bench/fuzz.ts.
 *
 * Inputs: random bytes; random JSON headers behind a correct length prefix; valid files from
 * encodeSafetensors (random names, every dtype, shapes with zeros, metadata) that must round-trip
 * exactly; and valid files with a mutated header (wrong dtypes, shapes, offsets that overlap, leave gaps
 * or run past the data; negative, huge and fractional numbers; missing and extra fields), a corrupted
 * length prefix, and truncated or extended data. Checked: success or a one-line UserError starting with
 * the file name, and every decoded tensor is exactly the bytes its header entry names, of the size its
 * dtype and shape need, the tensors covering the data buffer exactly.
 */
import fc from 'fast-check';
import {
  anyText,
  check,
  expectUserErrorOrSuccess,
  fuzzTarget,
  ODD_CHARS,
  type SomeFuzzTarget,
  textOver,
} from '../util/fuzzing.js';
import { decodeSafetensors, encodeSafetensors, type SafeDType, type SafeTensor } from './safetensors.js';

const FILE = 'fuzz.safetensors';
const RULES = { prefix: FILE };

const DTYPES: Record<SafeDType, { bytes: number; make: (b: ArrayBuffer) => SafeTensor['data'] }> = {
  F64: { bytes: 8, make: (b) => new Float64Array(b) },
  F32: { bytes: 4, make: (b) => new Float32Array(b) },
  F16: { bytes: 2, make: (b) => new Uint16Array(b) },
  BF16: { bytes: 2, make: (b) => new Uint16Array(b) },
  I64: { bytes: 8, make: (b) => new BigInt64Array(b) },
  I32: { bytes: 4, make: (b) => new Int32Array(b) },
  I16: { bytes: 2, make: (b) => new Int16Array(b) },
  I8: { bytes: 1, make: (b) => new Int8Array(b) },
  U8: { bytes: 1, make: (b) => new Uint8Array(b) },
  U16: { bytes: 2, make: (b) => new Uint16Array(b) },
  U32: { bytes: 4, make: (b) => new Uint32Array(b) },
  BOOL: { bytes: 1, make: (b) => new Uint8Array(b) },
};
const DTYPE_NAMES = Object.keys(DTYPES) as SafeDType[];

const tensorName = fc
  .oneof(
    fc.constantFrom(
      'w',
      'a.b.weight',
      '0',
      '10',
      '__proto__',
      'constructor',
      '',
      ' ',
      '\ud800',
      '__metadata',
    ),
    anyText(12),
  )
  .filter((n) => n !== '__metadata__');

interface NamedTensor {
  name: string;
  tensor: SafeTensor;
}

const tensorArb: fc.Arbitrary<NamedTensor> = fc
  .record({
    name: tensorName,
    dtype: fc.constantFrom(...DTYPE_NAMES),
    shape: fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 4 }) }, fc.constant(0)), {
      maxLength: 3,
    }),
  })
  .chain(({ name, dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1) * DTYPES[dtype].bytes;
    return fc.uint8Array({ minLength: n, maxLength: n }).map((bytes) => ({
      name,
      tensor: { dtype, shape, data: DTYPES[dtype].make(bytes.slice().buffer) },
    }));
  });

const fileArb = fc.record({
  tensors: fc.uniqueArray(tensorArb, { selector: (t) => t.name, maxLength: 5 }),
  metadata: fc.option(fc.dictionary(anyText(8), anyText(12), { maxKeys: 3 }), { nil: undefined }),
});

function byteView(a: SafeTensor['data']): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/** Independent reading of a file that decoded: its header object and where its data starts. */
function rawHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  return { header: JSON.parse(text) as Record<string, unknown>, dataStart: 8 + n };
}

/** Decode; on success check every tensor against the header entry that names it. */
function checkDecode(bytes: Uint8Array): void {
  const out = expectUserErrorOrSuccess(() => decodeSafetensors(bytes, FILE), RULES);
  if (!out.ok) return;
  const { header, dataStart } = rawHeader(bytes);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  check(out.value.tensors.size === names.length, 'tensor count differs from the header');
  let total = 0;
  for (const name of names) {
    const t = out.value.tensors.get(name);
    check(t !== undefined, () => `tensor ${JSON.stringify(name)} missing`);
    const info = header[name] as { dtype: SafeDType; shape: number[]; data_offsets: [number, number] };
    check(t.dtype === info.dtype, () => `${JSON.stringify(name)}: dtype ${t.dtype} != ${info.dtype}`);
    check(
      JSON.stringify(t.shape) === JSON.stringify(info.shape),
      () => `${JSON.stringify(name)}: shape differs`,
    );
    const count = info.shape.reduce((a, b) => a * b, 1);
    check(
      t.data.length === count,
      () => `${JSON.stringify(name)}: ${t.data.length} elements, shape says ${count}`,
    );
    check(t.data.byteLength === count * DTYPES[t.dtype].bytes, 'byte length does not match dtype and shape');
    check(t.data.byteOffset % t.data.BYTES_PER_ELEMENT === 0, 'unaligned tensor data');
    const [begin, end] = info.data_offsets;
    check(
      sameBytes(byteView(t.data), bytes.subarray(dataStart + begin, dataStart + end)),
      () => `${JSON.stringify(name)}: data is not the bytes its data_offsets name`,
    );
    total += end - begin;
  }
  check(total === bytes.byteLength - dataStart, 'tensors do not cover the data buffer exactly');
  const meta = header.__metadata__ ?? {};
  check(JSON.stringify(out.value.metadata) === JSON.stringify(meta), 'metadata differs from the header');
}

/** Build a file from a header object and a data buffer, padding the header with spaces to 8 bytes. */
function assemble(header: string, data: Uint8Array, prefix?: bigint): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const n = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + n + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, prefix ?? BigInt(n), true);
  out.fill(0x20, 8, 8 + n);
  out.set(json, 8);
  out.set(data, 8 + n);
  return out;
}

/** Numbers and values a header field should never accept (and a few it should). */
const nastyValue = fc.oneof(
  fc.constantFrom<unknown>(
    -1,
    -0,
    0,
    1,
    1.5,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 64,
    1e308,
    -1e308,
    'F32',
    'f32',
    'BOOL',
    'F8',
    '',
    null,
    true,
    {},
    [],
    [0],
    [0, 0],
    [0, 1],
    [1, 0],
    [-1, 4],
    [0, 2 ** 53],
    [0, 1, 2],
    [0.5, 1],
    ['0', '4'],
    [2 ** 53, 2 ** 53],
    [1e21, 1e21],
    [2 ** 40, 2 ** 40, 0],
    [2 ** 27, 2 ** 27, 2 ** 27],
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

type Mutation =
  | { op: 'set'; tensor: number; field: string; value: unknown }
  | { op: 'delete-field'; tensor: number; field: string }
  | { op: 'shift'; tensor: number; which: 0 | 1; delta: number }
  | { op: 'copy-offsets'; tensor: number; from: number }
  | { op: 'drop-tensor'; tensor: number }
  | { op: 'add-tensor'; name: string; value: unknown }
  | { op: 'metadata'; value: unknown };

const fieldName = fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra', 'Dtype', '__proto__');
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), tensor: fc.nat(), field: fieldName, value: nastyValue }),
  fc.record({ op: fc.constant('delete-field' as const), tensor: fc.nat(), field: fieldName }),
  fc.record({
    op: fc.constant('shift' as const),
    tensor: fc.nat(),
    which: fc.constantFrom(0 as const, 1 as const),
    delta: fc.integer({ min: -9, max: 9 }),
  }),
  fc.record({ op: fc.constant('copy-offsets' as const), tensor: fc.nat(), from: fc.nat() }),
  fc.record({ op: fc.constant('drop-tensor' as const), tensor: fc.nat() }),
  fc.record({
    op: fc.constant('add-tensor' as const),
    name: tensorName,
    value: fc.oneof(
      nastyValue,
      fc.record({ dtype: fc.constantFrom(...DTYPE_NAMES), shape: nastyValue, data_offsets: nastyValue }),
    ),
  }),
  fc.record({ op: fc.constant('metadata' as const), value: nastyValue }),
);

function mutate(header: Record<string, unknown>, m: Mutation): void {
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const pick = (i: number): Record<string, unknown> | undefined => {
    const t: unknown = names.length === 0 ? undefined : header[names[i % names.length]];
    return typeof t === 'object' && t !== null && !Array.isArray(t)
      ? (t as Record<string, unknown>)
      : undefined;
  };
  switch (m.op) {
    case 'set': {
      const t = pick(m.tensor);
      if (t)
        Object.defineProperty(t, m.field, {
          value: m.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      break;
    }
    case 'delete-field': {
      const t = pick(m.tensor);
      if (t) delete t[m.field];
      break;
    }
    case 'shift': {
      const o = pick(m.tensor)?.data_offsets;
      if (Array.isArray(o) && typeof o[m.which] === 'number') o[m.which] = (o[m.which] as number) + m.delta;
      break;
    }
    case 'copy-offsets': {
      const t = pick(m.tensor);
      const f = pick(m.from);
      if (t && f) t.data_offsets = structuredClone(f.data_offsets);
      break;
    }
    case 'drop-tensor':
      if (names.length > 0) delete header[names[m.tensor % names.length]];
      break;
    case 'add-tensor':
      Object.defineProperty(header, m.name, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      break;
    case 'metadata':
      header.__metadata__ = m.value as Record<string, unknown>;
      break;
  }
}

type Framing =
  | { op: 'keep' }
  | { op: 'prefix'; value: bigint }
  | { op: 'prefix-delta'; delta: number }
  | { op: 'truncate'; bytes: number }
  | { op: 'append'; bytes: Uint8Array }
  | { op: 'flip'; at: number; bits: number };

const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ op: 'keep' as const }) },
  fc.record({ op: fc.constant('prefix' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({ op: fc.constant('prefix-delta' as const), delta: fc.integer({ min: -16, max: 16 }) }),
  fc.record({ op: fc.constant('truncate' as const), bytes: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
);

function frame(bytes: Uint8Array, f: Framing): Uint8Array {
  switch (f.op) {
    case 'keep':
      return bytes;
    case 'prefix':
    case 'prefix-delta': {
      const out = bytes.slice();
      const view = new DataView(out.buffer);
      const n = f.op === 'prefix' ? f.value : view.getBigUint64(0, true) + BigInt(f.delta);
      view.setBigUint64(0, BigInt.asUintN(64, n), true);
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, Math.max(0, bytes.byteLength - f.bytes));
    case 'append': {
      const out = new Uint8Array(bytes.byteLength + f.bytes.byteLength);
      out.set(bytes);
      out.set(f.bytes, bytes.byteLength);
      return out;
    }
    case 'flip': {
      const out = bytes.slice();
      if (out.byteLength > 0) out[f.at % out.byteLength] ^= f.bits;
      return out;
    }
  }
}

/** A valid file with its header mutated and its framing corrupted. */
export function mutatedFile(input: {
  file: { tensors: NamedTensor[]; metadata?: Record<string, string> };
  mutations: Mutation[];
  framing: Framing;
}): Uint8Array {
  const valid = encodeSafetensors(toMap(input.file.tensors), input.file.metadata);
  const { header, dataStart } = rawHeader(valid);
  for (const m of input.mutations) mutate(header, m);
  return frame(assemble(JSON.stringify(header), valid.subarray(dataStart)), input.framing);
}

function toMap(tensors: NamedTensor[]): Map<string, SafeTensor> {
  return new Map(tensors.map((t) => [t.name, t.tensor]));
}

export const SAFETENSORS_FUZZ: SomeFuzzTarget[] = [
  fuzzTarget({
    name: 'safetensors: random bytes',
    arbitrary: fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      // A plausible length prefix in front of random bytes.
      fc
        .tuple(fc.nat(64), fc.uint8Array({ maxLength: 200 }))
        .map(([n, rest]) => assemble('', rest, BigInt(n))),
    ),
    predicate: checkDecode,
  }),
  fuzzTarget({
    name: 'safetensors: arbitrary JSON header',
    arbitrary: fc.record({
      header: fc.oneof(
        fc.json({ maxDepth: 3 }),
        textOver(
          ['{', '}', '[', ']', '"', ':', ',', '0', '1', '-', 'e', '.', ' ', 'F32', 'dtype', ...ODD_CHARS],
          60,
        ),
      ),
      data: fc.uint8Array({ maxLength: 64 }),
    }),
    predicate: ({ header, data }) => checkDecode(assemble(header, data)),
  }),
  fuzzTarget({
    name: 'safetensors: valid files round-trip exactly',
    arbitrary: fileArb,
    predicate: ({ tensors, metadata }) => {
      const bytes = encodeSafetensors(toMap(tensors), metadata);
      const out = expectUserErrorOrSuccess(() => decodeSafetensors(bytes, FILE), RULES);
      check(out.ok, () => `a file from encodeSafetensors did not decode: ${out.ok || out.error.message}`);
      const got = out.value;
      check(got.tensors.size === tensors.length, 'tensor count changed');
      for (const { name, tensor } of tensors) {
        const t = got.tensors.get(name);
        check(t !== undefined, () => `tensor ${JSON.stringify(name)} lost`);
        check(t.dtype === tensor.dtype, 'dtype changed');
        check(JSON.stringify(t.shape) === JSON.stringify(tensor.shape), 'shape changed');
        check(t.data.constructor === tensor.data.constructor, 'array type changed');
        check(
          sameBytes(byteView(t.data), byteView(tensor.data)),
          () => `${JSON.stringify(name)}: data changed`,
        );
      }
      const meta = Object.entries(metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const back = Object.entries(got.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      check(JSON.stringify(meta) === JSON.stringify(back), 'metadata changed');
      check(sameBytes(encodeSafetensors(got.tensors, got.metadata), bytes), 're-encoding gives other bytes');
    },
  }),
  fuzzTarget({
    name: 'safetensors: mutated headers and framing',
    arbitrary: fc.record({
      file: fileArb,
      mutations: fc.array(mutationArb, { maxLength: 3 }),
      framing: framingArb,
    }),
    predicate: (input) => checkDecode(mutatedFile(input)),
  }),
];

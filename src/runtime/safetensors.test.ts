/** Tests for safetensors encode/decode: round trips, exact bytes, alignment and every corruption case. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { readSafetensors, writeSafetensors } from './safetensors-file.js';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors.js';

/** One tensor of every dtype, plus an empty tensor and a scalar. */
function allDTypes(): Map<string, SafeTensor> {
  return new Map<string, SafeTensor>([
    ['f64', { dtype: 'F64', shape: [3], data: new Float64Array([1.5, -0, Number.NaN]) }],
    [
      'f32',
      { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, -2.5, 3e30, Number.POSITIVE_INFINITY]) },
    ],
    ['f16', { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xfbff]) }],
    ['bf16', { dtype: 'BF16', shape: [3], data: new Uint16Array([0x3f80, 0xc000, 0x7fc0]) }],
    ['i64', { dtype: 'I64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]) }],
    ['i32', { dtype: 'I32', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) }],
    ['i16', { dtype: 'I16', shape: [2], data: new Int16Array([-32768, 32767]) }],
    ['i8', { dtype: 'I8', shape: [3], data: new Int8Array([-128, 0, 127]) }],
    ['u8', { dtype: 'U8', shape: [1, 3], data: new Uint8Array([0, 128, 255]) }],
    ['u16', { dtype: 'U16', shape: [1], data: new Uint16Array([65535]) }],
    ['u32', { dtype: 'U32', shape: [2], data: new Uint32Array([0, 4294967295]) }],
    ['bool', { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) }],
    ['empty', { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) }],
    ['scalar', { dtype: 'F64', shape: [], data: new Float64Array([Math.PI]) }],
  ]);
}

function assertSameTensors(actual: Map<string, SafeTensor>, expected: Map<string, SafeTensor>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [name, want] of expected) {
    const got = actual.get(name)!;
    assert.equal(got.dtype, want.dtype, name);
    assert.deepEqual(got.shape, want.shape, name);
    assert.equal(got.data.constructor, want.data.constructor, name);
    assert.deepEqual(got.data, want.data, name);
    assert.equal(got.data.byteOffset % got.data.BYTES_PER_ELEMENT, 0, `${name} aligned`);
  }
}

/** Assemble a file by hand: u64 header length, header text padded to 8 with spaces, data. */
function assemble(header: string, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const n = pad ? Math.ceil(json.byteLength / 8) * 8 : json.byteLength;
  const out = new Uint8Array(8 + n + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.fill(0x20, 8, 8 + n);
  out.set(json, 8);
  out.set(data, 8 + n);
  return out;
}

function assertBad(bytes: Uint8Array, message: RegExp): void {
  assert.throws(
    () => decodeSafetensors(bytes, 'bad.safetensors'),
    (err: unknown) => {
      assert.ok(err instanceof UserError, `expected UserError, got ${String(err)}`);
      assert.match(err.message, /^bad\.safetensors: /);
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /[\r\n]/);
      return true;
    },
  );
}

describe('safetensors round trip', () => {
  test('every dtype, an empty tensor and a scalar survive encode/decode', () => {
    const tensors = allDTypes();
    const file = decodeSafetensors(encodeSafetensors(tensors));
    assertSameTensors(file.tensors, tensors);
    assert.deepEqual(file.metadata, {});
  });

  test('metadata round trips, including odd keys', () => {
    const metadata = { format: 'pt', note: 'ünïcode "quoted"\n', __proto__x: 'p', '': 'empty key' };
    const file = decodeSafetensors(encodeSafetensors(allDTypes(), metadata));
    assert.deepEqual(file.metadata, metadata);
  });

  test('metadata only, no tensors', () => {
    const file = decodeSafetensors(encodeSafetensors({}, { a: 'b' }));
    assert.equal(file.tensors.size, 0);
    assert.deepEqual(file.metadata, { a: 'b' });
  });

  test('a Record input and integer-like names', () => {
    const rec: Record<string, SafeTensor> = {
      b: { dtype: 'I32', shape: [1], data: new Int32Array([3]) },
      '10': { dtype: 'I32', shape: [1], data: new Int32Array([1]) },
      '2': { dtype: 'I32', shape: [1], data: new Int32Array([2]) },
    };
    const bytes = encodeSafetensors(rec);
    const file = decodeSafetensors(bytes);
    assert.deepEqual(Object.fromEntries([...file.tensors].map(([k, t]) => [k, t.data[0]])), {
      '10': 1,
      '2': 2,
      b: 3,
    });
    // Data is laid out in UTF-8 name order: "10" < "2" < "b".
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.deepEqual([...new Int32Array(bytes.slice(8 + n).buffer)], [1, 2, 3]);
  });

  test('a typed array that is a view into a larger buffer is written exactly', () => {
    const backing = new Float32Array([9, 1, 2, 9]);
    const t = { dtype: 'F32' as const, shape: [2], data: backing.subarray(1, 3) };
    const got = decodeSafetensors(encodeSafetensors({ t })).tensors.get('t')!;
    assert.deepEqual(got.data, new Float32Array([1, 2]));
  });
});

describe('safetensors bytes', () => {
  test('byte-exact against a hand-assembled file', () => {
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    assert.equal(header.length, 54); // padded with 2 spaces to 56
    const expected = new Uint8Array([
      ...[56, 0, 0, 0, 0, 0, 0, 0],
      ...Buffer.from(`${header}  `, 'utf8'),
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0f little-endian
      ...[0x00, 0x00, 0x00, 0x40], // 2.0f little-endian
    ]);
    const got = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    assert.deepEqual(got, expected);
  });

  test('metadata comes first in the header, keys sorted', () => {
    const got = encodeSafetensors(
      { x: { dtype: 'U8', shape: [], data: new Uint8Array([7]) } },
      { z: '1', a: '2' },
    );
    const header = '{"__metadata__":{"a":"2","z":"1"},"x":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}';
    assert.deepEqual(got, assemble(header, new Uint8Array([7])));
  });

  test('same tensors in any order give identical bytes; header is padded to 8', () => {
    const a = allDTypes();
    const b = new Map([...a].reverse());
    const meta1 = { one: '1', two: '2' };
    const meta2 = { two: '2', one: '1' };
    const x = encodeSafetensors(a, meta1);
    const y = encodeSafetensors(b, meta2);
    assert.deepEqual(x, y);
    assert.equal(Number(new DataView(x.buffer).getBigUint64(0, true)) % 8, 0);
  });

  test('unaligned data offsets decode into aligned arrays', () => {
    const tensors = new Map<string, SafeTensor>([
      ['a', { dtype: 'U8', shape: [1], data: new Uint8Array([5]) }],
      ['b', { dtype: 'F64', shape: [2], data: new Float64Array([0.1, -7]) }],
      ['c', { dtype: 'I16', shape: [1], data: new Int16Array([-3]) }],
      ['d', { dtype: 'I64', shape: [1], data: new BigInt64Array([-5n]) }],
    ]);
    const bytes = encodeSafetensors(tensors);
    // b starts at data offset 1, d at offset 19: neither is aligned for its element size.
    assertSameTensors(decodeSafetensors(bytes).tensors, tensors);
    // Also decode from a view at an odd byteOffset of a larger buffer.
    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    assertSameTensors(decodeSafetensors(shifted.subarray(3)).tensors, tensors);
  });

  test('accepts an unpadded header', () => {
    const header = '{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}';
    const file = decodeSafetensors(assemble(header, new Uint8Array([0xff]), false));
    assert.deepEqual(file.tensors.get('a')!.data, new Int8Array([-1]));
  });
});

describe('safetensors corruption', () => {
  const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({
    dtype: 'F32',
    shape,
    data_offsets: [begin, end],
  });
  const withHeader = (h: unknown, dataLen: number) => assemble(JSON.stringify(h), new Uint8Array(dataLen));

  test('file shorter than 8 bytes', () => {
    assertBad(new Uint8Array(3), /shorter than the 8-byte header/);
  });

  test('absurd header length', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true);
    assertBad(b, /header length \d+ is absurd/);
  });

  test('header length beyond the file', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, 100n, true);
    assertBad(b, /header length 100 exceeds the file size 16 \(truncated/);
  });

  test('header not JSON, not UTF-8, or not an object', () => {
    assertBad(assemble('{"a": '), /not valid UTF-8 JSON/);
    const badUtf8 = assemble('{"a":1}');
    badUtf8[10] = 0xff;
    assertBad(badUtf8, /not valid UTF-8 JSON/);
    assertBad(assemble('[1,2]'), /must be a JSON object/);
    assertBad(assemble('null'), /must be a JSON object/);
  });

  test('tensor entry not an object', () => {
    assertBad(withHeader({ w: 3 }, 0), /tensor "w": header entry must be an object/);
  });

  test('unknown dtype', () => {
    assertBad(
      withHeader({ w: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, 1),
      /tensor "w": unknown dtype "F8"/,
    );
    assertBad(withHeader({ w: { shape: [1], data_offsets: [0, 1] } }, 1), /tensor "w": unknown dtype/);
  });

  test('bad shape', () => {
    for (const shape of [[-1], [1.5], '2', [null], null]) {
      assertBad(
        withHeader({ w: { dtype: 'U8', shape, data_offsets: [0, 0] } }, 0),
        /tensor "w": shape must be/,
      );
    }
  });

  test('bad data_offsets', () => {
    for (const offs of [[4, 0], [0], [0, '4'], [0, 4, 8], [-4, 0], null]) {
      assertBad(
        withHeader({ w: { dtype: 'U8', shape: [4], data_offsets: offs } }, 4),
        /tensor "w": data_offsets must be two non-negative integers/,
      );
    }
  });

  test('tensor data beyond the data buffer is reported as truncated', () => {
    assertBad(withHeader({ w: f32(0, 16) }, 8), /tensor "w": file is truncated/);
    const good = encodeSafetensors(allDTypes());
    assertBad(good.subarray(0, good.byteLength - 3), /truncated/);
  });

  test('byte length not matching shape and dtype', () => {
    assertBad(
      withHeader({ w: f32(0, 8, [3]) }, 8),
      /tensor "w": data_offsets span 8 bytes but shape \[3\] of F32 needs 12/,
    );
    assertBad(
      withHeader({ w: { dtype: 'I64', shape: [2], data_offsets: [0, 8] } }, 8),
      /tensor "w".*needs 16/,
    );
  });

  test('overlapping tensors', () => {
    assertBad(
      withHeader({ a: f32(0, 8), b: f32(4, 12) }, 12),
      /tensor "b" \(bytes 4\.\.12\) overlaps tensor "a"/,
    );
    assertBad(withHeader({ a: f32(0, 8), b: f32(0, 8) }, 8), /overlaps/);
  });

  test('gaps in the data buffer', () => {
    assertBad(withHeader({ a: f32(0, 4), b: f32(8, 12) }, 12), /gap.*bytes 4\.\.8 before tensor "b"/);
    assertBad(withHeader({ b: f32(4, 8) }, 8), /gap.*bytes 0\.\.4 before tensor "b"/);
    assertBad(withHeader({ a: f32(0, 4) }, 8), /gap.*bytes 4\.\.8 after the last tensor/);
    assertBad(withHeader({}, 4), /gap.*bytes 0\.\.4/);
  });

  test('bad metadata', () => {
    assertBad(withHeader({ __metadata__: { k: 1 } }, 0), /metadata "k" must be a string/);
    assertBad(withHeader({ __metadata__: ['x'] }, 0), /"__metadata__" must be an object of strings/);
    assertBad(withHeader({ __metadata__: 'x' }, 0), /"__metadata__" must be an object of strings/);
  });

  test('tensor names and JSON errors with line breaks stay on one line (fuzz regression)', () => {
    assertBad(withHeader({ 'a\nb': f32(0, 4, [2]) }, 4), /tensor "a\\nb": data_offsets span 4 bytes/);
    assertBad(withHeader({ w: f32(0, 4), 'x\ry': f32(0, 4) }, 4), /overlaps tensor "(w|x\\ry)"/);
    assertBad(withHeader({ __metadata__: { 'k\n': 1 } }, 0), /metadata "k\\n" must be a string/);
    assertBad(assemble('{"a":\n x}'), /not valid UTF-8 JSON: .*\\n/);
  });

  test('default source name is <buffer>', () => {
    assert.throws(() => decodeSafetensors(new Uint8Array(2)), /^UserError: <buffer>: /);
  });
});

describe('safetensors encode validation', () => {
  const bad = (t: SafeTensor, message: RegExp, meta?: Record<string, string>) =>
    assert.throws(
      () => encodeSafetensors({ w: t }, meta),
      (err: unknown) => err instanceof UserError && message.test(err.message),
    );

  test('data length not matching shape', () => {
    bad(
      { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) },
      /tensor "w": shape \[2,2\] has 4 elements but the data has 3/,
    );
    bad(
      { dtype: 'F32', shape: [], data: new Float32Array(0) },
      /shape \[\] has 1 elements but the data has 0/,
    );
  });

  test('typed array not matching dtype', () => {
    bad(
      { dtype: 'F32', shape: [1], data: new Float64Array(1) },
      /tensor "w": dtype F32 needs a Float32Array, got Float64Array/,
    );
    bad({ dtype: 'I64', shape: [1], data: new Int32Array(1) }, /needs a BigInt64Array/);
  });

  test('unknown dtype, bad shape, reserved name, non-string metadata', () => {
    bad({ dtype: 'Q4' as 'F32', shape: [1], data: new Float32Array(1) }, /unknown dtype "Q4"/);
    bad(
      { dtype: 'F32', shape: [-1], data: new Float32Array(1) },
      /shape must be an array of non-negative integers/,
    );
    bad({ dtype: 'F32', shape: [1], data: new Float32Array(1) }, /metadata "k": value must be a string/, {
      k: 5 as unknown as string,
    });
    assert.throws(
      () => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [], data: new Uint8Array(1) } }),
      /reserved/,
    );
  });
});

describe('safetensors files', () => {
  test('write/read round trip is atomic, deterministic and leaves no temp files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minnow-st-'));
    try {
      const p = path.join(dir, 'model.safetensors');
      fs.writeFileSync(p, 'old');
      writeSafetensors(p, allDTypes(), { format: 'pt' });
      const first = fs.readFileSync(p);
      writeSafetensors(p, allDTypes(), { format: 'pt' });
      assert.deepEqual(fs.readFileSync(p), first);
      assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
      const file = readSafetensors(p);
      assertSameTensors(file.tensors, allDTypes());
      assert.deepEqual(file.metadata, { format: 'pt' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('encode errors from writeSafetensors name the path and leave the old file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minnow-st-'));
    try {
      const p = path.join(dir, 'out.safetensors');
      fs.writeFileSync(p, 'old');
      assert.throws(
        () => writeSafetensors(p, { w: { dtype: 'F32', shape: [2], data: new Float32Array(1) } }),
        (err: unknown) =>
          err instanceof UserError && err.message.startsWith(`${p}: `) && /tensor "w"/.test(err.message),
      );
      assert.equal(fs.readFileSync(p, 'utf8'), 'old');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('missing file, directory and corrupt file errors name the path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minnow-st-'));
    try {
      const missing = path.join(dir, 'nope.safetensors');
      assert.throws(
        () => readSafetensors(missing),
        (err: unknown) =>
          err instanceof UserError && err.message.startsWith(missing) && /no such file/.test(err.message),
      );
      assert.throws(
        () => readSafetensors(dir),
        (err: unknown) =>
          err instanceof UserError && err.message.startsWith(dir) && /directory/.test(err.message),
      );
      const corrupt = path.join(dir, 'corrupt.safetensors');
      fs.writeFileSync(corrupt, 'abc');
      assert.throws(
        () => readSafetensors(corrupt),
        (err: unknown) =>
          err instanceof UserError && err.message.startsWith(`${corrupt}: `) && /shorter/.test(err.message),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

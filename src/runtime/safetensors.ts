/**
 * Hugging Face safetensors files: an 8-byte little-endian u64 header length N, N bytes of UTF-8
 * JSON header (padded with spaces to a multiple of 8), then the raw little-endian data buffer.
 * The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
 * the data buffer) plus an optional "__metadata__" map of strings. Tensors are written sorted by
 * name so equal inputs give byte-identical files; decoding validates the header as strictly as the
 * reference implementation (the data buffer must be covered contiguously, with no gaps or overlaps)
 * and copies each tensor into its own aligned typed array. Assumes a little-endian host.
 *
 * Bytes in, bytes out (browser-safe); safetensors-file.ts reads and writes files.
 */
import { UserError, where } from '../util/errors.js';

export type SafeDType =
  'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'U32' | 'BOOL';
export type TypedArray =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

/** One tensor. F16 and BF16 hold raw bit patterns in a Uint16Array; BOOL holds 0/1 in a Uint8Array. */
export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: TypedArray;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

type TypedArrayCtor = { new (buffer: ArrayBuffer): TypedArray; readonly BYTES_PER_ELEMENT: number };

const ARRAY_TYPES: Record<SafeDType, TypedArrayCtor> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U8: Uint8Array,
  U16: Uint16Array,
  U32: Uint32Array,
  BOOL: Uint8Array,
};

const UTF8 = new TextEncoder();
const METADATA_KEY = '__metadata__';
/** The reference implementation refuses headers above this size. */
const MAX_HEADER_BYTES = 100_000_000;

function isDType(x: unknown): x is SafeDType {
  return typeof x === 'string' && Object.hasOwn(ARRAY_TYPES, x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Number of elements for `shape`, or undefined if it is not a safe integer. */
function elementCount(shape: number[]): number | undefined {
  let n = 1;
  for (const d of shape) n *= d;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Compare strings by their UTF-8 bytes, as the reference implementation sorts names. */
function compareUtf8(a: string, b: string): number {
  const x = UTF8.encode(a);
  const y = UTF8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Serialize tensors (sorted by name) and optional string metadata into safetensors bytes. */
export function encodeSafetensors(
  tensors: Map<string, SafeTensor> | Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  entries.sort(([a], [b]) => compareUtf8(a, b));

  const parts: string[] = [];
  const metaEntries = Object.entries(metadata ?? {}).sort(([a], [b]) => compareUtf8(a, b));
  if (metaEntries.length > 0) {
    for (const [k, v] of metaEntries) {
      if (typeof v !== 'string') {
        throw new UserError(
          `safetensors metadata ${JSON.stringify(k)}: value must be a string, got ${typeof v}`,
        );
      }
    }
    const body = metaEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',');
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${body}}`);
  }

  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of entries) {
    const bytes = checkTensorForEncode(name, t);
    const end = offset + bytes.byteLength;
    const info = `{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`;
    parts.push(`${JSON.stringify(name)}:${info}`);
    chunks.push(bytes);
    offset = end;
  }

  const json = UTF8.encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

/** Validate a tensor about to be written and return a byte view of its data. */
function checkTensorForEncode(name: string, t: SafeTensor): Uint8Array {
  const what = `safetensors tensor ${JSON.stringify(name)}`;
  if (name === METADATA_KEY) throw new UserError(`${what}: this name is reserved for metadata`);
  if (!isDType(t.dtype)) throw new UserError(`${what}: unknown dtype ${JSON.stringify(t.dtype)}`);
  if (!Array.isArray(t.shape) || !t.shape.every(isCount)) {
    throw new UserError(
      `${what}: shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`,
    );
  }
  const Ctor = ARRAY_TYPES[t.dtype];
  if (!(t.data instanceof Ctor)) {
    throw new UserError(
      `${what}: dtype ${t.dtype} needs a ${Ctor.name}, got ${t.data?.constructor?.name ?? typeof t.data}`,
    );
  }
  const count = elementCount(t.shape);
  if (count !== t.data.length) {
    throw new UserError(
      `${what}: shape [${t.shape.join(',')}] has ${count ?? 'too many'} elements but the data has ${t.data.length}`,
    );
  }
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Parse and validate safetensors bytes; `source` names the file in error messages. */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  const file = where(source);
  if (bytes.byteLength < 8) {
    throw new UserError(
      `${file}: not a safetensors file: ${bytes.byteLength} bytes is shorter than the 8-byte header length`,
    );
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new UserError(
      `${file}: safetensors header length ${n} is absurd (limit ${MAX_HEADER_BYTES}); not a safetensors file?`,
    );
  }
  const headerLen = Number(n);
  if (8 + headerLen > bytes.byteLength) {
    throw new UserError(
      `${file}: safetensors header length ${headerLen} exceeds the file size ${bytes.byteLength} (truncated file?)`,
    );
  }

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (err) {
    // V8's JSON errors quote the text, which may hold line breaks: escape them to keep one line.
    const why = escapeControls((err as Error).message);
    throw new UserError(`${file}: safetensors header is not valid UTF-8 JSON: ${why}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new UserError(`${file}: safetensors header must be a JSON object`);
  }

  const data = bytes.subarray(8 + headerLen);
  const metadata: Record<string, string> = parseMetadata(
    file,
    (header as Record<string, unknown>)[METADATA_KEY],
  );
  const spans: { name: string; begin: number; end: number; dtype: SafeDType; shape: number[] }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    spans.push({ name, ...parseTensorInfo(file, name, raw, data.byteLength) });
  }

  // The data buffer must be covered exactly once, in order, with no gaps or overlaps.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let prev: string | undefined;
  for (const s of spans) {
    if (s.begin < covered) {
      throw new UserError(
        `${file}: tensor ${JSON.stringify(s.name)} (bytes ${s.begin}..${s.end}) overlaps tensor ${JSON.stringify(prev)}`,
      );
    }
    if (s.begin > covered) {
      throw new UserError(
        `${file}: gap in the data buffer: bytes ${covered}..${s.begin} before tensor ${JSON.stringify(s.name)} belong to no tensor`,
      );
    }
    covered = s.end;
    prev = s.name;
  }
  if (covered !== data.byteLength) {
    throw new UserError(
      `${file}: gap in the data buffer: bytes ${covered}..${data.byteLength} after the last tensor belong to no tensor`,
    );
  }

  const tensors = new Map<string, SafeTensor>();
  for (const s of spans) {
    // Copy into a fresh buffer: the span may be unaligned for the element size.
    const copy = new ArrayBuffer(s.end - s.begin);
    new Uint8Array(copy).set(data.subarray(s.begin, s.end));
    tensors.set(s.name, { dtype: s.dtype, shape: s.shape, data: new ARRAY_TYPES[s.dtype](copy) });
  }
  return { tensors, metadata };
}

/** Control characters and line separators as JSON escapes (`\n` → `\\n`), so a message stays on one line. */
function escapeControls(text: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function parseMetadata(file: string, raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`${file}: safetensors "${METADATA_KEY}" must be an object of strings`);
  }
  const entries = Object.entries(raw);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') {
      throw new UserError(
        `${file}: safetensors metadata ${JSON.stringify(k)} must be a string, got ${JSON.stringify(v)}`,
      );
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function parseTensorInfo(
  file: string,
  name: string,
  raw: unknown,
  dataLen: number,
): { dtype: SafeDType; shape: number[]; begin: number; end: number } {
  const what = `${file}: tensor ${JSON.stringify(name)}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${what}: header entry must be an object with dtype, shape and data_offsets`);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (!isDType(dtype)) throw new UserError(`${what}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new UserError(
      `${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw new UserError(
      `${what}: data_offsets must be two non-negative integers [begin, end] with begin <= end, got ${JSON.stringify(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLen) {
    throw new UserError(
      `${what}: file is truncated: data ends at byte ${end} but the data buffer has only ${dataLen} bytes`,
    );
  }
  const count = elementCount(shape);
  const size = ARRAY_TYPES[dtype].BYTES_PER_ELEMENT;
  if (count === undefined || end - begin !== count * size) {
    throw new UserError(
      `${what}: data_offsets span ${end - begin} bytes but shape [${shape.join(',')}] of ${dtype} needs ${count === undefined ? 'too many' : count * size}`,
    );
  }
  return { dtype, shape, begin, end };
}

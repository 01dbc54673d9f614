/**
 * Turn a graph input of a serialised ONNX model into a float32 initializer, on its bytes: the graph field
 * of the ModelProto is re-emitted without that `input` entry and with one more `initializer` entry
 * appended (protobuf allows repeated fields anywhere in a message). The compact export declares its hash table as a graph input; the runtime computes the table
 * at load and turns that input into a constant this way, so the session runs the portable graph without
 * the file ever storing the table. Browser-safe: bytes in, bytes out.
 */

const MODEL_GRAPH = 7; // ModelProto.graph
const GRAPH_INITIALIZER = 5; // GraphProto.initializer
const GRAPH_INPUT = 11; // GraphProto.input
const VALUE_INFO_NAME = 1; // ValueInfoProto.name
const TENSOR_DIMS = 1; // TensorProto.dims (int64)
const TENSOR_DATA_TYPE = 2; // TensorProto.data_type
const TENSOR_NAME = 8; // TensorProto.name
const TENSOR_RAW_DATA = 9; // TensorProto.raw_data
const FLOAT = 1; // TensorProto.DataType.FLOAT

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function tag(field: number, wire: number): number[] {
  return varint(field * 8 + wire);
}

function bytesField(field: number, payload: Uint8Array): Uint8Array[] {
  return [Uint8Array.from([...tag(field, 2), ...varint(payload.length)]), payload];
}

function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A TensorProto: float32, little-endian raw_data. */
function tensorProto(name: string, dims: readonly number[], data: Float32Array): Uint8Array {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  const head = [
    ...dims.flatMap((d) => [...tag(TENSOR_DIMS, 0), ...varint(d)]),
    ...tag(TENSOR_DATA_TYPE, 0),
    FLOAT,
  ];
  return join([
    Uint8Array.from(head),
    ...bytesField(TENSOR_NAME, new TextEncoder().encode(name)),
    ...bytesField(TENSOR_RAW_DATA, raw),
  ]);
}

/** Reads one varint at `at`; returns the value and the offset after it. */
function readVarint(b: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < b.length; i++) {
    value += (b[i] & 0x7f) * scale;
    if (b[i] < 0x80) return [value, i + 1];
    scale *= 0x80;
    if (i - at >= 9) break;
  }
  throw new Error('truncated varint');
}

interface Field {
  field: number;
  start: number; // the tag's offset
  end: number; // after the field
  body?: [number, number]; // a length-delimited field's payload
}

/** The top-level fields of a message. */
function fields(b: Uint8Array, what: string): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < b.length) {
    const start = at;
    const [key, afterKey] = readVarint(b, at);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let body: [number, number] | undefined;
    if (wire === 0) at = readVarint(b, afterKey)[1];
    else if (wire === 1) at = afterKey + 8;
    else if (wire === 5) at = afterKey + 4;
    else if (wire === 2) {
      const [len, from] = readVarint(b, afterKey);
      at = from + len;
      body = [from, at];
    } else throw new Error(`not a ${what} (wire type ${wire})`);
    if (at > b.length) throw new Error(`truncated ${what}`);
    out.push({ field, start, end: at, body });
  }
  return out;
}

function nameOf(valueInfo: Uint8Array): string | undefined {
  const f = fields(valueInfo, 'ValueInfoProto').find((x) => x.field === VALUE_INFO_NAME && x.body);
  return f?.body ? new TextDecoder().decode(valueInfo.subarray(...f.body)) : undefined;
}

/**
 * The model with its graph input `name` made an initializer (dims, float32 data); an input of that name
 * need not exist. Throws on bytes that are not a ModelProto with a graph (the caller names the file).
 */
export function withInitializer(
  model: Uint8Array,
  name: string,
  dims: readonly number[],
  data: Float32Array,
): Uint8Array {
  const graphField = fields(model, 'ModelProto').find((f) => f.field === MODEL_GRAPH && f.body);
  if (!graphField?.body) throw new Error('no graph in the model');
  const graph = model.subarray(...graphField.body);
  const kept = fields(graph, 'GraphProto')
    .filter((f) => !(f.field === GRAPH_INPUT && f.body && nameOf(graph.subarray(...f.body)) === name))
    .map((f) => graph.subarray(f.start, f.end));
  const newGraph = join([...kept, ...bytesField(GRAPH_INITIALIZER, tensorProto(name, dims, data))]);
  return join([
    model.subarray(0, graphField.start),
    ...bytesField(MODEL_GRAPH, newGraph),
    model.subarray(graphField.end),
  ]);
}

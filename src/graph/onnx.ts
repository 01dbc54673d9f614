/**
 * Serialise a Graph to an ONNX ModelProto (IR 8, opset 18) with protobufjs, and read one back.
 * The schema below is the subset of onnx/onnx.proto that minnow writes, with the official field numbers.
 */
import protobuf from 'protobufjs';
import type { ConstTensor, DType, Graph, NumericArray, Shape, Value } from './graph.js';
import { ONNX_DTYPE_CODE } from './ops.js';

export const OPSET = 20;
export const IR_VERSION = 8;

const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1; optional float f = 2; optional int64 i = 3; optional bytes s = 4;
  optional TensorProto t = 5; repeated float floats = 7; repeated int64 ints = 8; optional int32 type = 20;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; optional string name = 3;
  optional string op_type = 4; repeated AttributeProto attribute = 5; optional string domain = 7;
}
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
message ModelProto {
  optional int64 ir_version = 1; repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2; optional string producer_version = 3; optional string doc_string = 6;
  optional GraphProto graph = 7; repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1; optional int32 data_type = 2; optional string name = 8; optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  optional Tensor tensor_type = 1;
}
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
`;

const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;
const CODE_DTYPE = Object.fromEntries(Object.entries(ONNX_DTYPE_CODE).map(([k, v]) => [v, k])) as Record<
  number,
  DType
>;

function valueInfo(name: string, dtype: DType, shape: Shape) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ONNX_DTYPE_CODE[dtype],
        shape: {
          dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: String(d) })),
        },
      },
    },
  };
}

function bytesOf(data: NumericArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(name: string, t: ConstTensor) {
  return { name, dims: t.shape, data_type: ONNX_DTYPE_CODE[t.dtype], raw_data: bytesOf(t.data) };
}

export interface SerializeOptions {
  /** Extra initializers: graph inputs to bake in as constants (e.g. trained weights for export). */
  initializers?: Map<Value, ConstTensor>;
  metadata?: Record<string, string>;
  docString?: string;
}

/** Encode the graph as ONNX bytes. Graph inputs listed in `initializers` become constants. */
export function toOnnx(g: Graph, opts: SerializeOptions = {}): Uint8Array {
  const baked = opts.initializers ?? new Map<Value, ConstTensor>();
  const reachable = liveNodes(g);
  const initializer = [...g.constants, ...baked]
    .filter(([v]) => reachable.used.has(v))
    .map(([v, t]) => tensorProto(v.name, t));
  const node = g.nodes
    .filter((n) => reachable.nodes.has(n))
    .map((n) => ({
      name: n.name,
      op_type: n.op,
      ...(n.domain ? { domain: n.domain } : {}),
      input: n.inputs.map((x) => (x ? x.name : '')),
      output: n.outputs.map((y) => y.name),
      attribute: Object.entries(n.attrs).map(([name, a]) => {
        const base = { name, type: ATTR_TYPE[a.kind] };
        switch (a.kind) {
          case 'int':
            return { ...base, i: a.value };
          case 'float':
            return { ...base, f: a.value };
          case 'string':
            return { ...base, s: new TextEncoder().encode(a.value) };
          case 'ints':
            return { ...base, ints: a.value };
          default:
            return { ...base, floats: a.value };
        }
      }),
    }));
  const model = {
    ir_version: IR_VERSION,
    opset_import: [
      { domain: '', version: OPSET },
      // onnxruntime's own ops (com.microsoft, version 1) where the graph uses them.
      ...[...new Set(node.flatMap((n) => n.domain ?? []))].map((domain) => ({ domain, version: 1 })),
    ],
    producer_name: 'minnow',
    producer_version: '0.1.0',
    doc_string: opts.docString ?? '',
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: g.name,
      node,
      initializer,
      input: g.inputs
        .filter((v) => !baked.has(v) && reachable.used.has(v))
        .map((v) => valueInfo(v.name, v.dtype, v.shape)),
      output: g.outputs.map((v) => valueInfo(v.name, v.dtype, v.shape)),
    },
  };
  const err = ModelProto.verify(model);
  if (err) throw new Error(`onnx: invalid model: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Nodes needed for the graph's outputs, and the values they read. */
function liveNodes(g: Graph) {
  const nodes = new Set<(typeof g.nodes)[number]>();
  const used = new Set<Value>(g.outputs);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((y) => used.has(y))) continue;
    nodes.add(n);
    for (const x of n.inputs) if (x) used.add(x);
  }
  return { nodes, used };
}

/** Decoded model summary, for tests and `minnow info` on exported files. */
export interface OnnxSummary {
  opset: number;
  ops: string[];
  inputs: { name: string; dtype: DType; shape: (number | string)[] }[];
  outputs: { name: string; dtype: DType; shape: (number | string)[] }[];
  initializers: { name: string; dtype: DType; dims: number[]; bytes: number }[];
  metadata: Record<string, string>;
}

export function readOnnx(bytes: Uint8Array): OnnxSummary {
  const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: true }) as any;
  const vi = (v: any) => ({
    name: v.name,
    dtype: CODE_DTYPE[v.type.tensor_type.elem_type],
    shape: (v.type.tensor_type.shape?.dim ?? []).map((d: any) => (d.dim_param ? d.dim_param : d.dim_value)),
  });
  return {
    opset: m.opset_import[0]?.version ?? 0,
    ops: m.graph.node.map((n: any) => n.op_type),
    inputs: m.graph.input.map(vi),
    outputs: m.graph.output.map(vi),
    initializers: m.graph.initializer.map((t: any) => ({
      name: t.name,
      dtype: CODE_DTYPE[t.data_type],
      dims: t.dims,
      bytes: t.raw_data.length,
    })),
    metadata: Object.fromEntries(m.metadata_props.map((p: any) => [p.key, p.value])),
  };
}

/**
 * Symbolic graphs: values with a dtype and a shape, nodes that are ONNX ops.
 *
 * A shape is a list of dims; a dim is a number or a symbol ('B', 'T', or a product such as 'B*T'),
 * so one compiled session serves every batch size and sequence length. The graph knows nothing
 * about BERT or onnxruntime: ops.ts builds nodes, grad.ts derives backward graphs, onnx.ts serialises.
 */

/** `float16` values travel as their bit patterns in a Uint16Array. */
export type DType =
  'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8' | 'uint16' | 'int8';
export type Dim = number | string;
export type Shape = readonly Dim[];

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] };

export type NumericArray =
  Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array | Int8Array;

/** A run-time tensor: values and their concrete shape (what sessions take and return). */
export interface Tensor {
  data: NumericArray;
  shape: number[];
}

/** A constant tensor embedded in the graph (an ONNX initializer). */
export interface ConstTensor {
  dtype: DType;
  shape: number[];
  data: NumericArray;
}

export interface Node {
  op: string;
  inputs: (Value | null)[]; // null: an omitted optional input
  outputs: Value[];
  attrs: Record<string, Attr>;
  name: string;
  /** The operator set: '' (ONNX) unless a runtime's own op (onnxruntime's 'com.microsoft'). */
  domain?: string;
}

let nextValueId = 0;

export class Value {
  readonly id = nextValueId++;
  /** The node that computes this value; undefined for graph inputs and constants. */
  node?: Node;
  /**
   * A hand-written gradient for a composite (like tf.custom_gradient): autodiff calls `fn` with this
   * value's gradient and passes the results straight to `inputs`, skipping the composite's inner ops.
   */
  customGrad?: { inputs: Value[]; fn: (dy: Value) => (Value | null)[] };
  constructor(
    readonly graph: Graph,
    public name: string,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  toString(): string {
    return `${this.name}: ${this.dtype}[${this.shape.join(', ')}]`;
  }
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly constants = new Map<Value, ConstTensor>();
  private names = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'minnow') {}

  /** A fresh unique name with the given stem. */
  uniqueName(stem: string): string {
    let name = stem;
    while (this.names.has(name)) name = `${stem}_${this.counter++}`;
    this.names.add(name);
    return name;
  }

  /** A graph input, fed at run time. */
  input(name: string, dtype: DType, shape: Shape): Value {
    if (this.names.has(name)) throw new Error(`graph: duplicate name "${name}"`);
    const v = new Value(this, this.uniqueName(name), dtype, shape);
    this.inputs.push(v);
    return v;
  }

  /** A constant tensor (an initializer in the ONNX model). */
  constant(data: NumericArray | number[], dtype: DType, shape: number[], stem = 'const'): Value {
    const n = shape.reduce((a, b) => a * b, 1);
    const typed = toTyped(data, dtype);
    if (typed.length !== n)
      throw new Error(`graph: constant has ${typed.length} values for shape [${shape}]`);
    const v = new Value(this, this.uniqueName(stem), dtype, shape);
    this.constants.set(v, { dtype, shape: [...shape], data: typed });
    return v;
  }

  /** A scalar constant of the given dtype. */
  scalar(x: number, dtype: DType = 'float32'): Value {
    return this.constant([x], dtype, [], 'scalar');
  }

  /** Append a node; `outs` gives each output's dtype and shape (from the op's shape rule). */
  node(
    op: string,
    inputs: (Value | null)[],
    outs: { dtype: DType; shape: Shape }[],
    attrs: Record<string, Attr> = {},
    domain?: string,
  ): Value[] {
    for (const x of inputs) {
      if (x && x.graph !== this) throw new Error(`graph: ${op} input ${x.name} belongs to another graph`);
    }
    const name = this.uniqueName(op);
    const node: Node = { op, inputs, outputs: [], attrs, name, ...(domain ? { domain } : {}) };
    node.outputs = outs.map((o, i) => {
      const v = new Value(this, this.uniqueName(`${name}_out${i}`), o.dtype, o.shape);
      v.node = node;
      return v;
    });
    this.nodes.push(node);
    return node.outputs;
  }

  /** Mark a value as a graph output under the given name. */
  output(v: Value, name?: string): Value {
    if (name && v.name !== name) {
      if (this.names.has(name)) throw new Error(`graph: duplicate output name "${name}"`);
      this.names.delete(v.name);
      this.names.add(name);
      v.name = name;
    }
    this.outputs.push(v);
    return v;
  }

  isConstant(v: Value): boolean {
    return this.constants.has(v);
  }
}

export function toTyped(data: NumericArray | number[], dtype: DType): NumericArray {
  if (!Array.isArray(data)) return data;
  switch (dtype) {
    case 'float32':
      return Float32Array.from(data);
    case 'float64':
      return Float64Array.from(data);
    case 'int64':
      return BigInt64Array.from(data.map((x) => BigInt(x)));
    case 'int32':
      return Int32Array.from(data);
    case 'bool':
    case 'uint8':
      return Uint8Array.from(data);
    case 'uint16':
    case 'float16':
      return Uint16Array.from(data);
    case 'int8':
      return Int8Array.from(data);
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

// ---------------------------------------------------------------------------------------------
// Dim algebra: a dim is c * s1 * s2 * ... with c a positive integer and s_i symbols.

interface Prod {
  c: number;
  s: string[];
}

function toProd(d: Dim): Prod {
  if (typeof d === 'number') return { c: d, s: [] };
  let c = 1;
  const s: string[] = [];
  for (const f of d.split('*')) {
    const t = f.trim();
    if (/^\d+$/.test(t)) c *= Number(t);
    else s.push(t);
  }
  return { c, s };
}

function fromProd(p: Prod): Dim {
  if (p.s.length === 0) return p.c;
  const syms = [...p.s].sort().join('*');
  return p.c === 1 ? syms : `${p.c}*${syms}`;
}

/** Canonical form of a dim, so 'T*B' and 'B*T' compare equal. */
export function canonDim(d: Dim): Dim {
  return fromProd(toProd(d));
}

export function dimEq(a: Dim, b: Dim): boolean {
  return canonDim(a) === canonDim(b);
}

export function mulDims(...ds: Dim[]): Dim {
  let c = 1;
  const s: string[] = [];
  for (const d of ds) {
    const p = toProd(d);
    c *= p.c;
    s.push(...p.s);
  }
  return fromProd({ c, s });
}

/** a / b, or undefined when b does not divide a symbolically. */
export function divDims(a: Dim, b: Dim): Dim | undefined {
  const pa = toProd(a);
  const pb = toProd(b);
  if (pb.c === 0 || pa.c % pb.c !== 0) return undefined;
  const s = [...pa.s];
  for (const x of pb.s) {
    const i = s.indexOf(x);
    if (i < 0) return undefined;
    s.splice(i, 1);
  }
  return fromProd({ c: pa.c / pb.c, s });
}

export function numel(shape: Shape): Dim {
  return mulDims(...shape);
}

export function isStatic(shape: Shape): shape is number[] {
  return shape.every((d) => typeof d === 'number');
}

/** Replace symbols by their sizes, e.g. { B: 32, T: 128 }. */
export function resolveShape(shape: Shape, sizes: Record<string, number>): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    const p = toProd(d);
    let n = p.c;
    for (const s of p.s) {
      const v = sizes[s];
      if (v === undefined) throw new Error(`shape: no size bound for symbol "${s}"`);
      n *= v;
    }
    return n;
  });
}

/** Numpy broadcasting of two shapes; throws naming both shapes when they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape, what = 'broadcast'): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === 1) out.push(db);
    else if (db === 1 || dimEq(da, db)) out.push(da);
    else throw new Error(`${what}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
  }
  return out;
}

import type { AnyTypedArray, DType } from './dtype.js';
import type { AttrValue, Graph, Node, Shape, Tensor, ValueInfo } from './ir.js';

/** A typed, shaped value of a graph under construction. */
export class Value {
  constructor(
    readonly b: GraphBuilder,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** The static size of axis i (negative counts from the end); throws if it is symbolic. */
  dim(i: number): number {
    const d = this.shape[i < 0 ? this.shape.length + i : i];
    if (typeof d !== 'number') throw new Error(`${this.name}: axis ${i} is symbolic (${d})`);
    return d;
  }
}

export interface OutSpec {
  dtype: DType;
  shape: Shape;
}

/**
 * Builds a graph op by op. Names come from the scope path (`encoder1.0.conv.unit0`) so that the
 * emitted graph reads like the model definition; every value is typed and shaped at build time.
 */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly values = new Map<string, ValueInfo>();
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers = new Map<string, Tensor>();
  /** value name -> the node that produces it */
  readonly producer = new Map<string, Node>();
  readonly metadata: Record<string, string> = {};
  private readonly scopes: string[] = [];
  private readonly taken = new Set<string>();
  private readonly constCache = new Map<string, Value>();

  input(name: string, dtype: DType, shape: Shape): Value {
    const v = this.declare(name, dtype, shape);
    this.inputs.push({ name, dtype, shape });
    return v;
  }

  /** A named tensor stored in the graph (weights of an inference graph, constants). */
  initializer(name: string, t: Tensor): Value {
    this.initializers.set(name, t);
    return this.declare(name, t.dtype, t.dims);
  }

  /** A constant tensor; identical small constants are shared. */
  constant(data: AnyTypedArray, dtype: DType, dims: number[], hint = 'const'): Value {
    const small = data.length <= 16;
    const key = small
      ? `${dtype}|${dims.join(',')}|${Array.from(data as ArrayLike<number | bigint>).join(',')}`
      : '';
    if (small && this.constCache.has(key)) return this.constCache.get(key)!;
    const v = this.initializer(this.fresh(`const/${hint}`, false), { dtype, dims, data });
    if (small) this.constCache.set(key, v);
    return v;
  }

  scalar(x: number, dtype: DType = 'float32'): Value {
    return this.constant(makeArray(dtype, [x]), dtype, [], 'scalar');
  }

  vector(xs: number[], dtype: DType = 'int64'): Value {
    return this.constant(makeArray(dtype, xs), dtype, [xs.length], 'vec');
  }

  /** Runs fn with names prefixed by `name.` */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  get scopePath(): string {
    return this.scopes.join('.');
  }

  /** A name not used yet, under the current scope unless `scoped` is false. */
  fresh(base: string, scoped = true): string {
    const full = scoped && this.scopes.length ? `${this.scopePath}/${base}` : base;
    let name = full;
    for (let i = 1; this.taken.has(name); i++) name = `${full}_${i}`;
    this.taken.add(name);
    return name;
  }

  /** Adds one node; the op helpers in ops.ts compute its output types and shapes. */
  node(
    op: string,
    inputs: (Value | null)[],
    attrs: Record<string, AttrValue>,
    outs: OutSpec[],
    hint?: string,
  ): Value[] {
    const name = this.fresh(hint ?? op);
    const outputs = outs.map((o, i) =>
      this.declare(outs.length === 1 ? name : `${name}:${i}`, o.dtype, o.shape),
    );
    const node: Node = {
      op,
      name,
      inputs: inputs.map((v) => (v ? v.name : '')),
      outputs: outputs.map((v) => v.name),
      attrs,
    };
    this.nodes.push(node);
    for (const o of outputs) this.producer.set(o.name, node);
    return outputs;
  }

  /** Adds an output to an existing node (e.g. MaxPool's Indices, wanted only by its gradient). */
  addNodeOutput(node: Node, index: number, spec: OutSpec): Value {
    while (node.outputs.length < index) node.outputs.push('');
    const v = this.declare(this.fresh(`${node.name}:${index}`, false), spec.dtype, spec.shape);
    node.outputs[index] = v.name;
    this.producer.set(v.name, node);
    return v;
  }

  /** Marks v as a graph output called `name` (an Identity is added when the names differ). */
  output(v: Value, name = v.name): Value {
    let out = v;
    if (name !== v.name) {
      this.taken.add(name);
      out = this.declare(name, v.dtype, v.shape);
      const node: Node = {
        op: 'Identity',
        name: `${name}/identity`,
        inputs: [v.name],
        outputs: [name],
        attrs: {},
      };
      this.nodes.push(node);
      this.producer.set(name, node);
    }
    this.outputs.push({ name: out.name, dtype: out.dtype, shape: out.shape });
    return out;
  }

  value(name: string): Value {
    const info = this.values.get(name);
    if (!info) throw new Error(`no value named ${name}`);
    return new Value(this, info.name, info.dtype, info.shape);
  }

  toGraph(name: string): Graph {
    return {
      name,
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      nodes: [...this.nodes],
      initializers: new Map(this.initializers),
      values: new Map(this.values),
      metadata: { ...this.metadata },
    };
  }

  private declare(name: string, dtype: DType, shape: Shape): Value {
    if (this.values.has(name)) throw new Error(`value ${name} defined twice`);
    this.taken.add(name);
    this.values.set(name, { name, dtype, shape: [...shape] });
    return new Value(this, name, dtype, [...shape]);
  }
}

export function makeArray(dtype: DType, xs: number[]): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(xs);
    case 'float64':
      return Float64Array.from(xs);
    case 'int64':
      return BigInt64Array.from(xs.map((x) => BigInt(x)));
    case 'int32':
      return Int32Array.from(xs);
    default:
      return Uint8Array.from(xs);
  }
}

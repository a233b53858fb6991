import onnxProto from 'onnx-proto';
import { dtypeFromOnnx, ONNX_DTYPE, type AnyTypedArray, type DType } from './dtype.js';
import {
  numel,
  type AttrValue,
  type Graph,
  type Node,
  type Shape,
  type Tensor,
  type ValueInfo,
} from './ir.js';

const { onnx } = onnxProto;

/** The one opset every graph we emit uses (default domain only): ORT CPU, CUDA and web run it. */
export const OPSET = 18;
const IR_VERSION = 8;
const AT = onnx.AttributeProto.AttributeType;

function tensorToProto(name: string, t: Tensor): onnxProto.onnx.ITensorProto {
  const data = t.data;
  return {
    name,
    dataType: ONNX_DTYPE[t.dtype],
    dims: t.dims,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function tensorFromProto(p: onnxProto.onnx.ITensorProto): Tensor {
  const dtype = dtypeFromOnnx(p.dataType ?? 0);
  const dims = (p.dims ?? []).map(Number);
  const n = numel(dims);
  let data: AnyTypedArray;
  if (p.rawData && p.rawData.length > 0) {
    // A fresh, aligned copy: protobufjs hands out Node Buffers, whose slice() is a view into a
    // shared pool (its .buffer does not start at this tensor).
    const raw = new Uint8Array(p.rawData);
    data = viewAs(dtype, raw.buffer, n);
  } else if (dtype === 'float32') data = Float32Array.from(p.floatData ?? []);
  else if (dtype === 'float64') data = Float64Array.from(p.doubleData ?? []);
  else if (dtype === 'int64') data = BigInt64Array.from((p.int64Data ?? []).map((v) => BigInt(v.toString())));
  else if (dtype === 'int32') data = Int32Array.from(p.int32Data ?? []);
  else data = Uint8Array.from(p.int32Data ?? []);
  return { dtype, dims, data };
}

function viewAs(dtype: DType, buf: ArrayBufferLike, n: number): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, 0, n);
    case 'float64':
      return new Float64Array(buf, 0, n);
    case 'int64':
      return new BigInt64Array(buf, 0, n);
    case 'int32':
      return new Int32Array(buf, 0, n);
    default:
      return new Uint8Array(buf, 0, n);
  }
}

function attrToProto(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'number')
    return Number.isInteger(v) ? { name, type: AT.INT, i: v } : { name, type: AT.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number')) return { name, type: AT.INTS, ints: v as number[] };
    return { name, type: AT.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
  }
  if ('float' in v) return { name, type: AT.FLOAT, f: v.float };
  return { name, type: AT.TENSOR, t: tensorToProto('', v) };
}

function attrFromProto(a: onnxProto.onnx.IAttributeProto): AttrValue {
  switch (a.type) {
    case AT.INT:
      return Number(a.i);
    case AT.FLOAT:
      return { float: a.f ?? 0 };
    case AT.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case AT.INTS:
      return (a.ints ?? []).map(Number);
    case AT.STRINGS:
      return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    case AT.TENSOR:
      return tensorFromProto(a.t!);
    default:
      throw new Error(`attribute ${a.name}: unsupported type ${a.type}`);
  }
}

function valueInfoToProto(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function valueInfoFromProto(p: onnxProto.onnx.IValueInfoProto): ValueInfo {
  const tt = p.type?.tensorType;
  const shape: Shape = (tt?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
  return { name: p.name ?? '', dtype: dtypeFromOnnx(tt?.elemType ?? 1), shape };
}

function graphToModelProto(g: Graph, producerVersion = '0.1.0'): onnxProto.onnx.ModelProto {
  const inner = new Set([...g.inputs, ...g.outputs].map((v) => v.name));
  const valueInfo = [...g.values.values()].filter((v) => !inner.has(v.name) && !g.initializers.has(v.name));
  return onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'unilvseg-onnx',
    producerVersion,
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(g.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: g.name,
      input: g.inputs.map(valueInfoToProto),
      output: g.outputs.map(valueInfoToProto),
      valueInfo: valueInfo.map(valueInfoToProto),
      initializer: [...g.initializers].map(([name, t]) => tensorToProto(name, t)),
      node: g.nodes.map((n) => ({
        opType: n.op,
        name: n.name,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, v]) => attrToProto(k, v)),
      })),
    },
  });
}

export function encodeGraph(g: Graph, producerVersion?: string): Uint8Array {
  return onnx.ModelProto.encode(graphToModelProto(g, producerVersion)).finish();
}

/** Reads an .onnx file's bytes back into our IR (opset and domain are checked). */
export function decodeGraph(bytes: Uint8Array): Graph {
  const m = onnx.ModelProto.decode(bytes);
  const foreign = (m.opsetImport ?? []).filter((o) => o.domain && o.domain !== 'ai.onnx');
  if (foreign.length)
    throw new Error(`model uses operator domains we do not emit: ${foreign.map((o) => o.domain).join(', ')}`);
  const gp = m.graph!;
  const initializers = new Map<string, Tensor>();
  for (const t of gp.initializer ?? []) initializers.set(t.name ?? '', tensorFromProto(t));
  const values = new Map<string, ValueInfo>();
  const inputs = (gp.input ?? []).map(valueInfoFromProto).filter((v) => !initializers.has(v.name));
  const outputs = (gp.output ?? []).map(valueInfoFromProto);
  for (const v of [...inputs, ...outputs, ...(gp.valueInfo ?? []).map(valueInfoFromProto)])
    values.set(v.name, v);
  for (const [name, t] of initializers) values.set(name, { name, dtype: t.dtype, shape: t.dims });
  const nodes: Node[] = (gp.node ?? []).map((n) => ({
    op: n.opType ?? '',
    name: n.name ?? '',
    inputs: n.input ?? [],
    outputs: n.output ?? [],
    attrs: Object.fromEntries((n.attribute ?? []).map((a) => [a.name ?? '', attrFromProto(a)])),
  }));
  const metadata = Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  return { name: gp.name ?? '', inputs, outputs, nodes, initializers, values, metadata };
}

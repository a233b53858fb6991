import type { AnyTypedArray, DType } from './dtype.js';

/** A dimension: a number, or a name for a dimension known only at run time (e.g. 'N'). */
export type Dim = number | string;
export type Shape = Dim[];

export type AttrValue = number | string | number[] | string[] | Tensor | { float: number };

export interface Tensor {
  dtype: DType;
  dims: number[];
  data: AnyTypedArray;
}

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Shape;
}

export interface Node {
  op: string;
  name: string;
  inputs: string[]; // '' = omitted optional input
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** A graph in our own small IR; serialize.ts turns it into an ONNX ModelProto. */
export interface Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: Node[];
  initializers: Map<string, Tensor>;
  /** Every value's type and shape, as inferred while building. */
  values: Map<string, ValueInfo>;
  metadata: Record<string, string>;
}

export function numel(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

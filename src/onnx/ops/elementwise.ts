import { ONNX_DTYPE, type DType } from '../dtype.js';
import { Value } from '../builder.js';
import { broadcastShapes } from './broadcast.js';

type Operand = Value | number;

/** Lifts plain numbers to scalar constants of the other operand's type. */
function lift(a: Operand, b: Operand): [Value, Value] {
  if (a instanceof Value && b instanceof Value) return [a, b];
  if (a instanceof Value) return [a, a.b.scalar(b as number, a.dtype)];
  if (b instanceof Value) return [b.b.scalar(a as number, b.dtype), b];
  throw new Error('at least one operand must be a graph value');
}

function binary(op: string, a: Operand, b: Operand, outDtype?: DType): Value {
  const [x, y] = lift(a, b);
  if (x.dtype !== y.dtype)
    throw new Error(`${op}: dtype mismatch ${x.name}:${x.dtype} vs ${y.name}:${y.dtype}`);
  return x.b.node(op, [x, y], {}, [
    { dtype: outDtype ?? x.dtype, shape: broadcastShapes(x.shape, y.shape) },
  ])[0];
}

export const add = (a: Operand, b: Operand) => binary('Add', a, b);
export const sub = (a: Operand, b: Operand) => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand) => binary('Mul', a, b);
export const div = (a: Operand, b: Operand) => binary('Div', a, b);
export const pow = (a: Operand, b: Operand) => binary('Pow', a, b);
export const max = (a: Operand, b: Operand) => binary('Max', a, b);
export const min = (a: Operand, b: Operand) => binary('Min', a, b);
export const greater = (a: Operand, b: Operand) => binary('Greater', a, b, 'bool');
export const less = (a: Operand, b: Operand) => binary('Less', a, b, 'bool');
export const equal = (a: Operand, b: Operand) => binary('Equal', a, b, 'bool');
export const and = (a: Value, b: Value) => binary('And', a, b, 'bool');

/** PRelu with ONNX's unidirectional broadcast of the slope to x. */
export function prelu(x: Value, slope: Value): Value {
  broadcastShapes(x.shape, slope.shape);
  return x.b.node('PRelu', [x, slope], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
}

function unary(op: string, x: Value, attrs = {}): Value {
  return x.b.node(op, [x], attrs, [{ dtype: x.dtype, shape: x.shape }])[0];
}

export const relu = (x: Value) => unary('Relu', x);
export const sigmoid = (x: Value) => unary('Sigmoid', x);
export const neg = (x: Value) => unary('Neg', x);
export const exp = (x: Value) => unary('Exp', x);
export const log = (x: Value) => unary('Log', x);
export const sqrt = (x: Value) => unary('Sqrt', x);
export const abs = (x: Value) => unary('Abs', x);
export const reciprocal = (x: Value) => unary('Reciprocal', x);
export const identity = (x: Value) => unary('Identity', x);
export const not = (x: Value) => unary('Not', x);
export const erf = (x: Value) => unary('Erf', x);

/**
 * Exact GELU as PyTorch's nn.GELU() default: 0.5 x (1 + erf(x / sqrt 2)). Written from Erf (opset
 * 13), not opset 20's Gelu, so every graph stays at opset 18 (ORT's CPU and WebGPU providers and
 * onnxruntime-web run Erf). ORT's CPU optimiser fuses this chain into one kernel where its
 * intermediate values have no other consumer (inference graphs).
 */
export function gelu(x: Value): Value {
  return mul(mul(x, add(erf(div(x, Math.SQRT2)), 1)), 0.5);
}

export function cast(x: Value, to: DType): Value {
  return x.b.node('Cast', [x], { to: ONNX_DTYPE[to] }, [{ dtype: to, shape: x.shape }])[0];
}

export function where(cond: Value, a: Value, b: Value): Value {
  if (a.dtype !== b.dtype) throw new Error(`Where: dtype mismatch ${a.dtype} vs ${b.dtype}`);
  return a.b.node('Where', [cond, a, b], {}, [
    { dtype: a.dtype, shape: broadcastShapes(cond.shape, a.shape, b.shape) },
  ])[0];
}

/**
 * n-ary sum as a balanced tree of Adds. Not ONNX's Sum: ORT's WebGPU EP has no Sum kernel and
 * would run each one on the CPU with two device copies; for two or three terms (what gradient
 * accumulation sums) an Add tree costs the same on the CPU. See sumOp for many terms.
 */
export function sum(xs: Value[]): Value {
  if (!xs.length) throw new Error('sum of no values');
  let level = xs;
  while (level.length > 1) {
    const next: Value[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? add(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}

/**
 * n-ary sum as one ONNX Sum: a single pass over all terms, where an Add tree writes n - 1
 * temporaries. For CPU-only forms (shiftedTapsConv's 27 taps); the WebGPU EP has no Sum kernel.
 */
export function sumOp(xs: Value[]): Value {
  if (xs.length < 2) return sum(xs);
  const shape = broadcastShapes(...xs.map((x) => x.shape));
  return xs[0].b.node('Sum', xs, {}, [{ dtype: xs[0].dtype, shape }])[0];
}

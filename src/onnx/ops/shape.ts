import type { DType } from '../dtype.js';
import type { Dim, Shape } from '../ir.js';
import { makeArray, Value } from '../builder.js';
import { broadcastShapes } from './broadcast.js';

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/**
 * Reshape to a target whose symbolic dims (e.g. 'N') must sit where the input has the same
 * symbol (encoded as 0 = copy) or be the single inferred axis (-1).
 */
export function reshape(x: Value, target: Shape): Value {
  let inferred = 0;
  const spec = target.map((d, i) => {
    if (typeof d === 'number') return d;
    if (x.shape[i] === d) return 0;
    inferred++;
    return -1;
  });
  if (inferred > 1) throw new Error(`reshape ${x.name}: more than one symbolic target dim in [${target}]`);
  return x.b.node('Reshape', [x, x.b.vector(spec)], {}, [{ dtype: x.dtype, shape: target }])[0];
}

export function transpose(x: Value, perm: number[]): Value {
  return x.b.node('Transpose', [x], { perm }, [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }])[0];
}

export function concat(xs: Value[], axis: number): Value {
  const rank = xs[0].rank;
  const a = normAxis(axis, rank);
  const shape: Dim[] = [...xs[0].shape];
  let total = 0;
  for (const x of xs) {
    const d = x.shape[a];
    if (typeof d !== 'number') throw new Error(`concat along symbolic axis of ${x.name}`);
    total += d;
  }
  shape[a] = total;
  return xs[0].b.node('Concat', xs, { axis: a }, [{ dtype: xs[0].dtype, shape }])[0];
}

/** Slice with static starts/ends (clamped like ONNX) on the given axes. */
export function slice(x: Value, starts: number[], ends: number[], axes: number[], steps?: number[]): Value {
  const shape: Dim[] = [...x.shape];
  axes.forEach((ax, i) => {
    const a = normAxis(ax, x.rank);
    const n = x.shape[a];
    if (typeof n !== 'number') throw new Error(`slice along symbolic axis of ${x.name}`);
    const step = steps?.[i] ?? 1;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    if (step > 0) {
      const s = clamp(starts[i], 0, n);
      const e = clamp(ends[i], 0, n);
      shape[a] = Math.max(0, Math.ceil((e - s) / step));
    } else {
      const s = clamp(starts[i], -1, n - 1);
      const e = clamp(ends[i], -1, n - 1);
      shape[a] = Math.max(0, Math.ceil((s - e) / -step));
    }
  });
  const b = x.b;
  const inputs = [x, b.vector(starts), b.vector(ends), b.vector(axes.map((a) => normAxis(a, x.rank)))];
  if (steps) inputs.push(b.vector(steps));
  return b.node('Slice', inputs, {}, [{ dtype: x.dtype, shape }])[0];
}

/** Constant-mode pad; `pads` = [begin_0..begin_{r-1}, end_0..end_{r-1}] (ONNX order). */
export function pad(x: Value, pads: number[], value = 0): Value {
  const r = x.rank;
  const shape = x.shape.map((d, i) => (typeof d === 'number' ? d + pads[i] + pads[i + r] : d));
  if (x.shape.some((d, i) => typeof d !== 'number' && (pads[i] !== 0 || pads[i + r] !== 0)))
    throw new Error(`pad of a symbolic axis of ${x.name}`);
  return x.b.node('Pad', [x, x.b.vector(pads), x.b.scalar(value, x.dtype)], { mode: 'constant' }, [
    { dtype: x.dtype, shape },
  ])[0];
}

function reduce(op: string, x: Value, axes: number[], keepdims: boolean): Value {
  const ax = axes.map((a) => normAxis(a, x.rank));
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!ax.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return x.b.node(op, [x, x.b.vector(ax)], { keepdims: keepdims ? 1 : 0 }, [{ dtype: x.dtype, shape }])[0];
}

export const reduceSum = (x: Value, axes: number[], keepdims = true) =>
  reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Value, axes: number[], keepdims = true) =>
  reduce('ReduceMean', x, axes, keepdims);
export const reduceSumSquare = (x: Value, axes: number[], keepdims = true) =>
  reduce('ReduceSumSquare', x, axes, keepdims);
export const reduceMax = (x: Value, axes: number[], keepdims = true) =>
  reduce('ReduceMax', x, axes, keepdims);

export function unsqueeze(x: Value, axes: number[]): Value {
  const rank = x.rank + axes.length;
  const ax = axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
  const shape: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : x.shape[k++]);
  return x.b.node('Unsqueeze', [x, x.b.vector(ax)], {}, [{ dtype: x.dtype, shape }])[0];
}

export function squeeze(x: Value, axes: number[]): Value {
  const ax = axes.map((a) => normAxis(a, x.rank));
  for (const a of ax) if (x.shape[a] !== 1) throw new Error(`squeeze axis ${a} of ${x.name} is not 1`);
  const shape = x.shape.filter((_, i) => !ax.includes(i));
  return x.b.node('Squeeze', [x, x.b.vector(ax)], {}, [{ dtype: x.dtype, shape }])[0];
}

/** ONNX Gather: out shape = data[:axis] + indices.shape + data[axis+1:]. */
export function gather(x: Value, indices: Value, axis: number): Value {
  const a = normAxis(axis, x.rank);
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return x.b.node('Gather', [x, indices], { axis: a }, [{ dtype: x.dtype, shape }])[0];
}

/** GatherElements: out has the indices' shape. */
export function gatherElements(x: Value, indices: Value, axis: number): Value {
  return x.b.node('GatherElements', [x, indices], { axis: normAxis(axis, x.rank) }, [
    { dtype: x.dtype, shape: indices.shape },
  ])[0];
}

/** ScatterElements; reduction 'add' sums updates that meet at one index (gradients of gathers). */
export function scatterElements(
  data: Value,
  indices: Value,
  updates: Value,
  axis: number,
  reduction: 'none' | 'add' = 'none',
): Value {
  const attrs = { axis: normAxis(axis, data.rank), ...(reduction === 'none' ? {} : { reduction }) };
  return data.b.node('ScatterElements', [data, indices, updates], attrs, [
    { dtype: data.dtype, shape: data.shape },
  ])[0];
}

export function shapeOf(x: Value): Value {
  return x.b.node('Shape', [x], {}, [{ dtype: 'int64', shape: [x.rank] }])[0];
}

/** A tensor filled with `value` whose shape is x's shape (works with symbolic dims). */
export function fullLike(x: Value, value: number, dtype: DType = x.dtype): Value {
  const t = { dtype, dims: [1], data: makeArray(dtype, [value]) };
  return x.b.node('ConstantOfShape', [shapeOf(x)], { value: t }, [{ dtype, shape: x.shape }])[0];
}

/** Broadcast x to the shape of `like` (works with symbolic dims). */
export function expandAs(x: Value, like: Value): Value {
  return x.b.node('Expand', [x, shapeOf(like)], {}, [{ dtype: x.dtype, shape: like.shape }])[0];
}

/** Nearest-neighbour up-sampling by integer factors on the trailing spatial axes. */
export function resizeNearest(x: Value, scales: number[]): Value {
  const shape = x.shape.map((d, i) => (typeof d === 'number' ? d * scales[i] : d));
  const b = x.b;
  return b.node(
    'Resize',
    [x, null, b.constant(Float32Array.from(scales), 'float32', [scales.length], 'scales')],
    { mode: 'nearest', nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' },
    [{ dtype: x.dtype, shape }],
  )[0];
}

/**
 * MatMul with numpy's semantics for operands of rank 2 or more: [..., M, K] x [..., K, N] ->
 * [..., M, N], the leading (batch) axes broadcast (e.g. attention's [B, H, N, D] x [B, H, D, N],
 * a Linear layer's [B, N, C] x [C, D]).
 */
export function matmul(a: Value, bv: Value): Value {
  if (a.rank < 2 || bv.rank < 2)
    throw new Error(
      `matmul ${a.name} x ${bv.name}: operands of rank 2 or more only (got ${a.rank}, ${bv.rank})`,
    );
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = bv.shape.slice(-2);
  if (k !== k2) throw new Error(`matmul ${a.name} x ${bv.name}: inner dims ${k} vs ${k2}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), bv.shape.slice(0, -2));
  return a.b.node('MatMul', [a, bv], {}, [{ dtype: a.dtype, shape: [...batch, m, n] }])[0];
}

/**
 * DepthToSpace in DCR mode on [N, C*b*b, H, W] -> [N, C, H*b, W*b]: input channel
 * (i*b + j)*C + c lands at row h*b + i, column w*b + j. DCR, because SpaceToDepth is its inverse.
 */
export function depthToSpace(x: Value, block: number): Value {
  if (x.rank !== 4 || x.dim(1) % (block * block) !== 0)
    throw new Error(`depthToSpace ${x.name}: needs [N, C*${block * block}, H, W], got [${x.shape}]`);
  const [n, c, h, w] = x.shape;
  const shape = [
    n,
    (c as number) / block ** 2,
    ...[h, w].map((d) => (typeof d === 'number' ? d * block : d)),
  ];
  return x.b.node('DepthToSpace', [x], { blocksize: block, mode: 'DCR' }, [{ dtype: x.dtype, shape }])[0];
}

/**
 * SpaceToDepth on [N, C, H*b, W*b] -> [N, C*b*b, H, W]: the inverse of depthToSpace, as ONNX's
 * SpaceToDepth or as Reshape/Transpose/Reshape (ORT's WebGPU EP has no SpaceToDepth kernel).
 */
export function spaceToDepth(x: Value, block: number, form: 'op' | 'reshape-transpose' = 'op'): Value {
  if (x.rank !== 4 || x.dim(2) % block !== 0 || x.dim(3) % block !== 0)
    throw new Error(`spaceToDepth ${x.name}: needs [N, C, H*${block}, W*${block}], got [${x.shape}]`);
  const [n, c, h, w] = x.shape.map((d, i) => (i === 0 ? d : Number(d)));
  const [ho, wo] = [(h as number) / block, (w as number) / block];
  if (form === 'op')
    return x.b.node('SpaceToDepth', [x], { blocksize: block }, [
      { dtype: x.dtype, shape: [n, (c as number) * block * block, ho, wo] },
    ])[0];
  const split6 = reshape(x, [n, c, ho, block, wo, block]);
  // channel (i*b + j)*C + c, as DepthToSpace (DCR) reads it back
  return reshape(transpose(split6, [0, 3, 5, 1, 2, 4]), [n, (c as number) * block * block, ho, wo]);
}

/** Split along `axis` into pieces of the given sizes (they must add up to the axis length). */
export function split(x: Value, axis: number, sizes: number[]): Value[] {
  const a = normAxis(axis, x.rank);
  if (sizes.reduce((s, v) => s + v, 0) !== x.dim(a))
    throw new Error(`split ${x.name}: sizes ${sizes} do not add up to ${x.dim(a)}`);
  const outs = sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? n : d)) }));
  return x.b.node('Split', [x, x.b.vector(sizes)], { axis: a }, outs);
}

// MaxPool: each output gradient goes to the first input element (in kernel scan order) that holds
// the window's maximum, as PyTorch and ORT's Indices output route it. Two exact forms
// (src/onnx/forms.ts says which backend takes which):
//  - 'indices': MaxPool's Indices output (flat positions into the whole input) and one
//    ScatterElements add (overlapping windows may pick one element twice). Fastest on the CPU.
//  - 'first-max-mask': no Indices output and no scatter (ORT's WebGPU EP has no Indices). For
//    every kernel offset o the strided view x[o + s*w] is compared with the pooled y[w]; a
//    running "taken" mask keeps only the first match per window (ties are common: a constant black
//    background pools to equal values). The selected g[w] are placed back at o + s*w: offsets
//    sharing a phase (o mod s) land on one coarse grid (shifted by o div s), and the s^d phase
//    grids interleave into the fine grid by one Reshape/Transpose/Reshape. Only Pad, Slice, Equal,
//    Cast, arithmetic, Concat, Reshape and Transpose, which all run on the WebGPU EP.
import type { Value } from '../../onnx/builder.js';
import { numel } from '../../onnx/ir.js';
import {
  add,
  cast,
  concat,
  equal,
  fillConvOpts,
  fullLike,
  mul,
  pad,
  reshape,
  scatterElements,
  slice,
  sub,
  transpose,
  unsqueeze,
} from '../../onnx/ops/index.js';
import { registerVjp, type VjpContext } from '../registry.js';

registerVjp('MaxPool', (ctx) => {
  const { node, attr, forms } = ctx;
  if (attr<number>('ceil_mode', 0) !== 0)
    throw new Error(`MaxPool ${node.name}: gradient for ceil_mode 0 only`);
  return [() => (forms.maxPoolGrad === 'indices' ? viaIndices(ctx) : viaFirstMaxMask(ctx))];
});

function viaIndices({ b, node, inputs: [x], outputs: [y], g }: VjpContext): Value {
  const indices = node.outputs[1]
    ? b.value(node.outputs[1])
    : b.addNodeOutput(node, 1, { dtype: 'int64', shape: y.shape });
  const zeros = reshape(fullLike(x, 0), [-1]);
  return reshape(scatterElements(zeros, reshape(indices, [-1]), reshape(g, [-1]), 0, 'add'), x.shape);
}

function viaFirstMaxMask({ node, inputs: [x], outputs: [y], g, attr }: VjpContext): Value {
  if (node.outputs[1])
    throw new Error(`MaxPool ${node.name}: the mask-form gradient needs no Indices output`);
  const kernel = attr<number[]>('kernel_shape');
  const o = fillConvOpts(x.rank, {
    strides: attr<number[]>('strides', kernel),
    pads: node.attrs.pads as number[],
  });
  return maxPoolGrad(x, y, g, kernel, o.strides, o.pads);
}

function maxPoolGrad(x: Value, y: Value, g: Value, k: number[], s: number[], pads: number[]): Value {
  const d = k.length;
  const axes = k.map((_, i) => i + 2);
  const outSize = axes.map((a) => y.dim(a));
  if (k.some((kk, i) => kk < s[i])) throw new Error(`MaxPool gradient: kernel ${k} smaller than stride ${s}`);
  const xp = pads.some((p) => p !== 0)
    ? pad(x, [0, 0, ...pads.slice(0, d), 0, 0, ...pads.slice(d)], -Infinity)
    : x;

  // Kernel offsets in scan order (last axis fastest), each with its one-hot share of g.
  const offsets = Array.from({ length: numel(k) }, (_, t) =>
    k.map((_, i) => Math.floor(t / numel(k.slice(i + 1))) % k[i]),
  );
  let taken: Value | null = null;
  const routed = offsets.map((off, t) => {
    const view = slice(
      xp,
      off,
      off.map((v, i) => v + (outSize[i] - 1) * s[i] + 1),
      axes,
      s,
    );
    const hit = cast(equal(view, y), y.dtype);
    const first: Value = taken ? sub(hit, mul(hit, taken)) : hit;
    if (t < offsets.length - 1) taken = taken ? add(taken, first) : first;
    return { off, share: mul(first, g) };
  });

  // Coarse grid per phase: the shares of its offsets, each shifted by o div s, added up.
  const reach = k.map((kk, i) => Math.ceil(kk / s[i]));
  const phases = Array.from({ length: numel(s) }, (_, t) =>
    s.map((_, i) => Math.floor(t / numel(s.slice(i + 1))) % s[i]),
  );
  const grids = phases.map((ph) => {
    const terms = routed
      .filter(({ off }) => off.every((v, i) => v % s[i] === ph[i]))
      .map(({ off, share }) => {
        const q = off.map((v, i) => Math.floor(v / s[i]));
        return pad(share, [0, 0, ...q, 0, 0, ...q.map((qq, i) => reach[i] - 1 - qq)]);
      });
    return terms.reduce((acc, t) => add(acc, t));
  });
  // Interleave: [N, C, phases.., J..] -> [N, C, J0, s0, J1, s1, ..] -> fine grid [N, C, J0*s0, ..].
  const [n, c] = [x.shape[0], x.dim(1)];
  const coarse = grids[0].shape.slice(2).map(Number);
  const stacked = reshape(
    concat(
      grids.map((gr) => unsqueeze(gr, [2])),
      2,
    ),
    [n, c, ...s, ...coarse],
  );
  const perm = [0, 1, ...k.flatMap((_, i) => [2 + d + i, 2 + i])];
  const fine = reshape(transpose(stacked, perm), [n, c, ...coarse.map((j, i) => j * s[i])]);
  // Back to x's extent: drop the leading pad, pad positions no window reached (zero gradient).
  const inSize = axes.map((a) => x.dim(a));
  const short = inSize.map((v, i) => Math.max(0, pads[i] + v - coarse[i] * s[i]));
  const full = short.some((v) => v > 0) ? pad(fine, [0, 0, ...short.map(() => 0), 0, 0, ...short]) : fine;
  if (pads.every((p) => p === 0) && full.shape.every((v, i) => v === x.shape[i])) return full;
  return slice(
    full,
    pads.slice(0, d),
    inSize.map((v, i) => pads[i] + v),
    axes,
  );
}

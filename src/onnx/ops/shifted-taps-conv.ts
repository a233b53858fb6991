// A convolution with very few output channels (the full UNet3D's last 32 -> 1 conv) runs
// at ~8 GFLOP/s in ORT's Conv, a tenth of its rate for 16 outputs: the im2col GEMM has one row.
// Turned around, the same sum is one 1x1 Conv to K*Cout channels (one per kernel tap, a GEMM with
// K*Cout rows) and a sum of K shifted single-tap maps; on the zero-padded grid flattened to one
// axis every shift is a contiguous flat offset, so each tap is one Split piece and one Slice,
// and the taps add up in one Sum. (Slicing each tap straight from the whole z would make every
// Slice's gradient a Pad to z's full size, 27 of them added up: ~250 ms more per full 3d_unet
// train step on the CPU.) About 2x faster than Conv for 32 -> 1 at 1x32x32x112x112, equal to
// ~5e-6 (summation order). A CPU form: the WebGPU EP has no Sum kernel and binds at most 16
// buffers per shader (a 27-way Split), so src/onnx/forms.ts never picks it for WebGPU.
import type { Value } from '../builder.js';
import { numel } from '../ir.js';
import { fillConvOpts, type ConvOpts } from './nn.js';
import { add, sum, sumOp } from './elementwise.js';
import { pad, reshape, slice, split, transpose } from './shape.js';

/**
 * How the taps are cut and added. 'split-sum': one Split into the taps, one Slice of each piece,
 * one ONNX Sum (the form to differentiate: each Slice's gradient pads only its own piece). 'slice-add':
 * each tap sliced straight from the 1x1 conv's output and added by a tree of Adds, so no node binds
 * more than three buffers and the WebGPU provider runs it (docs/performance.md#single-output-channel-convs).
 */
export type ShiftedTapsCut = 'split-sum' | 'slice-add';

/** Conv(x, w, bias) for stride 1, dilation 1, group 1, computed as a sum of shifted taps. */
export function shiftedTapsConv(
  x: Value,
  w: Value,
  bias: Value | null,
  opts: ConvOpts = {},
  cut: ShiftedTapsCut = 'split-sum',
): Value {
  const o = fillConvOpts(x.rank, opts);
  if (o.group !== 1 || o.strides.some((v) => v !== 1) || o.dilations.some((v) => v !== 1))
    throw new Error(`shiftedTapsConv ${w.name}: stride 1, dilation 1 and group 1 only`);
  const s = x.rank - 2;
  const [cout, cin] = [w.dim(0), w.dim(1)];
  if (x.dim(1) !== cin)
    throw new Error(`shiftedTapsConv ${w.name}: input has ${x.dim(1)} channels, weight expects ${cin}`);
  const k = w.shape.slice(2).map(Number);
  const taps = numel(k);
  const padded = k.map((_, i) => x.dim(2 + i) + o.pads[i] + o.pads[i + s]);
  const out = padded.map((p, i) => p - k[i] + 1);
  const st = padded.map((_, i) => numel(padded.slice(i + 1)));
  const n = x.shape[0];
  // Flat positions covering every output (its top-left corner on the padded grid).
  const len = out.reduce((a, v, i) => a + (v - 1) * st[i], 0) + 1;

  // w [Cout, Cin, K..] -> [K*Cout, Cin, 1..]: channel tap*Cout + c of z is tap `tap` of output c.
  const perTap = reshape(transpose(reshape(w, [cout, cin, taps]), [2, 0, 1]), [
    taps * cout,
    cin,
    ...k.map(() => 1),
  ]);
  // A 1x1 Conv with the conv's pads yields z on the padded grid (zeros on the border: no bias).
  const z = x.b.node(
    'Conv',
    [x, perTap],
    { kernel_shape: k.map(() => 1), pads: o.pads, strides: o.strides, dilations: o.dilations, group: 1 },
    [{ dtype: x.dtype, shape: [n, taps * cout, ...padded] }],
  )[0];
  const zFlat = reshape(z, [n, taps * cout, numel(padded)]);
  const offset = (tap: number) =>
    k.reduce((a, kk, i) => a + (Math.floor(tap / numel(k.slice(i + 1))) % kk) * st[i], 0);
  let summed: Value;
  if (cut === 'split-sum') {
    const pieces = split(zFlat, 1, Array(taps).fill(cout));
    summed = sumOp(pieces.map((piece, tap) => slice(piece, [offset(tap)], [offset(tap) + len], [2])));
  } else {
    const shifted = Array.from({ length: taps }, (_, tap) =>
      slice(zFlat, [tap * cout, offset(tap)], [(tap + 1) * cout, offset(tap) + len], [1, 2]),
    );
    summed = sum(shifted);
  }
  // Back from flat positions to [N, Cout, out..]: pad to whole rows of the padded grid, cut.
  const flat = pad(summed, [0, 0, 0, 0, 0, out[0] * st[0] - len]);
  const grid = reshape(flat, [n, cout, out[0], ...padded.slice(1)]);
  const y = slice(
    grid,
    out.slice(1).map(() => 0),
    out.slice(1),
    out.slice(1).map((_, i) => i + 3),
  );
  return bias ? add(y, reshape(bias, [1, cout, ...k.map(() => 1)])) : y;
}

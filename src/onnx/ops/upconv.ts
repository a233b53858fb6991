// The decoder's stride-2 up-convolution without ConvTranspose: ORT's CPU ConvTranspose runs at
// ~9 GFLOP/s while one Conv to 2^s * Cout channels plus a depth-to-space rearrangement does the
// same work in a third of the time (design.md). Everything here is Slice/Concat/Pad/Reshape/
// Transpose/Conv, so the existing VJP rules differentiate it (w stays a trainable graph input).
import { Value } from '../builder.js';
import { conv, fillConvOpts, type ConvOpts } from './nn.js';
import { concat, pad, reshape, slice, transpose } from './shape.js';

/**
 * Per spatial axis of ConvTranspose(k=3, s=2, p=1, output_padding=1):
 *   y[2m]   = x[m]·w[1]
 *   y[2m+1] = x[m]·w[2] + x[m+1]·w[0]   (x[m+1] = 0 past the end)
 * i.e. a kernel-2 Conv over the end-padded input with the two phase kernels [w1, 0] and [w2, w0].
 * Rewrites axis `a` (length 3) of w into length 4 = (phase, tap): [w1, 0, w2, w0].
 */
function phaseTaps(w: Value, a: number): Value {
  const tap = (i: number) => slice(w, [i], [i + 1], [a]);
  const zeroEnd = Array(2 * w.rank).fill(0);
  zeroEnd[w.rank + a] = 1;
  return concat([pad(tap(1), zeroEnd), tap(2), tap(0)], a);
}

/**
 * Exactly torch.nn.ConvTranspose{2,3}d(k=3, stride=2, padding=1, output_padding=1) (doubles every
 * spatial dim), with the weight in the UPSTREAM ConvTranspose layout w [Cin, Cout, k, k(, k)] and
 * bias [Cout], but computed without ConvTranspose: the sub-pixel form (one Conv with kernel 2 per
 * axis to 2^s * Cout channels on the end-padded input, then a depth-to-space rearrangement by
 * Reshape/Transpose). The 2^s phase kernels are assembled inside the graph from w
 * (Slice/Concat/Pad/Transpose of w), so w stays the trainable graph input and its gradient flows
 * through ordinary ops.
 */
export function upConvStride2(x: Value, w: Value, bias: Value | null): Value {
  const s = x.rank - 2;
  if (s !== 2 && s !== 3) throw new Error(`upConvStride2 ${x.name}: 2 or 3 spatial axes, got ${s}`);
  if (w.rank !== x.rank || w.shape.slice(2).some((k) => k !== 3))
    throw new Error(`upConvStride2 ${w.name}: weight must be [Cin, Cout, ${Array(s).fill(3).join(', ')}]`);
  const cin = w.dim(0);
  const cout = w.dim(1);
  if (x.dim(1) !== cin) throw new Error(`upConvStride2: input has ${x.dim(1)} channels, weight expects ${cin}`);
  const phases = 2 ** s;
  const spatial = Array.from({ length: s }, (_, i) => 2 + i);
  const b = x.b;

  return b.scope('upconv', () => {
    // w [Cin, Cout, 3..] -> [Cin, Cout, 4..] -> [Cin, Cout, (phase, tap)..] -> [Cout, phase.., Cin, tap..]
    let k = w;
    for (const a of spatial) k = phaseTaps(k, a);
    k = reshape(k, [cin, cout, ...spatial.flatMap(() => [2, 2])]);
    k = transpose(k, [1, ...spatial.map((_, i) => 2 + 2 * i), 0, ...spatial.map((_, i) => 3 + 2 * i)]);
    // Output channel c * 2^s + phase index: Cout outermost, so depth-to-space keeps channels contiguous.
    k = reshape(k, [cout * phases, cin, ...spatial.map(() => 2)]);

    // The bias of channel c serves all of its 2^s phase channels.
    const biasPhased = bias ? reshape(concat(Array(phases).fill(reshape(bias, [cout, 1])), 1), [cout * phases]) : null;

    const sizes = spatial.map((a) => x.dim(a));
    const y = conv(x, k, biasPhased, { pads: [...spatial.map(() => 0), ...spatial.map(() => 1)] });
    // [N, Cout*2^s, S..] -> [N, Cout, 2.., S..] -> [N, Cout, (S_i, 2)..] -> [N, Cout, 2S..]
    const split = reshape(y, [x.shape[0], cout, ...spatial.map(() => 2), ...sizes]);
    const inter = transpose(split, [0, 1, ...spatial.flatMap((_, i) => [2 + s + i, 2 + i])]);
    return reshape(inter, [x.shape[0], cout, ...sizes.map((n) => 2 * n)]);
  });
}

/**
 * A plain ONNX ConvTranspose: x [N, C, *S], w [C, M/group, *K], optional bias [M]; output size per
 * axis (S-1)*stride - pads + dilation*(K-1) + 1 + output_padding. Slow on ORT's CPU provider
 * (prefer upConvStride2); here for models imported as-is, references in tests, and benchmarks.
 */
export function convTranspose(x: Value, w: Value, bias: Value | null, opts: ConvOpts & { outputPadding?: number[] } = {}): Value {
  const o = fillConvOpts(x.rank, opts);
  const s = x.rank - 2;
  const outputPadding = opts.outputPadding ?? Array(s).fill(0);
  const k = w.shape.slice(2).map(Number);
  if (x.dim(1) !== w.dim(0)) throw new Error(`convTranspose ${w.name}: input has ${x.dim(1)} channels, weight expects ${w.dim(0)}`);
  const spatial = k.map((kk, i) => (x.dim(2 + i) - 1) * o.strides[i] - o.pads[i] - o.pads[i + s] + o.dilations[i] * (kk - 1) + 1 + outputPadding[i]);
  const attrs = { ...o, kernel_shape: k, output_padding: outputPadding };
  return x.b.node('ConvTranspose', bias ? [x, w, bias] : [x, w], attrs, [{ dtype: x.dtype, shape: [x.shape[0], w.dim(1) * o.group, ...spatial] }])[0];
}

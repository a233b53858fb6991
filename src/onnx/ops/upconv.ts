// The decoder's stride-2 up-convolution without ConvTranspose: ORT's CPU ConvTranspose runs at
// ~9 GFLOP/s while one Conv to 2^s * Cout channels plus a depth-to-space rearrangement does the
// same work in a third of the time (docs/performance.md#sub-pixel-up-convolution). Everything here is
// MatMul/Concat/Reshape/ Transpose/DepthToSpace/Conv, so the existing VJP rules differentiate it (w stays a
// trainable graph input).
import { Value } from '../builder.js';
import { conv, fillConvOpts, type ConvOpts } from './nn.js';
import { concat, depthToSpace, matmul, reshape, transpose } from './shape.js';

/**
 * Per spatial axis of ConvTranspose(k=3, s=2, p=1, output_padding=1):
 *   y[2m]   = x[m]·w[1]
 *   y[2m+1] = x[m]·w[2] + x[m+1]·w[0]   (x[m+1] = 0 past the end)
 * i.e. a kernel-2 Conv over the end-padded input with the phase kernels [w1, 0] (phase 0) and
 * [w2, w0] (phase 1): TAP_OF[phase * 2 + tap] is the index into w, -1 a zero.
 */
const TAP_OF = [1, -1, 2, 0];

/**
 * The 0/1 matrix S [3^s, 4^s] that maps w's taps to every (phase, tap) slot of the sub-pixel
 * kernel: (w as [Cout*Cin, 3^s]) · S puts w's tap in each slot that uses it and 0 in the rest,
 * exactly (one product by 1 plus zeros per slot). Column = phase * 2^s + tap; phases are ordered
 * with the last two spatial axes first (what DepthToSpace interleaves) and the leading one (T) last;
 * taps in kernel-axis order. One MatMul (and its transpose for the gradient) is ~5x faster in ORT
 * than assembling the kernel from Slice/Pad/Concat and an 8-D Transpose.
 */
function phaseSelection(s: number): Float32Array {
  const rows = 3 ** s;
  const cols = 4 ** s;
  const sel = new Float32Array(rows * cols);
  const phaseAxes = s === 3 ? [1, 2, 0] : [0, 1];
  for (let phase = 0; phase < 2 ** s; phase++) {
    for (let tap = 0; tap < 2 ** s; tap++) {
      let row = 0;
      let zero = false;
      for (let a = 0; a < s; a++) {
        const p = (phase >> (s - 1 - phaseAxes.indexOf(a))) & 1;
        const t = (tap >> (s - 1 - a)) & 1;
        const k = TAP_OF[p * 2 + t];
        zero ||= k < 0;
        row = row * 3 + Math.max(k, 0);
      }
      if (!zero) sel[row * cols + phase * 2 ** s + tap] = 1;
    }
  }
  return sel;
}

/**
 * Exactly torch.nn.ConvTranspose{2,3}d(k=3, stride=2, padding=1, output_padding=1) (doubles every
 * spatial dim), with the weight in the UPSTREAM ConvTranspose layout w [Cin, Cout, k, k(, k)] and
 * bias [Cout], but computed without ConvTranspose: the sub-pixel form (one Conv with kernel 2 per
 * axis to 2^s * Cout channels on the end-padded input, then a depth-to-space rearrangement). The
 * phase kernels are assembled inside the graph from w by one MatMul with a constant 0/1 matrix, so
 * w stays the trainable graph input and its gradient flows through ordinary ops.
 * Depth-to-space: DepthToSpace (DCR) interleaves H and W, with T folded into H; in 3-D the T
 * phases then swap with T in a Transpose that moves whole 2Hx2W planes (cheap): together ~40%
 * faster than one 8-D Transpose, and DepthToSpace's gradient is SpaceToDepth.
 */
export function upConvStride2(x: Value, w: Value, bias: Value | null): Value {
  const s = x.rank - 2;
  if (s !== 2 && s !== 3) throw new Error(`upConvStride2 ${x.name}: 2 or 3 spatial axes, got ${s}`);
  if (w.rank !== x.rank || w.shape.slice(2).some((k) => k !== 3))
    throw new Error(`upConvStride2 ${w.name}: weight must be [Cin, Cout, ${Array(s).fill(3).join(', ')}]`);
  const cin = w.dim(0);
  const cout = w.dim(1);
  if (x.dim(1) !== cin)
    throw new Error(`upConvStride2: input has ${x.dim(1)} channels, weight expects ${cin}`);
  const phases = 2 ** s;
  const spatial = Array.from({ length: s }, (_, i) => 2 + i);
  const b = x.b;

  return b.scope('upconv', () => {
    // w [Cin, Cout, 3..] -> [Cout*Cin, 3^s] · S -> [Cout, Cin, phase, tap] -> [phase, Cout, Cin, tap]
    const wt = reshape(transpose(reshape(w, [cin, cout, 3 ** s]), [1, 0, 2]), [cout * cin, 3 ** s]);
    const slots = matmul(wt, b.constant(phaseSelection(s), 'float32', [3 ** s, 4 ** s], 'phase_selection'));
    const k = reshape(transpose(reshape(slots, [cout, cin, phases, phases]), [2, 0, 1, 3]), [
      phases * cout,
      cin,
      ...spatial.map(() => 2),
    ]);
    // Output channel = phase * Cout + c: the bias of channel c serves all of its phases.
    const biasPhased = bias ? concat(Array(phases).fill(bias), 0) : null;

    const n = x.shape[0];
    const [t, h, wd] = s === 3 ? spatial.map((a) => x.dim(a)) : [1, x.dim(2), x.dim(3)];
    const y = conv(x, k, biasPhased, { pads: [...spatial.map(() => 0), ...spatial.map(() => 1)] });
    // [N, (phH, phW, phT, C), T*H, W] -> DCR -> [N, (phT, C), 2*T*H, 2W] = [N, phT, C, T, 4HW]
    const d2s = depthToSpace(reshape(y, [n, phases * cout, t * h, wd]), 2);
    if (s === 2) return reshape(d2s, [n, cout, 2 * h, 2 * wd]);
    const planes = transpose(reshape(d2s, [n, 2, cout, t, 4 * h * wd]), [0, 2, 3, 1, 4]);
    return reshape(planes, [n, cout, 2 * t, 2 * h, 2 * wd]);
  });
}

/**
 * A plain ONNX ConvTranspose: x [N, C, *S], w [C, M/group, *K], optional bias [M]; output size per
 * axis (S-1)*stride - pads + dilation*(K-1) + 1 + output_padding. Slow on ORT's CPU provider
 * (prefer upConvStride2); here for models imported as-is, references in tests, and benchmarks.
 */
export function convTranspose(
  x: Value,
  w: Value,
  bias: Value | null,
  opts: ConvOpts & { outputPadding?: number[] } = {},
): Value {
  const o = fillConvOpts(x.rank, opts);
  const s = x.rank - 2;
  const outputPadding = opts.outputPadding ?? Array(s).fill(0);
  const k = w.shape.slice(2).map(Number);
  if (x.dim(1) !== w.dim(0))
    throw new Error(`convTranspose ${w.name}: input has ${x.dim(1)} channels, weight expects ${w.dim(0)}`);
  const spatial = k.map(
    (kk, i) =>
      (x.dim(2 + i) - 1) * o.strides[i] -
      o.pads[i] -
      o.pads[i + s] +
      o.dilations[i] * (kk - 1) +
      1 +
      outputPadding[i],
  );
  const attrs = { ...o, kernel_shape: k, output_padding: outputPadding };
  return x.b.node('ConvTranspose', bias ? [x, w, bias] : [x, w], attrs, [
    { dtype: x.dtype, shape: [x.shape[0], w.dim(1) * o.group, ...spatial] },
  ])[0];
}

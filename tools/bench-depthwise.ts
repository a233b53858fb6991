/**
 * Depthwise convolution benchmark at UniFormer-S's shapes on a 512x512 super-image (stage 1:
 * 64 channels at 128x128, stage 2: 128 at 64x64, stage 3: 320 at 32x32, stage 4: 512 at 16x16;
 * 3x3 kernels everywhere, 5x5 in stages 1-2). For each shape, the forward and the two gradients in
 * the forms the Conv rule emits, against the alternatives it does not use:
 *  - forward: Conv(group = C) with the weight as a graph input (train graphs) or as an initializer
 *    (model.onnx: ORT's CPU optimiser turns it into its blocked NCHWc depthwise kernel), and the
 *    shifted-taps sum (one Slice and Mul per tap, one Sum);
 *  - input gradient: the rule's (a depthwise Conv with the flipped kernel);
 *  - weight gradient: the rule's (per-tap products for 3x3, shifted copies and a MatMul batched
 *    over the channels for 5x5), the other of those two, the per-group slabs of the general grouped
 *    rule, a grouped Conv over the batch axis with g as the kernel, every tap's shifted view stacked
 *    and contracted with g by a batched MatMul, and the same views cut by one Conv with constant
 *    one-hot kernels.
 * Every form of a quantity is checked equal to the first before timing. Graphs run on `threads`
 * intra-op threads, interleaved round-robin; medians of `runs` after a warm-up.
 * Run alone: `node dist/tools/bench-depthwise.js [runs] [batch] [shape,shape..] [threads]`.
 */
import { pathToFileURL } from 'node:url';
import { vjpContext } from '../src/autodiff/grad.js';
import { getVjp } from '../src/autodiff/registry.js';
import '../src/autodiff/rules/index.js';
import { depthwiseWeightGradient, groupedWeightGradient } from '../src/autodiff/rules/conv.js';
import { GraphBuilder, Value } from '../src/onnx/builder.js';
import type { Node } from '../src/onnx/ir.js';
import { numel } from '../src/onnx/ir.js';
import * as op from '../src/onnx/ops/index.js';
import { createSession, tensor, type Feeds } from '../src/onnx/runtime.js';
import { Rng } from '../src/util/rng.js';
import { timeInterleaved } from './bench-common.js';

export interface BenchDepthwiseOptions {
  runs?: number;
  threads?: number;
  /** batch size of the activations (1 = one super-image) */
  batch?: number;
  /** which of SHAPES to run (default all) */
  only?: string[];
}

/** [name, channels, side, kernel] of UniFormer-S's depthwise convs at a 512x512 input. */
export const SHAPES: [string, number, number, number][] = [
  ['stage1_3x3', 64, 128, 3],
  ['stage1_5x5', 64, 128, 5],
  ['stage2_3x3', 128, 64, 3],
  ['stage2_5x5', 128, 64, 5],
  ['stage3_3x3', 320, 32, 3],
  ['stage4_3x3', 512, 16, 3],
];

interface Io {
  x: Value;
  w: Value;
  g: Value;
}

type Build = (b: GraphBuilder, v: Io, k: number, weights: Float32Array) => Value;

const samePads = (k: number) => Array(4).fill((k - 1) / 2);

/** The Conv rule's gradient `which` (0 = dX, 1 = dW) of a depthwise conv node, g a graph input. */
function ruleGradient(b: GraphBuilder, { x, w, g }: Io, k: number, which: 0 | 1): Value {
  op.conv(x, w, null, { pads: samePads(k), group: x.dim(1) });
  const node = b.nodes.pop() as Node; // only its attributes matter: the forward is timed on its own
  return getVjp('Conv')!(vjpContext(b, node, [g]))[which]!();
}

/** x padded once, then one Slice per tap: the k*k shifted views of x that a tap multiplies. */
function shiftedViews(x: Value, k: number): Value[] {
  const p = (k - 1) / 2;
  const [h, wd] = [x.dim(2), x.dim(3)];
  const xp = op.pad(x, [0, 0, p, p, 0, 0, p, p]);
  const views: Value[] = [];
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) views.push(op.slice(xp, [i, j], [i + h, j + wd], [2, 3]));
  return views;
}

/** The forms of each quantity; the first of each is what the rules emit (the reference). */
const FORMS: Record<string, Record<string, Build>> = {
  forward: {
    conv_weight_input: (_, { x, w }, k) => op.conv(x, w, null, { pads: samePads(k), group: x.dim(1) }),
    conv_weight_initializer: (b, { x }, k, weights) =>
      op.conv(x, b.constant(weights, 'float32', [x.dim(1), 1, k, k], 'w'), null, {
        pads: samePads(k),
        group: x.dim(1),
      }),
    shifted_taps: (_, { x, w }, k) => {
      const c = x.dim(1);
      const taps = op.split(op.reshape(w, [c, k * k]), 1, Array(k * k).fill(1));
      return op.sumOp(shiftedViews(x, k).map((v, t) => op.mul(v, op.reshape(taps[t], [1, c, 1, 1]))));
    },
  },
  input_grad: { rule: (b, io, k) => ruleGradient(b, io, k, 0) },
  weight_grad: {
    rule: (b, io, k) => ruleGradient(b, io, k, 1),
    // the depthwise form the rule does not choose for this kernel
    other_form: (_, { x, g }, k) =>
      depthwiseWeightGradient(
        x,
        g,
        { kernel: [k, k], strides: [1, 1], pads: samePads(k), dilations: [1, 1] },
        k >= 5 ? 'taps' : 'stacked',
      ),
    per_group: (_, { x, g }, k) =>
      groupedWeightGradient(x, g, x.dim(1), {
        kernel: [k, k],
        strides: [1, 1],
        pads: samePads(k),
        dilations: [1, 1],
      }),
    stacked_taps_matmul: (_, { x, g }, k) => {
      // [C, K, N*H*W] of shifted views against g as [C, N*H*W, 1]
      const [n, c] = [x.dim(0), x.dim(1)];
      const per = numel(g.shape.slice(2).map(Number));
      const cf = (v: Value) => op.reshape(op.transpose(v, [1, 0, 2, 3]), [c, 1, n * per]);
      const xs = op.concat(shiftedViews(x, k).map(cf), 1);
      return op.reshape(op.matmul(xs, op.reshape(cf(g), [c, n * per, 1])), [c, 1, k, k]);
    },
    im2col_conv_matmul: (b, { x, g }, k) => {
      // the k*k shifted copies of every plane by ONE Conv with constant one-hot taps, contracted with g
      const [n, c, h, wd] = x.shape.map(Number);
      const taps = new Float32Array(k ** 4);
      for (let t = 0; t < k * k; t++) taps[t * k * k + t] = 1;
      const cols = op.conv(
        op.reshape(x, [n * c, 1, h, wd]),
        b.constant(taps, 'float32', [k * k, 1, k, k], 'taps'),
        null,
        {
          pads: samePads(k),
        },
      );
      const prod = op.matmul(op.reshape(cols, [n, c, k * k, h * wd]), op.reshape(g, [n, c, h * wd, 1]));
      return op.reshape(op.reduceSum(prod, [0], false), [c, 1, k, k]);
    },
    grouped_conv_batch_axis: (_, { x, g }, k) => {
      // g as the kernel of a grouped Conv over x (batch 1): output [1, C, k, k] = dW
      const c = x.dim(1);
      return op.reshape(
        op.conv(x, op.reshape(g, [c, 1, g.dim(2), g.dim(3)]), null, { pads: samePads(k), group: c }),
        [c, 1, k, k],
      );
    },
  },
};

const round = (v: number, digits: number) => Number(v.toFixed(digits));

export async function benchDepthwise(opts: BenchDepthwiseOptions = {}): Promise<Record<string, unknown>> {
  const runs = Math.max(opts.runs ?? 5, 3);
  const threads = opts.threads ?? 2;
  const n = opts.batch ?? 1;
  const out: Record<string, unknown> = { threads, runs, batch: n };
  for (const [shapeName, c, side, k] of SHAPES) {
    if (opts.only && !opts.only.includes(shapeName)) continue;
    const rng = new Rng(5);
    const act = [n, c, side, side];
    const values = {
      x: Float32Array.from({ length: numel(act) }, () => rng.normal()),
      w: Float32Array.from({ length: c * k * k }, () => rng.normal()),
      g: Float32Array.from({ length: numel(act) }, () => rng.normal()),
    };
    const sessions: { name: string; run: () => Promise<Float32Array> }[] = [];
    for (const [quantity, forms] of Object.entries(FORMS))
      for (const [form, build] of Object.entries(forms)) {
        const b = new GraphBuilder();
        const io = {
          x: b.input('x', 'float32', act),
          w: b.input('w', 'float32', [c, 1, k, k]),
          g: b.input('g', 'float32', act),
        };
        b.output(build(b, io, k, values.w), 'y');
        const session = await createSession(b.toGraph(form), { threads });
        const feeds: Feeds = {};
        for (const name of session.inputNames)
          feeds[name] = tensor(
            'float32',
            values[name as keyof typeof values],
            name === 'w' ? [c, 1, k, k] : act,
          );
        sessions.push({
          name: `${quantity}_${form}`,
          run: async () => (await session.run(feeds)).y.data as Float32Array,
        });
      }
    process.stderr.write(`depthwise ${shapeName}: ${sessions.length} graphs, checking and warming up\n`);
    const reference = new Map<string, Float32Array>();
    for (const s of sessions) {
      const y = await s.run();
      const quantity = s.name.startsWith('forward')
        ? 'forward'
        : s.name.startsWith('input')
          ? 'input'
          : 'weight';
      const ref = reference.get(quantity);
      if (!ref) reference.set(quantity, y);
      else {
        const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const err = ref.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
        if (err > 1e-4 * scale)
          throw new Error(`depthwise ${shapeName}: ${s.name} differs by ${err} (scale ${scale})`);
      }
    }
    const times = await timeInterleaved(sessions, runs);
    const ms = times.median_ms;
    const fwd = ms.forward_conv_weight_input;
    out[shapeName] = {
      ...times,
      ratios_to_forward: Object.fromEntries(Object.entries(ms).map(([name, v]) => [name, round(v / fwd, 2)])),
    };
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [runs, batch, threads] = [2, 3, 5].map((i) =>
    process.argv[i] ? Number(process.argv[i]) : undefined,
  );
  const only = process.argv[4] ? process.argv[4].split(',') : undefined;
  console.log(JSON.stringify(await benchDepthwise({ runs, batch, only, threads }), null, 2));
}

/**
 * Conv benchmark: forward vs the gradients our VJP rules emit, for the UNet3D's first-level conv
 * (16 -> 16, 3x3x3, padding 1, on 1x16x32x112x112 in [N, C, T, H, W]), plus the alternatives the
 * rules avoid (ConvTranspose for dX, the batch-axis conv for dW) and the decoder's stride-2
 * up-conv (sub-pixel form vs ConvTranspose). Each is its own graph on 2 intra-op threads; runs are
 * interleaved round-robin so machine load hits every graph alike; median (and minimum) of `runs`
 * after one warm-up run.
 * Run alone: `node dist/tools/bench-conv.js [runs]`.
 */
import { pathToFileURL } from 'node:url';
import { convWeightGradient } from '../src/autodiff/rules/conv.js';
import { vjpContext } from '../src/autodiff/grad.js';
import { getVjp } from '../src/autodiff/registry.js';
import '../src/autodiff/rules/index.js';
import { GraphBuilder, Value } from '../src/onnx/builder.js';
import type { Node } from '../src/onnx/ir.js';
import { numel } from '../src/onnx/ir.js';
import * as op from '../src/onnx/ops/index.js';
import { createSession, tensor, type Feeds } from '../src/onnx/runtime.js';
import { Rng } from '../src/util/rng.js';
import { median } from './bench-common.js';

export interface BenchConvOptions {
  runs?: number;
  threads?: number;
  /** [N, C, T, H, W] of the conv input (C in = C out) */
  shape?: number[];
}

const PADS = [1, 1, 1, 1, 1, 1];

/** The Conv VJP rule's gradients of one forward conv node, with the output gradient g as a graph input. */
function ruleGradients(
  b: GraphBuilder,
  x: Value,
  w: Value,
  g: Value,
  wanted: { dx: boolean; dw: boolean },
): Value[] {
  op.conv(x, w, null, { pads: PADS });
  const node = b.nodes.pop() as Node; // only the node's attributes matter: the forward itself is not timed here
  const [dx, dw] = getVjp('Conv')!(vjpContext(b, node, [g]));
  return [...(wanted.dx ? [dx!()] : []), ...(wanted.dw ? [dw!()] : [])];
}

type Build = (b: GraphBuilder, v: { x: Value; w: Value; g: Value }) => Value[];

function graphs(shape: number[]): Record<string, { build: Build; inputs: Record<string, number[]> }> {
  const [n, c, t, h, wd] = shape;
  const conv = { x: shape, w: [c, c, 3, 3, 3], g: shape };
  const up = { x: [n, 2 * c, t / 2, h / 2, wd / 2], w: [2 * c, c, 3, 3, 3], g: shape };
  const upOpts = { strides: [2, 2, 2], pads: PADS, outputPadding: [1, 1, 1] };
  return {
    forward: { inputs: conv, build: (_, { x, w }) => [op.conv(x, w, null, { pads: PADS })] },
    input_grad: {
      inputs: conv,
      build: (b, { x, w, g }) => ruleGradients(b, x, w, g, { dx: true, dw: false }),
    },
    weight_grad: {
      inputs: conv,
      build: (b, { x, w, g }) => ruleGradients(b, x, w, g, { dx: false, dw: true }),
    },
    backward: { inputs: conv, build: (b, { x, w, g }) => ruleGradients(b, x, w, g, { dx: true, dw: true }) },
    weight_grad_batch_conv: {
      inputs: conv,
      build: (_, { x, g }) => [
        convWeightGradient(
          x,
          g,
          { kernel: [3, 3, 3], strides: [1, 1, 1], pads: PADS, dilations: [1, 1, 1] },
          'batch-conv',
        ),
      ],
    },
    input_grad_conv_transpose: {
      inputs: conv,
      build: (_, { w, g }) => [op.convTranspose(g, w, null, { pads: PADS })],
    },
    upconv_sub_pixel: { inputs: up, build: (_, { x, w }) => [op.upConvStride2(x, w, null)] },
    upconv_conv_transpose: { inputs: up, build: (_, { x, w }) => [op.convTranspose(x, w, null, upOpts)] },
  };
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

export async function benchConv(opts: BenchConvOptions = {}): Promise<Record<string, number>> {
  const runs = Math.max(opts.runs ?? 5, 5);
  const threads = opts.threads ?? 2;
  const shape = opts.shape ?? [1, 16, 32, 112, 112];
  const rng = new Rng(11);
  const sessions: { name: string; run: () => Promise<unknown>; times: number[] }[] = [];
  for (const [name, spec] of Object.entries(graphs(shape))) {
    const b = new GraphBuilder();
    const vals = Object.fromEntries(
      Object.entries(spec.inputs).map(([k, dims]) => [k, b.input(k, 'float32', dims)]),
    ) as { x: Value; w: Value; g: Value };
    spec.build(b, vals).forEach((v, i) => b.output(v, `out${i}`));
    const session = await createSession(b.toGraph(name), { threads });
    const feeds: Feeds = {};
    for (const k of session.inputNames) {
      const dims = spec.inputs[k];
      feeds[k] = tensor(
        'float32',
        Float32Array.from({ length: numel(dims) }, () => rng.normal()),
        dims,
      );
    }
    sessions.push({ name, run: () => session.run(feeds), times: [] });
  }
  process.stderr.write(`conv: ${sessions.length} graphs built, warming up\n`);
  for (const s of sessions) await s.run(); // warm-up: allocations, kernel selection
  for (let r = 0; r < runs; r++) {
    for (const s of sessions) {
      const t0 = performance.now();
      await s.run();
      s.times.push(performance.now() - t0);
    }
    process.stderr.write(`conv: run ${r + 1}/${runs}\n`);
  }
  const ms = Object.fromEntries(sessions.map((s) => [s.name, median(s.times)]));
  const out: Record<string, number> = {
    threads,
    runs,
    gflop: round((2 * numel(shape) * shape[1] * 27) / 1e9, 2),
  };
  for (const [name, v] of Object.entries(ms)) out[`${name}_ms`] = round(v, 1);
  // Minima too: on a shared 2-core machine the fastest run is the least disturbed one.
  for (const s of sessions) out[`${s.name}_min_ms`] = round(Math.min(...s.times), 1);
  for (const name of [
    'input_grad',
    'weight_grad',
    'backward',
    'weight_grad_batch_conv',
    'input_grad_conv_transpose',
  ])
    out[`${name}_ratio`] = round(ms[name] / ms.forward, 2);
  out.backward_sum_ratio = round((ms.input_grad + ms.weight_grad) / ms.forward, 2);
  out.backward_ratio_of_minima = round(out.backward_min_ms / out.forward_min_ms, 2);
  out.upconv_sub_pixel_speedup = round(ms.upconv_conv_transpose / ms.upconv_sub_pixel, 2);
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = process.argv[2] ? Number(process.argv[2]) : undefined;
  console.log(JSON.stringify(await benchConv({ runs }), null, 2));
}

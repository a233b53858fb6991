// Graph forms per backend. The same maths can be emitted in several exact forms whose speed
// depends on the ONNX Runtime execution provider that runs them; every choice that was made for
// speed (or because a provider lacks a kernel) lives here, with where it was measured. Model
// definitions and VJP rules read these options instead of deciding for themselves.
// Measurements: docs/performance.md.

import type { ShiftedTapsCut } from './ops/shifted-taps-conv.js';

/** The execution provider family a set of graphs is emitted for. */
export type Backend = 'cpu' | 'webgpu';

export const BACKENDS: readonly Backend[] = ['cpu', 'webgpu'];

export type ConvWeightGradForm = 'batch-conv' | 'stacked-matmul';

export interface GraphForms {
  backend: Backend;
  /**
   * MaxPool's gradient. 'indices': MaxPool's Indices output and a ScatterElements add (CPU: the
   * scatter form took 179 ms vs 297 ms for the mask form at 1x16x32x112x112, 146 vs 406 ms for the
   * ResNet stem's 3x3 stride-2 pool at 1x64x256x256; 2 threads, AVX2). 'first-max-mask': strided
   * views compared with the pooled value, first maximum per window, phases interleaved back (the
   * WebGPU EP has no Indices output; all its ops run there).
   */
  maxPoolGrad: 'indices' | 'first-max-mask';
  /**
   * A stride-1 conv's weight gradient; null = by geometry (stacked-matmul for stride 1, batch-conv
   * otherwise: 1.3-1.7x vs 3-4x the forward conv on the CPU). A value forces that form where it
   * applies (stacked-matmul needs stride 1), for tests and benchmarks.
   */
  convWeightGrad: ConvWeightGradForm | null;
  /**
   * Convs to one output channel from at least this many input channels use shiftedTapsConv
   * (CPU: ORT's Conv runs 32 -> 1 at ~8 GFLOP/s, the taps halve it; at 8 -> 1 plain Conv was
   * 10-12% faster, at 16 -> 1 a tie). Infinity: never.
   */
  shiftedTapsMinChannels: number;
  /**
   * How those taps are cut in graphs that are never differentiated (model.onnx, eval graphs);
   * train graphs always use 'split-sum', whose gradient is cheap. 'slice-add' binds at most three
   * buffers per node, so the CPU's model.onnx also runs on the WebGPU provider (one portable
   * model.onnx); 'split-sum' needs a 28-buffer Split and a Sum, which WebGPU cannot run.
   */
  forwardTapsCut: ShiftedTapsCut;
  /**
   * SpaceToDepth (the gradient of the sub-pixel up-convs' DepthToSpace). 'op': ONNX's
   * SpaceToDepth (CPU: ~64 ms less per full 3d_unet train step than the other form, ORT profile,
   * 2 threads, AVX2). 'reshape-transpose': Reshape/Transpose/Reshape (the WebGPU EP has no
   * SpaceToDepth kernel and would run it on the CPU).
   */
  spaceToDepth: 'op' | 'reshape-transpose';
}

const FORMS: Record<Backend, GraphForms> = {
  cpu: {
    backend: 'cpu',
    maxPoolGrad: 'indices',
    convWeightGrad: null,
    shiftedTapsMinChannels: 32,
    forwardTapsCut: 'slice-add',
    spaceToDepth: 'op',
  },
  // Not yet timed on a GPU: the WebGPU forms are the ones the provider can run at all (mask-form
  // pooling gradient); a plain Conv for 32 -> 1 until the device bench says otherwise.
  webgpu: {
    backend: 'webgpu',
    maxPoolGrad: 'first-max-mask',
    convWeightGrad: null,
    shiftedTapsMinChannels: Infinity,
    forwardTapsCut: 'slice-add',
    spaceToDepth: 'reshape-transpose',
  },
};

export function formsFor(backend: Backend = 'cpu', overrides: Partial<GraphForms> = {}): GraphForms {
  if (!FORMS[backend]) throw new Error(`unknown graph backend "${backend}" (one of ${BACKENDS.join(', ')})`);
  return { ...FORMS[backend], ...overrides, backend };
}

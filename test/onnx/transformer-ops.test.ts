// The UniFormer model's operators against PyTorch float64 on the same inputs
// (test/fixtures/torch-ops, written by tools/torch-baseline/op_reference.py).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { GraphBuilder, type Value } from '../../src/onnx/builder.js';
import type { DType } from '../../src/onnx/dtype.js';
import * as op from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';

interface Case {
  name: string;
  inputs: { shape: number[]; data: number[] }[];
  output: { shape: number[]; data: number[] };
  axis?: number;
  eps?: number;
  pads?: number[];
  group?: number;
}

const CASES = new Map(
  (
    JSON.parse(readFileSync('test/fixtures/torch-ops/transformer-ops-reference.json', 'utf8')) as {
      cases: Case[];
    }
  ).cases.map((c) => [c.name, c]),
);

/** Runs build on the case's inputs in `dtype`; returns the largest |ours - PyTorch float64| and our output's shape. */
async function maxError(name: string, dtype: DType, build: (v: Value[], c: Case) => Value) {
  const c = CASES.get(name)!;
  const b = new GraphBuilder();
  const vals = c.inputs.map((x, i) => b.input(`in${i}`, dtype, x.shape));
  const y = build(vals, c);
  b.output(y, 'y');
  const session = await createSession(b.toGraph(name));
  const array = (xs: number[]) => (dtype === 'float64' ? Float64Array.from(xs) : Float32Array.from(xs));
  const out = await session.run(
    Object.fromEntries(c.inputs.map((x, i) => [`in${i}`, tensor(dtype, array(x.data), x.shape)])),
  );
  const got = out.y.data as Float32Array | Float64Array;
  expect(y.shape, `${name}: inferred shape`).to.deep.equal(c.output.shape);
  expect(out.y.dims, `${name}: run shape`).to.deep.equal(c.output.shape);
  return c.output.data.reduce((m, v, i) => Math.max(m, Math.abs(got[i] - v)), 0);
}

describe('Transformer operators against PyTorch float64', () => {
  it('softmax over the last axis and over axis 1: float64 within 1e-14, float32 within 3e-7', async () => {
    for (const name of ['softmax_last', 'softmax_axis1']) {
      const build = ([x]: Value[], c: Case) => op.softmax(x, c.axis);
      expect(await maxError(name, 'float64', build), name).to.be.below(1e-14);
      expect(await maxError(name, 'float32', build), name).to.be.below(3e-7);
    }
  });

  it('gelu is exact GELU (erf form) over [-6, 6]: float32 within 1e-6 of nn.GELU()', async () => {
    expect(await maxError('gelu', 'float32', ([x]) => op.gelu(x))).to.be.below(1e-6);
  });

  it('layerNorm over the last axis at a mean 300x the spread: float32 within 1e-6, float64 within 1e-12', async () => {
    const build = ([x, w, b]: Value[], c: Case) => op.layerNorm(x, w, b, c.eps!, c.axis);
    expect(await maxError('layer_norm_offset', 'float32', build)).to.be.below(1e-6);
    expect(await maxError('layer_norm_offset', 'float64', build)).to.be.below(1e-12);
  });

  it('layerNorm over the last two axes (axis 1 of a rank-3 tensor), float64 within 1e-12', async () => {
    const build = ([x, w, b]: Value[], c: Case) => op.layerNorm(x, w, b, c.eps!, c.axis);
    expect(await maxError('layer_norm_two_axes', 'float64', build)).to.be.below(1e-12);
  });

  it('matmul of rank 3-4 with broadcast batch axes and rank 2 against rank 3: shapes and values within 1e-13 (float64)', async () => {
    for (const name of ['matmul_batched', 'matmul_broadcast_batch', 'matmul_linear', 'matmul_rank2_left'])
      expect(await maxError(name, 'float64', ([a, b]) => op.matmul(a, b)), name).to.be.below(1e-13);
  });

  it('depthwise conv (group = channels) 3x3 pad 1 and 5x5 pad 2 with bias: float32 within 1e-5', async () => {
    for (const name of ['depthwise_conv_3x3', 'depthwise_conv_5x5'])
      expect(
        await maxError(name, 'float32', ([x, w, b], c) => op.conv(x, w, b, { pads: c.pads, group: c.group })),
        name,
      ).to.be.below(1e-5);
  });

  it('matmul refuses mismatched inner axes and rank-1 operands', () => {
    const b = new GraphBuilder();
    expect(() => op.matmul(b.input('a', 'float32', [2, 3, 4]), b.input('b', 'float32', [5, 6]))).to.throw(
      /inner dims 4 vs 5/,
    );
    expect(() => op.matmul(b.input('c', 'float32', [4]), b.input('d', 'float32', [4, 6]))).to.throw(
      /rank 2 or more/,
    );
    expect(() => op.matmul(b.input('e', 'float32', [2, 3, 4]), b.input('f', 'float32', [3, 4, 6]))).to.throw(
      /cannot broadcast/,
    );
  });
});

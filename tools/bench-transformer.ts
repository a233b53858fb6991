/**
 * The UniFormer model's transformer operators, forward and backward together (a train graph's share),
 * in the forms the builders and rules emit against the alternatives they do not:
 *  - exact GELU at the stage-1 MLP width [1, 16384, 256]: the one-product gradient at gelu()'s inner
 *    Mul (gelu.ts) against the chain through the Mul, Add, Erf and Div rules;
 *  - layer normalisation at stage 3's tokens [1, 1024, 320] and patch embedding 1's [1, 16384, 64]:
 *    layerNorm (x centred, then ORT's LayerNormalization), the bare LayerNormalization, and a
 *    decomposition into reductions and elementwise ops. Each form's forward output and input
 *    gradient are also compared with a float64 run of the same form (its error), on tokens whose
 *    mean is 3x and 30x their spread, for a loss whose gradient lies mostly along the normalised output
 *    (where the norm's backward projection cancels most of it; docs/numerics.md).
 * Graphs run on `threads` intra-op threads, interleaved; CPU time per run is the robust figure on a
 * loaded machine (timeInterleaved). Run alone: `node dist/tools/bench-transformer.js [runs] [threads]`.
 */
import { pathToFileURL } from 'node:url';
import { gradients } from '../src/autodiff/grad.js';
import { GraphBuilder, type Value } from '../src/onnx/builder.js';
import type { DType } from '../src/onnx/dtype.js';
import { numel } from '../src/onnx/ir.js';
import * as op from '../src/onnx/ops/index.js';
import { createSession, tensor } from '../src/onnx/runtime.js';
import { Rng } from '../src/util/rng.js';
import { timeInterleaved, type TimedRun } from './bench-common.js';

export interface BenchTransformerOptions {
  runs?: number;
  threads?: number;
}

type Form = (x: Value, scale: Value, bias: Value) => Value;

/** gelu() with its inner Mul's operands swapped: the gradient goes through every part's rule. */
const geluByParts = (x: Value) => op.mul(op.mul(op.add(op.erf(op.div(x, Math.SQRT2)), 1), x), 0.5);

const LAYER_NORMS: Record<string, Form> = {
  centred_layer_norm: (x, s, b) => op.layerNorm(x, s, b, 1e-6),
  bare_layer_norm: (x, s, b) =>
    x.b.node('LayerNormalization', [x, s, b], { axis: x.rank - 1, epsilon: { float: 1e-6 } }, [
      { dtype: x.dtype, shape: x.shape },
    ])[0],
  decomposed: (x, s, b) => {
    const centred = op.sub(x, op.reduceMean(x, [-1]));
    const rstd = op.reciprocal(op.sqrt(op.add(op.reduceMean(op.mul(centred, centred), [-1]), 1e-6)));
    return op.add(op.mul(op.mul(centred, rstd), s), b);
  },
};

/** loss = sum(y * r) + 2.5 sum(y^2): the output gradient r + 5y lies mostly along y. */
function trainGraph(dtype: DType, shape: number[], forward: (x: Value, s: Value, b: Value) => Value) {
  const b = new GraphBuilder();
  const c = shape[shape.length - 1];
  const [x, s, bias, r] = [
    b.input('x', dtype, shape),
    b.input('s', dtype, [c]),
    b.input('b', dtype, [c]),
    b.input('r', dtype, shape),
  ];
  const y = forward(x, s, bias);
  const all = shape.map((_, i) => i);
  const loss = op.reduceSum(op.mul(y, op.add(r, op.mul(y, 2.5))), all, false);
  const grads = gradients(b, loss, [x, s, bias]);
  b.output(y, 'y');
  b.output(grads.get('x')!, 'dx');
  return b.toGraph('train');
}

const relErr = (a: ArrayLike<number>, ref: ArrayLike<number>) => {
  let [d, n] = [0, 0];
  for (let i = 0; i < ref.length; i++) [d, n] = [d + (a[i] - ref[i]) ** 2, n + ref[i] ** 2];
  return Number(Math.sqrt(d / n).toExponential(2));
};

export async function benchTransformer(opts: BenchTransformerOptions = {}): Promise<Record<string, unknown>> {
  const runs = Math.max(opts.runs ?? 5, 3);
  const threads = opts.threads ?? 2;
  const out: Record<string, unknown> = { threads, runs };
  const rng = new Rng(3);
  const normal = (n: number, offset = 0) => Float32Array.from({ length: n }, () => offset + rng.normal());

  // GELU
  const geluShape = [1, 16384, 256];
  const geluRuns: TimedRun[] = [];
  for (const [name, f] of Object.entries({ product_rule: op.gelu, by_parts: geluByParts })) {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', geluShape);
    const r = b.input('r', 'float32', geluShape);
    const y = f(x);
    b.output(y, 'y');
    b.output(gradients(b, op.reduceSum(op.mul(y, r), [0, 1, 2], false), [x]).get('x')!, 'dx');
    const session = await createSession(b.toGraph(name), { threads });
    const feeds = {
      x: tensor('float32', normal(numel(geluShape)), geluShape),
      r: tensor('float32', normal(numel(geluShape)), geluShape),
    };
    geluRuns.push({ name, run: () => session.run(feeds) });
  }
  process.stderr.write('transformer: gelu\n');
  out.gelu_1x16384x256 = await timeInterleaved(geluRuns, runs);

  for (const shape of [
    [1, 1024, 320],
    [1, 16384, 64],
  ]) {
    const c = shape[2];
    const make = (offset: number) => ({
      x: normal(numel(shape), offset),
      s: normal(c, 1),
      b: normal(c),
      r: normal(numel(shape)),
    });
    const feeds = (data: Record<string, Float32Array>, dtype: DType) =>
      Object.fromEntries(
        Object.entries(data).map(([k, v]) => [
          k,
          tensor(dtype, dtype === 'float64' ? Float64Array.from(v) : v, k === 's' || k === 'b' ? [c] : shape),
        ]),
      );
    const timed: TimedRun[] = [];
    const accuracy: Record<string, Record<string, { y: number; dx: number }>> = {};
    for (const [name, form] of Object.entries(LAYER_NORMS)) {
      const f32 = await createSession(trainGraph('float32', shape, form), { threads });
      const f64 = await createSession(trainGraph('float64', shape, form), { threads });
      accuracy[name] = {};
      for (const offset of [3, 30]) {
        const data = make(offset);
        const [got, ref] = [await f32.run(feeds(data, 'float32')), await f64.run(feeds(data, 'float64'))];
        accuracy[name][`mean_${offset}x_spread`] = {
          y: relErr(got.y.data as Float32Array, ref.y.data as Float64Array),
          dx: relErr(got.dx.data as Float32Array, ref.dx.data as Float64Array),
        };
      }
      const f = feeds(make(3), 'float32');
      timed.push({ name, run: () => f32.run(f) });
    }
    process.stderr.write(`transformer: layer norm ${shape}\n`);
    out[`layer_norm_${shape.join('x')}`] = {
      ...(await timeInterleaved(timed, runs)),
      error_vs_float64: accuracy,
    };
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [runs, threads] = [2, 3].map((i) => (process.argv[i] ? Number(process.argv[i]) : undefined));
  console.log(JSON.stringify(await benchTransformer({ runs, threads }), null, 2));
}

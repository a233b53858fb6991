import { expect } from 'chai';
import { gradients } from '../../src/autodiff/grad.js';
import { GraphBuilder, Value } from '../../src/onnx/builder.js';
import { assertGraphOk } from '../../src/onnx/check.js';
import type { AnyTypedArray, DType } from '../../src/onnx/dtype.js';
import { numel } from '../../src/onnx/ir.js';
import type { GraphForms } from '../../src/onnx/forms.js';
import { cast, mul, reduceSum } from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';

export interface CheckInput {
  name: string;
  shape: number[];
  dtype?: DType;
  /** values; default: normal(0, 1) */
  data?: AnyTypedArray;
  /** differentiate with respect to this input (default true for float inputs) */
  wrt?: boolean;
}

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  directions?: number;
  seed?: number;
  /** graph forms to differentiate with (default: the CPU's) */
  forms?: GraphForms;
}

/**
 * Finite-difference check of the emitted gradient graph: loss = sum(op(x) * R) for a fixed random
 * R (accumulated in float64); for a few random directions v compares <dL/dx, v> with the central
 * difference (L(x + eps v) - L(x - eps v)) / (2 eps). Sessions use ORT's `all` optimisation level.
 */
export async function gradCheck(
  inputs: CheckInput[],
  build: (vals: Value[]) => Value,
  opts: GradCheckOptions = {},
): Promise<void> {
  const { eps = 1e-5, rtol = 1e-6, atol = 1e-9, directions = 3, seed = 1 } = opts;
  const rng = new Rng(seed);
  const b = new GraphBuilder();
  const vals = inputs.map((i) => b.input(i.name, i.dtype ?? 'float64', i.shape));
  const y = build(vals);
  const y64 = y.dtype === 'float64' ? y : cast(y, 'float64');
  const dims = y.shape.map(Number);
  const r = Float64Array.from({ length: numel(dims) }, () => rng.normal());
  const loss = reduceSum(
    mul(y64, b.constant(r, 'float64', dims, 'R')),
    dims.map((_, i) => i),
    false,
  );
  b.output(loss, 'loss');
  const wrt = vals.filter((v, i) => inputs[i].wrt ?? (v.dtype === 'float32' || v.dtype === 'float64'));
  const grads = gradients(b, loss, wrt, opts.forms);
  for (const w of wrt) b.output(grads.get(w.name)!, `${w.name}.grad`);
  const graph = b.toGraph('gradcheck');
  assertGraphOk(graph);
  const session = await createSession(graph);

  const data = inputs.map((i) => i.data ?? randomArray(i.dtype ?? 'float64', numel(i.shape), rng));
  const feeds = (arrays: AnyTypedArray[]) =>
    Object.fromEntries(inputs.map((i, k) => [i.name, tensor(i.dtype ?? 'float64', arrays[k], i.shape)]));
  const base = await session.run(feeds(data));

  for (const w of wrt) {
    const k = vals.indexOf(w);
    const g = base[`${w.name}.grad`].data as Float32Array | Float64Array;
    for (let d = 0; d < directions; d++) {
      const v = Float64Array.from({ length: data[k].length }, () => rng.normal());
      const shifted = (sign: number) => {
        const arr = data.slice();
        const src = data[k] as Float64Array;
        const out = new (src.constructor as Float64ArrayConstructor)(src.length);
        for (let j = 0; j < src.length; j++) out[j] = src[j] + sign * eps * v[j];
        arr[k] = out;
        return arr;
      };
      const lp = Number((await session.run(feeds(shifted(1)))).loss.data[0]);
      const lm = Number((await session.run(feeds(shifted(-1)))).loss.data[0]);
      const fd = (lp - lm) / (2 * eps);
      let an = 0;
      for (let j = 0; j < v.length; j++) an += g[j] * v[j];
      const tol = atol + rtol * Math.max(Math.abs(fd), Math.abs(an));
      expect(
        Math.abs(fd - an),
        `d loss / d ${w.name} along direction ${d}: analytic ${an}, numeric ${fd}`,
      ).to.be.at.most(tol);
    }
  }
}

function randomArray(dtype: DType, n: number, rng: Rng): AnyTypedArray {
  if (dtype === 'float32') return Float32Array.from({ length: n }, () => rng.normal());
  if (dtype === 'float64') return Float64Array.from({ length: n }, () => rng.normal());
  throw new Error(`give explicit data for ${dtype} inputs`);
}

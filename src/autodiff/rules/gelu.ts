// The exact GELU that gelu() emits, y = 0.5 * (x * a), a = 1 + erf(s), s = x / sqrt 2, differentiated
// as one product at its inner Mul: d(x a)/dx = a + x sqrt(2/pi) exp(-s^2). Through its parts (the
// Mul, Add, Erf and Div rules) the same derivative takes eight full-size passes instead of six
// (docs/performance.md#gelu). Nothing flows into a's branch: this Mul gives x its whole gradient.
// The forward stays 0.5 * (x * (1 + erf(x / sqrt 2))), the chain ORT's CPU fuses in inference graphs.
import type { Value } from '../../onnx/builder.js';
import { add, exp, mul, sub } from '../../onnx/ops/index.js';
import type { InputGradient, VjpContext } from '../registry.js';

/** The value of a scalar constant input, or undefined. */
function scalarConstant(ctx: VjpContext, name: string): number | undefined {
  const t = ctx.b.initializers.get(name);
  return t && t.data.length === 1 ? Number(t.data[0]) : undefined;
}

/** s where `a` is 1 + erf(s) and s = x / sqrt 2 for this very x, else undefined. */
function geluArgument(ctx: VjpContext, x: string, a: string): Value | undefined {
  const { producer } = ctx.b;
  const plus = producer.get(a);
  if (plus?.op !== 'Add' || scalarConstant(ctx, plus.inputs[1]) !== 1) return undefined;
  const erf = producer.get(plus.inputs[0]);
  if (erf?.op !== 'Erf') return undefined;
  const div = producer.get(erf.inputs[0]);
  if (div?.op !== 'Div' || div.inputs[0] !== x) return undefined;
  const c = scalarConstant(ctx, div.inputs[1]);
  return c !== undefined && Math.abs(c - Math.SQRT2) < 1e-6 ? ctx.b.value(erf.inputs[0]) : undefined;
}

/** The gradients of x * (1 + erf(x / sqrt 2)), or null where this Mul is not that product. */
export function geluProductGradient(ctx: VjpContext): InputGradient[] | null {
  const [x, a] = ctx.inputs;
  const s = geluArgument(ctx, x.name, a.name);
  if (!s) return null;
  // sqrt(2/pi) exp(-s^2) = exp(ln sqrt(2/pi) - s^2)
  const density = () => exp(sub(0.5 * Math.log(2 / Math.PI), mul(s, s)));
  return [() => mul(ctx.g, add(a, mul(x, density()))), null];
}

// Max / Min of two tensors: the gradient goes to the operand that was selected (the first on ties,
// like PyTorch's clamp_min / maximum used as a clamp).
import { greater, less, where } from '../../onnx/ops/index.js';
import { registerVjp, type VjpContext } from '../registry.js';
import { sumTo } from './util.js';

function selected(ctx: VjpContext, firstWins: (a: never, b: never) => ReturnType<typeof greater>) {
  const [a, bv] = ctx.inputs;
  const g = ctx.gradOutputs[0]!;
  if (ctx.inputs.length !== 2)
    throw new Error(`${ctx.node.op} ${ctx.node.name}: gradient only for two operands`);
  const zero = ctx.b.scalar(0, g.dtype);
  const takeB = firstWins(bv as never, a as never);
  return [
    ctx.needs[0] ? sumTo(where(takeB, zero, g), a!.shape) : null,
    ctx.needs[1] ? sumTo(where(takeB, g, zero), bv!.shape) : null,
  ];
}

registerVjp('Max', (ctx) => selected(ctx, (b, a) => greater(b, a)));
registerVjp('Min', (ctx) => selected(ctx, (b, a) => less(b, a)));

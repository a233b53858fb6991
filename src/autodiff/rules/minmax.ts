// Max / Min of two tensors: the gradient goes to the operand that was selected (the first on ties,
// like PyTorch's clamp_min / maximum used as a clamp).
import type { Value } from '../../onnx/builder.js';
import { greater, less, where } from '../../onnx/ops/index.js';
import { registerVjp, type VjpContext } from '../registry.js';
import { sumTo } from './util.js';

function selected(ctx: VjpContext, secondWins: (b: Value, a: Value) => Value) {
  const { inputs, g, b, node } = ctx;
  if (inputs.length !== 2) throw new Error(`${node.op} ${node.name}: gradient only for two operands`);
  const [x, y] = inputs;
  const zero = () => b.scalar(0, g.dtype);
  return [
    () => sumTo(where(secondWins(y, x), zero(), g), x.shape),
    () => sumTo(where(secondWins(y, x), g, zero()), y.shape),
  ];
}

registerVjp('Max', (ctx) => selected(ctx, greater));
registerVjp('Min', (ctx) => selected(ctx, less));

// MatMul with numpy semantics (rank >= 2): C = A B over broadcast batch axes, so
//   dA = dC B^T and dB = A^T dC, each summed over the batch axes its operand was broadcast along.
// A Linear layer ([.., N, K] x [K, M] weight) gets its weight gradient as ONE MatMul over all rows
// instead of a batch of them and a ReduceSum.
import type { Value } from '../../onnx/builder.js';
import type { Dim } from '../../onnx/ir.js';
import { matmul, reshape, transpose } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';
import { sumTo } from './util.js';

/** v with its last two axes swapped. */
function swapLast(v: Value): Value {
  const perm = v.shape.map((_, i) => i);
  [perm[v.rank - 2], perm[v.rank - 1]] = [v.rank - 1, v.rank - 2];
  return transpose(v, perm);
}

/** [..., K] -> [rows, K]; rows is symbolic where a leading axis is. */
function rows(v: Value): Value {
  const lead = v.shape.slice(0, -1);
  const n: Dim = lead.every((d) => typeof d === 'number')
    ? (lead as number[]).reduce((a, d) => a * d, 1)
    : lead.join('*');
  return reshape(v, [n, v.shape[v.rank - 1]]);
}

registerVjp('MatMul', ({ inputs: [a, b], g }) => [
  () => sumTo(matmul(g, swapLast(b)), a.shape),
  () =>
    b.rank === 2 && a.rank > 2
      ? matmul(transpose(rows(a), [1, 0]), rows(g))
      : sumTo(matmul(swapLast(a), g), b.shape),
]);

import { matmul, transpose } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

// C = A B  =>  dA = dC B^T, dB = A^T dC  (rank-2 operands)
registerVjp('MatMul', ({ inputs: [a, bv], g }) => [
  () => matmul(g, transpose(bv, [1, 0])),
  () => matmul(transpose(a, [1, 0]), g),
]);

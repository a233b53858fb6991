import { matmul, transpose } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

// C = A B  =>  dA = dC B^T, dB = A^T dC  (rank-2 operands)
registerVjp('MatMul', ({ inputs: [a, bv], gradOutputs: [g], needs }) => [
  needs[0] ? matmul(g!, transpose(bv!, [1, 0])) : null,
  needs[1] ? matmul(transpose(a!, [1, 0]), g!) : null,
]);

// Losses and metrics of the upstream training modules, as graph ops (spec 2.1, 3.2, 3.3).
import type { Value } from '../src/onnx/builder.js';
import { add, cast, div, greater, max, mul, reduceMean, reduceSum, sigmoid, sub } from '../src/onnx/ops/index.js';

const allAxes = (v: Value) => v.shape.map((_, i) => i);
const total = (v: Value) => reduceSum(v, allAxes(v), false);

/**
 * segmentation_models_pytorch 0.3.2 binary DiceLoss(from_logits=True): pooled over the whole
 * batch (not per sample), smooth 0, eps 1e-7, and multiplied by 0 when the batch has no positive
 * pixel at all.
 */
export function binaryDiceLoss(logits: Value, target: Value): Value {
  const p = sigmoid(logits);
  const intersection = total(mul(p, target));
  const targetSum = total(target);
  const cardinality = max(add(total(p), targetSum), 1e-7);
  const dice = div(mul(intersection, 2), cardinality);
  const hasPositive = cast(greater(targetSum, 0), p.dtype);
  return mul(sub(1, dice), hasPositive);
}

/** Pooled confusion counts at sigmoid(logit) > 0.5 (strict), as smp's Fscore metric uses them. */
export function diceCounts(logits: Value, target: Value): { tp: Value; fp: Value; fn: Value } {
  const predicted = cast(greater(sigmoid(logits), 0.5), logits.dtype);
  const tp = total(mul(predicted, target));
  return { tp, fp: sub(total(predicted), tp), fn: sub(total(target), tp) };
}

/** Mean squared error over every element (torch.nn.MSELoss, reduction 'mean'). */
export function mseLoss(pred: Value, target: Value): Value {
  const d = sub(pred, target);
  return reduceMean(mul(d, d), allAxes(d), false);
}

// Losses and metrics of the upstream training modules, as graph ops
// (docs/upstream.md#temporal-masking-ssl, docs/upstream.md#weak-supervision).
import type { Value } from '../src/onnx/builder.js';
import {
  add,
  cast,
  div,
  greater,
  max,
  mul,
  reduceMean,
  reduceSum,
  sigmoid,
  sub,
} from '../src/onnx/ops/index.js';

const allAxes = (v: Value) => v.shape.map((_, i) => i);
const total = (v: Value) => reduceSum(v, allAxes(v), false);

/** The soft sums the pooled Dice loss is made of: sum(p t), sum(p) + sum(t), sum(t). */
export interface DiceParts {
  intersection: Value;
  cardinality: Value;
  positives: Value;
}

export function diceParts(logits: Value, target: Value): DiceParts {
  const p = sigmoid(logits);
  const positives = total(target);
  return { intersection: total(mul(p, target)), cardinality: add(total(p), positives), positives };
}

/**
 * segmentation_models_pytorch 0.3.2 binary DiceLoss(from_logits=True) from pooled sums: smooth 0,
 * eps 1e-7, multiplied by 0 when there is no positive pixel at all. `others` are the sums of the
 * rest of the batch (graph inputs, so constants for differentiation): a micro-batch's gradient is
 * then exactly its share of the whole batch's gradient.
 */
export function diceLossFromParts(own: DiceParts, others?: DiceParts): Value {
  const plus = (a: Value, b?: Value) => (b ? add(a, b) : a);
  const intersection = plus(own.intersection, others?.intersection);
  const cardinality = plus(own.cardinality, others?.cardinality);
  const positives = plus(own.positives, others?.positives);
  const dice = div(mul(intersection, 2), max(cardinality, 1e-7));
  return mul(sub(1, dice), cast(greater(positives, 0), dice.dtype));
}

/**
 * The upstream Dice loss of one batch: pooled over the whole batch, not per sample
 * (docs/upstream.md#dice-loss).
 */
export function binaryDiceLoss(logits: Value, target: Value): Value {
  return diceLossFromParts(diceParts(logits, target));
}

/** Pooled confusion counts at sigmoid(logit) > 0.5 (strict), as smp's Fscore metric uses them. */
export function diceCounts(logits: Value, target: Value): { tp: Value; fp: Value; fn: Value } {
  const predicted = cast(greater(sigmoid(logits), 0.5), logits.dtype);
  const tp = total(mul(predicted, target));
  return { tp, fp: sub(total(predicted), tp), fn: sub(total(target), tp) };
}

/** Mean squared error over every element (torch.nn.MSELoss, reduction 'mean'). */
/**
 * Mean squared error, averaged one axis at a time from the innermost: means of equal-sized groups
 * are the mean, and each step is a short float32 sum. One ReduceMean over every element sums them
 * in one pass, whose rounding grows with the count (3e-5 relative over a 2 x 256 x 256 super-image
 * against PyTorch float64, where the gradients agreed to 1e-4); the gradient is the same either way.
 */
export function mseLoss(pred: Value, target: Value): Value {
  const d = sub(pred, target);
  let squares = mul(d, d);
  for (let axis = squares.rank - 1; axis > 0; axis--) squares = reduceMean(squares, [axis]);
  return reduceMean(squares, allAxes(squares), false);
}

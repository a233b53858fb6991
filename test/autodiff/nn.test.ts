import { BACKENDS, formsFor } from '../../src/onnx/forms.js';
import * as op from '../../src/onnx/ops/index.js';
import { gradCheck } from '../helpers/gradcheck.js';

// ORT runs Conv, MaxPool and the normalisations in float32 only: finite differences in float32
// with eps 1e-2, checked to rtol 2e-3 (the loss itself is accumulated in float64).
const f32 = { eps: 1e-2, rtol: 2e-3, atol: 1e-3 };
const t = (name: string, shape: number[], extra = {}) => ({
  name,
  shape,
  dtype: 'float32' as const,
  ...extra,
});

describe('VJP rules: convolution, pooling, normalisation (finite differences, float32)', () => {
  it('Conv 2D, stride 1, padding 1, with bias', async () => {
    await gradCheck(
      [t('x', [2, 3, 6, 5]), t('w', [4, 3, 3, 3]), t('b', [4])],
      ([x, w, b]) => op.conv(x, w, b, { pads: [1, 1, 1, 1] }),
      f32,
    );
  });
  it('Conv 3D, stride 1, asymmetric padding, no bias', async () => {
    await gradCheck(
      [t('x', [1, 2, 4, 5, 6]), t('w', [3, 2, 3, 3, 3])],
      ([x, w]) => op.conv(x, w, null, { pads: [1, 0, 1, 1, 2, 1] }),
      f32,
    );
  });
  it('Conv 2D 1x1, grouped 2D and depthwise 3D (input and weight gradients)', async () => {
    await gradCheck([t('x', [2, 4, 5, 5]), t('w', [6, 4, 1, 1])], ([x, w]) => op.conv(x, w, null), f32);
    // padding wider than the kernel: border outputs see no input, the input gradient crops them
    await gradCheck(
      [t('x', [2, 3, 4, 3]), t('w', [2, 3, 1, 1])],
      ([x, w]) => op.conv(x, w, null, { pads: [1, 0, 2, 1] }),
      f32,
    );
    await gradCheck(
      [t('x', [2, 4, 5, 5]), t('w', [6, 2, 3, 3])],
      ([x, w]) => op.conv(x, w, null, { pads: [1, 1, 1, 1], group: 2 }),
      f32,
    );
    await gradCheck(
      [t('x', [1, 3, 3, 4, 4]), t('w', [3, 1, 3, 3, 3]), t('b', [3])],
      ([x, w, b]) => op.conv(x, w, b, { pads: [1, 1, 1, 1, 1, 1], group: 3 }),
      f32,
    );
  });
  it("depthwise 2D (UniFormer's 3x3 pad 1 and 5x5 pad 2), batch 2, with bias", async () => {
    for (const k of [3, 5])
      await gradCheck(
        [t('x', [2, 4, 6, 5]), t('w', [4, 1, k, k]), t('b', [4])],
        ([x, w, b]) => op.conv(x, w, b, { pads: Array(4).fill((k - 1) / 2), group: 4 }),
        f32,
      );
  });
  it('Conv 2D stride 2 (ResNet stem / down-sampling), odd and even sizes', async () => {
    await gradCheck(
      [t('x', [1, 2, 7, 8]), t('w', [3, 2, 3, 3]), t('b', [3])],
      ([x, w, b]) => op.conv(x, w, b, { strides: [2, 2], pads: [1, 1, 1, 1] }),
      f32,
    );
    await gradCheck(
      [t('x', [2, 2, 9, 9]), t('w', [3, 2, 7, 7])],
      ([x, w]) => op.conv(x, w, null, { strides: [2, 2], pads: [3, 3, 3, 3] }),
      f32,
    );
    await gradCheck(
      [t('x', [1, 2, 6, 6]), t('w', [3, 2, 1, 1])],
      ([x, w]) => op.conv(x, w, null, { strides: [2, 2] }),
      f32,
    );
  });
  for (const backend of BACKENDS)
    it(`MaxPool 3D kernel 2 stride 2 and 2D kernel 3 stride 2 pad 1 (overlapping windows), ${backend} forms`, async () => {
      // Distinct values so the maximum of each window is unique and finite differences are valid.
      const perm = (n: number) =>
        Float32Array.from({ length: n }, (_, i) => (((i * 7919) % n) / n - 0.5) * 10);
      const forms = formsFor(backend);
      await gradCheck(
        [t('x', [1, 2, 4, 4, 6], { data: perm(192) })],
        ([x]) => op.maxPool(x, { kernel: [2, 2, 2] }),
        { ...f32, eps: 1e-3, forms },
      );
      await gradCheck(
        [t('x', [2, 2, 6, 6], { data: perm(144) })],
        ([x]) => op.maxPool(x, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
        { ...f32, eps: 1e-3, forms },
      );
    });
  it('InstanceNormalization (3D, with scale and bias)', async () => {
    await gradCheck(
      [t('x', [2, 3, 2, 3, 4]), t('s', [3]), t('b', [3])],
      ([x, s, b]) => op.instanceNorm(x, s, b),
      f32,
    );
  });
  it('BatchNormalization in training mode (batch statistics)', async () => {
    await gradCheck(
      [
        t('x', [3, 2, 4, 4]),
        t('s', [2]),
        t('b', [2]),
        t('m', [2], { wrt: false, data: new Float32Array(2) }),
        t('v', [2], { wrt: false, data: Float32Array.from([1, 1]) }),
      ],
      ([x, s, b, m, v]) => op.batchNormTraining(x, s, b, m, v, 0.9).y,
      f32,
    );
  });
  it('BatchNormalization in inference mode (running statistics)', async () => {
    await gradCheck(
      [
        t('x', [3, 2, 4, 4]),
        t('s', [2]),
        t('b', [2]),
        t('m', [2], { wrt: false }),
        t('v', [2], { wrt: false, data: Float32Array.from([0.5, 2]) }),
      ],
      ([x, s, b, m, v]) => op.batchNormInference(x, s, b, m, v),
      f32,
    );
  });
});

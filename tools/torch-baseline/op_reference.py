"""Developer tool (needs Debian's python3-torch; never a dependency of the product or of CI).

Writes test/fixtures/torch-ops/transformer-ops-reference.json: inputs and PyTorch float64 outputs of the
operators the UniFormer model needs (softmax, exact GELU, LayerNorm, batched MatMul with broadcasting,
depthwise convolution), which test/onnx/transformer-ops.test.ts compares our builders with.

Usage (from the repository root):
  /usr/bin/python3 tools/torch-baseline/op_reference.py test/fixtures/torch-ops/transformer-ops-reference.json
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(21)


def t(*shape, scale=1.0, offset=0.0):
    # float32-representable values, so float32 runs see exactly the inputs of the float64 reference
    return (torch.randn(*shape, dtype=torch.float64) * scale + offset).float().double()


def flat(x):
    return [float(v) for v in x.reshape(-1).tolist()]


def case(name, inputs, output, **attrs):
    return {'name': name, 'inputs': [{'shape': list(x.shape), 'data': flat(x)} for x in inputs],
            'output': {'shape': list(output.shape), 'data': flat(output)}, **attrs}


def main(out):
    cases = []
    x = t(2, 3, 4, 5, scale=3)
    cases.append(case('softmax_last', [x], F.softmax(x, dim=-1), axis=-1))
    cases.append(case('softmax_axis1', [x], F.softmax(x, dim=1), axis=1))
    # GELU over [-6, 6] (both tails) and around 0
    g = torch.cat([torch.linspace(-6, 6, 49).double(), t(31, scale=1.5)])
    cases.append(case('gelu', [g], torch.nn.GELU()(g)))
    # LayerNorm over the last axis with a mean 300x the spread (ORT's one-pass variance loses ~2e-4 there)
    x = t(2, 6, 32, offset=300.0)
    w, b = t(32, scale=0.2, offset=1.0), t(32)
    cases.append(case('layer_norm_offset', [x, w, b], F.layer_norm(x, (32,), w, b, 1e-6), eps=1e-6, axis=-1))
    # over the last two axes, default eps
    x = t(3, 4, 5, scale=2, offset=1)
    w, b = t(4, 5, scale=0.2, offset=1.0), t(4, 5)
    cases.append(case('layer_norm_two_axes', [x, w, b], F.layer_norm(x, (4, 5), w, b, 1e-5), eps=1e-5, axis=1))
    for name, (sa, sb) in {
        'matmul_batched': ((2, 3, 4, 5), (2, 3, 5, 6)),  # attention: [B, H, N, D] x [B, H, D, N]
        'matmul_broadcast_batch': ((2, 1, 4, 5), (3, 5, 6)),  # a rank-3 operand against rank 4, axis of 1
        'matmul_linear': ((2, 7, 5), (5, 3)),  # Linear layer: [B, N, C] x [C, D]
        'matmul_rank2_left': ((4, 5), (2, 5, 3)),
    }.items():
        a, bb = t(*sa), t(*sb)
        cases.append(case(name, [a, bb], torch.matmul(a, bb)))
    for k in (3, 5):
        x, w, b = t(2, 6, 7, 9), t(6, 1, k, k), t(6)
        cases.append(case(f'depthwise_conv_{k}x{k}', [x, w, b], F.conv2d(x, w, b, padding=k // 2, groups=6),
                          pads=[k // 2] * 4, group=6))
    json.dump({'about': 'tools/torch-baseline/op_reference.py: PyTorch ' + torch.__version__ + ', float64',
               'cases': cases}, open(out, 'w'))
    print(f'wrote {out}')


if __name__ == '__main__':
    main(sys.argv[1])

"""Developer tool (needs Debian's python3-torch; never a dependency of the product or of CI).

Builds the upstream UNet3D / UNet3DSmall from the spec (MONAI 1.1.0 ResidualUnits, upstream
layout: input (N, 3, H, W, T), kernels over (H, W, T)), loads a checkpoint.safetensors written by
`unilvseg build-graph` (upstream names and layouts), and writes:
  - <out>/torch_unet3d.onnx: the model exported by torch.onnx (opset 17), the baseline the
    performance targets of issue 3 are stated against;
  - <out>/reference.json: the logits' checksum for a fixed clip, to compare with our model.onnx.

Usage: /usr/bin/python3 tools/torch-baseline/export_unet3d.py ARTIFACT_DIR OUT_DIR
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

UNITS = {'3d_unet': [2, 3, 4, 6, 3], '3d_unet_small': [2, 2, 2, 2, 2]}
SAFETENSORS_DTYPES = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8', 'U8': 'u1'}


def read_safetensors(path):
    """Every tensor of a safetensors file as a torch tensor of its own dtype."""
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        a, b = info['data_offsets']
        dtype = SAFETENSORS_DTYPES[info['dtype']]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dtype).reshape(info['shape']).copy())
    return out


class ConvUnit(nn.Module):
    """Conv3d(k3, p1) -> InstanceNorm3d(affine=False) -> PReLU, or the bare conv."""

    def __init__(self, cin, cout, conv_only=False):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 3, padding=1)
        self.conv_only = conv_only
        if not conv_only:
            self.adn = nn.Module()
            self.adn.N = nn.InstanceNorm3d(cout)
            self.adn.A = nn.PReLU()

    def forward(self, x):
        y = self.conv(x)
        return y if self.conv_only else self.adn.A(self.adn.N(y))


class ResidualUnit(nn.Module):
    def __init__(self, cin, cout, last_conv_only=False):
        super().__init__()
        self.conv = nn.Module()
        self.conv.unit0 = ConvUnit(cin, cout)
        self.conv.unit1 = ConvUnit(cout, cout, last_conv_only)
        self.residual = nn.Conv3d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        return self.conv.unit1(self.conv.unit0(x)) + self.residual(x)


class UpConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.ConvTranspose3d(cin, cout, 3, stride=2, padding=1, output_padding=1)
        self.adn = nn.Module()
        self.adn.N = nn.InstanceNorm3d(cout)
        self.adn.A = nn.PReLU()

    def forward(self, x):
        return self.adn.A(self.adn.N(self.conv(x)))


def scaled(channels, width_mult):
    """Our --width_mult: names stay, channel counts shrink (rounding half up), never below one."""
    return max(1, int(channels * width_mult + 0.5))


class UNet3D(nn.Module):
    def __init__(self, units, width_mult=1.0):
        super().__init__()
        ch = [scaled(c, width_mult) for c in (16, 32, 64, 128, 256)]
        for i, n in enumerate(units):
            cin = 3 if i == 0 else ch[i - 1]
            setattr(self, f'encoder{i + 1}', nn.Sequential(*[ResidualUnit(cin if k == 0 else ch[i], ch[i]) for k in range(n)]))
        for level in (4, 3, 2):
            setattr(self, f'decoder{level}', ResidualUnit(2 * ch[level - 1], ch[level - 1]))
        self.decoder1 = ResidualUnit(2 * ch[0], 1, last_conv_only=True)
        for level in (5, 4, 3, 2):
            setattr(self, f'upconv{level}', UpConv(ch[level - 1], ch[level - 2]))
        self.pool = nn.MaxPool3d(2)

    def forward(self, x):
        x1 = self.encoder1(x)
        x2 = self.encoder2(self.pool(x1))
        x3 = self.encoder3(self.pool(x2))
        x4 = self.encoder4(self.pool(x3))
        b = self.encoder5(self.pool(x4))
        d = self.decoder4(torch.cat([self.upconv5(b), x4], 1))
        d = self.decoder3(torch.cat([self.upconv4(d), x3], 1))
        d = self.decoder2(torch.cat([self.upconv3(d), x2], 1))
        return self.decoder1(torch.cat([self.upconv2(d), x1], 1))


def fixed_clip(T, S):
    """The clip our comparisons feed model.onnx: uint8 RGB [1, T, S, S, 3], byte i = top byte of (i * 2654435761) mod 2^32."""
    return ((np.arange(T * S * S * 3, dtype=np.uint64) * 2654435761) % 2**32 >> 24).astype(np.uint8).reshape(1, T, S, S, 3)


def upstream_input(clip, mean, std):
    """uint8 [N, T, H, W, 3] -> normalised float (N, 3, H, W, T), upstream's layout."""
    x = (clip.astype(np.float32) / 255 - np.array(mean, np.float32)) / np.array(std, np.float32)
    return torch.from_numpy(x.transpose(0, 4, 2, 3, 1).copy())


def frame_logits(model, x):
    """The model's logits as our model.onnx returns them: (N, T, H, W)."""
    with torch.no_grad():
        return model(x)[:, 0].permute(0, 3, 1, 2).contiguous()


def main(artifacts, out):
    os.makedirs(out, exist_ok=True)
    manifest = json.load(open(f'{artifacts}/manifest.json'))
    m = manifest['model']
    model = UNet3D(UNITS[m['encoder']], m.get('widthMult', 1)).eval()
    state = read_safetensors(f'{artifacts}/checkpoint.safetensors')
    model.load_state_dict(state, strict=True)
    x = upstream_input(fixed_clip(m['frames'], m['size']), m['mean'], m['std'])
    logits = frame_logits(model, x)
    args = dict(opset_version=17, input_names=['x'], output_names=['logits'], dynamic_axes={'x': {0: 'N'}, 'logits': {0: 'N'}})
    try:  # PyTorch >= 2.5 defaults to the dynamo exporter; keep the TorchScript one the targets were set with
        torch.onnx.export(model, x, f'{out}/torch_unet3d.onnx', dynamo=False, **args)
    except TypeError:  # PyTorch 1.x has no `dynamo` argument
        torch.onnx.export(model, x, f'{out}/torch_unet3d.onnx', **args)
    flat = logits.numpy().ravel()
    json.dump({'encoder': m['encoder'], 'shape': list(logits.shape), 'sum': float(flat.astype(np.float64).sum()),
               'absSum': float(np.abs(flat).astype(np.float64).sum()), 'first': flat[:8].tolist()}, open(f'{out}/reference.json', 'w'))
    print(f'wrote {out}/torch_unet3d.onnx and {out}/reference.json')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])

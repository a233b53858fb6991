"""Developer tool (needs Debian's python3-torch; never a dependency of the product or of CI).

Reference gradients for tools/torch-baseline/grad-check.ts: builds the upstream model of the
artifact set (UNet3D from export_unet3d.py, or UniFormerUNet from uniformer_unet.py, in training
mode: BatchNorm on batch statistics, as our train graphs), loads the weights, and computes the SSL
(temporal-masking MSE) and weak (pooled Dice on the traced frame) losses of the batch grad-check.ts
wrote, with PyTorch autograd in float64 (the reference) and in float32 (PyTorch's own float32
error, for scale). Writes
<work>/torch_grads.safetensors: `<phase>.f64.<param>` (F64) and `<phase>.f32.<param>` (F32) in
upstream names and layouts, and the losses in the metadata.

Usage: /usr/bin/python3 tools/torch-baseline/grad_reference.py ARTIFACT_DIR WEIGHTS.safetensors WORK_DIR
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_unet3d import SAFETENSORS_DTYPES, UNITS, UNet3D, read_safetensors  # noqa: E402
from uniformer_unet import UniFormerUNet  # noqa: E402


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {'__metadata__': metadata}, [], 0
    for name, a in tensors.items():
        dtype = 'F64' if a.dtype == np.float64 else 'F32'
        raw = np.ascontiguousarray(a, dtype=SAFETENSORS_DTYPES[dtype]).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
    os.replace(path + '.tmp', path)


def normalise(raw, mean, std):
    """uint8-valued [N, T, H, W, 3] -> [N, 3, H, W, T] (upstream layout), albumentations Normalize."""
    x = (raw / 255 - mean) / std
    return x.permute(0, 4, 2, 3, 1)


class Volume:
    """The 3D models: the clip as [N, 3, H, W, T]; logits [N, 1, H, W, T]."""

    def __init__(self, m):
        self.model = UNet3D(UNITS[m['encoder']], m.get('widthMult', 1))

    def prepare(self, raw, mean, std):
        return normalise(raw, mean, std)

    def frames(self, out):
        return out[:, 0].permute(0, 3, 1, 2)  # [N, T, H, W]


class SuperImage:
    """UniFormer-S U-Net: frames padded with raw 0 to tile x tile, normalised, tiled row-major."""

    def __init__(self, m):
        self.model = UniFormerUNet(m['encoder'], m.get('widthMult', 1))
        self.tile, self.size, self.t = m['tile'], m['size'], m['frames']
        self.n = int(round(self.t ** 0.5))

    def prepare(self, raw, mean, std):
        n, t, h, w, _ = raw.shape
        padded = raw.new_zeros(n, t, self.tile, self.tile, 3)
        padded[:, :, :h, :w] = raw
        x = (padded / 255 - mean) / std
        grid = x.reshape(n, self.n, self.n, self.tile, self.tile, 3).permute(0, 5, 1, 3, 2, 4)
        return grid.reshape(n, 3, self.n * self.tile, self.n * self.tile)

    def frames(self, out):
        n = out.shape[0]
        grid = out[:, 0].reshape(n, self.n, self.tile, self.n, self.tile).permute(0, 1, 3, 2, 4)
        return grid.reshape(n, self.t, self.tile, self.tile)[:, :, :self.size, :self.size]


def network(m):
    return SuperImage(m) if m['family'] == 'superimage' else Volume(m)


def ssl_loss(net, raw, keep, mean, std):
    masked = raw * keep[:, :, None, None, None]  # masked frames are raw black
    pred = net.model(net.prepare(masked, mean, std))
    target = net.prepare(raw, mean, std)[:, :1]  # channel 0 of the clean input (SI: pads included)
    return ((pred - target) ** 2).mean()


def weak_loss(net, raw, trace_mask, trace_index, mean, std):
    logits = net.frames(net.model(net.prepare(raw, mean, std)))  # [N, T, H, W]
    traced = logits[torch.arange(logits.shape[0]), trace_index]  # [N, H, W]
    p = torch.sigmoid(traced)
    inter = (p * trace_mask).sum()
    card = p.sum() + trace_mask.sum()
    dice = 2 * inter / card.clamp_min(1e-7)
    return (1 - dice) * (trace_mask.sum() > 0).to(dice.dtype)


def main(artifacts, weights, work):
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '2')))
    manifest = json.load(open(f'{artifacts}/manifest.json'))
    m = manifest['model']
    state = {k[len('model.'):] if k.startswith('model.') else k: v for k, v in read_safetensors(weights).items()}
    batch = read_safetensors(f'{work}/batch.safetensors')
    out, meta = {}, {}
    for dtype, tag in ((torch.float64, 'f64'), (torch.float32, 'f32')):
        net = network(m)
        model = net.model.to(dtype).train()
        names = list(model.state_dict().keys())
        model.load_state_dict({n: state[n].to(model.state_dict()[n].dtype) for n in names}, strict=True)
        raw = batch['frames'].to(dtype)
        mean = torch.tensor(m['mean'], dtype=dtype)
        std = torch.tensor(m['std'], dtype=dtype)
        cases = {
            'ssl': lambda: ssl_loss(net, raw, batch['keep'].to(dtype), mean, std),
            'weak': lambda: weak_loss(
                net,
                raw,
                batch['trace_mask'].to(dtype),
                batch['trace_index'],
                mean,
                std,
            ),
        }
        for phase, loss_fn in cases.items():
            model.zero_grad()
            loss = loss_fn()
            loss.backward()
            meta[f'{phase}.{tag}.loss'] = repr(float(loss))
            for n, p in model.named_parameters():
                if p.grad is None:  # in the state dict, never used (UniFormer's ImageNet head)
                    continue
                out[f'{phase}.{tag}.{n}'] = p.grad.detach().numpy().astype(np.float64 if tag == 'f64' else np.float32)
    write_safetensors(f'{work}/torch_grads.safetensors', out, meta)
    print(f'wrote {work}/torch_grads.safetensors ({len(out)} gradients)')


if __name__ == '__main__':
    main(*sys.argv[1:4])

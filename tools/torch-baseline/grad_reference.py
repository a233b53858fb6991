"""Developer tool (needs Debian's python3-torch; never a dependency of the product or of CI).

Reference gradients for tools/torch-baseline/grad-check.ts: builds the upstream UNet3D from
export_unet3d.py, loads the weights, and computes the SSL (temporal-masking MSE) and weak (pooled
Dice on the traced frame) losses of the batch grad-check.ts wrote, with PyTorch autograd in float64
(the reference) and in float32 (PyTorch's own float32 error, for scale). Writes
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


def ssl_loss(model, raw, keep, mean, std):
    masked = raw * keep[:, :, None, None, None]  # masked frames are raw black
    pred = model(normalise(masked, mean, std))
    target = normalise(raw, mean, std)[:, :1]
    return ((pred - target) ** 2).mean()


def weak_loss(model, raw, trace_mask, trace_index, mean, std):
    logits = model(normalise(raw, mean, std))[:, 0]  # [N, H, W, T]
    traced = logits[torch.arange(logits.shape[0]), :, :, trace_index]  # [N, H, W]
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
        model = UNet3D(UNITS[m['encoder']]).to(dtype)
        names = [n for n, _ in model.named_parameters()]
        model.load_state_dict({n: state[n].to(dtype) for n in names}, strict=True)
        raw = batch['frames'].to(dtype)
        mean = torch.tensor(m['mean'], dtype=dtype)
        std = torch.tensor(m['std'], dtype=dtype)
        cases = {
            'ssl': lambda: ssl_loss(model, raw, batch['keep'].to(dtype), mean, std),
            'weak': lambda: weak_loss(
                model,
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
                out[f'{phase}.{tag}.{n}'] = p.grad.detach().numpy().astype(np.float64 if tag == 'f64' else np.float32)
    write_safetensors(f'{work}/torch_grads.safetensors', out, meta)
    print(f'wrote {work}/torch_grads.safetensors ({len(out)} gradients)')


if __name__ == '__main__':
    main(*sys.argv[1:4])

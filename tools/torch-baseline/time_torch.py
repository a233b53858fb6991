"""Developer tool (needs Debian's python3-torch): PyTorch's own CPU time for the upstream UNet3D on
this machine, 2 threads, batch 1, 3x112x112x32: inference seconds per clip and one weak-supervision
train step (forward, binary Dice loss on one traced frame, backward, AdamW amsgrad) seconds.
The same-day baseline for `npm run bench`'s model section (docs/performance.md#starting-facts:
1.6 s and 6.5 s before our graph forms).
Usage: /usr/bin/python3 tools/torch-baseline/time_torch.py [3d_unet|3d_unet_small] [runs]
"""
import json
import sys
import time

import torch

from export_unet3d import UNITS, UNet3D


def main(encoder='3d_unet', runs=3):
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = UNet3D(UNITS[encoder])
    x = torch.randn(1, 3, 112, 112, 32)
    mask = torch.zeros(1, 112, 112)
    mask[:, 30:80, 40:70] = 1
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.999), weight_decay=1e-5, amsgrad=True)

    def step():
        opt.zero_grad()
        logits = model(x)[:, 0, :, :, 16]
        p = torch.sigmoid(logits)
        loss = 1 - 2 * (p * mask).sum() / (p.sum() + mask.sum()).clamp_min(1e-7)
        loss.backward()
        opt.step()

    model.eval()
    with torch.no_grad():
        model(x)
        infer = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            infer.append(time.perf_counter() - t0)
    model.train()
    step()
    train = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        train.append(time.perf_counter() - t0)
    med = lambda xs: sorted(xs)[len(xs) // 2]
    print(json.dumps({'encoder': encoder, 'torch': torch.__version__, 'threads': 2, 'inferenceSecondsPerClip': round(med(infer), 3),
                      'trainStepSeconds': round(med(train), 3), 'runs': runs}))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '3d_unet', int(sys.argv[2]) if len(sys.argv) > 2 else 3)

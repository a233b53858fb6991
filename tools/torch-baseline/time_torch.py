"""Developer tool (needs PyTorch: Debian's python3-torch here, the GPU machine's own): PyTorch's time
for the upstream UNet3D, 3x112x112x32 clips: inference seconds per batch and one weak-supervision
train step (forward, binary Dice loss on one traced frame, backward, AdamW amsgrad) seconds.
CPU (default): 2 threads, batch 1, the same-day baseline for `npm run bench`'s model section
(docs/performance.md#starting-facts). With `cuda`: on the GPU, batches 1 and 16, fp32, timed with
CUDA synchronisation, the baseline for the GPU check (docs/gpu.md).
Usage: python3 tools/torch-baseline/time_torch.py [3d_unet|3d_unet_small] [runs] [cpu|cuda]
"""
import json
import sys
import time

import torch

from export_unet3d import UNITS, UNet3D


def timings(model, device, batch, runs):
    x = torch.randn(batch, 3, 112, 112, 32, device=device)
    mask = torch.zeros(batch, 112, 112, device=device)
    mask[:, 30:80, 40:70] = 1
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.999), weight_decay=1e-5, amsgrad=True)
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)

    def step():
        opt.zero_grad()
        logits = model(x)[:, 0, :, :, 16]
        p = torch.sigmoid(logits)
        loss = 1 - 2 * (p * mask).sum() / (p.sum() + mask.sum()).clamp_min(1e-7)
        loss.backward()
        opt.step()

    def timed(fn, warm):
        for _ in range(warm):
            fn()
        sync()
        out = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            sync()
            out.append(time.perf_counter() - t0)
        return round(sorted(out)[len(out) // 2], 4)

    model.eval()
    with torch.no_grad():
        infer = timed(lambda: model(x), 2)
    model.train()
    train = timed(step, 2)
    return infer, train


def main(encoder='3d_unet', runs=3, device='cpu'):
    torch.manual_seed(0)
    model = UNet3D(UNITS[encoder]).to(device)
    if device == 'cpu':
        torch.set_num_threads(2)
        infer, train = timings(model, device, 1, runs)
        print(json.dumps({'encoder': encoder, 'torch': torch.__version__, 'threads': 2, 'inferenceSecondsPerClip': infer,
                          'trainStepSeconds': train, 'runs': runs}))
        return
    out = {'encoder': encoder, 'torch': torch.__version__, 'device': torch.cuda.get_device_name(), 'runs': runs}
    for batch in (1, 16):
        infer, train = timings(model, device, batch, runs)
        out[f'batch{batch}'] = {'inferenceSeconds': infer, 'trainStepSeconds': train}
    out['peakGiB'] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    print(json.dumps(out))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '3d_unet', int(sys.argv[2]) if len(sys.argv) > 2 else 3,
         sys.argv[3] if len(sys.argv) > 3 else 'cpu')

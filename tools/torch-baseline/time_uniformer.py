"""Developer tool (needs Debian's python3-torch; never a dependency of the product or of CI).

PyTorch eager's time for upstream's UniFormerUNet('uniformer_small') (uniformer_unet.py) on one
T = 16 super-image (1 x 3 x 512 x 512), the baseline of `npm run bench`'s uniformer section:
inference seconds (eval mode, no_grad) and one weak-supervision train step (train mode: forward,
the smp binary Dice loss on the traced frame's 112 x 112 tile, backward, AdamW with AMSGrad as
upstream's weak phase). 2 warm-ups, median of `runs`. Prints one JSON line.

Usage: /usr/bin/python3 tools/torch-baseline/time_uniformer.py [runs] [threads] [width_mult]
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from uniformer_unet import UniFormerUNet, frame_logits  # noqa: E402

FRAMES, SIZE, TRACED = 16, 112, 8


def median_time(fn, runs, warm=2):
    for _ in range(warm):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(sorted(times)[len(times) // 2], 4), [round(t, 4) for t in times]


def main(runs=3, threads=2, width=1.0):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = UniFormerUNet('uniformer_small', width)
    x = torch.randn(1, 3, 512, 512)
    mask = torch.zeros(1, SIZE, SIZE)
    mask[:, 30:80, 40:70] = 1
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.999), weight_decay=1e-5, amsgrad=True)

    def step():
        opt.zero_grad()
        p = torch.sigmoid(frame_logits(model(x), FRAMES, SIZE)[:, TRACED])
        loss = 1 - 2 * (p * mask).sum() / (p.sum() + mask.sum()).clamp_min(1e-7)
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            model(x)

    model.eval()
    inference, inference_runs = median_time(infer, runs)
    model.train()
    train, train_runs = median_time(step, runs)
    print(json.dumps({'torch': torch.__version__, 'threads': threads, 'width_mult': width, 'superImage': '1x3x512x512',
                      'inferenceSeconds': inference, 'inferenceRuns': inference_runs,
                      'trainStepSeconds': train, 'trainStepRuns': train_runs,
                      'mkldnn': torch.backends.mkldnn.is_available()}))


if __name__ == '__main__':
    args = sys.argv[1:]
    main(int(args[0]) if args else 3, int(args[1]) if len(args) > 1 else 2, float(args[2]) if len(args) > 2 else 1.0)

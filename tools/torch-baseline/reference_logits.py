"""Developer tool (needs Debian's python3-torch; never a dependency of the product or of CI).

Writes the reference values test/models/unet3d-reference.test.ts compares our graphs with: the
upstream UNet3D built in PyTorch (export_unet3d.py's modules) with the weights of an artifact set's
checkpoint.safetensors, run in float64 on the fixed clip (bench-common.ts syntheticClip), and the
logits at a few fixed positions plus their sum over the whole clip.

Usage (from the repository root):
  npx unilvseg build-graph --encoder 3d_unet --frames 16 --size 32 --seed 1 --out /tmp/u3d-ref
  /usr/bin/python3 tools/torch-baseline/reference_logits.py /tmp/u3d-ref test/models/fixtures/unet3d-reference.json
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_unet3d import UNITS, UNet3D, fixed_clip, frame_logits, read_safetensors, upstream_input  # noqa: E402


def main(artifacts, out):
    manifest = json.load(open(f'{artifacts}/manifest.json'))
    m = manifest['model']
    model = UNet3D(UNITS[m['encoder']], m.get('widthMult', 1)).eval()
    model.load_state_dict(read_safetensors(f'{artifacts}/checkpoint.safetensors'), strict=True)
    model = model.double()
    T, S = m['frames'], m['size']
    logits = frame_logits(model, upstream_input(fixed_clip(T, S), m['mean'], m['std']).double())[0].numpy()
    # Corners and edges of the first and last frames (where padding and the shifted taps' borders
    # matter) and a few inner points.
    points = [(0, 0, 0), (0, 0, S - 1), (0, S - 1, 0), (T - 1, S - 1, S - 1), (T - 1, 0, S // 2),
              (T // 2, S // 2, S // 2), (3, 7, 21), (9, 30, 2), (12, 15, 31), (T - 2, 1, 1)]
    json.dump({
        'about': 'tools/torch-baseline/reference_logits.py: PyTorch ' + torch.__version__ + ', float64',
        'encoder': m['encoder'], 'widthMult': m.get('widthMult', 1), 'frames': T, 'size': S,
        'seed': manifest['seed'],
        'points': [{'t': t, 'y': y, 'x': x, 'logit': float(logits[t, y, x])} for t, y, x in points],
        'sum': float(logits.sum()), 'absSum': float(np.abs(logits).sum()),
    }, open(out, 'w'), indent=1)
    print(f'wrote {out}')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])

"""Developer tool (needs Debian's python3-torch; never a dependency of the product or of CI).

Checkpoints and reference logits of upstream's UniFormerUNet('uniformer_small') (uniformer_unet.py's
module tree), for the import tests and the parity check. Two modes:

  /usr/bin/python3 tools/torch-baseline/uniformer_reference.py fixtures OUT [--width W] [--frames T] [--size S] [--only-plain]
      Builds the module at --width_mult W (default 0.0625, as test/fixtures/uniformer), gives every
      BatchNorm non-trivial running statistics and every norm a non-trivial affine, and writes
        lightning.ckpt   a Lightning-style file holding only state_dict (keys "model." + upstream's,
                         encoder.head.* and every num_batches_tracked included), epoch and global_step;
        plain.pt         torch.save(model.state_dict());
        imagenet-small.pth, imagenet-base.pth
                         what UniFormer's ImageNet releases hold, {'model': encoder state dict}, for a
                         freshly initialised uniformer_small and uniformer_base encoder (same width);
        logits.f32 + reference.json
                         the module's eval-mode logits (N, T, S, S) for the fixed clip (export_unet3d.fixed_clip),
                         computed in float64 and stored as float32; reference.json also has PyTorch
                         float32's own max deviation from them.
      --only-plain writes plain.pt and the references only (the full-width check).

  /usr/bin/python3 tools/torch-baseline/uniformer_reference.py load-ours CHECKPOINT.safetensors REF_DIR
      Loads one of our checkpoint.safetensors (optimizer-state keys dropped, as the README says)
      into the module with strict=True and prints, as JSON, its logits' max deviation from REF_DIR's.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_unet3d import fixed_clip, read_safetensors  # noqa: E402
from uniformer_unet import DEPTHS, UniFormer, UniFormerUNet, frame_logits, randomise_statistics, super_image  # noqa: E402

MEAN = [0.12741163, 0.1279413, 0.12912785]  # EchoNet, as graphs/preprocess.ts
STD = [0.19557191, 0.19562256, 0.1965878]


def logits_of(model, frames, size, dtype):
    model = model.to(dtype).eval()
    x = super_image(fixed_clip(frames, size), MEAN, STD).to(dtype)
    with torch.no_grad():
        return frame_logits(model(x), frames, size)


def fixtures(out, width, frames, size, only_plain):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = UniFormerUNet('uniformer_small', width)
    randomise_statistics(model, torch.Generator().manual_seed(1))
    state = model.state_dict()
    torch.save(state, f'{out}/plain.pt')
    if not only_plain:
        torch.save({'state_dict': {f'model.{k}': v for k, v in state.items()}, 'epoch': 3, 'global_step': 120},
                   f'{out}/lightning.ckpt')
        for size_name in ('uniformer_small', 'uniformer_base'):
            torch.manual_seed(2)
            encoder = UniFormer(DEPTHS[size_name], width)
            randomise_statistics(encoder, torch.Generator().manual_seed(3))
            torch.save({'model': encoder.state_dict()}, f'{out}/imagenet-{size_name.split("_")[1]}.pth')
    ref64 = logits_of(model, frames, size, torch.float64)
    ref32 = logits_of(model, frames, size, torch.float32).double()
    ref64.numpy().astype('<f4').tofile(f'{out}/logits.f32')
    json.dump({
        'about': 'tools/torch-baseline/uniformer_reference.py: PyTorch ' + torch.__version__ + ', float64',
        'encoder': 'uniformer_small', 'width_mult': width, 'frames': frames, 'size': size, 'mean': MEAN, 'std': STD,
        'clip': 'export_unet3d.fixed_clip(frames, size), [1, T, S, S, 3]', 'logits': 'logits.f32',
        'shape': list(ref64.shape), 'max_abs_logit': float(ref64.abs().max()),
        'torch_float32_max_abs_error': float((ref32 - ref64).abs().max()),
        'parameters': sum(p.numel() for p in model.parameters()),
    }, open(f'{out}/reference.json', 'w'), indent=1)
    print(f'wrote {out}: ' + ', '.join(f'{f} {os.path.getsize(os.path.join(out, f))} B' for f in sorted(os.listdir(out))))


def load_ours(checkpoint, ref_dir):
    ref = json.load(open(f'{ref_dir}/reference.json'))
    model = UniFormerUNet('uniformer_small', ref['width_mult'])
    state = read_safetensors(checkpoint)
    wanted = model.state_dict()
    model.load_state_dict({k: v for k, v in state.items() if k in wanted}, strict=True)
    got = logits_of(model, ref['frames'], ref['size'], torch.float64).numpy()
    want = np.fromfile(f'{ref_dir}/logits.f32', '<f4').reshape(got.shape)
    print(json.dumps({'loaded_strictly': True, 'tensors': len(wanted),
                      'max_abs_diff_from_reference': float(np.abs(got - want).max())}))


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='mode', required=True)
    f = sub.add_parser('fixtures')
    f.add_argument('out')
    f.add_argument('--width', type=float, default=0.0625)
    f.add_argument('--frames', type=int, default=4)
    f.add_argument('--size', type=int, default=112)
    f.add_argument('--only-plain', action='store_true')
    load = sub.add_parser('load-ours')
    load.add_argument('checkpoint')
    load.add_argument('ref_dir')
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '2')))
    if args.mode == 'fixtures':
        fixtures(args.out, args.width, args.frames, args.size, args.only_plain)
    else:
        load_ours(args.checkpoint, args.ref_dir)

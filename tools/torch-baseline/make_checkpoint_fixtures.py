"""Developer tool: writes the PyTorch checkpoint fixtures of test/fixtures/torch-checkpoints/ with real PyTorch.

Needs Debian's python3-torch (never a dependency of the product or of CI, which only read the
committed files). Re-run from the repository root after changing the model or the fixtures:

    /usr/bin/python3 tools/torch-baseline/make_checkpoint_fixtures.py test/fixtures/torch-checkpoints

(`... make_checkpoint_fixtures.py --full-size /tmp/full.ckpt [3d_unet|3d_unet_small]` instead writes a
full-width Lightning-style checkpoint with optimizer state, to time an import of the authors' size.)

It builds the upstream UNet3DSmall (export_unet3d.py's module tree, the names and layouts of the
authors' checkpoints) narrowed to width 1/8 so the files stay small, takes two AdamW/AMSGrad steps
(so the optimizer state is real), and writes:
  - lightning.ckpt: what PyTorch Lightning 1.7's ModelCheckpoint saves: a dict with epoch,
    global_step, pytorch-lightning_version, state_dict (every key prefixed "model."), loops,
    callbacks (ModelCheckpoint state with a tensor score), optimizer_states, lr_schedulers
    (MultiStepLR, whose milestones are a collections.Counter), hparams_name and hyper_parameters
    (an AttributeDict of pytorch_lightning, imitated here under its real module path, since
    Lightning is not installed);
  - plain.pt: torch.save(model.state_dict()), no prefix;
  - dtypes.pt: a state dict of float16, bfloat16, float64, int64 and float32 tensors, and
    dtypes.json with their values as float32 (what our reader must produce);
  - values-p2.pkl, values-p4.pkl: plain Python values pickled by Python (protocols 2 and 4);
  - reference.json + logits.f32: the model's logits (N, T, H, W), little-endian float32, for the
    fixed clip of export_unet3d.fixed_clip(T, S), normalised with EchoNet's mean and std.
Four parameters are stored the way training can leave them, to exercise the reader's storage
handling: a permuted (non-contiguous) conv kernel, two residual biases sharing one storage at
offsets 3 and 21, and a ConvTranspose kernel that is every second slice of a larger storage.
"""
import collections
import json
import os
import pickle
import sys
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_unet3d import UNITS, UNet3D, fixed_clip, frame_logits, upstream_input  # noqa: E402

ENCODER = '3d_unet_small'
WIDTH = 0.125
T, S = 16, 64
MEAN = [0.12741163, 0.1279413, 0.12912785]  # EchoNet, as graphs/preprocess.ts
STD = [0.19557191, 0.19562256, 0.1965878]


def lightning_attribute_dict():
    """pytorch_lightning.utilities.parsing.AttributeDict under its real module path, so the pickle references it as Lightning's does."""
    names = ['pytorch_lightning', 'pytorch_lightning.utilities', 'pytorch_lightning.utilities.parsing']
    for n in names:
        sys.modules.setdefault(n, types.ModuleType(n))
    cls = type('AttributeDict', (dict,), {'__module__': names[-1]})
    sys.modules[names[-1]].AttributeDict = cls
    return cls


def store_unusually(model):
    """Re-seat three parameters on storages with strides and offsets; values unchanged."""
    with torch.no_grad():
        w = model.encoder1[0].conv.unit0.conv.weight  # [Cout, Cin, 3, 3, 3]
        base = torch.empty(w.shape[1:] + w.shape[:1])  # channels-last storage
        view = base.permute(4, 0, 1, 2, 3)
        view.copy_(w)
        w.data = view
        # residual biases: added after the last norm, so the logits depend on them (a conv bias before InstanceNorm cancels)
        b1, b2 = model.decoder4.residual.bias, model.encoder5[0].residual.bias
        shared = torch.zeros(3 + b1.numel() + 2 + b2.numel() + 3)
        o2 = 3 + b1.numel() + 2
        shared[3:3 + b1.numel()] = b1
        shared[o2:o2 + b2.numel()] = b2
        b1.data, b2.data = shared[3:3 + b1.numel()], shared[o2:o2 + b2.numel()]
        u = model.upconv5.conv.weight
        wide = torch.zeros((2 * u.shape[0],) + u.shape[1:])
        wide[1::2] = u
        u.data = wide[1::2]
    assert not model.encoder1[0].conv.unit0.conv.weight.is_contiguous()
    assert b2.storage_offset() == o2 and b1.storage_offset() == 3
    assert model.upconv5.conv.weight.storage_offset() > 0 and not model.upconv5.conv.weight.is_contiguous()


def summary(t):
    flat = t.detach().reshape(-1)
    return {'shape': list(t.shape), 'stride': list(t.stride()), 'offset': t.storage_offset(),
            'first': flat[:6].tolist(), 'sum': float(flat.double().sum())}


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = UNet3D(UNITS[ENCODER], WIDTH)
    with torch.no_grad():  # slopes other than the default 0.25, so each PReLU weight is checked
        for name, p in model.named_parameters():
            if name.endswith('adn.A.weight'):
                p.uniform_(0.05, 0.45)
    store_unusually(model)
    # Upstream's weak-supervision optimizer (AdamW, AMSGrad) and schedule; two steps on a random target.
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=1e-5, amsgrad=True)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[45, 60], gamma=0.1)
    x = upstream_input(fixed_clip(T, S), MEAN, STD)
    target = (torch.rand(1, 1, S, S, T) > 0.5).float()
    for _ in range(2):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), target)
        loss.backward()
        opt.step()
    sched.step()
    store_unusually(model)  # optimizer steps write in place, but re-seat to be sure of the layout
    model.eval()
    logits = frame_logits(model, x)

    state = model.state_dict()
    torch.save(state, f'{out}/plain.pt')
    AttributeDict = lightning_attribute_dict()
    monitor = "ModelCheckpoint{'monitor': 'val_dsc', 'mode': 'max', 'every_n_train_steps': 0, 'every_n_epochs': 1, 'train_time_interval': None, 'save_on_train_epoch_end': True}"
    ckpt = {
        'epoch': 0,
        'global_step': 2,
        'pytorch-lightning_version': '1.7.2',
        'state_dict': collections.OrderedDict((f'model.{k}', v) for k, v in state.items()),
        'loops': {
            'fit_loop': {
                'state_dict': {},
                'epoch_loop.state_dict': {'_batches_that_stepped': 2},
                'epoch_loop.batch_progress': {'total': {'ready': 2, 'completed': 2, 'started': 2, 'processed': 2},
                                              'current': {'ready': 2, 'completed': 2, 'started': 2, 'processed': 2},
                                              'is_last_batch': True},
                'epoch_progress': {'total': {'ready': 1, 'completed': 0, 'started': 1, 'processed': 1},
                                   'current': {'ready': 1, 'completed': 0, 'started': 1, 'processed': 1}},
            },
            'validate_loop': {'state_dict': {}},
        },
        'callbacks': {monitor: {'monitor': 'val_dsc', 'best_model_score': torch.tensor(0.8123),
                                'best_model_path': '/runs/lightning_logs/version_0/checkpoints/epoch=0-step=2.ckpt',
                                'current_score': torch.tensor(0.8123), 'dirpath': '/runs/lightning_logs/version_0/checkpoints',
                                'best_k_models': {'/runs/lightning_logs/version_0/checkpoints/epoch=0-step=2.ckpt': torch.tensor(0.8123)},
                                'kth_best_model_path': '/runs/lightning_logs/version_0/checkpoints/epoch=0-step=2.ckpt',
                                'kth_value': torch.tensor(0.8123), 'last_model_path': ''}},
        'optimizer_states': [opt.state_dict()],
        'lr_schedulers': [sched.state_dict()],
        'hparams_name': 'kwargs',
        'hyper_parameters': AttributeDict(encoder=ENCODER, frames=T, period=1, lr=3e-4, pct_train=None),
    }
    torch.save(ckpt, f'{out}/lightning.ckpt')

    values = torch.tensor([1.5, -2.25, 3.0e-3, 65504.0, -1.0e-4, 0.1, 7.0, -0.333])
    dtypes = {
        'half': values.half(),
        'bfloat': values.bfloat16().reshape(2, 4),
        'double': values.double().reshape(4, 2).t(),  # non-contiguous as well
        'long': torch.arange(-3, 3, dtype=torch.int64),
        'float': values,
    }
    torch.save(dtypes, f'{out}/dtypes.pt')
    json.dump({k: {'shape': list(v.shape), 'values': v.float().reshape(-1).tolist()} for k, v in dtypes.items()},
              open(f'{out}/dtypes.json', 'w'), indent=1)

    # Plain Python values pickled by Python itself, protocols 2 (torch.save's) and 4 (FRAME, MEMOIZE, STACK_GLOBAL).
    shared = [7, 8]
    values = {'small': 5, 'int2': 300, 'neg': -70000, 'big': 2**70, 'negbig': -2**65, 'float': 0.1, 'text': 'h\u00e9llo',
              'list': [1, [2, 3], ()], 'tuple': (1, 'a', None, True, False), 'bytes': b'\x00\xffab',
              'ordered': collections.OrderedDict(a=1, b=2), 'shared': (shared, shared), 'long_text': 'x' * 300}
    for protocol in (2, 4):
        with open(f'{out}/values-p{protocol}.pkl', 'wb') as f:
            pickle.dump(values, f, protocol=protocol)

    logits.numpy().astype('<f4').tofile(f'{out}/logits.f32')
    ref = {'encoder': ENCODER, 'width_mult': WIDTH, 'frames': T, 'size': S, 'period': 1, 'mean': MEAN, 'std': STD,
           'clip': 'export_unet3d.fixed_clip(frames, size): byte i = top byte of (i * 2654435761) mod 2^32, [1, T, S, S, 3]',
           'logits': 'logits.f32', 'shape': list(logits.shape), 'torch': torch.__version__,
           # tensors stored with strides or offsets, and two optimizer moments: values in row-major order
           'checked_tensors': {name: summary(t) for name, t in [
               ('encoder1.0.conv.unit0.conv.weight', state['encoder1.0.conv.unit0.conv.weight']),
               ('decoder4.residual.bias', state['decoder4.residual.bias']),
               ('encoder5.0.residual.bias', state['encoder5.0.residual.bias']),
               ('upconv5.conv.weight', state['upconv5.conv.weight']),
               ('encoder1.0.conv.unit0.conv.weight.exp_avg', opt.state[model.encoder1[0].conv.unit0.conv.weight]['exp_avg']),
               ('upconv2.adn.A.weight.max_exp_avg_sq', opt.state[model.upconv2.adn.A.weight]['max_exp_avg_sq'])]}}
    json.dump(ref, open(f'{out}/reference.json', 'w'), indent=1)
    print(f'wrote {out}: ' + ', '.join(f'{f} {os.path.getsize(os.path.join(out, f))} B' for f in sorted(os.listdir(out))))


def full_size(path, encoder='3d_unet'):
    """A full-width Lightning-style checkpoint (random weights, AdamW/AMSGrad state after one step), for timing imports."""
    torch.manual_seed(0)
    model = UNet3D(UNITS[encoder])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=1e-5, amsgrad=True)
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 1e-3
    opt.step()
    torch.save({'epoch': 59, 'global_step': 14520, 'pytorch-lightning_version': '1.7.2',
                'state_dict': collections.OrderedDict((f'model.{k}', v) for k, v in model.state_dict().items()),
                'optimizer_states': [opt.state_dict()], 'lr_schedulers': [], 'hparams_name': 'kwargs',
                'hyper_parameters': lightning_attribute_dict()(encoder=encoder, frames=32, period=1)}, path)
    print(f'wrote {path}: {os.path.getsize(path)} B')


if __name__ == '__main__':
    # `--full-size PATH [ENCODER]` writes a full-width checkpoint for timing instead of the fixtures
    if len(sys.argv) > 2 and sys.argv[1] == '--full-size':
        full_size(sys.argv[2], *sys.argv[3:4])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/torch-checkpoints')

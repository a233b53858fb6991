"""Developer tool (needs Debian's python3-torch; never a dependency of the product or of CI).

Upstream's super-image model UniFormerUNet('uniformer_small') (docs/upstream.md#uniformer-s-u-net)
rebuilt in plain PyTorch with upstream's module tree, so its state dict has upstream's names, order
and shapes: the UniFormer-S encoder (four patch embeddings with a LayerNorm over channels, two
stages of convolutional blocks, two of self-attention blocks, BatchNorm at the end, the unused
1000-class head kept), smp's U-Net decoder over [input, empty 0-channel map at 1/2, stages 1-4] and
smp's 3x3 segmentation head. smp and timm are not installed; the few pieces upstream takes from
them (Conv2dReLU, SegmentationHead, the U-Net decoder, trunc_normal_) are written here from what
they do. `width_mult` narrows every channel count as our --width_mult does; the head count per stage
stays (1, 2, 5, 8), so the head dimension is 64 * width_mult.

    /usr/bin/python3 tools/torch-baseline/uniformer_unet.py          # parameter counts and the state-dict list
"""
import sys

import torch
from torch import nn
import torch.nn.functional as F

EMBED = [64, 128, 320, 512]
DEPTHS = {'uniformer_small': [3, 4, 8, 3], 'uniformer_base': [5, 8, 20, 7]}
HEAD_DIM = 64
DECODER = [256, 128, 64, 32, 16]


def scaled(channels, width_mult):
    """Our --width_mult: names stay, channel counts shrink (rounding half up), never below one."""
    return max(1, int(channels * width_mult + 0.5))


class ConvMlp(nn.Module):
    """Stage 1-2 feed-forward: 1x1 conv -> exact GELU -> 1x1 conv (upstream CMlp)."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TokenMlp(nn.Module):
    """Stage 3-4 feed-forward on tokens: Linear -> exact GELU -> Linear (upstream Mlp)."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class SelfAttention(nn.Module):
    """Multi-head self-attention; qkv's output channels are ordered (q|k|v, head, head channel)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        weights = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale, dim=-1)
        return self.proj(torch.matmul(weights, v).transpose(1, 2).reshape(b, n, c))


class ConvBlock(nn.Module):
    """UniFormer's local block (upstream CBlock): positional dw-conv, dw-5x5 'attention', conv MLP."""

    def __init__(self, dim):
        super().__init__()
        self.pos_embed = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.BatchNorm2d(dim)
        self.conv1 = nn.Conv2d(dim, dim, 1)
        self.conv2 = nn.Conv2d(dim, dim, 1)
        self.attn = nn.Conv2d(dim, dim, 5, padding=2, groups=dim)
        self.norm2 = nn.BatchNorm2d(dim)
        self.mlp = ConvMlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.pos_embed(x)
        x = x + self.conv2(self.attn(self.conv1(self.norm1(x))))
        return x + self.mlp(self.norm2(x))


class AttentionBlock(nn.Module):
    """UniFormer's global block (upstream SABlock): positional dw-conv, then a transformer block on tokens."""

    def __init__(self, dim, heads):
        super().__init__()
        self.pos_embed = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = TokenMlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.pos_embed(x)
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2)
        t = t + self.attn(self.norm1(t))
        t = t + self.mlp(self.norm2(t))
        return t.transpose(1, 2).reshape(b, c, h, w)


class PatchEmbed(nn.Module):
    """Non-overlapping conv patches, then a LayerNorm over channels (default eps 1e-5). norm is
    registered before proj, as upstream does, which sets the state-dict order."""

    def __init__(self, cin, dim, patch):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.proj = nn.Conv2d(cin, dim, patch, stride=patch)

    def forward(self, x):
        x = self.proj(x)
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2).contiguous()


class UniFormer(nn.Module):
    def __init__(self, depths, width_mult=1.0):
        super().__init__()
        dims = [scaled(c, width_mult) for c in EMBED]
        heads = [c // HEAD_DIM for c in EMBED]
        assert all(d % h == 0 for d, h in zip(dims, heads)), f'widths {dims} do not split into {heads} heads'
        cins = [3] + dims[:-1]
        for i in range(4):
            setattr(self, f'patch_embed{i + 1}', PatchEmbed(cins[i], dims[i], 4 if i == 0 else 2))
        for i in range(4):
            make = (lambda: ConvBlock(dims[i])) if i < 2 else (lambda: AttentionBlock(dims[i], heads[i]))
            setattr(self, f'blocks{i + 1}', nn.ModuleList([make() for _ in range(depths[i])]))
        self.norm = nn.BatchNorm2d(dims[3])
        self.head = nn.Linear(dims[3], 1000)  # the ImageNet classifier: in the state dict, never run
        for m in self.modules():  # upstream's _init_weights (timm's trunc_normal_ is torch's with a=-2, b=2)
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        features = [x, x.new_zeros(x.shape[0], 0, x.shape[2] // 2, x.shape[3] // 2)]
        for i in range(4):
            x = getattr(self, f'patch_embed{i + 1}')(x)
            for block in getattr(self, f'blocks{i + 1}'):
                x = block(x)
            if i == 3:
                x = self.norm(x)
            features.append(x)
        return features


def conv_bn_relu(cin, cout):
    """smp Conv2dReLU(use_batchnorm=True): conv without bias (.0), BatchNorm (.1), ReLU (.2)."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DecoderBlock(nn.Module):
    def __init__(self, cin, cskip, cout):
        super().__init__()
        self.conv1 = conv_bn_relu(cin + cskip, cout)
        self.conv2 = conv_bn_relu(cout, cout)

    def forward(self, x, skip):
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        if skip is not None:
            x = torch.cat([x, skip], 1)
        return self.conv2(self.conv1(x))


class Decoder(nn.Module):
    """smp's UnetDecoder (no centre block) for encoder channels [3, 0, d1, d2, d3, d4]."""

    def __init__(self, encoder_channels, decoder_channels):
        super().__init__()
        coarse_first = encoder_channels[1:][::-1]
        ins = [coarse_first[0]] + decoder_channels[:-1]
        skips = coarse_first[1:] + [0]
        self.blocks = nn.ModuleList(DecoderBlock(i, s, o) for i, s, o in zip(ins, skips, decoder_channels))

    def forward(self, *features):
        coarse_first = features[1:][::-1]
        x, skips = coarse_first[0], coarse_first[1:]
        for i, block in enumerate(self.blocks):
            x = block(x, skips[i] if i < len(skips) else None)
        return x


class UniFormerUNet(nn.Module):
    def __init__(self, encoder='uniformer_small', width_mult=1.0):
        super().__init__()
        self.encoder = UniFormer(DEPTHS[encoder], width_mult)
        dims = [scaled(c, width_mult) for c in EMBED]
        dec = [scaled(c, width_mult) for c in DECODER]
        self.decoder = Decoder([3, 0] + dims, dec)
        self.segmentation_head = nn.Sequential(nn.Conv2d(dec[-1], 1, 3, padding=1))
        # smp's initialize(): decoder convs kaiming_uniform(fan_in, relu), BN 1/0; head xavier_uniform, bias 0
        for m in self.decoder.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, mode='fan_in', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.xavier_uniform_(self.segmentation_head[0].weight)
        nn.init.zeros_(self.segmentation_head[0].bias)

    def forward(self, x):
        return self.segmentation_head(self.decoder(*self.encoder(x)))


def randomise_statistics(model, generator):
    """Non-trivial BatchNorm running statistics and norm affines, so an eval-mode comparison checks them."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator) * 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) * 1.5 + 0.25)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=generator)))
            if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)):
                m.weight.copy_(1 + torch.randn(m.weight.shape, generator=generator) * 0.2)
                m.bias.copy_(torch.randn(m.bias.shape, generator=generator) * 0.1)


def super_image(clip, mean, std, tile=128):
    """uint8 [N, T, H, W, 3] -> normalised super-image [N, 3, n*tile, n*tile]: each frame padded at the
    bottom/right with raw 0 to tile x tile (PadIfNeeded before Normalize), frame k at grid row k // n,
    column k % n, n = sqrt(T)."""
    import numpy as np
    n_clips, t, h, w, _ = clip.shape
    n = int(round(t ** 0.5))
    assert n * n == t
    padded = np.zeros((n_clips, t, tile, tile, 3), np.float32)
    padded[:, :, :h, :w] = clip
    x = (padded / 255 - np.array(mean, np.float32)) / np.array(std, np.float32)
    grid = x.reshape(n_clips, n, n, tile, tile, 3).transpose(0, 5, 1, 3, 2, 4)
    return torch.from_numpy(np.ascontiguousarray(grid.reshape(n_clips, 3, n * tile, n * tile)))


def frame_logits(out, frames, size, tile=128):
    """[N, 1, n*tile, n*tile] -> [N, T, size, size]: the top-left size x size of each frame's tile."""
    n = int(round(frames ** 0.5))
    grid = out[:, 0].reshape(out.shape[0], n, tile, n, tile).permute(0, 1, 3, 2, 4)
    return grid.reshape(out.shape[0], frames, tile, tile)[:, :, :size, :size].contiguous()


def count(module):
    return sum(p.numel() for p in module.parameters())


def main():
    model = UniFormerUNet()
    total, head = count(model), count(model.encoder.head)
    print(f'uniformer_small U-Net: {total:,} parameters, {total - head:,} without the encoder head ({head:,})')
    if '--state-dict' in sys.argv:
        for k, v in model.state_dict().items():
            print(f'{k}\t{",".join(map(str, v.shape))}')


if __name__ == '__main__':
    main()

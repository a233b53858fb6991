"""Developer tool (needs Debian's python3-torch; never a dependency of the product or of CI).

PyTorch eager CPU time of whole-video segmentation, the baseline of `segment-batch`'s videos per
core-hour: per video, decode with ffmpeg to RGB24, upstream's windows (non-overlapping, the last
one aligned to the end, short videos padded with black frames, the last window's masks winning),
batches of windows through the upstream UNet3D loaded from an artifact set's
checkpoint.safetensors, sigmoid >= 0.5, then the masks written as a lossless FFV1 mask.avi and the
per-frame areas as frames.csv (what segment-batch writes besides its plots and summaries).

Usage: /usr/bin/python3 tools/torch-baseline/time_video.py ARTIFACT_DIR FFMPEG FFPROBE THREADS BATCH OUT_DIR VIDEO...
Prints one JSON object: seconds per video (decode, inference, write) and videos per core-hour.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

from export_unet3d import UNITS, UNet3D, read_safetensors, upstream_input


def probe(ffprobe, path):
    info = json.loads(subprocess.run([ffprobe, '-v', 'error', '-select_streams', 'v:0', '-show_entries',
                                      'stream=width,height,avg_frame_rate', '-of', 'json', path],
                                     capture_output=True, check=True, text=True).stdout)['streams'][0]
    num, den = (int(v) for v in info['avg_frame_rate'].split('/'))
    return info['width'], info['height'], num / den


def decode(ffmpeg, ffprobe, path):
    w, h, fps = probe(ffprobe, path)
    raw = subprocess.run([ffmpeg, '-v', 'error', '-i', path, '-map', '0:v:0', '-pix_fmt', 'rgb24', '-vsync', 'passthrough',
                          '-f', 'rawvideo', '-'], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3), fps


def window_starts(count, T):
    """Upstream's windows for period 1: 0, T, 2T, ... and one aligned to the end if frames remain."""
    padded = max(count, T)
    starts = list(range(0, padded - T + 1, T))
    if starts[-1] + T < padded:
        starts.append(padded - T)
    return starts


def segment(model, frames, T, batch, mean, std):
    count, h, w, _ = frames.shape
    padded = frames if count >= T else np.concatenate([frames, np.zeros((T - count, h, w, 3), np.uint8)])
    masks = np.zeros((count, h, w), np.uint8)
    starts = window_starts(count, T)
    for k in range(0, len(starts), batch):
        group = starts[k:k + batch]
        clips = np.stack([padded[s:s + T] for s in group])
        with torch.no_grad():
            logits = model(upstream_input(clips, mean, std))[:, 0]  # (N, H, W, T)
        predicted = (logits >= 0).permute(0, 3, 1, 2).numpy().astype(np.uint8)  # (N, T, H, W)
        for s, m in zip(group, predicted):  # in order, so a later window's frames win
            n = min(T, count - s)
            masks[s:s + n] = m[:n]
    return masks, len(starts)


def write(ffmpeg, out_dir, masks, fps):
    os.makedirs(out_dir, exist_ok=True)
    count, h, w = masks.shape
    rgb = np.repeat(masks[..., None] * 255, 3, axis=3)
    subprocess.run([ffmpeg, '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{w}x{h}', '-framerate', str(fps), '-i', '-',
                    '-c:v', 'ffv1', '-pix_fmt', 'gbrp', '-an', '-y', f'{out_dir}/mask.avi'], input=rgb.tobytes(), check=True)
    areas = masks.reshape(count, -1).sum(1)
    with open(f'{out_dir}/frames.csv', 'w') as f:
        f.write('frame,time_s,area_px\n' + ''.join(f'{i},{i / fps:.4f},{a}\n' for i, a in enumerate(areas)))


def main(artifacts, ffmpeg, ffprobe, threads, batch, out, videos):
    torch.set_num_threads(threads)
    m = json.load(open(f'{artifacts}/manifest.json'))['model']
    model = UNet3D(UNITS[m['encoder']], m.get('widthMult', 1)).eval()
    model.load_state_dict(read_safetensors(f'{artifacts}/checkpoint.safetensors'), strict=True)
    T = m['frames']
    with torch.no_grad():  # one untimed pass, as the Node side's first session run
        model(upstream_input(np.zeros((1, T, m['size'], m['size'], 3), np.uint8), m['mean'], m['std']))
    per_video = []
    started = time.perf_counter()
    for path in videos:
        t0 = time.perf_counter()
        frames, fps = decode(ffmpeg, ffprobe, path)
        t1 = time.perf_counter()
        masks, windows = segment(model, frames, T, batch, m['mean'], m['std'])
        t2 = time.perf_counter()
        write(ffmpeg, os.path.join(out, os.path.splitext(os.path.basename(path))[0]), masks, fps)
        t3 = time.perf_counter()
        per_video.append({'video': os.path.basename(path), 'frames': int(frames.shape[0]), 'windows': windows,
                          'seconds': {'decode': round(t1 - t0, 3), 'inference': round(t2 - t1, 3), 'write': round(t3 - t2, 3),
                                      'total': round(t3 - t0, 3)}})
    wall = time.perf_counter() - started
    print(json.dumps({'torch': torch.__version__, 'encoder': m['encoder'], 'threads': threads, 'batch': batch, 'videos': len(videos),
                      'wallSeconds': round(wall, 3), 'videosPerCoreHour': round(len(videos) / wall * 3600 / threads, 2),
                      'perVideo': per_video}))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7:])

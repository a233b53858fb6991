#!/usr/bin/python3
"""Writes test/fixtures/camus/: small CAMUS-format datasets and the expected results of reading and
preprocessing them, made by tools independent of ours (developer tool; the test suite only reads
the committed files).

  - NIfTI files by nibabel (Debian's python3-nibabel). nibabel indexes voxels [x, y, frame]; the
    arrays below are built as SimpleITK returns them, [frame, y, x], and handed to nibabel
    transposed, so the files hold what a SimpleITK reader (upstream's) sees.
  - MetaImage files by hand from the documented text header (ITK MetaIO: "Key = Value" lines,
    ElementDataFile last) and numpy's raw bytes, x fastest. SimpleITK, which upstream uses, is not
    installable on the development machine (no Debian package, no PyPI access).
  - Expected preprocessing from OpenCV (Debian's python3-opencv 4.6): cv2.resize with INTER_AREA
    for frames and INTER_NEAREST for the LV label, and upstream's frame choice
    round(linspace(0, F - 1, 32)) for sequences longer than 32 frames.

Run from the repository root: /usr/bin/python3 tools/camus-fixtures.py
"""
import gzip
import os
import shutil
import zlib

import cv2
import nibabel as nib
import numpy as np

OUT = os.path.join('test', 'fixtures', 'camus')


def scene(frames, height, width, lv_start, lv_end, seed):
    """Grey frames [F, H, W] and labels [F, H, W] (0 background, 1 LV, 2 myocardium, 3 atrium).

    A fan-shaped sector of low-entropy texture, an LV ellipse left of centre whose size goes from
    lv_start to lv_end (fractions of the height), its wall, an atrium below it, and a bright marker
    in the top-left corner so that any flip or transpose shows.
    """
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    apex_x, apex_y = width * 0.5, 2.0
    angle = np.arctan2(x - apex_x, y - apex_y)
    radius = np.hypot(x - apex_x, y - apex_y)
    fan = (np.abs(angle) < 0.62) & (radius < height * 0.97)
    texture = ((x * 7 + y * 3 + (x * y) % 5) % 23).astype(np.float64)
    imgs = np.zeros((frames, height, width), np.uint8)
    labs = np.zeros((frames, height, width), np.uint8)
    for f in range(frames):
        t = f / max(1, frames - 1)
        r = lv_start + (lv_end - lv_start) * t
        cx, cy = width * 0.42, height * 0.45
        ry, rx = height * r, width * r * 0.55
        d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
        wall = ((x - cx) / (rx + 4)) ** 2 + ((y - cy) / (ry + 4)) ** 2
        atrium = ((x - cx) / (rx * 0.9)) ** 2 + ((y - (cy + ry + 10)) / 8.0) ** 2
        lab = np.zeros((height, width), np.uint8)
        lab[atrium <= 1] = 3
        lab[wall <= 1] = 2
        lab[d <= 1] = 1
        lab[~fan] = 0
        img = 60 + texture + 4 * ((f + seed) % 3)
        img = np.where(lab == 2, 170 + texture, img)
        img = np.where((lab == 1) | (lab == 3), 12 + texture // 4, img)
        img = np.where(fan, img, 0)
        img[2:6, 2:9] = 250  # the marker: top-left, wider than tall
        imgs[f] = np.clip(img, 0, 255).astype(np.uint8)
        labs[f] = lab
    return imgs, labs


def save_nifti(path, frames_fhw, spacing_xy, dtype=np.uint8):
    """frames_fhw as SimpleITK would return it; nibabel wants [x, y, frame]."""
    data = np.ascontiguousarray(frames_fhw.transpose(2, 1, 0)).astype(dtype)
    affine = np.diag([spacing_xy[0], spacing_xy[1], 1.0, 1.0])
    img = nib.Nifti1Image(data, affine)
    img.header.set_zooms((spacing_xy[0], spacing_xy[1], 1.0))
    img.header.set_xyzt_units('mm', 'sec')
    nib.save(img, path)


def save_mhd(path, frames_fhw, spacing_xy, compressed=False, two_d=False):
    """A MetaImage header and its data file; voxels x fastest, as frames_fhw's C order already is."""
    f, h, w = frames_fhw.reshape((-1,) + frames_fhw.shape[-2:]).shape
    raw = frames_fhw.astype(np.uint8).tobytes()
    data_name = os.path.basename(path)[:-4] + ('.zraw' if compressed else '.raw')
    if compressed:
        raw = zlib.compress(raw)
    dims = f'{w} {h}' if two_d else f'{w} {h} {f}'
    spacing = f'{spacing_xy[0]} {spacing_xy[1]}' + ('' if two_d else ' 1')
    lines = [
        'ObjectType = Image',
        f'NDims = {2 if two_d else 3}',
        'BinaryData = True',
        'BinaryDataByteOrderMSB = False',
        f'CompressedData = {"True" if compressed else "False"}',
    ]
    if compressed:
        lines.append(f'CompressedDataSize = {len(raw)}')
    lines += [
        f'ElementSpacing = {spacing}',
        f'DimSize = {dims}',
        'ElementType = MET_UCHAR',
        f'ElementDataFile = {data_name}',
    ]
    with open(path, 'w') as fh:
        fh.write('\n'.join(lines) + '\n')
    with open(os.path.join(os.path.dirname(path), data_name), 'wb') as fh:
        fh.write(raw)


def save_cfg(path, ed, es, nb, quality, edv=None, esv=None, ef=None):
    lines = [f'ED: {ed}', f'ES: {es}', f'NbFrame: {nb}', 'Sex: F', 'Age: 61', f'ImageQuality: {quality}']
    if edv is not None:
        lines += [f'LVedv: {edv}', f'LVesv: {esv}', f'LVef: {ef}']
    with open(path, 'w') as fh:
        fh.write('\n'.join(lines) + '\n')


def save_npy_gz(path, array):
    """np.save into a gzip stream (the expected arrays compress well; tests gunzip them)."""
    with gzip.open(path + '.gz', 'wb', compresslevel=9) as fh:
        np.save(fh, array)


def upstream_preprocess(frames, labels):
    """What upstream's preprocess.py computes: frame choice, INTER_AREA frames, INTER_NEAREST LV."""
    n = frames.shape[0]
    keep = list(range(n))
    if n > 32:
        keep = [round(v) for v in np.linspace(0, n - 1, num=32, dtype=float)]
    seq = np.array([cv2.resize(frames[i], (112, 112), interpolation=cv2.INTER_AREA) for i in keep])
    lv = (labels == 1).astype(np.uint8)
    gt = np.array([cv2.resize(lv[i], (112, 112), interpolation=cv2.INTER_NEAREST) for i in keep])
    return np.array(keep, np.uint8), seq, gt


def pattern(height, width):
    """The resize tests' source image; test/data/resize-opencv.test.ts computes the same formula."""
    y, x = np.mgrid[0:height, 0:width].astype(np.int64)
    return (((x * x * 7 + y * y * 5 + y * 13 + x * y * 3 + 11) // 3) % 256).astype(np.uint8)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    nifti = os.path.join(OUT, 'nifti', 'database_nifti')
    expected = os.path.join(OUT, 'expected')
    os.makedirs(expected)

    # patient0001: 4CH ED->ES, 12 frames of 130x150, spacing 0.3 x 0.15 mm; 2CH ES->ED, 9 frames.
    p = os.path.join(nifti, 'patient0001')
    os.makedirs(p)
    img, lab = scene(12, 150, 130, 0.30, 0.20, 1)
    save_nifti(f'{p}/patient0001_4CH_half_sequence.nii.gz', img, (0.3, 0.15))
    save_nifti(f'{p}/patient0001_4CH_half_sequence_gt.nii.gz', lab, (0.3, 0.15))
    save_cfg(f'{p}/Info_4CH.cfg', 1, 12, 12, 'Good', 105.5, 52.25, 50.5)
    keep, seq, gt = upstream_preprocess(img, lab)
    save_npy_gz(f'{expected}/patient0001_4CH_seq.npy', seq)
    save_npy_gz(f'{expected}/patient0001_4CH_gt.npy', gt)
    img2, lab2 = scene(9, 140, 128, 0.18, 0.27, 2)
    save_nifti(f'{p}/patient0001_2CH_half_sequence.nii.gz', img2, (0.3, 0.15))
    save_nifti(f'{p}/patient0001_2CH_half_sequence_gt.nii.gz', lab2, (0.3, 0.15))
    save_cfg(f'{p}/Info_2CH.cfg', 9, 1, 9, 'Good', 105.5, 52.25, 50.5)

    # patient0002: 4CH ES->ED with 40 frames (> 32: upstream keeps 32), 124x118, spacing 0.2 x 0.4.
    p = os.path.join(nifti, 'patient0002')
    os.makedirs(p)
    img, lab = scene(40, 118, 124, 0.17, 0.28, 3)
    save_nifti(f'{p}/patient0002_4CH_half_sequence.nii.gz', img, (0.2, 0.4))
    save_nifti(f'{p}/patient0002_4CH_half_sequence_gt.nii.gz', lab, (0.2, 0.4))
    save_cfg(f'{p}/Info_4CH.cfg', 40, 1, 40, 'Poor', 88.0, 40.0, 54.5)
    keep, seq, gt = upstream_preprocess(img, lab)
    save_npy_gz(f'{expected}/patient0002_4CH_keep.npy', keep)
    save_npy_gz(f'{expected}/patient0002_4CH_seq.npy', seq)
    save_npy_gz(f'{expected}/patient0002_4CH_gt.npy', gt)

    small, small_lab = scene(3, 20, 16, 0.3, 0.2, 4)
    # patient0003: the ground truth file is missing.
    p = os.path.join(nifti, 'patient0003')
    os.makedirs(p)
    save_nifti(f'{p}/patient0003_4CH_half_sequence.nii.gz', small, (0.3, 0.3))
    save_cfg(f'{p}/Info_4CH.cfg', 1, 3, 3, 'Medium')
    # patient0004: the ground truth has one frame fewer than the sequence.
    p = os.path.join(nifti, 'patient0004')
    os.makedirs(p)
    save_nifti(f'{p}/patient0004_4CH_half_sequence.nii.gz', small, (0.3, 0.3))
    save_nifti(f'{p}/patient0004_4CH_half_sequence_gt.nii.gz', small_lab[:2], (0.3, 0.3))
    save_cfg(f'{p}/Info_4CH.cfg', 1, 3, 3, 'Medium')
    # patient0005: the sequence's .nii.gz is cut short (a corrupt download).
    p = os.path.join(nifti, 'patient0005')
    os.makedirs(p)
    save_nifti(f'{p}/patient0005_4CH_half_sequence.nii.gz', small, (0.3, 0.3))
    save_nifti(f'{p}/patient0005_4CH_half_sequence_gt.nii.gz', small_lab, (0.3, 0.3))
    with open(f'{p}/patient0005_4CH_half_sequence.nii.gz', 'rb') as fh:
        whole = fh.read()
    with open(f'{p}/patient0005_4CH_half_sequence.nii.gz', 'wb') as fh:
        fh.write(whole[: len(whole) // 2])
    save_cfg(f'{p}/Info_4CH.cfg', 1, 3, 3, 'Medium')
    # patient0006: the cfg says 5 frames, the file holds 3.
    p = os.path.join(nifti, 'patient0006')
    os.makedirs(p)
    save_nifti(f'{p}/patient0006_4CH_half_sequence.nii.gz', small, (0.3, 0.3))
    save_nifti(f'{p}/patient0006_4CH_half_sequence_gt.nii.gz', small_lab, (0.3, 0.3))
    save_cfg(f'{p}/Info_4CH.cfg', 1, 5, 5, 'Medium')

    # The MetaImage release: training/patientNNNN, ED/ES traced only.
    mhd = os.path.join(OUT, 'metaimage', 'training', 'patient0001')
    os.makedirs(mhd)
    img, lab = scene(6, 120, 128, 0.28, 0.2, 5)
    save_mhd(f'{mhd}/patient0001_4CH_sequence.mhd', img, (0.25, 0.5))
    save_mhd(f'{mhd}/patient0001_4CH_ED_gt.mhd', lab[:1], (0.25, 0.5))
    save_mhd(f'{mhd}/patient0001_4CH_ES_gt.mhd', lab[5:6], (0.25, 0.5))
    save_cfg(f'{mhd}/Info_4CH.cfg', 1, 6, 6, 'Medium', 70.0, 30.0, 57.1)
    keep, seq, gt = upstream_preprocess(img, lab)
    save_npy_gz(f'{expected}/mhd_patient0001_4CH_seq.npy', seq)
    save_npy_gz(f'{expected}/mhd_patient0001_4CH_gt.npy', gt[[0, 5]])
    # 2CH: zlib-compressed data (.zraw), ES->ED, 2-D label images.
    img, lab = scene(5, 116, 120, 0.2, 0.26, 6)
    save_mhd(f'{mhd}/patient0001_2CH_sequence.mhd', img, (0.25, 0.5), compressed=True)
    save_mhd(f'{mhd}/patient0001_2CH_ED_gt.mhd', lab[4], (0.25, 0.5), two_d=True)
    save_mhd(f'{mhd}/patient0001_2CH_ES_gt.mhd', lab[0], (0.25, 0.5), two_d=True)
    save_cfg(f'{mhd}/Info_2CH.cfg', 5, 1, 5, 'Medium', 70.0, 30.0, 57.1)
    save_npy_gz(f'{expected}/mhd_patient0001_2CH_seq.npy', upstream_preprocess(img, lab)[1])

    # Orientation: value 100 f + 10 y + x at frame f, row y, column x (5 wide, 3 high, 2 frames).
    f, y, x = np.mgrid[0:2, 0:3, 0:5]
    orient = (100 * f + 10 * y + x).astype(np.uint8)
    save_nifti(os.path.join(OUT, 'orientation.nii.gz'), orient, (0.3, 0.7))
    save_nifti(os.path.join(OUT, 'orientation-int16.nii'), orient, (0.3, 0.7), dtype=np.int16)
    save_mhd(os.path.join(OUT, 'orientation.mhd'), orient, (0.3, 0.7))

    # cv2.resize on the formula image: non-integer factors, 2x2 blocks (OpenCV's vector path rounds
    # half up), 3x4 and 4x5 blocks (half to even), and 2203 -> 1101 columns, whose taps include
    # slivers under 1e-3 px that OpenCV drops.
    resize = os.path.join(OUT, 'resize')
    os.makedirs(resize)
    for h, w, oh, ow in [(150, 130, 112, 112), (224, 224, 112, 112), (336, 448, 112, 112), (560, 448, 112, 112), (779, 583, 112, 112), (97, 61, 40, 23), (2, 2203, 1, 1101)]:
        src = pattern(h, w)
        save_npy_gz(f'{resize}/area_{h}x{w}_to_{oh}x{ow}.npy', cv2.resize(src, (ow, oh), interpolation=cv2.INTER_AREA))
        save_npy_gz(f'{resize}/nearest_{h}x{w}_to_{oh}x{ow}.npy', cv2.resize(src, (ow, oh), interpolation=cv2.INTER_NEAREST))
    # Output 0 of 2203 -> 1101 reads columns 0 and 1 and a 0.0009 px sliver of column 2, which
    # OpenCV drops: with column 2 at 255 and column 0 at 1 the sliver alone would round it up to 1.
    sliver = np.zeros((2, 2203), np.uint8)
    sliver[:, 0] = 1
    sliver[:, 2] = 255
    save_npy_gz(f'{resize}/area_sliver.npy', cv2.resize(sliver, (1101, 1), interpolation=cv2.INTER_AREA))


if __name__ == '__main__':
    main()

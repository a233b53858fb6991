"""Writes the DICOM test fixtures from raw canvas frames (development time only; needs Debian's
python3-pydicom and python3-numpy). Called by tools/make-dicom-fixtures.ts, which renders the
frames and the JPEG files:

    /usr/bin/python3 tools/dicom-fixtures.py WORK_DIR OUT_DIR WIDTH HEIGHT FRAMES

WORK_DIR holds canvas.rgb (FRAMES x HEIGHT x WIDTH x 3 bytes), jpeg/frame000.jpg ... and
layout.json (the picture square, for the ultrasound region).
"""
import json
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"


def dataset(rows, cols, frames, photometric, syntax):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = US_MULTIFRAME
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[photometric, syntax, str(frames)])
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = syntax == IMPLICIT_LE
    ds.SOPClassUID = US_MULTIFRAME
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.Manufacturer = "UniLVSeg synthetic"
    ds.PatientName = "SYNTHETIC^ECHO"
    ds.PatientID = "SYNTH0001"
    ds.StudyInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["study"])
    ds.SeriesInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["series"])
    ds.Rows = rows
    ds.Columns = cols
    ds.SamplesPerPixel = 1 if photometric.startswith("MONOCHROME") else 3
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    return ds


def regions(layout, delta_x_cm, delta_y_cm, width, height):
    """The B-mode region (2D tissue, cm) and an ECG strip region (waveform, seconds) below it."""
    b = Dataset()
    b.RegionSpatialFormat = 1
    b.RegionDataType = 1
    b.RegionFlags = 0
    b.RegionLocationMinX0 = layout["x"]
    b.RegionLocationMinY0 = layout["y"]
    b.RegionLocationMaxX1 = layout["x"] + layout["size"] - 1
    b.RegionLocationMaxY1 = layout["y"] + layout["size"] - 1
    b.PhysicalUnitsXDirection = 3
    b.PhysicalUnitsYDirection = 3
    b.PhysicalDeltaX = delta_x_cm
    b.PhysicalDeltaY = delta_y_cm
    e = Dataset()
    e.RegionSpatialFormat = 4
    e.RegionDataType = 9
    e.RegionFlags = 0
    e.RegionLocationMinX0 = 0
    e.RegionLocationMinY0 = layout["y"] + layout["size"]
    e.RegionLocationMaxX1 = width - 1
    e.RegionLocationMaxY1 = height - 1
    e.PhysicalUnitsXDirection = 4
    e.PhysicalUnitsYDirection = 0
    e.PhysicalDeltaX = 0.01
    e.PhysicalDeltaY = 1.0
    return Sequence([b, e])


def ybr_full(rgb):
    """RGB to full-range YCbCr (BT.601), rounded, as DICOM's YBR_FULL."""
    f = rgb.astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    return np.clip(np.floor(np.stack([y, cb, cr], -1) + 0.5), 0, 255).astype(np.uint8)


def ybr_full_422(rgb):
    """YBR_FULL_422 bytes: per horizontal pixel pair Y1 Y2 Cb Cr, chroma averaged over the pair."""
    ybr = ybr_full(rgb).astype(np.float64)
    f, h, w, _ = ybr.shape
    pairs = ybr.reshape(f, h, w // 2, 2, 3)
    out = np.empty((f, h, w // 2, 4), np.float64)
    out[..., 0] = pairs[..., 0, 0]
    out[..., 1] = pairs[..., 1, 0]
    out[..., 2] = np.floor((pairs[..., 0, 1] + pairs[..., 1, 1]) / 2 + 0.5)
    out[..., 3] = np.floor((pairs[..., 0, 2] + pairs[..., 1, 2]) / 2 + 0.5)
    return out.astype(np.uint8)


def save(ds, path):
    ds.save_as(path, write_like_original=False)
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    work, out, width, height, count = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    layout = json.load(open(os.path.join(work, "layout.json")))
    canvas = np.fromfile(os.path.join(work, "canvas.rgb"), np.uint8).reshape(count, height, width, 3)
    first = canvas[:4]

    ds = dataset(height, width, 4, "RGB", EXPLICIT_LE)
    ds.FrameTime = "20"
    ds.FrameIncrementPointer = (0x0018, 0x1063)
    ds.SequenceOfUltrasoundRegions = regions(layout, 0.03, 0.03, width, height)
    ds.PixelData = first.tobytes()
    save(ds, os.path.join(out, "us_rgb.dcm"))

    ds = dataset(height, width, 4, "YBR_FULL_422", EXPLICIT_LE)
    ds.CineRate = 30
    ds.PixelSpacing = ["0.4", "0.3"]
    ds.PixelData = ybr_full_422(first).tobytes()
    save(ds, os.path.join(out, "us_ybr422.dcm"))

    ds = dataset(height, width, 4, "YBR_FULL", DEFLATED_LE)
    ds.PlanarConfiguration = 1
    ds.FrameTimeVector = ["0", "40", "40", "40"]
    ds.FrameIncrementPointer = (0x0018, 0x1065)
    ds.PixelData = np.ascontiguousarray(ybr_full(first).transpose(0, 3, 1, 2)).tobytes()
    save(ds, os.path.join(out, "us_ybrfull_deflated.dcm"))

    gray = np.clip(np.floor(first.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) + 0.5), 0, 255)
    ds = dataset(height, width, 4, "MONOCHROME2", IMPLICIT_LE)
    ds.RecommendedDisplayFrameRate = 25
    ds.PixelData = gray.astype(np.uint8).tobytes()
    save(ds, os.path.join(out, "us_mono_implicit.dcm"))

    ds = dataset(height, width, 1, "MONOCHROME2", EXPLICIT_LE)
    ds.FrameTime = "20"
    ds.PixelData = gray[0].astype(np.uint8).tobytes()
    save(ds, os.path.join(out, "us_single_frame.dcm"))

    jpegs = [open(os.path.join(work, "jpeg", f"frame{k:03d}.jpg"), "rb").read() for k in range(count)]
    ds = dataset(height, width, count, "YBR_FULL_422", JPEG_BASELINE)
    ds.FrameTime = "20"
    ds.FrameIncrementPointer = (0x0018, 0x1063)
    ds.SequenceOfUltrasoundRegions = regions(layout, 0.03, 0.025, width, height)
    ds.LossyImageCompression = "01"
    ds.PixelData = encapsulate(jpegs)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    save(ds, os.path.join(out, "us_jpeg.dcm"))


if __name__ == "__main__":
    main()

"""Writes the DICOM test fixtures from raw canvas frames (development time only; needs Debian's
python3-pydicom and python3-numpy). Called by tools/make-dicom-fixtures.ts, which renders the
frames and the JPEG files:

    /usr/bin/python3 tools/dicom-fixtures.py WORK_DIR OUT_DIR WIDTH HEIGHT FRAMES

WORK_DIR holds canvas.rgb (FRAMES x HEIGHT x WIDTH x 3 bytes), jpeg/frame000.jpg ... and
layout.json (the picture square, for the ultrasound region).

    /usr/bin/python3 tools/dicom-fixtures.py codec-sources RGB_FILE OUT_DIR WIDTH HEIGHT FRAMES

writes the uncompressed sources that tools/make-dicom-codec-fixtures.ts transcodes with dcmtk
and gdcm (see codec_sources below).
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
EXPLICIT_BE = "1.2.840.10008.1.2.2"
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
    ds.SamplesPerPixel = 1 if photometric.startswith("MONOCHROME") or photometric == "PALETTE COLOR" else 3
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


def grey(rgb):
    """BT.601 luma, rounded: the grey level of each pixel."""
    return np.clip(np.floor(rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) + 0.5), 0, 255).astype(np.uint8)


def palette_lut_16():
    """Three 256-entry LUTs with 16-bit entries: a blue-to-orange ramp, distinct per channel."""
    i = np.arange(256, dtype=np.float64) / 255
    red = np.floor(65535 * np.sqrt(i) + 0.5)
    green = np.floor(65535 * i * i + 0.5)
    blue = np.floor(65535 * (1 - i) * 0.8 + 3000.5)
    return [c.astype(np.uint16) for c in (red, green, blue)]


def segmented_lut_16():
    """Segmented 16-bit LUT data (PS3.3 C.7.9.2) with a discrete, linear and indirect segment each:
    red 0-15 discrete, 16-127 linear up to 40000, 128-255 the same two segments again (indirect,
    offset counted in 16-bit words); green and blue a discrete start and a linear run. Returns
    the (red, green, blue) words."""
    discrete = [0, 16] + [int(1000 * k) for k in range(16)]
    red = discrete + [1, 112, 40000] + [2, 2, 0, 0]
    green = [0, 1, 30000, 1, 255, 5000]
    blue = [0, 4, 65535, 60000, 50000, 40000, 1, 252, 0]
    return [np.array(c, np.uint16) for c in (red, green, blue)]


def set_palette(ds, descriptor, luts, segmented=False):
    ds.PhotometricInterpretation = "PALETTE COLOR"
    for colour, lut in zip(("Red", "Green", "Blue"), luts):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", descriptor)
        name = f"Segmented{colour}PaletteColorLookupTableData" if segmented else f"{colour}PaletteColorLookupTableData"
        setattr(ds, name, lut.tobytes())
        ds[name].VR = "OW"


def codec_sources(rgb_file, out, width, height, count):
    """The uncompressed sources of the codec fixtures (explicit VR little endian, 50 fps):
    src-rgb        RGB, 8 bits
    src-mono16     MONOCHROME2, 12 of 16 bits (grey * 16 + a 0-15 ripple), window 1500/3000
    src-mono16s    MONOCHROME1, 12 of 16 bits signed (the same values - 2048), no window
    src-palette    PALETTE COLOR, 8-bit indices (the grey levels), 16-bit LUT entries
    src-palette-seg16   the same indices, segmented 16-bit LUTs (discrete, linear, indirect)
    src-palette-hotiron / src-palette-summer   DICOM's well-known palettes as pydicom ships them
                   (8-bit entries: hot iron as a plain table, summer segmented)
    be-rgb-ob      RGB, 8 bits, explicit VR big endian with the pixel data as OB (never swapped)
    """
    rgb = np.fromfile(rgb_file, np.uint8).reshape(count, height, width, 3)
    g = grey(rgb)
    yy, xx = np.mgrid[0:height, 0:width]
    v12 = (g.astype(np.uint16) * 16 + ((xx + yy) % 16)[None]).astype(np.uint16)

    def base(photometric, name):
        ds = dataset(height, width, count, photometric, EXPLICIT_LE)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid(
            entropy_srcs=["codec", name]
        )
        ds.FrameTime = "20"
        ds.FrameIncrementPointer = (0x0018, 0x1063)
        return ds

    ds = base("RGB", "rgb")
    ds.PixelData = rgb.tobytes()
    save(ds, os.path.join(out, "src-rgb.dcm"))

    ds = base("MONOCHROME2", "mono16")
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.WindowCenter, ds.WindowWidth = "1500", "3000"
    ds.PixelData = v12.tobytes()
    save(ds, os.path.join(out, "src-mono16.dcm"))

    ds = base("MONOCHROME1", "mono16s")
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 1
    ds.PixelData = (v12.astype(np.int16) - 2048).tobytes()
    save(ds, os.path.join(out, "src-mono16s.dcm"))

    ds = base("PALETTE COLOR", "palette")
    set_palette(ds, [256, 0, 16], palette_lut_16())
    ds.PixelData = g.tobytes()
    save(ds, os.path.join(out, "src-palette.dcm"))

    ds = base("PALETTE COLOR", "palette-seg16")
    set_palette(ds, [256, 0, 16], segmented_lut_16(), segmented=True)
    ds.PixelData = g.tobytes()
    save(ds, os.path.join(out, "src-palette-seg16.dcm"))

    palettes = os.path.join(os.path.dirname(pydicom.__file__), "data", "palettes")
    for name in ("hotiron", "summer"):
        known = pydicom.dcmread(os.path.join(palettes, f"{name}.dcm"))
        ds = base("PALETTE COLOR", f"palette-{name}")
        for elem in known:
            if elem.tag.group == 0x0028 and 0x1101 <= elem.tag.element <= 0x1223:
                ds.add(elem)
        ds.PixelData = g.tobytes()
        save(ds, os.path.join(out, f"src-palette-{name}.dcm"))

    ds = base("RGB", "be-rgb-ob")
    ds.file_meta.TransferSyntaxUID = EXPLICIT_BE
    ds.is_little_endian = False
    ds.is_implicit_VR = False
    ds.PixelData = rgb.tobytes()
    ds["PixelData"].VR = "OB"
    save(ds, os.path.join(out, "be-rgb-ob.dcm"))


if __name__ == "__main__":
    if sys.argv[1] == "codec-sources":
        codec_sources(sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7]))
    else:
        main()

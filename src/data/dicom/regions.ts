/**
 * Physical pixel size and frame rate from a DICOM data set.
 *
 * Ultrasound scanners state the pixel size per region in SequenceOfUltrasoundRegions (0018,6011):
 * each item has a spatial format (1 = 2D), a data type (1 = tissue), units per axis (3 = cm) and
 * PhysicalDeltaX/Y (cm per pixel). The 2D tissue region in cm with the largest area is the
 * B-mode picture; other regions (M-mode, Doppler strips, ECG) have other formats or units.
 * PixelSpacing (0028,0030, "row\column" in mm) is the fallback some exporters write instead.
 */
import type { DataSet } from 'dicom-parser';

/** Size of one pixel in mm: `x` along a row (column width), `y` down a column (row height). */
export interface PixelSpacing {
  x: number;
  y: number;
  /** Where it came from: a DICOM attribute or the command line. */
  source: 'SequenceOfUltrasoundRegions' | 'PixelSpacing' | 'command line';
}

export interface UltrasoundRegion {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  spatialFormat: number;
  dataType: number;
  /** mm per pixel, when the region's units are cm on both axes. */
  spacing?: { x: number; y: number };
}

const REGION_SPATIAL_2D = 1;
const REGION_TISSUE = 1;
const UNITS_CM = 3;

export function ultrasoundRegions(ds: DataSet): UltrasoundRegion[] {
  const items = ds.elements['x00186011']?.items ?? [];
  const regions: UltrasoundRegion[] = [];
  for (const item of items) {
    const r = item.dataSet;
    if (!r) continue;
    const unitsX = r.uint16('x00186024');
    const unitsY = r.uint16('x00186026');
    const dx = Math.abs(r.double('x0018602c') ?? NaN);
    const dy = Math.abs(r.double('x0018602e') ?? NaN);
    const region: UltrasoundRegion = {
      x0: r.uint32('x00186018') ?? 0,
      y0: r.uint32('x0018601a') ?? 0,
      x1: r.uint32('x0018601c') ?? 0,
      y1: r.uint32('x0018601e') ?? 0,
      spatialFormat: r.uint16('x00186012') ?? 0,
      dataType: r.uint16('x00186014') ?? 0,
    };
    if (unitsX === UNITS_CM && unitsY === UNITS_CM && dx > 0 && dy > 0)
      region.spacing = { x: dx * 10, y: dy * 10 };
    regions.push(region);
  }
  return regions;
}

/** The B-mode region's pixel size, else PixelSpacing, else null. */
export function dicomPixelSpacing(ds: DataSet): PixelSpacing | null {
  const area = (r: UltrasoundRegion) => (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1);
  const candidates = ultrasoundRegions(ds)
    .filter((r) => r.spacing && r.spatialFormat === REGION_SPATIAL_2D)
    // Tissue regions first, then the largest.
    .sort(
      (a, b) =>
        Number(b.dataType === REGION_TISSUE) - Number(a.dataType === REGION_TISSUE) || area(b) - area(a),
    );
  if (candidates.length) return { ...candidates[0].spacing!, source: 'SequenceOfUltrasoundRegions' };
  const row = ds.floatString('x00280030', 0);
  const col = ds.floatString('x00280030', 1);
  if (row !== undefined && col !== undefined && row > 0 && col > 0)
    return { x: col, y: row, source: 'PixelSpacing' };
  return null;
}

export interface FrameRate {
  fps: number;
  /** The attribute it was read from. */
  from: 'FrameTime' | 'FrameTimeVector' | 'CineRate' | 'RecommendedDisplayFrameRate';
}

/**
 * Acquisition frame rate: FrameTime (0018,1063, ms between frames) first, then the mean of
 * FrameTimeVector (0018,1065, whose first entry is 0), CineRate (0018,0040) and
 * RecommendedDisplayFrameRate (0008,2144), both in frames per second.
 */
export function dicomFrameRate(ds: DataSet): FrameRate | null {
  const frameTime = ds.floatString('x00181063');
  if (frameTime !== undefined && frameTime > 0) return { fps: 1000 / frameTime, from: 'FrameTime' };
  const n = ds.numStringValues('x00181065') ?? 0;
  if (n >= 2) {
    let sum = 0;
    for (let i = 1; i < n; i++) sum += ds.floatString('x00181065', i) ?? NaN;
    const mean = sum / (n - 1);
    if (mean > 0) return { fps: 1000 / mean, from: 'FrameTimeVector' };
  }
  const cine = ds.intString('x00180040');
  if (cine !== undefined && cine > 0) return { fps: cine, from: 'CineRate' };
  const display = ds.intString('x00082144');
  if (display !== undefined && display > 0) return { fps: display, from: 'RecommendedDisplayFrameRate' };
  return null;
}

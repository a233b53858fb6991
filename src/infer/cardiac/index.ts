/** Cardiac analysis of per-frame LV masks: area curve, ED/ES beats, method-of-discs volume, EF. */
export { areaCurve, movingAverage, smoothingWindow } from './area.js';
export { detectBeats, findPeaks, type Beat, type BeatOptions } from './beats.js';
export { largestComponent } from './mask-geometry.js';
export { areaCm2, discVolumeMl, squarePixelMask, type Spacing } from './units.js';
export { lvVolumeByDiscs, measureDiscs, type DiscMeasurement, type MaskConvention } from './volume.js';
export {
  analyzeCardiac,
  ejectionFraction,
  type AnalyzeOptions,
  type BeatAnalysis,
  type CardiacAnalysis,
} from './ef.js';

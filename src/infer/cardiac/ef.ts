import { areaCurve, smoothArea } from './area.js';
import { BEAT_DEFAULTS, detectBeats, type BeatOptions } from './beats.js';
import { areaCm2, discVolumeMl, type Spacing } from './units.js';
import { lvVolumeByDiscs, type MaskConvention } from './volume.js';

/** Ejection fraction in percent (as EchoNet's FileList EF column): 100 (EDV - ESV) / EDV. */
export function ejectionFraction(edVolume: number, esVolume: number): number {
  if (!(edVolume > 0)) return NaN;
  return (100 * (edVolume - esVolume)) / edVolume;
}

export interface BeatAnalysis {
  ed: number;
  es: number;
  edArea: number;
  esArea: number;
  /** Method-of-discs volumes in px^3 (square pixels assumed). */
  edVolume: number;
  esVolume: number;
  /** With a pixel spacing: areas in cm^2 and volumes in mL (the EF is then computed from these). */
  edAreaCm2?: number;
  esAreaCm2?: number;
  edVolumeMl?: number;
  esVolumeMl?: number;
  /** Percent. */
  ef: number;
}

export interface AnalyzeOptions extends BeatOptions {
  /** How the masks were drawn (see lvVolumeByDiscs); 'tracing' for model predictions. */
  convention?: MaskConvention;
  /** mm per pixel: adds cm^2 / mL and makes the EF exact for non-square pixels. */
  spacing?: Spacing;
  /** Mask pixels per pixel of the grid the masks were predicted on (see measureDiscs). */
  tracingPixel?: number;
}

export interface CardiacAnalysis {
  fps: number;
  /** Mask area per frame (px) and its smoothed version used to find the beats. */
  area: Float64Array;
  smoothedArea: Float64Array;
  beats: BeatAnalysis[];
  /** Mean EF over the beats (NaN when no complete beat was found). */
  meanEf: number;
  /** From the mean ED-to-ED interval (NaN with fewer than two beats). */
  heartRateBpm: number;
}

/**
 * Whole-video analysis of per-frame LV masks [F,H,W] (> 0 inside): area curve, beats, and
 * per-beat EDV/ESV (method of discs on the ED and ES masks) and EF, plus their means.
 */
export function analyzeCardiac(
  masks: Uint8Array,
  count: number,
  height: number,
  width: number,
  fps: number,
  opts: AnalyzeOptions = {},
): CardiacAnalysis {
  const area = areaCurve(masks, count, height, width);
  const smoothSeconds = opts.smoothSeconds ?? BEAT_DEFAULTS.smoothSeconds;
  const smoothedArea = smoothSeconds > 0 ? smoothArea(area, fps, smoothSeconds) : Float64Array.from(area);
  const plane = height * width;
  const frame = (f: number): Uint8Array => masks.subarray(f * plane, (f + 1) * plane);
  const { spacing, tracingPixel = 1 } = opts;
  const beats = detectBeats(area, fps, opts).map(({ ed, es }): BeatAnalysis => {
    const edVolume = lvVolumeByDiscs(frame(ed), height, width, opts.convention, tracingPixel);
    const esVolume = lvVolumeByDiscs(frame(es), height, width, opts.convention, tracingPixel);
    const beat: BeatAnalysis = { ed, es, edArea: area[ed], esArea: area[es], edVolume, esVolume, ef: NaN };
    if (!spacing) return { ...beat, ef: ejectionFraction(edVolume, esVolume) };
    const ml = (f: number) => discVolumeMl(frame(f), height, width, spacing, opts.convention, tracingPixel);
    const edVolumeMl = ml(ed);
    const esVolumeMl = ml(es);
    return {
      ...beat,
      edAreaCm2: areaCm2(area[ed], spacing),
      esAreaCm2: areaCm2(area[es], spacing),
      edVolumeMl,
      esVolumeMl,
      ef: ejectionFraction(edVolumeMl, esVolumeMl),
    };
  });
  const efs = beats.map((b) => b.ef).filter((v) => Number.isFinite(v));
  const meanEf = efs.length ? efs.reduce((a, b) => a + b, 0) / efs.length : NaN;
  const heartRateBpm =
    beats.length >= 2 ? (60 * fps * (beats.length - 1)) / (beats[beats.length - 1].ed - beats[0].ed) : NaN;
  return { fps, area, smoothedArea, beats, meanEf, heartRateBpm };
}

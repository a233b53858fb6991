/**
 * Random per-video settings of the synthetic dataset: heart geometry and motion, sector,
 * imaging. Everything is drawn from one seeded generator, so a video depends only on
 * (dataset seed, video index).
 */
import { Rng } from '../../util/rng.js';
import { HeartModel, type HeartShape } from './heart.js';
import { minHeartRate } from './motion.js';
import { ejectionFraction, volumeFromTracing } from './volume.js';
import { FRAME_SIZE } from '../../defaults.js';

/** Synthetic videos have EchoNet's frame size. */
export const SIZE = FRAME_SIZE;

export interface SectorParams {
  /** Apex of the fan (pixels; may lie just above the picture). */
  x: number;
  y: number;
  halfAngle: number;
  radius: number;
}

export interface ImagingParams {
  /** Depth attenuation left after time-gain compensation (nepers per picture height). */
  attenuation: number;
  /** Overall gain in dB added before log compression. */
  gainDb: number;
  /** Displayed dynamic range in dB. */
  dynamicRange: number;
  /** Standard deviation of additive noise in grey levels. */
  noise: number;
  /** Strength of the near-field haze at the top of the sector. */
  haze: number;
  /** Speckle grain (pixels) along and across the beam. */
  speckleAxial: number;
  speckleLateral: number;
  /** Frames over which the speckle decorrelates. */
  speckleFrames: number;
}

/**
 * The `hard` look's extra difficulties, each as real echo has them: a cavity filled with more
 * echo and walls with less (low contrast), beams that lose the signal (dropout of whole angular
 * bands: rib shadows, a wall parallel to the beams), near-field clutter reaching deeper, a gain
 * that drifts over the clip, and a probe that moves (the heart slides within the fan).
 */
export interface HardParams {
  /** multiplier of the blood-pool echo and of the myocardium's */
  bloodEcho: number;
  wallEcho: number;
  /** angular bands (radians from the fan's axis) whose echo is multiplied by `dropoutDepth` */
  dropout: { centre: number; halfWidth: number }[];
  dropoutDepth: number;
  /** near-field clutter: strength multiplier and decay depth (pixels) */
  hazeGain: number;
  hazeDepth: number;
  /** gain drift: amplitude (dB), period (frames), phase */
  gainSwingDb: number;
  gainPeriod: number;
  gainPhase: number;
  /** probe motion: two slow sinusoids per axis, amplitudes in pixels, periods in frames */
  probe: { ax: number; ay: number; px: number; py: number; phx: number; phy: number };
  /** extra additive noise multiplier */
  noiseGain: number;
}

export interface VideoParams {
  frames: number;
  fps: number;
  heartRate: number;
  efTarget: number;
  sector: SectorParams;
  heart: HeartShape;
  imaging: ImagingParams;
  /** present only for `look: 'hard'` */
  hard?: HardParams;
}

/** How the videos look: like EchoNet's typical clips, or with the difficulties of poor ones. */
export const SYNTH_LOOKS = ['echonet', 'hard'] as const;
export type SynthLook = (typeof SYNTH_LOOKS)[number];

/** Default range of frames per synthetic video (`synth --frames-min/--frames-max`). */
export const SYNTH_FRAMES = { min: 100, max: 200 };

export interface SynthOptions {
  framesMin: number;
  framesMax: number;
  /** Fixed frame rate; by default each video gets 45..55 fps like EchoNet's ~50. */
  fps?: number;
  /** default 'echonet' */
  look?: SynthLook;
}

const deg = Math.PI / 180;

export function sampleParams(rng: Rng, opts: SynthOptions): VideoParams {
  const frames = rng.int(opts.framesMin, opts.framesMax);
  const fps = opts.fps ?? rng.int(45, 55);
  const heartRate = Math.max(rng.range(50, 110), minHeartRate(frames, fps));
  const efTarget = rng.range(25, 75);
  const scale = rng.range(0.85, 1.12);
  const length = 58 * scale;
  const sector = {
    x: 56 + rng.range(-2, 2),
    y: rng.range(-3, 1),
    halfAngle: rng.range(38, 45) * deg,
    radius: rng.range(106, 116),
  };
  const heart: HeartShape = {
    apexX: sector.x + rng.range(-2, 6),
    apexY: sector.y + rng.range(12, 20),
    // Negative angles swing the base to the right: in A4C the LV axis runs from the apex at
    // the top of the fan down and to the right, the septum towards the crux at the centre.
    angle: rng.range(-22, 4) * deg,
    length,
    septalWidth: length * rng.range(0.2, 0.24),
    lateralWidth: length * rng.range(0.22, 0.27),
    widestAt: rng.range(0.5, 0.65),
    apexExponent: rng.range(0.5, 0.65),
    baseNarrowing: rng.range(0.12, 0.25),
    wall: rng.range(4, 5.5) * scale,
    apicalWall: rng.range(3, 4.5) * scale,
    shortening: rng.range(0.12, 0.2),
    septalShrink: rng.range(0.25, 0.4),
    lateralShrink: rng.range(0.45, 0.6),
    amplitude: 1,
    rvWidth: length * rng.range(0.3, 0.4),
    rvApexDrop: length * rng.range(0.12, 0.25),
    rvWall: rng.range(2, 3),
    laWidth: length * rng.range(0.21, 0.26),
    laHeight: length * rng.range(0.27, 0.34),
    raWidth: length * rng.range(0.18, 0.24),
    raHeight: length * rng.range(0.24, 0.31),
    driftX: rng.range(-1, 1),
    driftY: rng.range(0, 1.2),
  };
  heart.amplitude = amplitudeForEf(heart, efTarget);
  const imaging: ImagingParams = {
    attenuation: rng.range(0.2, 0.8),
    gainDb: rng.range(-3, 3),
    dynamicRange: rng.range(38, 46),
    noise: rng.range(2, 5),
    haze: rng.range(0.02, 0.08),
    speckleAxial: rng.range(0.6, 0.9),
    speckleLateral: rng.range(1.1, 1.6),
    speckleFrames: rng.range(8, 20),
  };
  // Drawn after everything else, so the default look's videos do not change.
  const hard = opts.look === 'hard' ? sampleHard(rng, sector.halfAngle) : undefined;
  return { frames, fps, heartRate, efTarget, sector, heart, imaging, hard };
}

function sampleHard(rng: Rng, halfAngle: number): HardParams {
  const bands = rng.int(1, 2);
  return {
    bloodEcho: rng.range(2.5, 5),
    wallEcho: rng.range(0.55, 0.8),
    dropout: Array.from({ length: bands }, () => ({
      centre: rng.range(-0.8, 0.8) * halfAngle,
      halfWidth: rng.range(3, 7) * deg,
    })),
    dropoutDepth: rng.range(0.08, 0.3),
    hazeGain: rng.range(3, 6),
    hazeDepth: rng.range(20, 35),
    gainSwingDb: rng.range(2, 5),
    gainPeriod: rng.range(20, 60),
    gainPhase: rng.range(0, 2 * Math.PI),
    probe: {
      ax: rng.range(1.5, 4),
      ay: rng.range(1.5, 4),
      px: rng.range(40, 120),
      py: rng.range(40, 120),
      phx: rng.range(0, 2 * Math.PI),
      phy: rng.range(0, 2 * Math.PI),
    },
    noiseGain: rng.range(1.5, 2.5),
  };
}

/** EF (%) of the tracings at end-diastole (k = 0) and full contraction (k = 1). */
function tracedEf(shape: HeartShape): number {
  const model = new HeartModel(shape);
  const edv = volumeFromTracing(model.trace(model.state(0, 0)));
  const esv = volumeFromTracing(model.trace(model.state(1, 0)));
  return ejectionFraction(edv, esv);
}

/** The contraction amplitude whose traced EF equals the target (bisection; EF grows with it). */
function amplitudeForEf(shape: HeartShape, efTarget: number): number {
  let lo = 0;
  let hi = 1.6;
  for (let it = 0; it < 30; it++) {
    const mid = (lo + hi) / 2;
    if (tracedEf({ ...shape, amplitude: mid }) < efTarget) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

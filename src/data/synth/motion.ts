/**
 * The cardiac cycle of a synthetic video: a phase that advances with a heart rate that drifts
 * slowly (respiratory sinus arrhythmia), and a contraction curve over one cycle.
 */
import type { Rng } from '../../util/rng.js';

/** Fraction of the cycle from end-diastole (phase 0) to end-systole. */
const SYSTOLE = 0.35;

const ease = (x: number) => 0.5 - 0.5 * Math.cos(Math.PI * Math.min(1, Math.max(0, x)));

/**
 * Contraction over one cycle, 0 at end-diastole (largest LV) and 1 at end-systole (smallest):
 * ejection, rapid filling, diastasis, atrial kick. Every piece starts and ends flat, so the
 * curve is smooth and its extremes are exactly at phase 0 and SYSTOLE.
 */
function contraction(phase: number): number {
  const f = phase - Math.floor(phase);
  if (f < SYSTOLE) return ease(f / SYSTOLE);
  if (f < 0.62) return 1 - 0.8 * ease((f - SYSTOLE) / (0.62 - SYSTOLE));
  if (f < 0.82) return 0.2 - 0.05 * ease((f - 0.62) / 0.2);
  return 0.15 * (1 - ease((f - 0.82) / 0.18));
}

/** How open the AV valves are (0 closed, 1 fully open): shut in systole, E and A waves in diastole. */
export function valveOpening(phase: number): number {
  const f = phase - Math.floor(phase);
  if (f < SYSTOLE + 0.04) return 0;
  if (f < 0.5) return ease((f - SYSTOLE - 0.04) / 0.07);
  if (f < 0.7) return 1 - 0.6 * ease((f - 0.5) / 0.2);
  if (f < 0.86) return 0.4 + 0.5 * ease((f - 0.7) / 0.1);
  return 0.9 * (1 - ease((f - 0.86) / 0.12));
}

export interface Timeline {
  /** Cycle phase per frame (integer = end-diastole); beat n spans [n, n+1). */
  phase: Float64Array;
  /** Contraction per frame, with this beat's amplitude applied. */
  k: Float64Array;
  /** Breathing phase per frame (radians). */
  breath: Float64Array;
  /** True end-diastolic / end-systolic frames of every beat seen in the video. */
  edFrames: number[];
  esFrames: number[];
  /** The beat whose ED and ES frames are traced (its amplitude is exactly 1). */
  tracedEd: number;
  tracedEs: number;
}

/** Frames from end-diastole to end-systole at the slowest heart rate allowed for `frames`. */
export function minHeartRate(frames: number, fps: number): number {
  // The traced ED and ES must both be inside the video with a frame to spare each side.
  return (SYSTOLE * 60 * fps * 1.15) / Math.max(1, frames - 4);
}

/**
 * Phase, contraction and true ED/ES frames. The traced beat's end-diastole falls exactly on a
 * random frame chosen so that its end-systole is inside the video too.
 */
export function makeTimeline(rng: Rng, frames: number, fps: number, heartRate: number): Timeline {
  const beatFrames = (60 * fps) / heartRate;
  const esSpan = Math.ceil(SYSTOLE * beatFrames * 1.1) + 1;
  if (esSpan + 2 > frames)
    throw new Error(`${frames} frames cannot hold a systole at ${heartRate.toFixed(1)} bpm`);
  const ed0 = rng.int(1, frames - 2 - esSpan);
  const rsaPeriod = fps * rng.range(3.5, 5.5);
  const rsaPhase = rng.range(0, 2 * Math.PI);
  const rate = (t: number) =>
    (heartRate * (1 + 0.04 * Math.sin((2 * Math.PI * t) / rsaPeriod + rsaPhase))) / 60 / fps;
  const phase = new Float64Array(frames);
  for (let t = ed0 + 1; t < frames; t++) phase[t] = phase[t - 1] + rate(t - 0.5);
  for (let t = ed0 - 1; t >= 0; t--) phase[t] = phase[t + 1] - rate(t + 0.5);
  // Beats other than the traced one vary slightly in strength, like real beat-to-beat variation.
  const amplitude = new Map<number, number>([[0, 1]]);
  const beatAmplitude = (n: number) => {
    if (!amplitude.has(n)) amplitude.set(n, 1 + Math.max(-0.08, Math.min(0.08, 0.04 * rng.normal())));
    return amplitude.get(n)!;
  };
  const k = new Float64Array(frames);
  for (let t = 0; t < frames; t++) k[t] = contraction(phase[t]) * beatAmplitude(Math.floor(phase[t]));
  const breathPhase = rng.range(0, 2 * Math.PI);
  const breath = Float64Array.from({ length: frames }, (_, t) => breathPhase + (2 * Math.PI * t) / rsaPeriod);

  const edFrames = extremeFrames(phase, k, 0, -1);
  const esFrames = extremeFrames(phase, k, SYSTOLE, +1);
  const tracedEs = esFrames.find((f) => f > ed0 && Math.floor(phase[f]) === 0);
  if (tracedEs === undefined || !edFrames.includes(ed0))
    throw new Error('traced beat is not inside the video');
  return { phase, k, breath, edFrames, esFrames, tracedEd: ed0, tracedEs };
}

/**
 * For every beat whose event (phase n + at) falls inside the video, the frame within a tenth of
 * a cycle of it with the most extreme contraction (sign -1: smallest, +1: largest).
 */
function extremeFrames(phase: Float64Array, k: Float64Array, at: number, sign: number): number[] {
  const out: number[] = [];
  const first = Math.ceil(phase[0] - at);
  const last = Math.floor(phase[phase.length - 1] - at);
  for (let n = first; n <= last; n++) {
    let best = -1;
    for (let t = 0; t < phase.length; t++) {
      if (Math.abs(phase[t] - (n + at)) > 0.1) continue;
      if (best < 0 || sign * (k[t] - k[best]) > 0) best = t;
    }
    if (best >= 0) out.push(best);
  }
  return out;
}

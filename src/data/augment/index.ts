import type { Rng } from '../../util/rng.js';
import { claheRgb, isGray } from './clahe.js';
import { buildWarpMap, paddedSide, warpFrames, warpMask } from './geometry.js';
import { colorJitterFrame, type JitterParams } from './jitter.js';
import { FRAME_SIZE } from '../../defaults.js';

/**
 * Training augmentation (docs/upstream.md#augmentation): ColorJitter(0.2 x4, p 0.5) -> CLAHE(clip U[1,4],
 * 8x8, p 0.5) -> Rotate(U[-20,20] deg, p 1) -> PadIfNeeded(124) -> RandomCrop(112); frames of
 * another size keep the pad's share of the side (geometry.ts paddedSide). One set of random
 * parameters per clip, shared by all its frames and its mask, like albumentations with every frame registered
 * as an extra image target. The random draws are ours (seeded Rng), not Python's `random`, so parameters are
 * not upstream's; the operations given parameters are.
 *
 * Compared during development with OpenCV 4.6 (Debian python3-opencv) on random images:
 * RGB->GRAY, RGB->HSV, CLAHE of a plane and the rotate/pad/crop warp (frames bilinear, mask
 * nearest) are bit-exact; HSV->RGB is exact except in OpenCV's rounded row tails (color.ts);
 * RGB<->Lab is within 2 levels (1 level for gray), since OpenCV's 8-bit Lab is a bit-exact
 * trilinear table we do not reproduce.
 */
export interface AugParams {
  jitter: JitterParams | null;
  clahe: { clipLimit: number } | null;
  angle: number;
  cropY: number;
  cropX: number;
}

const AUG = {
  jitter: 0.2,
  jitterP: 0.5,
  claheP: 0.5,
  claheMin: 1,
  claheMax: 4,
  rotate: 20,
} as const;

/** Draw the clip's parameters, always in this order so a seed fixes them all. */
export function sampleAugParams(rng: Rng, height = FRAME_SIZE, width = FRAME_SIZE): AugParams {
  let jitter: JitterParams | null = null;
  if (rng.uniform() < AUG.jitterP) {
    const j = AUG.jitter;
    jitter = {
      brightness: rng.range(1 - j, 1 + j),
      contrast: rng.range(1 - j, 1 + j),
      saturation: rng.range(1 - j, 1 + j),
      hue: rng.range(-j, j),
      order: rng.shuffle([0, 1, 2, 3]),
    };
  }
  const clahe = rng.uniform() < AUG.claheP ? { clipLimit: rng.range(AUG.claheMin, AUG.claheMax) } : null;
  const angle = rng.range(-AUG.rotate, AUG.rotate);
  // albumentations' crop offset: int((padded - size + 1) * u), u in [0,1): 0..12 for 124 -> 112.
  const cropY = Math.floor((paddedSide(height) - height + 1) * rng.uniform());
  const cropX = Math.floor((paddedSide(width) - width + 1) * rng.uniform());
  return { jitter, clahe, angle, cropY, cropX };
}

/**
 * Augment a clip [T, H, W, 3] and its optional mask [H, W]. The colour steps work in place on
 * `frames`; the geometric steps write new arrays, which are returned.
 */
export function augmentClip<M extends Uint8Array | Float32Array>(
  frames: Uint8Array,
  T: number,
  height: number,
  width: number,
  params: AugParams,
  mask?: M,
): { frames: Uint8Array; mask?: M } {
  const frameBytes = height * width * 3;
  if (frames.length !== T * frameBytes)
    throw new Error(`augmentClip: ${frames.length} bytes is not ${T} frames of ${width}x${height}x3`);
  if (params.jitter || params.clahe) {
    const lut = new Uint8Array(256);
    const plane = new Uint8Array(height * width);
    for (let f = 0; f < T; f++) {
      const px = frames.subarray(f * frameBytes, (f + 1) * frameBytes);
      if (params.jitter) colorJitterFrame(px, params.jitter, lut, isGray(px));
      if (params.clahe) claheRgb(px, height, width, params.clahe.clipLimit, plane);
    }
  }
  const map = buildWarpMap(height, width, params.angle, params.cropY, params.cropX);
  const out = warpFrames(frames, T, map, new Uint8Array(frames.length), isGray(frames));
  return { frames: out, mask: mask ? warpMask(mask, map) : undefined };
}

export { buildWarpMap, paddedSide, warpFrames, warpMask } from './geometry.js';
export { colorJitterFrame, type JitterParams } from './jitter.js';
export { claheRgb, clahePlane } from './clahe.js';

// What happens to decoded frames inside every graph (docs/upstream.md#normalisation,
// docs/upstream.md#super-images): uint8 [N, T, H, W, 3] in,
// albumentations Normalize, and the layout each model family wants.
import type { Value } from '../src/onnx/builder.js';
import { add, cast, mul, pad, reshape, transpose } from '../src/onnx/ops/index.js';

export interface Normalisation {
  /** per RGB channel, on the [0, 1] scale */
  mean: number[];
  std: number[];
}

/** The EchoNet statistics every upstream script passes (docs/upstream.md#normalisation). */
export const ECHONET_NORMALISATION: Normalisation = {
  mean: [0.12741163, 0.1279413, 0.12912785],
  std: [0.19557191, 0.19562256, 0.1965878],
};

/** uint8 frames -> float32 with the raw 0..255 values (masking and padding happen at this stage). */
export function rawFloat(frames: Value): Value {
  return cast(frames, 'float32');
}

/**
 * albumentations Normalize(max_pixel_value=255) on the trailing RGB axis:
 * (x - 255 mean) * (1 / (255 std)).
 */
export function normalise(raw: Value, n: Normalisation): Value {
  const b = raw.b;
  const scale = b.constant(
    Float32Array.from(n.std, (s) => 1 / (255 * s)),
    'float32',
    [3],
    'norm_scale',
  );
  const shift = b.constant(
    Float32Array.from(n.mean, (m, i) => -m / n.std[i]),
    'float32',
    [3],
    'norm_shift',
  );
  return add(mul(raw, scale), shift);
}

/** [N, T, H, W, 3] -> [N, 3, T, H, W], the 3D models' layout. */
export function channelsFirst(x: Value): Value {
  return transpose(x, [0, 4, 1, 2, 3]);
}

/**
 * Super-image padding (docs/upstream.md#normalisation): each frame padded at the bottom/right to
 * tile x tile. Apply it to the raw frames, before normalising, so that pads hold the normalised
 * value of raw 0 (-mean/std) as upstream's PadIfNeeded + Normalize give.
 */
export function padFrames(raw: Value, tile: number): Value {
  const h = raw.dim(2);
  const w = raw.dim(3);
  if (h > tile || w > tile) throw new Error(`frames ${h}x${w} do not fit a ${tile}x${tile} tile`);
  return h === tile && w === tile ? raw : pad(raw, [0, 0, 0, 0, 0, 0, 0, tile - h, tile - w, 0]);
}

/**
 * Super-image (docs/upstream.md#super-images): frame k of [N, T, tile, tile, 3] goes to grid row k / n,
 * column k % n (n = sqrt(T)), giving [N, 3, n*tile, n*tile].
 */
export function tileSuperImage(x: Value, tile: number): Value {
  const n = gridSide(x.dim(1));
  const grid = reshape(x, [x.shape[0], n, n, tile, tile, 3]);
  // [N, row, col, y, x, C] -> [N, C, row, y, col, x]
  return reshape(transpose(grid, [0, 5, 1, 3, 2, 4]), [x.shape[0], 3, n * tile, n * tile]);
}

/** The inverse layout change for a 1-channel map: [N, 1, n*tile, n*tile] -> [N, T, tile, tile]. */
export function untileSuperImage(x: Value, frames: number, tile: number): Value {
  const n = gridSide(frames);
  const grid = reshape(x, [x.shape[0], n, tile, n, tile]);
  return reshape(transpose(grid, [0, 1, 3, 2, 4]), [x.shape[0], frames, tile, tile]);
}

export function gridSide(frames: number): number {
  const n = Math.round(Math.sqrt(frames));
  if (n * n !== frames)
    throw new Error(
      `super-image models need a perfect-square number of frames (got ${frames}: try 9, 16 or 25)`,
    );
  return n;
}

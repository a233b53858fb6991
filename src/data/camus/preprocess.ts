/**
 * A CAMUS case made ready for the model (docs/camus.md#preprocessing):
 *  - frames: sequences longer than 32 frames keep frames round(k (F - 1) / 31), k = 0..31
 *    (upstream's np.linspace + round; the first and last frame, i.e. ED and ES, always stay);
 *  - 'upstream' grid: every frame shrunk to 112x112 with OpenCV's INTER_AREA, the LV mask (label
 *    1 only) with INTER_NEAREST, as upstream's preprocess.py writes its .npy files;
 *  - 'native' grid: frames and masks stay at the file's size (segmentation then maps them to the
 *    model and back, see src/infer/camus.ts).
 */
import { DataError } from '../errors.js';
import type { CamusCase } from './dataset.js';
import { resizeAreaOpenCV, resizeNearestOpenCV } from '../resize-opencv.js';
import { frameOf, type Spacing } from './volume.js';

const CAMUS_MAX_FRAMES = 32;
/** The LV cavity's label in CAMUS ground truth. */
const CAMUS_LV_LABEL = 1;

export type CamusGrid = 'upstream' | 'native';

/** Upstream's frame choice: all frames up to `max`, else round(linspace(0, n - 1, max)). */
export function keptFrameIndices(n: number, max = CAMUS_MAX_FRAMES): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  // k (n-1)/(max-1) never lies on a half for max = 32 (31 is prime and k < 31), so rounding
  // ties cannot arise and Math.round equals Python's round here.
  return Array.from({ length: max }, (_, k) => Math.round((k * (n - 1)) / (max - 1)));
}

export interface PreparedCase {
  /** Grey frames [count, height, width]. */
  frames: Uint8Array;
  count: number;
  height: number;
  width: number;
  /** mm per pixel of this grid. */
  spacing: Spacing;
  /** The file's 0-based frame index of each kept frame. */
  source: number[];
  /** LV masks (0/1, [height, width]) by kept position, for the frames that have ground truth. */
  truth: Map<number, Uint8Array>;
  /** Kept positions of the ED and ES frames. */
  ed: number;
  es: number;
}

/** Upstream's preprocessing ('upstream') or the kept frames at the file's size ('native'). */
export function prepareCase(c: CamusCase, grid: CamusGrid, size = 112): PreparedCase {
  const seq = c.sequence;
  const source = keptFrameIndices(seq.frames);
  const position = (frame1: number, what: string): number => {
    const at = source.indexOf(frame1 - 1);
    if (at < 0)
      throw new DataError(
        c.info.file,
        `${what} frame ${frame1} is not among the ${source.length} frames kept of ${seq.frames}; upstream only reads sequences that run from ED to ES`,
      );
    return at;
  };
  const ed = position(c.info.ed, 'ED');
  const es = position(c.info.es, 'ES');
  const upstream = grid === 'upstream';
  const height = upstream ? size : seq.height;
  const width = upstream ? size : seq.width;
  const plane = height * width;
  const frames = new Uint8Array(source.length * plane);
  const truth = new Map<number, Uint8Array>();
  const lv = new Uint8Array(seq.height * seq.width);
  source.forEach((f, k) => {
    const frame = frameOf(seq, f);
    const out = frames.subarray(k * plane, (k + 1) * plane);
    if (upstream) resizeAreaOpenCV(frame, seq.height, seq.width, height, width, out);
    else out.set(frame);
    const labels = c.labels.get(f);
    if (!labels) return;
    for (let i = 0; i < lv.length; i++) lv[i] = labels[i] === CAMUS_LV_LABEL ? 1 : 0;
    truth.set(
      k,
      upstream ? resizeNearestOpenCV(lv, seq.height, seq.width, height, width) : Uint8Array.from(lv),
    );
  });
  const spacing = upstream
    ? { x: (seq.spacing.x * seq.width) / width, y: (seq.spacing.y * seq.height) / height }
    : { ...seq.spacing };
  return { frames, count: source.length, height, width, spacing, source, truth, ed, es };
}

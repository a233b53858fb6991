/**
 * LV volume from one traced frame by the single-plane method of discs (Simpson's rule), the
 * convention behind EchoNet-Dynamic's volume tracings: row 0 is the long axis of length L, rows
 * 1..n are the chords of the n discs (EchoNet: n = 20), each disc a cylinder of diameter d_i and
 * height L/n, so V = sum_i pi/4 * d_i^2 * L/n.
 *
 * Units: the synthetic videos are 112x112 pictures of a ~18 cm deep sector, so one pixel stands
 * for MM_PER_PIXEL millimetres; a volume in px^3 times MM_PER_PIXEL^3 / 1000 is in millilitres.
 */
const MM_PER_PIXEL = 1.6;

/**
 * Volume in mL of a traced frame given as VolumeTracings rows `[x1, y1, x2, y2]` (pixel
 * coordinates); with `mmPerPixel = 10` the result is in px^3.
 */
export function volumeFromTracing(rows: number[][], mmPerPixel = MM_PER_PIXEL): number {
  if (rows.length < 2)
    throw new Error(`a tracing needs a long axis and at least one chord, got ${rows.length} rows`);
  const [ax1, ay1, ax2, ay2] = rows[0];
  const axisLength = Math.hypot(ax2 - ax1, ay2 - ay1);
  const discHeight = axisLength / (rows.length - 1);
  let cubicPixels = 0;
  for (let i = 1; i < rows.length; i++) {
    const [x1, y1, x2, y2] = rows[i];
    const d = Math.hypot(x2 - x1, y2 - y1);
    cubicPixels += (Math.PI / 4) * d * d * discHeight;
  }
  return (cubicPixels * mmPerPixel ** 3) / 1000;
}

/** Ejection fraction in percent from end-diastolic and end-systolic volumes. */
export function ejectionFraction(edv: number, esv: number): number {
  if (!(edv > 0)) throw new Error(`EDV must be positive, got ${edv}`);
  return (100 * (edv - esv)) / edv;
}

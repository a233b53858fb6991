/** Synthetic 112x112 LV-like masks for the cardiac tests. */
const H = 112;
const W = 112;

/** Mask sampled at pixel centres (x = column, y = row). */
export function shapeMask(inside: (x: number, y: number) => boolean): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) m[r * W + c] = inside(c, r) ? 1 : 0;
  return m;
}

/** Ellipse with semi-axes a (long, at angle theta from the x axis) and b. */
export function ellipseMask(cx: number, cy: number, a: number, b: number, theta: number): Uint8Array {
  const ct = Math.cos(theta);
  const st = Math.sin(theta);
  return shapeMask((x, y) => {
    const dx = x - cx;
    const dy = y - cy;
    const u = dx * ct + dy * st;
    const v = -dx * st + dy * ct;
    return (u / a) ** 2 + (v / b) ** 2 <= 1;
  });
}

/**
 * The outline of a mask as an ordered polygon: Moore-neighbour tracing of the largest component's
 * outer boundary, clockwise on screen (y down), starting at its top-left pixel. Points are pixel
 * centres in the mask's own pixel coordinates. Browser-safe: no Node imports.
 */
import { largestComponent } from './cardiac/mask-geometry.js';

// The 8 neighbours, clockwise on screen starting east.
const DX = [1, 1, 0, -1, -1, -1, 0, 1];
const DY = [0, 1, 1, 1, 0, -1, -1, -1];
const direction = (dx: number, dy: number): number => DX.findIndex((x, k) => x === dx && DY[k] === dy);

export function maskOutline(mask: Uint8Array, height: number, width: number): [number, number][] {
  const inside = largestComponent(mask, height, width);
  const start = inside.indexOf(1);
  if (start < 0) return [];
  const sx = start % width;
  const sy = (start - sx) / width;
  const at = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < width && y < height && inside[y * width + x] === 1;
  const points: [number, number][] = [];
  // The pixel west of the top-left pixel is outside: the trace starts there. It ends when it
  // would leave the start pixel the way it first did (a thin part may pass the start twice).
  let [px, py, bx, by] = [sx, sy, sx - 1, sy];
  let firstMove = -1;
  for (let step = 0; step < 4 * height * width; step++) {
    const back = direction(bx - px, by - py);
    let next = -1;
    for (let k = 1; k <= 8 && next < 0; k++)
      if (at(px + DX[(back + k) % 8], py + DY[(back + k) % 8])) next = (back + k) % 8;
    if (next < 0) return [[px, py]]; // a single pixel
    if (px === sx && py === sy) {
      if (firstMove < 0) firstMove = next;
      else if (next === firstMove) break;
    }
    points.push([px, py]);
    const prev = (next + 7) % 8;
    [bx, by] = [px + DX[prev], py + DY[prev]];
    [px, py] = [px + DX[next], py + DY[next]];
  }
  return points;
}

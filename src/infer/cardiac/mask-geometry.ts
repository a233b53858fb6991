/** Pixel-set geometry for the method of discs: connected components, boundary, convex hull. */

/** Whether inside pixel (x, y) has a 4-neighbour outside the mask or lies on the image edge. */
export function onBoundary(inside: Uint8Array, height: number, width: number, x: number, y: number): boolean {
  if (x === 0 || y === 0 || x === width - 1 || y === height - 1) return true;
  const i = y * width + x;
  return !inside[i - 1] || !inside[i + 1] || !inside[i - width] || !inside[i + width];
}

/** The largest 4-connected component of mask > 0 (first found wins a tie), as 0/1. */
export function largestComponent(mask: Uint8Array, height: number, width: number): Uint8Array {
  const label = new Int32Array(height * width);
  const stack: number[] = [];
  let best = 0,
    bestSize = 0,
    next = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!(mask[start] > 0) || label[start]) continue;
    next++;
    let size = 0;
    label[start] = next;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      size++;
      const r = Math.floor(i / width),
        c = i % width;
      const nbrs = [
        r > 0 ? i - width : -1,
        r < height - 1 ? i + width : -1,
        c > 0 ? i - 1 : -1,
        c < width - 1 ? i + 1 : -1,
      ];
      for (const j of nbrs) {
        if (j >= 0 && mask[j] > 0 && !label[j]) {
          label[j] = next;
          stack.push(j);
        }
      }
    }
    if (size > bestSize) {
      bestSize = size;
      best = next;
    }
  }
  return Uint8Array.from(label, (l) => (l === best && best > 0 ? 1 : 0));
}

/** Centres of the pixels of `xs, ys` that have a 4-neighbour outside (or lie on the image edge). */
export function boundaryPixels(
  xs: number[],
  ys: number[],
  inside: Uint8Array,
  width: number,
  height: number,
): [number, number][] {
  const pts: [number, number][] = [];
  for (let i = 0; i < xs.length; i++)
    if (onBoundary(inside, height, width, xs[i], ys[i])) pts.push([xs[i], ys[i]]);
  return pts;
}

/** Convex hull (counter-clockwise, no collinear points) of a point set (Andrew's monotone chain). */
export function convexHull(points: [number, number][]): [number, number][] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const cross = (o: [number, number], a: [number, number], b: [number, number]): number =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: [number, number][] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/**
 * Drawing on RGB24 frames [H, W, 3] in place: text in a 5x7 pixel font (scaled by an integer
 * factor), lines and filled rectangles. Used for the labels and the area curve of overlay videos
 * and for the scanner-style overlays of synthetic test videos.
 */
export type Rgb = readonly [number, number, number];

export interface Canvas {
  rgb: Uint8Array;
  height: number;
  width: number;
}

/** Rows of each glyph, top first, 5 bits each (bit 4 is the left column). */
const GLYPHS: Record<string, readonly number[]> = {
  ' ': [0, 0, 0, 0, 0, 0, 0],
  '0': [14, 17, 19, 21, 25, 17, 14],
  '1': [4, 12, 4, 4, 4, 4, 14],
  '2': [14, 17, 1, 2, 4, 8, 31],
  '3': [31, 2, 4, 2, 1, 17, 14],
  '4': [2, 6, 10, 18, 31, 2, 2],
  '5': [31, 16, 30, 1, 1, 17, 14],
  '6': [6, 8, 16, 30, 17, 17, 14],
  '7': [31, 1, 2, 4, 8, 8, 8],
  '8': [14, 17, 17, 14, 17, 17, 14],
  '9': [14, 17, 17, 15, 1, 2, 12],
  A: [14, 17, 17, 31, 17, 17, 17],
  B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14],
  D: [28, 18, 17, 17, 17, 18, 28],
  E: [31, 16, 16, 30, 16, 16, 31],
  F: [31, 16, 16, 30, 16, 16, 16],
  G: [14, 17, 16, 23, 17, 17, 15],
  H: [17, 17, 17, 31, 17, 17, 17],
  I: [14, 4, 4, 4, 4, 4, 14],
  J: [7, 2, 2, 2, 2, 18, 12],
  K: [17, 18, 20, 24, 20, 18, 17],
  L: [16, 16, 16, 16, 16, 16, 31],
  M: [17, 27, 21, 21, 17, 17, 17],
  N: [17, 17, 25, 21, 19, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16],
  Q: [14, 17, 17, 17, 21, 18, 13],
  R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30],
  T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14],
  V: [17, 17, 17, 17, 17, 10, 4],
  W: [17, 17, 17, 21, 21, 21, 10],
  X: [17, 17, 10, 4, 10, 17, 17],
  Y: [17, 17, 10, 4, 4, 4, 4],
  Z: [31, 1, 2, 4, 8, 16, 31],
  ':': [0, 12, 12, 0, 12, 12, 0],
  '.': [0, 0, 0, 0, 0, 12, 12],
  ',': [0, 0, 0, 0, 12, 4, 8],
  '/': [0, 1, 2, 4, 8, 16, 0],
  '-': [0, 0, 0, 31, 0, 0, 0],
  '+': [0, 4, 4, 31, 4, 4, 0],
  '=': [0, 0, 31, 0, 31, 0, 0],
  '%': [24, 25, 2, 4, 8, 19, 3],
  '(': [2, 4, 8, 8, 8, 4, 2],
  ')': [8, 4, 2, 2, 2, 4, 8],
  '^': [4, 10, 17, 0, 0, 0, 0],
};

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;

/** Width in pixels of `text` at `scale` (one blank column between glyphs). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + 1) - 1) * scale;
}

export function setPixel(c: Canvas, x: number, y: number, color: Rgb): void {
  if (x < 0 || y < 0 || x >= c.width || y >= c.height) return;
  const i = 3 * (y * c.width + x);
  c.rgb[i] = color[0];
  c.rgb[i + 1] = color[1];
  c.rgb[i + 2] = color[2];
}

/** Upper-case `text` with its top-left corner at (x, y); unknown characters draw as blanks. */
export function drawText(c: Canvas, text: string, x: number, y: number, color: Rgb, scale = 1): void {
  let at = x;
  for (const ch of text.toUpperCase()) {
    const rows = GLYPHS[ch] ?? GLYPHS[' '];
    for (let r = 0; r < GLYPH_HEIGHT; r++)
      for (let col = 0; col < GLYPH_WIDTH; col++)
        if ((rows[r] >> (GLYPH_WIDTH - 1 - col)) & 1)
          for (let dy = 0; dy < scale; dy++)
            for (let dx = 0; dx < scale; dx++) setPixel(c, at + col * scale + dx, y + r * scale + dy, color);
    at += (GLYPH_WIDTH + 1) * scale;
  }
}

/** A straight line from (x0, y0) to (x1, y1), `thickness` pixels wide (square pen). */
export function drawLine(
  c: Canvas,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: Rgb,
  thickness = 1,
): void {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  const lo = -Math.floor((thickness - 1) / 2);
  for (let s = 0; s <= steps; s++) {
    const x = Math.round(x0 + ((x1 - x0) * s) / steps);
    const y = Math.round(y0 + ((y1 - y0) * s) / steps);
    for (let dy = lo; dy < lo + thickness; dy++)
      for (let dx = lo; dx < lo + thickness; dx++) setPixel(c, x + dx, y + dy, color);
  }
}

/** Blend `color` over the rectangle [x, x+w) x [y, y+h) with opacity `alpha` (1 = opaque). */
export function fillRect(c: Canvas, x: number, y: number, w: number, h: number, color: Rgb, alpha = 1): void {
  for (let r = Math.max(0, y); r < Math.min(c.height, y + h); r++)
    for (let col = Math.max(0, x); col < Math.min(c.width, x + w); col++) {
      const i = 3 * (r * c.width + col);
      for (let k = 0; k < 3; k++) c.rgb[i + k] = Math.round(c.rgb[i + k] * (1 - alpha) + color[k] * alpha);
    }
}

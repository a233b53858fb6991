/**
 * Labels drawn on overlay frames: the frame number, ED/ES markers (held for a tenth of a second
 * so they can be seen in playback, the beat's EF with the ES one) and a running LV-area curve in
 * the bottom-right corner with the current frame's cursor. Browser-safe: no Node imports.
 */
import {
  drawLine,
  drawText,
  fillRect,
  GLYPH_HEIGHT,
  textWidth,
  type Canvas,
  type Rgb,
} from '../util/raster.js';

export interface OverlayAnnotations {
  fps: number;
  beats: readonly { ed: number; es: number; ef: number }[];
  /** Area per frame (any unit) and its label, e.g. "cm2" or "px". */
  area: ArrayLike<number>;
  areaUnit: string;
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const ED_RED: Rgb = [214, 39, 40];
const ES_BLUE: Rgb = [31, 119, 180];
const CURVE_DIM: Rgb = [110, 110, 110];
const CURVE_LIT: Rgb = [255, 220, 60];

/** Text on a dark box, so it reads over any picture. */
function label(c: Canvas, text: string, x: number, y: number, color: Rgb, scale: number): void {
  fillRect(
    c,
    x - scale,
    y - scale,
    textWidth(text, scale) + 2 * scale,
    (GLYPH_HEIGHT + 2) * scale,
    BLACK,
    0.8,
  );
  drawText(c, text, x, y, color, scale);
}

/** Draw the labels of frame `f` onto `c` in place. */
export function annotateFrame(c: Canvas, f: number, a: OverlayAnnotations): void {
  const scale = Math.max(1, Math.round(Math.min(c.width, c.height) / 240));
  const n = a.area.length;
  const pad = 2 * scale;
  label(c, `F ${f}/${n - 1}`, pad + scale, pad + scale, WHITE, scale);
  const hold = Math.max(1, Math.round(a.fps * 0.1));
  const lineY = pad + scale + (GLYPH_HEIGHT + 4) * scale;
  for (const b of a.beats) {
    if (f >= b.ed && f < b.ed + hold) label(c, 'ED', pad + scale, lineY, ED_RED, scale);
    if (f >= b.es && f < b.es + hold)
      label(
        c,
        Number.isFinite(b.ef) ? `ES EF ${Math.round(b.ef)}%` : 'ES',
        pad + scale,
        lineY,
        ES_BLUE,
        scale,
      );
  }
  // The running area curve.
  const pw = Math.max(24, Math.round(c.width * 0.4));
  const ph = Math.max(16, Math.round(c.height * 0.2));
  const px = c.width - pw - pad;
  const py = c.height - ph - pad;
  if (px < 0 || py < 0 || n < 2) return;
  fillRect(c, px, py, pw, ph, BLACK, 0.55);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, a.area[i]);
    hi = Math.max(hi, a.area[i]);
  }
  const top = py + (GLYPH_HEIGHT + 3) * scale;
  const bottom = py + ph - 2 * scale;
  const span = hi - lo || 1;
  const sx = (i: number) => px + scale + Math.round(((pw - 2 * scale) * i) / (n - 1));
  const sy = (v: number) => Math.round(bottom - ((bottom - top) * (v - lo)) / span);
  for (let i = 1; i < n; i++)
    drawLine(c, sx(i - 1), sy(a.area[i - 1]), sx(i), sy(a.area[i]), i <= f ? CURVE_LIT : CURVE_DIM, scale);
  for (const b of a.beats) {
    if (b.ed <= f) fillRect(c, sx(b.ed) - scale, sy(a.area[b.ed]) - scale, 3 * scale, 3 * scale, ED_RED);
    if (b.es <= f) fillRect(c, sx(b.es) - scale, sy(a.area[b.es]) - scale, 3 * scale, 3 * scale, ES_BLUE);
  }
  drawLine(c, sx(f), top, sx(f), bottom, WHITE, 1);
  const value = a.area[f];
  const text = `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${a.areaUnit}`;
  drawText(c, text, px + scale, py + scale, WHITE, scale);
}

// LV area over time with the ED and ES frames of every beat marked: a small hand-written SVG
// (the same approach as the evaluation report's charts, src/eval/plot.ts).
import { ticks } from '../eval/plot.js';

export interface AreaPlotInput {
  area: ArrayLike<number>;
  smoothedArea: ArrayLike<number>;
  fps: number;
  beats: readonly { ed: number; es: number }[];
  /** Optional true ED/ES frames (synthetic ground truth), drawn as ticks under the axis. */
  trueEd?: readonly number[];
  trueEs?: readonly number[];
}

const ED_COLOR = '#d62728';
const ES_COLOR = '#1f77b4';

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function areaPlotSvg(d: AreaPlotInput, opts: { title: string; width?: number; height?: number }): string {
  const width = opts.width ?? 800;
  const height = opts.height ?? 320;
  const m = { left: 60, right: 16, top: 32, bottom: 48 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const n = d.area.length;
  const duration = Math.max(n - 1, 1) / d.fps;
  let loRaw = n ? Infinity : 0;
  let hiRaw = n ? -Infinity : 1;
  for (const ys of [d.area, d.smoothedArea]) {
    for (let i = 0; i < n; i++) {
      loRaw = Math.min(loRaw, ys[i]);
      hiRaw = Math.max(hiRaw, ys[i]);
    }
  }
  const pad = (hiRaw - loRaw) * 0.05 || 1;
  const yLo = Math.max(0, loRaw - pad);
  const yHi = hiRaw + pad;
  const sx = (frame: number): number => m.left + ((frame / d.fps) / duration) * pw;
  const sy = (v: number): number => m.top + (1 - (v - yLo) / (yHi - yLo)) * ph;
  const line = (ys: ArrayLike<number>): string => Array.from(ys, (v, f) => `${sx(f).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
  const p: string[] = [];
  p.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  p.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(opts.title)}</text>`);
  for (const t of ticks(yLo, yHi)) {
    p.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
    p.push(`<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  for (const t of ticks(0, duration)) {
    const x = sx(t * d.fps).toFixed(1);
    p.push(`<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#333"/>`);
    p.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${t}</text>`);
  }
  p.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  p.push(`<text x="${m.left + pw / 2}" y="${height - 10}" text-anchor="middle">time (s)</text>`);
  p.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">LV area (pixels)</text>`);
  for (const b of d.beats) {
    for (const [f, color] of [[b.ed, ED_COLOR], [b.es, ES_COLOR]] as const) {
      p.push(`<line x1="${sx(f).toFixed(1)}" x2="${sx(f).toFixed(1)}" y1="${m.top}" y2="${m.top + ph}" stroke="${color}" stroke-dasharray="3 3" stroke-opacity="0.6"/>`);
    }
  }
  if (n > 0) {
    p.push(`<polyline fill="none" stroke="#999" stroke-width="1" points="${line(d.area)}"/>`);
    p.push(`<polyline fill="none" stroke="#222" stroke-width="1.8" points="${line(d.smoothedArea)}"/>`);
  }
  for (const b of d.beats) {
    p.push(`<circle cx="${sx(b.ed).toFixed(1)}" cy="${sy(d.smoothedArea[b.ed]).toFixed(1)}" r="4" fill="${ED_COLOR}"><title>ED frame ${b.ed}</title></circle>`);
    p.push(`<circle cx="${sx(b.es).toFixed(1)}" cy="${sy(d.smoothedArea[b.es]).toFixed(1)}" r="4" fill="${ES_COLOR}"><title>ES frame ${b.es}</title></circle>`);
  }
  // True ED/ES (ground truth) as small triangles just inside the bottom of the plot.
  for (const [frames, color] of [[d.trueEd ?? [], ED_COLOR], [d.trueEs ?? [], ES_COLOR]] as const) {
    for (const f of frames) {
      const x = sx(f);
      const y = m.top + ph;
      p.push(`<path d="M${x.toFixed(1)},${(y - 8).toFixed(1)} l-4,8 h8 z" fill="none" stroke="${color}"><title>true frame ${f}</title></path>`);
    }
  }
  const legend: [string, string, string][] = [
    ['line', '#999', 'area per frame'], ['line', '#222', 'smoothed'], ['dot', ED_COLOR, 'ED'], ['dot', ES_COLOR, 'ES'],
    ...(d.trueEd || d.trueEs ? [['tri', '#555', 'true ED/ES'] as [string, string, string]] : []),
  ];
  legend.forEach(([kind, color, label], k) => {
    const x = m.left + 8 + k * 110;
    const y = m.top + 12;
    if (kind === 'line') p.push(`<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    else if (kind === 'dot') p.push(`<circle cx="${x + 9}" cy="${y}" r="4" fill="${color}"/>`);
    else p.push(`<path d="M${x + 9},${y - 5} l-4,8 h8 z" fill="none" stroke="${color}"/>`);
    p.push(`<text x="${x + 24}" y="${y + 4}">${label}</text>`);
  });
  p.push('</svg>');
  return p.join('\n') + '\n';
}

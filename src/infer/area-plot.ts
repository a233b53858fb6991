// LV area over time with the ED and ES frames of every beat marked: a small hand-written SVG
// (the same approach as the evaluation report's charts, src/eval/plot.ts).
import { chartFrame } from '../eval/plot.js';

export interface AreaPlotInput {
  area: ArrayLike<number>;
  smoothedArea: ArrayLike<number>;
  fps: number;
  beats: readonly { ed: number; es: number }[];
  /** Optional true ED/ES frames (synthetic ground truth), drawn as ticks under the axis. */
  trueEd?: readonly number[];
  trueEs?: readonly number[];
  /** Frame shown now (the browser viewer's playback position), drawn as a vertical line. */
  cursor?: number;
}

const ED_COLOR = '#d62728';
const ES_COLOR = '#1f77b4';

export function areaPlotSvg(
  d: AreaPlotInput,
  opts: { title: string; width?: number; height?: number },
): string {
  const width = opts.width ?? 800;
  const height = opts.height ?? 320;
  const m = { left: 60, right: 16, top: 32, bottom: 48 };
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
  const frame = chartFrame({
    width,
    height,
    margin: m,
    title: opts.title,
    xLabel: 'time (s)',
    yLabel: 'LV area (pixels)',
    x: [0, duration],
    y: [yLo, yHi],
    grid: '#eee',
  });
  const p = frame.parts;
  const sx = (f: number): number => frame.sx(f / d.fps);
  const sy = frame.sy;
  const line = (ys: ArrayLike<number>): string =>
    Array.from(ys, (v, f) => `${sx(f).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
  for (const b of d.beats) {
    for (const [f, color] of [
      [b.ed, ED_COLOR],
      [b.es, ES_COLOR],
    ] as const) {
      p.push(
        `<line x1="${sx(f).toFixed(1)}" x2="${sx(f).toFixed(1)}" y1="${m.top}" y2="${m.top + ph}" stroke="${color}" stroke-dasharray="3 3" stroke-opacity="0.6"/>`,
      );
    }
  }
  if (d.cursor !== undefined && n > 0) {
    const x = sx(Math.min(Math.max(d.cursor, 0), n - 1)).toFixed(1);
    p.push(
      `<line class="cursor" x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}" stroke="#2ca02c" stroke-width="1.5"/>`,
    );
  }
  if (n > 0) {
    p.push(`<polyline fill="none" stroke="#999" stroke-width="1" points="${line(d.area)}"/>`);
    p.push(`<polyline fill="none" stroke="#222" stroke-width="1.8" points="${line(d.smoothedArea)}"/>`);
  }
  for (const b of d.beats) {
    p.push(
      `<circle cx="${sx(b.ed).toFixed(1)}" cy="${sy(d.smoothedArea[b.ed]).toFixed(1)}" r="4" fill="${ED_COLOR}"><title>ED frame ${b.ed}</title></circle>`,
    );
    p.push(
      `<circle cx="${sx(b.es).toFixed(1)}" cy="${sy(d.smoothedArea[b.es]).toFixed(1)}" r="4" fill="${ES_COLOR}"><title>ES frame ${b.es}</title></circle>`,
    );
  }
  // True ED/ES (ground truth) as small triangles just inside the bottom of the plot.
  for (const [frames, color] of [
    [d.trueEd ?? [], ED_COLOR],
    [d.trueEs ?? [], ES_COLOR],
  ] as const) {
    for (const f of frames) {
      const x = sx(f);
      const y = m.top + ph;
      p.push(
        `<path d="M${x.toFixed(1)},${(y - 8).toFixed(1)} l-4,8 h8 z" fill="none" stroke="${color}"><title>true frame ${f}</title></path>`,
      );
    }
  }
  const legend: [string, string, string][] = [
    ['line', '#999', 'area per frame'],
    ['line', '#222', 'smoothed'],
    ['dot', ED_COLOR, 'ED'],
    ['dot', ES_COLOR, 'ES'],
    ...(d.trueEd || d.trueEs ? [['tri', '#555', 'true ED/ES'] as [string, string, string]] : []),
  ];
  legend.forEach(([kind, color, label], k) => {
    const x = m.left + 8 + k * 130;
    const y = m.top + 12;
    if (kind === 'line')
      p.push(`<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    else if (kind === 'dot') p.push(`<circle cx="${x + 9}" cy="${y}" r="4" fill="${color}"/>`);
    else p.push(`<path d="M${x + 9},${y - 5} l-4,8 h8 z" fill="none" stroke="${color}"/>`);
    p.push(`<text x="${x + 24}" y="${y + 4}">${label}</text>`);
  });
  p.push('</svg>');
  return p.join('\n') + '\n';
}

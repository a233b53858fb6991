/**
 * Small hand-written SVG charts for the evaluation report. A plotting library (vega/vega-lite)
 * would add a large dependency tree for two line series; the report needs none of its features.
 */

export interface Series {
  label: string;
  color: string;
  values: number[];
}

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** "Nice" tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, target = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= target) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

export interface ChartFrameOptions {
  width: number;
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
  title: string;
  xLabel: string;
  yLabel: string;
  x: [number, number];
  y: [number, number];
  /** x tick values (default ticks(x)) */
  xTicks?: number[];
  /** text of an x tick (default the value itself) */
  xTickLabel?: (t: number) => string;
  /** grid line colour */
  grid?: string;
}

/**
 * The part every chart here shares: the <svg> element, title, y grid with labels, x tick labels,
 * the plot frame and axis labels. Returns the parts so far (callers add their marks and '</svg>')
 * and the data-to-pixel maps.
 */
export function chartFrame(o: ChartFrameOptions): {
  parts: string[];
  sx: (x: number) => number;
  sy: (y: number) => number;
  plotWidth: number;
  plotHeight: number;
} {
  const { width, height, margin: m } = o;
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sx = (x: number): number => m.left + ((x - o.x[0]) / (o.x[1] - o.x[0] || 1)) * pw;
  const sy = (y: number): number => m.top + (1 - (y - o.y[0]) / (o.y[1] - o.y[0] || 1)) * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(o.title)}</text>`,
  ];
  for (const t of ticks(o.y[0], o.y[1])) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="${o.grid ?? '#ddd'}"/>`,
    );
    parts.push(`<text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  for (const t of o.xTicks ?? ticks(o.x[0], o.x[1])) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#333"/>`);
    const label = o.xTickLabel ? escapeXml(o.xTickLabel(t)) : t;
    parts.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${label}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(
    `<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );
  return { parts, sx, sy, plotWidth: pw, plotHeight: ph };
}

/**
 * Each series' finite values sorted ascending and drawn against their rank (0 = worst,
 * 1 = best), so series of different lengths share the x axis: a quantile plot of per-frame DSC.
 */
export function sortedValuesSvg(
  series: Series[],
  opts: { title: string; yLabel: string; width?: number; height?: number },
): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 360;
  const m = { left: 56, right: 16, top: 32, bottom: 44 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sorted = series.map((s) => ({
    ...s,
    values: s.values.filter(Number.isFinite).sort((a, b) => a - b),
  }));
  const all = sorted.flatMap((s) => s.values);
  let yLo = all.length ? Math.min(...all) : 0;
  const yHi = 1;
  yLo = Math.max(0, Math.floor(Math.min(yLo, 0.9) * 20) / 20);
  const { parts, sx, sy } = chartFrame({
    width,
    height,
    margin: m,
    title: opts.title,
    xLabel: 'fraction of videos (sorted by DSC)',
    yLabel: opts.yLabel,
    x: [0, 1],
    y: [yLo, yHi],
  });
  sorted.forEach((s, k) => {
    const n = s.values.length;
    const pts = s.values
      .map((v, i) => `${sx(n > 1 ? i / (n - 1) : 0.5).toFixed(1)},${sy(v).toFixed(1)}`)
      .join(' ');
    if (n > 0) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts}"/>`);
    // Legend in the lower right, which ascending curves leave empty.
    const ly = m.top + ph - 12 - 16 * (sorted.length - 1 - k);
    const lx = m.left + pw - 170;
    parts.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${lx + 26}" y="${ly}">${escapeXml(`${s.label} (n=${n})`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** One point of a line chart, with an optional interval drawn as an error bar. */
export interface LinePoint {
  x: number;
  y: number;
  lo?: number;
  hi?: number;
}

/**
 * Lines through points (one per series) with error bars where the points carry an interval, a
 * legend in the lower right. x values are placed as given, so a caller that wants a log axis or
 * evenly spaced categories passes transformed x values and labels the ticks with `xTickLabel`.
 */
export function lineChartSvg(
  series: { label: string; color: string; points: LinePoint[] }[],
  opts: Pick<ChartFrameOptions, 'title' | 'xLabel' | 'yLabel' | 'xTicks' | 'xTickLabel'> & {
    y?: [number, number];
    width?: number;
    height?: number;
  },
): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 380;
  const m = { left: 56, right: 16, top: 32, bottom: 44 };
  const pts = series.flatMap((s) => s.points);
  const xs = pts.map((p) => p.x);
  const ys = pts.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]).filter(Number.isFinite);
  const pad = (Math.max(...xs) - Math.min(...xs)) * 0.05 || 0.5;
  const y = opts.y ?? [
    Math.floor(Math.min(...ys) * 20) / 20,
    Math.min(1, Math.ceil(Math.max(...ys) * 20) / 20),
  ];
  const {
    parts,
    sx,
    sy,
    plotWidth: pw,
    plotHeight: ph,
  } = chartFrame({
    ...opts,
    width,
    height,
    margin: m,
    x: [Math.min(...xs) - pad, Math.max(...xs) + pad],
    y,
  });
  const legendChars = Math.max(0, ...series.map((s) => s.label.length));
  series.forEach((s, k) => {
    const line = s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${line}"/>`);
    for (const p of s.points) {
      // Series side by side at one x, so their error bars do not hide each other.
      const x = (sx(p.x) + (k - (series.length - 1) / 2) * 4).toFixed(1);
      if (p.lo !== undefined && p.hi !== undefined)
        parts.push(
          `<line x1="${x}" x2="${x}" y1="${sy(p.lo).toFixed(1)}" y2="${sy(p.hi).toFixed(1)}" stroke="${s.color}" stroke-width="1.2"/>`,
        );
      parts.push(`<circle cx="${x}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    const ly = m.top + ph - 12 - 16 * (series.length - 1 - k);
    // Right-aligned by the longest label (about 6.6 px a character at 12 px sans-serif), so long
    // labels stay inside the chart.
    const lx = Math.max(m.left + 8, m.left + pw - 34 - legendChars * 6.6);
    parts.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${lx + 26}" y="${ly}">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

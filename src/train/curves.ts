// Training curves from log.jsonl as one SVG: the training loss per step (with a moving average)
// and the validation loss / DSC at each validation.
import { ticks } from '../eval/plot.js';
import { atomicWriteFile } from '../util/atomic.js';
import { readJsonl } from '../util/jsonl.js';

interface Line {
  label: string;
  color: string;
  points: [number, number][];
  faint?: boolean;
}

function panel(lines: Line[], title: string, x0: number, y0: number, w: number, h: number): string {
  const pts = lines.flatMap((l) => l.points).filter(([, y]) => Number.isFinite(y));
  if (!pts.length)
    return `<text x="${x0 + w / 2}" y="${y0 + h / 2}" text-anchor="middle">${title}: no data yet</text>`;
  const [xs, ys] = [pts.map((p) => p[0]), pts.map((p) => p[1])];
  const xLo = Math.min(...xs),
    xHi = Math.max(...xs, xLo + 1);
  let yLo = Math.min(...ys),
    yHi = Math.max(...ys);
  if (yHi - yLo < 1e-9) [yLo, yHi] = [yLo - 0.5, yHi + 0.5];
  const m = { l: 56, r: 12, t: 26, b: 34 };
  const px = (x: number) => x0 + m.l + ((x - xLo) / (xHi - xLo)) * (w - m.l - m.r);
  const py = (y: number) => y0 + h - m.b - ((y - yLo) / (yHi - yLo)) * (h - m.t - m.b);
  const parts = [
    `<text x="${x0 + w / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${title}</text>`,
  ];
  for (const t of ticks(yLo, yHi))
    parts.push(
      `<line x1="${px(xLo)}" x2="${px(xHi)}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/><text x="${px(xLo) - 4}" y="${py(t) + 4}" text-anchor="end" font-size="11">${+t.toPrecision(4)}</text>`,
    );
  for (const t of ticks(xLo, xHi))
    parts.push(`<text x="${px(t)}" y="${y0 + h - m.b + 14}" text-anchor="middle" font-size="11">${t}</text>`);
  parts.push(
    `<text x="${x0 + w / 2}" y="${y0 + h - 4}" text-anchor="middle" font-size="11">optimizer step</text>`,
  );
  lines.forEach((l, i) => {
    const d = l.points
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y], k) => `${k ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join('');
    parts.push(
      `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="${l.faint ? 1 : 2}" opacity="${l.faint ? 0.35 : 1}"/>`,
    );
    if (!l.faint)
      parts.push(
        `<text x="${x0 + w - m.r - 4}" y="${y0 + m.t + 14 * (i + 1)}" text-anchor="end" font-size="11" fill="${l.color}">${l.label}</text>`,
      );
  });
  return parts.join('\n');
}

function movingAverage(points: [number, number][], window: number): [number, number][] {
  return points.map(([x], i) => {
    const from = Math.max(0, i - window + 1);
    const ys = points.slice(from, i + 1).map((p) => p[1]);
    return [x, ys.reduce((a, b) => a + b, 0) / ys.length];
  });
}

function curvesSvg(records: Record<string, unknown>[]): string {
  const steps = records
    .filter((r) => r.event === 'step')
    .map((r) => [Number(r.step), Number(r.loss)] as [number, number]);
  const vals = records.filter((r) => r.event === 'val');
  const valLoss = vals.map((r) => [Number(r.step), Number(r.val_loss)] as [number, number]);
  const valDsc = vals
    .map((r) => [Number(r.step), Number(r.val_dsc)] as [number, number])
    .filter(([, y]) => Number.isFinite(y));
  const w = 720,
    h = 300;
  const body = [
    panel(
      [
        { label: 'train loss', color: '#1f77b4', points: steps, faint: true },
        { label: 'train loss (moving average)', color: '#1f77b4', points: movingAverage(steps, 20) },
        { label: 'val loss', color: '#d62728', points: valLoss },
      ],
      'Loss',
      0,
      0,
      w,
      h,
    ),
    panel([{ label: 'val DSC (pooled)', color: '#2ca02c', points: valDsc }], 'Validation DSC', 0, h, w, h),
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${2 * h}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>\n${body.join('\n')}\n</svg>\n`;
}

export function writeCurves(svgPath: string, logPath: string): void {
  atomicWriteFile(svgPath, curvesSvg(readJsonl(logPath)));
}

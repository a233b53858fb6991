import type { BootstrapResult } from './bootstrap.js';
import type { Evaluation } from './evaluate.js';
import type { GalleryCase } from './gallery.js';
import { escapeXml, sortedValuesSvg } from './plot.js';

export const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(2) : 'n/a');

/** The reports' shared look: tables, the gallery's cards, the contour key. */
export const REPORT_STYLE = `<style>
body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}
.gallery{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;width:336px}figure img{width:336px;height:336px;image-rendering:pixelated}
figcaption{font-size:12px}.key span{display:inline-block;width:14px;height:4px;margin:0 4px 2px 10px}
</style>`;

/** The opening of a table of headlineRow rows. */
export const HEADLINE_HEADER =
  '<table><tr><th>set</th><th>frames</th><th>DSC</th><th>90% interval (upstream, 5th–95th pct)</th><th>95% interval (2.5th–97.5th pct)</th></tr>';

/** A table row: set name, frames, DSC and both intervals, in percent. */
export function headlineRow(name: string, r: BootstrapResult): string {
  return (
    `<tr><td>${name}</td><td>${r.items}</td><td><b>${pct(r.estimate)}</b></td>` +
    `<td>${pct(r.ci90[0])} – ${pct(r.ci90[1])}</td><td>${pct(r.ci95[0])} – ${pct(r.ci95[1])}</td></tr>`
  );
}

/** A self-contained HTML page: headline table, per-frame DSC plot, worst-case gallery. */
export function renderReportHtml(ev: Evaluation, gallery: GalleryCase[]): string {
  const s = ev.settings;
  const h = ev.headline;
  const plot = sortedValuesSvg(
    [
      { label: 'ED (large)', color: '#d62728', values: ev.videos.map((v) => v.large.dice) },
      { label: 'ES (small)', color: '#1f77b4', values: ev.videos.map((v) => v.small.dice) },
      { label: 'video (ED and ES pooled)', color: '#2ca02c', values: ev.videos.map((v) => v.overall) },
    ],
    { title: 'Per-video DSC, sorted (ED frame, ES frame, both pooled)', yLabel: 'DSC' },
  );
  const cards = gallery
    .map(
      (g) =>
        `<figure><img src="${g.image}" alt="${escapeXml(`${g.fileName} ${g.phase}`)}">` +
        `<figcaption>${escapeXml(g.fileName)} · ${g.phase} frame ${g.frame} · DSC ${pct(g.dice)}` +
        `${g.note ? `<br><i>${escapeXml(g.note)}</i>` : ''}</figcaption></figure>`,
    )
    .join('\n');
  const skipped = ev.skipped.length
    ? `<h2>Skipped videos (${ev.skipped.length})</h2><ul>${ev.skipped.map((k) => `<li>${escapeXml(k.fileName)}: ${escapeXml(k.problem)}</li>`).join('')}</ul>`
    : '';
  const warnings = ev.warnings.length
    ? `<h2>Data warnings (${ev.warnings.length})</h2><ul>${ev.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LV segmentation evaluation</title>
${REPORT_STYLE}</head><body>
<h1>LV segmentation evaluation (${escapeXml(s.split)} split)</h1>
<p>${ev.videos.length} videos, ${2 * ev.videos.length} annotated frames. Data: <code>${escapeXml(s.dataDir)}</code>;
predictions: <code>${escapeXml(ev.predictionDirUsed)}</code>${ev.predictionDirUnderDataDir ? ' (found under the data folder, as upstream resolves it)' : ''}.</p>
<h2>Pooled Dice (%)</h2>
${HEADLINE_HEADER}
${headlineRow('overall (ED+ES)', h.overall)}
${headlineRow('large (ED)', h.large)}
${headlineRow('small (ES)', h.small)}
</table>
<p>DSC pooled over the set: 2ΣI / (ΣU + ΣI). Percentile bootstrap, ${s.resamples} resamples of frames with replacement, seed ${s.seed}.
Upstream's log.csv reports sorted[500]..sorted[9500], which is a 90% interval although the paper calls it a 95% CI.</p>
<h2>Per-frame DSC</h2>
${plot}
<h2>Worst ${gallery.length} frames</h2>
<p class="key"><span style="background:#f0f"></span>ground truth (tracing)<span style="background:#0f0"></span>prediction</p>
<div class="gallery">
${cards}
</div>
${skipped}
${warnings}
</body></html>
`;
}

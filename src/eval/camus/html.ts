/** report.html of `unilvseg camus`: the tables of summary.json, per-patient DSC, EF agreement, worst frames. */
import type { Failure } from '../../util/failures.js';
import type { BootstrapResult } from '../bootstrap.js';
import { renderCasePng } from '../gallery.js';
import { HEADLINE_HEADER, headlineRow, pct, REPORT_STYLE } from '../html.js';
import { escapeXml, sortedValuesSvg } from '../plot.js';
import type { Agreement } from './ef.js';
import type { CamusSummary } from './summary.js';
import { patientDsc, type CamusFrameScore } from './scores.js';
import type { PatientRow } from './tables.js';

/** One of the lowest-DSC frames, with what is needed to draw it. */
export interface WorstFrame {
  score: CamusFrameScore;
  /** Grey frame, LV truth and prediction (0/1), [height, width]. */
  image: Uint8Array;
  truth: Uint8Array;
  prediction: Uint8Array;
  height: number;
  width: number;
}

const row = (name: string, r: BootstrapResult | null): string =>
  r ? headlineRow(name, r) : `<tr><td>${name}</td><td>0</td><td>n/a</td><td></td><td></td></tr>`;

const f = (x: number | null, d: number): string => (x === null ? 'n/a' : x.toFixed(d));

function agreementRow(name: string, a: Agreement): string {
  return `<tr><td>${name}</td><td>${a.n}</td><td>${f(a.bias, 2)}</td><td>${f(a.sd, 2)}</td><td>${f(a.meanAbs, 2)}</td></tr>`;
}

function card(w: WorstFrame): string {
  const rgb = new Uint8Array(w.image.length * 3);
  for (let i = 0; i < w.image.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = w.image[i];
  const scale = Math.max(1, Math.round(336 / Math.max(w.height, w.width)));
  const png = renderCasePng(rgb, w.truth, w.prediction, w.height, w.width, scale).toString('base64');
  const s = w.score;
  const phase = [s.ed ? 'ED' : '', s.es ? 'ES' : '', s.middle ? 'middle' : ''].filter(Boolean).join('/');
  return (
    `<figure><img src="data:image/png;base64,${png}" alt="${escapeXml(`${s.patient} frame ${s.position}`)}" style="height:auto">` +
    `<figcaption>${escapeXml(s.patient)} ${s.view} · frame ${s.position}${phase ? ` (${phase})` : ''} · ${escapeXml(s.quality)} · DSC ${pct(s.dice)}</figcaption></figure>`
  );
}

export function renderCamusHtml(
  s: CamusSummary,
  rows: PatientRow[],
  worst: WorstFrame[],
  failures: Failure[],
): string {
  const d = s.dsc;
  const quality = Object.entries(d.byQuality)
    .map(
      ([q, g]) =>
        `<tr><th colspan="5">${escapeXml(q)} (${g.patients} patients)</th></tr>` +
        row('overall', g.overall) +
        row('ED', g.ed) +
        row('ES', g.es) +
        row('middle', g.middle),
    )
    .join('\n');
  const dice = rows.map((r) => patientDsc(r.scored));
  const plot = sortedValuesSvg(
    [
      { label: 'all traced frames', color: '#2ca02c', values: dice.map((x) => x.overall) },
      { label: 'ED', color: '#d62728', values: dice.map((x) => x.ed) },
      { label: 'ES', color: '#1f77b4', values: dice.map((x) => x.es) },
    ],
    { title: 'Per-patient DSC, sorted', yLabel: 'DSC' },
  );
  const e = s.ef;
  const failed = failures.length
    ? `<h2>Skipped patients (${failures.length})</h2><ul>${failures.map((x) => `<li>${escapeXml(x.problem)}</li>`).join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CAMUS evaluation</title>
${REPORT_STYLE}</head><body>
<h1>CAMUS out-of-distribution evaluation (${s.settings.view})</h1>
<p>${s.patients.evaluated} patients evaluated (${s.patients.failed} skipped, ${s.patients.excludedByQuality} excluded by quality),
${s.frames} traced frames; each patient counted once. Data: <code>${escapeXml(s.settings.patientsDir)}</code>; preprocessing: <code>${s.settings.resize}</code>;
model: <code>${escapeXml(s.settings.model)}</code>.</p>
<h2>Pooled Dice (%)</h2>
${HEADLINE_HEADER}
${row('overall (all traced frames)', d.overall)}
${row('ED', d.ed)}
${row('ES', d.es)}
${row('middle (frame N//2)', d.middle)}
<tr><th colspan="5">by LV size (upstream's rule)</th></tr>
${row('large', d.bySize.large)}
${row('small', d.bySize.small)}
${row('large and small', d.bySize.largeAndSmall)}
<tr><th colspan="5">by image quality</th></tr>
${quality}
</table>
<p>DSC pooled over the set: 2ΣI / (ΣU + ΣI). Percentile bootstrap, ${s.settings.resamples} resamples of frames with replacement, seed ${s.settings.seed}.
Upstream reports sorted[500]..sorted[9500], a 90% interval although the paper calls it a 95% CI.</p>
<h2>Ejection fraction</h2>
<table><tr><th>comparison</th><th>patients</th><th>bias (a − b)</th><th>SD</th><th>mean |a − b|</th></tr>
${agreementRow('EF predicted − CAMUS LVef (%)', e.predictedVsCamus)}
${agreementRow('EF traced − CAMUS LVef (%)', e.tracedVsCamus)}
${agreementRow('EF predicted − EF traced (%)', e.predictedVsTraced)}
${agreementRow('EDV predicted − CAMUS LVedv (mL)', e.edvPredictedVsCamus)}
${agreementRow('ESV predicted − CAMUS LVesv (mL)', e.esvPredictedVsCamus)}
</table>
<p>${escapeXml(e.note)}.</p>
<h2>Per-patient DSC</h2>
${plot}
<h2>Worst ${worst.length} frames</h2>
<p class="key"><span style="background:#f0f"></span>ground truth (LV label)<span style="background:#0f0"></span>prediction</p>
<div class="gallery">
${worst.map(card).join('\n')}
</div>
${failed}
</body></html>
`;
}

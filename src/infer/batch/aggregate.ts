// Scores of a batch of segmented videos against synthetic ground truth, aggregated over videos.
import { diceFromOverlap } from '../../eval/metrics.js';
import type { EventMatch } from '../segment-core.js';
import type { SegmentSummary } from '../segment.js';

/** Count, mean and median of the finite numbers among `xs` (null when there are none). */
export function stats(xs: (number | null | undefined)[]) {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { n: 0, mean: null, median: null };
  const mid = v.length >> 1;
  return {
    n: v.length,
    mean: v.reduce((a, b) => a + b, 0) / v.length,
    median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2,
  };
}

const sumMatches = (ms: EventMatch[]): EventMatch => ({
  countable: ms.reduce((a, m) => a + m.countable, 0),
  missed: ms.reduce((a, m) => a + m.missed, 0),
  spurious: ms.reduce((a, m) => a + m.spurious, 0),
});

export const scored = (s: SegmentSummary) => (s.truth && !('error' in s.truth) ? s.truth : undefined);

/** Over videos: mean/median EF error, ED/ES detection error, per-video DSC, and the DSC pooled over every frame of every video. */
export function aggregateTruth(summaries: SegmentSummary[]) {
  const t = summaries.map(scored).filter((x) => x !== undefined);
  if (!t.length) return null;
  const inter = t.reduce((a, x) => a + x.intersectionPx, 0);
  const union = t.reduce((a, x) => a + x.unionPx, 0);
  const ef = stats(t.map((x) => x.efAbsError));
  const ed = stats(t.map((x) => x.meanAbsEdError));
  const es = stats(t.map((x) => x.meanAbsEsError));
  return {
    videos: t.length,
    // Headline numbers: DSC pooled over every frame of every video; means over videos of the rest.
    dscAllFrames: union + inter > 0 ? diceFromOverlap(inter, union) : null,
    efMae: ef.mean,
    edErrorFrames: ed.mean,
    esErrorFrames: es.mean,
    // What those means leave out: videos without a detected beat have no EF and no ED/ES error,
    // and the errors are over detections, so true beats that were missed are counted here.
    videosWithoutBeat: t.filter((x) => x.beatsDetected === 0).length,
    ed: sumMatches(t.map((x) => x.ed)),
    es: sumMatches(t.map((x) => x.es)),
    // Their distributions over videos (n = videos with a value: EF and ED/ES need a detected beat).
    dsc: stats(t.map((x) => x.dsc)),
    efAbsError: ef,
    absEdError: ed,
    absEsError: es,
  };
}

/**
 * Ejection fraction of a CAMUS case from its ED and ES masks by the single-plane method of discs
 * with the file's real pixel spacing (src/infer/cardiac/), next to the release's own LVef, which
 * is biplane (four- and two-chamber views together). Measuring the traced masks by the same
 * method separates what the single-plane method costs from what the model costs
 * (docs/camus.md#ejection-fraction).
 */
import { discVolumeMl, ejectionFraction, type Spacing } from '../../infer/cardiac/index.js';

export interface VolumesAndEf {
  edvMl: number | null;
  esvMl: number | null;
  ef: number | null;
}

export interface CamusEf {
  /** From the predicted masks. */
  predicted: VolumesAndEf;
  /** From the traced LV of the same frames, by the same method. */
  traced: VolumesAndEf;
  /** Info_*.cfg's LVedv, LVesv, LVef (biplane), when present. */
  camus: VolumesAndEf;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function volumesAndEf(
  ed: Uint8Array,
  es: Uint8Array,
  v: Omit<EfInput, 'masks' | 'truth' | 'ed' | 'es'>,
  convention: 'tracing' | 'area',
  tracingPixel: number,
): VolumesAndEf {
  const edv = discVolumeMl(ed, v.height, v.width, v.spacing, convention, tracingPixel);
  const esv = discVolumeMl(es, v.height, v.width, v.spacing, convention, tracingPixel);
  return { edvMl: finite(edv), esvMl: finite(esv), ef: finite(ejectionFraction(edv, esv)) };
}

export interface EfInput {
  masks: Uint8Array;
  truth: Map<number, Uint8Array>;
  ed: number;
  es: number;
  height: number;
  width: number;
  spacing: Spacing;
  /**
   * Pixels of this grid per pixel of the grid the model predicted on (1 on the 112 grid; the
   * native scale with --resize native), for the method of discs' tracing convention.
   */
  tracingPixel: number;
  camus: VolumesAndEf;
}

/**
 * Predicted masks are measured with the tracing convention (the model learnt EchoNet's traced
 * outlines), CAMUS's labels with the area convention (every pixel of the cavity is labelled).
 */
export function caseEf(c: EfInput): CamusEf {
  const plane = c.height * c.width;
  const at = (k: number) => c.masks.subarray(k * plane, (k + 1) * plane);
  const predicted = volumesAndEf(at(c.ed), at(c.es), c, 'tracing', c.tracingPixel);
  const edT = c.truth.get(c.ed);
  const esT = c.truth.get(c.es);
  const traced = edT && esT ? volumesAndEf(edT, esT, c, 'area', 1) : { edvMl: null, esvMl: null, ef: null };
  return { predicted, traced, camus: c.camus };
}

export interface Agreement {
  /** Pairs with both values. */
  n: number;
  /** Mean of (a - b), its standard deviation, and the mean |a - b|. */
  bias: number | null;
  sd: number | null;
  meanAbs: number | null;
}

/** How `a` agrees with `b` over the pairs where both are known. */
export function agreement(pairs: [number | null, number | null][]): Agreement {
  const d = pairs.filter((p): p is [number, number] => p[0] !== null && p[1] !== null).map(([a, b]) => a - b);
  if (d.length === 0) return { n: 0, bias: null, sd: null, meanAbs: null };
  const mean = d.reduce((s, x) => s + x, 0) / d.length;
  const sd = d.length > 1 ? Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1)) : null;
  return { n: d.length, bias: mean, sd, meanAbs: d.reduce((s, x) => s + Math.abs(x), 0) / d.length };
}

export interface EfSummary {
  note: string;
  /** Predicted single-plane EF against CAMUS's biplane LVef (the headline bias). */
  predictedVsCamus: Agreement;
  /** The traced masks' single-plane EF against LVef: the method's own share of the bias. */
  tracedVsCamus: Agreement;
  /** Predicted against traced EF, both single-plane: the model's share. */
  predictedVsTraced: Agreement;
  /** Volumes in mL against LVedv / LVesv. */
  edvPredictedVsCamus: Agreement;
  esvPredictedVsCamus: Agreement;
}

export function summariseEf(cases: CamusEf[]): EfSummary {
  return {
    note: "EF (%) and volumes (mL) by the single-plane method of discs on the view evaluated, with the files' pixel spacing; CAMUS's LVedv/LVesv/LVef are biplane (4CH and 2CH). bias = mean(a - b)",
    predictedVsCamus: agreement(cases.map((c) => [c.predicted.ef, c.camus.ef])),
    tracedVsCamus: agreement(cases.map((c) => [c.traced.ef, c.camus.ef])),
    predictedVsTraced: agreement(cases.map((c) => [c.predicted.ef, c.traced.ef])),
    edvPredictedVsCamus: agreement(cases.map((c) => [c.predicted.edvMl, c.camus.edvMl])),
    esvPredictedVsCamus: agreement(cases.map((c) => [c.predicted.esvMl, c.camus.esvMl])),
  };
}

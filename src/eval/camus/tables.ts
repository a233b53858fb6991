/** frames.csv (one row per traced frame) and patients.csv (one row per patient) of `unilvseg camus`. */
import type { CamusView } from '../../data/camus/dataset.js';
import type { PreparedCase } from '../../data/camus/preprocess.js';
import { csvText } from '../../util/failures.js';
import type { CamusEf } from './ef.js';
import { patientDsc, type CamusFrameScore } from './scores.js';

export interface PatientRow {
  patient: string;
  view: CamusView;
  quality: string;
  release: 'nifti' | 'metaimage';
  /** Frames in the file, before upstream's choice of at most 32. */
  fileFrames: number;
  prepared: Pick<PreparedCase, 'count' | 'ed' | 'es' | 'source' | 'height' | 'width' | 'spacing'>;
  scored: CamusFrameScore[];
  ef: CamusEf;
  /** The .npy of predicted masks. */
  prediction: string;
}

const num = (x: number | null | undefined, digits: number): string =>
  typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '';

export function framesCsv(frames: CamusFrameScore[]): string {
  return csvText(
    [
      'patient',
      'view',
      'quality',
      'frame',
      'source_frame',
      'is_ed',
      'is_es',
      'is_middle',
      'size',
      'gt_px',
      'pred_px',
      'intersection',
      'union',
      'dsc',
    ],
    frames.map((f) => [
      f.patient,
      f.view,
      f.quality,
      f.position,
      f.sourceFrame,
      f.ed ? 1 : 0,
      f.es ? 1 : 0,
      f.middle ? 1 : 0,
      f.large ? 'large' : f.small ? 'small' : '',
      f.gtPixels,
      f.predPixels,
      f.inter,
      f.union,
      num(f.dice, 6),
    ]),
  );
}

export function patientsCsv(rows: PatientRow[]): string {
  return csvText(
    [
      'patient',
      'view',
      'quality',
      'release',
      'file_frames',
      'frames',
      'traced_frames',
      'ed_frame',
      'es_frame',
      'spacing_x_mm',
      'spacing_y_mm',
      'dsc_overall',
      'dsc_ed',
      'dsc_es',
      'dsc_middle',
      'ef_predicted',
      'ef_traced',
      'lvef_camus',
      'edv_predicted_ml',
      'esv_predicted_ml',
      'lvedv_camus',
      'lvesv_camus',
      'prediction',
    ],
    rows.map((r) => {
      const d = patientDsc(r.scored);
      const p = r.prepared;
      return [
        r.patient,
        r.view,
        r.quality,
        r.release,
        r.fileFrames,
        p.count,
        r.scored.length,
        p.ed,
        p.es,
        num(p.spacing.x, 5),
        num(p.spacing.y, 5),
        num(d.overall, 6),
        num(d.ed, 6),
        num(d.es, 6),
        num(d.middle, 6),
        num(r.ef.predicted.ef, 2),
        num(r.ef.traced.ef, 2),
        num(r.ef.camus.ef, 2),
        num(r.ef.predicted.edvMl, 2),
        num(r.ef.predicted.esvMl, 2),
        num(r.ef.camus.edvMl, 2),
        num(r.ef.camus.esvMl, 2),
        r.prediction,
      ];
    }),
  );
}

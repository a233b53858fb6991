/**
 * `unilvseg camus`: every patient of a CAMUS release through the model and the paper's
 * out-of-distribution table (docs/camus.md). Per patient: read, preprocess, segment every frame,
 * write the predicted masks, score the traced frames, measure EF. A patient whose files are
 * missing, corrupt or inconsistent is named in failures.csv and skipped; the rest is evaluated.
 */
import { join } from 'node:path';
import {
  CAMUS_VIEWS,
  listPatients,
  readCamusCase,
  resolveCamusRoot,
  type CamusView,
} from '../../data/camus/dataset.js';
import { DataError } from '../../data/errors.js';
import { prepareCase, type CamusGrid } from '../../data/camus/preprocess.js';
import { segmentCamusCase } from '../../infer/camus.js';
import type { SegmentationModel } from '../../infer/model.js';
import { atomicWriteFile } from '../../util/atomic.js';
import { FailureLog } from '../../util/failures.js';
import { JsonlLog } from '../../util/jsonl.js';
import { writeNpyU8 } from '../../util/npy.js';
import { Progress } from '../../util/progress.js';
import { DEFAULT_SEED } from '../../defaults.js';
import { caseEf, summariseEf, type CamusEf } from './ef.js';
import { renderCamusHtml, type WorstFrame } from './html.js';
import { CAMUS_DEFINITIONS, type CamusSummary } from './summary.js';
import { framesCsv, patientsCsv, type PatientRow } from './tables.js';
import { scoreCase, summariseDsc, type CamusFrameScore } from './scores.js';

export const CAMUS_DEFAULTS = {
  view: '4CH' as CamusView,
  grid: 'upstream' as CamusGrid,
  seed: DEFAULT_SEED,
  resamples: 10000,
  batchSize: 4,
  gallery: 12,
};

export interface CamusRunOptions {
  dataPath: string;
  out: string;
  model: SegmentationModel;
  view?: CamusView;
  /** Lower-case ImageQuality values to keep (default: every patient). */
  qualities?: string[];
  grid?: CamusGrid;
  seed?: number;
  resamples?: number;
  batchSize?: number;
  gallery?: number;
  progress?: boolean;
}

export const CAMUS_FILES = {
  frames: 'frames.csv',
  patients: 'patients.csv',
  summary: 'summary.json',
  report: 'report.html',
  failures: 'failures.csv',
  log: 'camus.jsonl',
  predictions: 'predictions',
} as const;

/** Keeps the `limit` lowest-DSC frames seen so far, with their pictures. */
class WorstFrames {
  readonly items: WorstFrame[] = [];
  constructor(private readonly limit: number) {}
  offer(f: CamusFrameScore, image: () => Omit<WorstFrame, 'score'>): void {
    if (this.limit <= 0 || !Number.isFinite(f.dice)) return;
    const worstKept = this.items[this.items.length - 1];
    if (this.items.length >= this.limit && f.dice >= worstKept.score.dice) return;
    this.items.push({ score: f, ...image() });
    this.items.sort((a, b) => a.score.dice - b.score.dice);
    this.items.length = Math.min(this.items.length, this.limit);
  }
}

export async function runCamus(o: CamusRunOptions): Promise<{ summary: CamusSummary; failures: number }> {
  const started = Date.now();
  const view = o.view ?? CAMUS_DEFAULTS.view;
  if (!CAMUS_VIEWS.includes(view)) throw new Error(`--view ${view}: expected ${CAMUS_VIEWS.join(' or ')}`);
  const grid = o.grid ?? CAMUS_DEFAULTS.grid;
  const seed = o.seed ?? CAMUS_DEFAULTS.seed;
  const resamples = o.resamples ?? CAMUS_DEFAULTS.resamples;
  const root = resolveCamusRoot(o.dataPath);
  const patients = listPatients(root.dir);
  if (patients.length === 0) throw new Error(`no patientNNNN folders in ${root.dir}`);
  const files = Object.fromEntries(
    Object.entries(CAMUS_FILES).map(([k, v]) => [k, join(o.out, v)]),
  ) as Record<keyof typeof CAMUS_FILES, string>;
  const log = new JsonlLog(files.log);
  const failures = new FailureLog(files.failures);
  failures.write();
  log.write({
    event: 'start',
    root: root.dir,
    patients: patients.length,
    view,
    grid,
    model: o.model.describe,
  });
  const progress = o.progress === false ? undefined : new Progress('camus', patients.length);
  const frames: CamusFrameScore[] = [];
  const rows: PatientRow[] = [];
  const efs: CamusEf[] = [];
  const worst = new WorstFrames(o.gallery ?? CAMUS_DEFAULTS.gallery);
  let excluded = 0;
  try {
    for (const patient of patients) {
      try {
        const c = readCamusCase(root.dir, patient, view);
        if (o.qualities && !o.qualities.includes(c.info.quality.toLowerCase())) {
          excluded++;
          log.write({ event: 'excluded', patient, quality: c.info.quality });
          continue;
        }
        const p = prepareCase(c, grid, o.model.size);
        const seg = await segmentCamusCase(p, grid, o.model, o.batchSize ?? CAMUS_DEFAULTS.batchSize);
        const prediction = join(files.predictions, `${patient}_${view}_pred.npy`);
        writeNpyU8(prediction, seg.masks, [p.count, p.height, p.width]);
        const scored = scoreCase({ ...p, patient, view, quality: c.info.quality, masks: seg.masks });
        const scale = seg.mapping ? Math.sqrt(seg.mapping.scale.x * seg.mapping.scale.y) : 1;
        const ef = caseEf({
          ...p,
          masks: seg.masks,
          tracingPixel: scale,
          camus: { edvMl: c.info.lvEdv, esvMl: c.info.lvEsv, ef: c.info.lvEf },
        });
        frames.push(...scored);
        efs.push(ef);
        rows.push({
          patient,
          view,
          quality: c.info.quality,
          release: c.release,
          fileFrames: c.sequence.frames,
          prepared: p,
          scored,
          ef,
          prediction,
        });
        const plane = p.height * p.width;
        for (const f of scored)
          worst.offer(f, () => ({
            image: p.frames.slice(f.position * plane, (f.position + 1) * plane),
            truth: p.truth.get(f.position)!,
            prediction: seg.masks.slice(f.position * plane, (f.position + 1) * plane),
            height: p.height,
            width: p.width,
          }));
        log.write({
          event: 'patient',
          patient,
          quality: c.info.quality,
          release: c.release,
          frames: p.count,
          traced: scored.length,
          windows: seg.windows.length,
          paddedFrames: seg.paddedFrames,
          ...(seg.mapping ? { mapping: seg.mapping.note } : {}),
          efPredicted: ef.predicted.ef,
          lvEf: ef.camus.ef,
        });
      } catch (e) {
        // A DataError names its file in its own column; other errors name the patient's folder.
        const file = e instanceof DataError ? e.file : join(root.dir, patient);
        const problem = `${patient} ${view}: ${e instanceof DataError ? e.problem : (e as Error).message}`;
        failures.add(file, problem);
        log.write({ event: 'failed', patient, file, problem });
      } finally {
        progress?.tick(1, patient);
      }
    }
  } finally {
    progress?.stop();
  }
  if (frames.length === 0)
    throw new Error(
      `no patient could be evaluated (${failures.items.length} failed, ${excluded} excluded by --quality); see ${files.failures}`,
    );
  const summary: CamusSummary = {
    settings: {
      dataPath: o.dataPath,
      patientsDir: root.dir,
      view,
      qualities: o.qualities ?? 'all',
      resize: grid,
      model: o.model.describe,
      seed,
      resamples,
    },
    patients: {
      listed: patients.length,
      evaluated: rows.length,
      failed: failures.items.length,
      excludedByQuality: excluded,
    },
    frames: frames.length,
    dsc: summariseDsc(frames, seed, resamples),
    ef: summariseEf(efs),
    definitions: CAMUS_DEFINITIONS,
    outputs: { ...files },
    seconds: (Date.now() - started) / 1000,
  };
  atomicWriteFile(files.frames, framesCsv(frames));
  atomicWriteFile(files.patients, patientsCsv(rows));
  atomicWriteFile(
    files.summary,
    JSON.stringify(
      summary,
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
      1,
    ) + '\n',
  );
  atomicWriteFile(files.report, renderCamusHtml(summary, rows, worst.items, failures.items));
  log.write({
    event: 'done',
    evaluated: rows.length,
    failed: failures.items.length,
    frames: frames.length,
    seconds: summary.seconds,
  });
  return { summary, failures: failures.items.length };
}

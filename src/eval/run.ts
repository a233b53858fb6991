import { join } from 'node:path';
import { atomicWriteFile } from '../util/atomic.js';
import {
  EVALUATE_DEFAULTS,
  evaluatePredictions,
  type Evaluation,
  type EvaluateSettings,
} from './evaluate.js';
import { buildGallery } from './gallery.js';
import { renderReportHtml } from './html.js';
import { writeTextOutputs } from './report.js';

export interface EvaluationOutputs {
  evaluation: Evaluation;
  files: { testDice: string; log: string; json: string; html: string };
}

/**
 * The whole `evaluate` command: score the predictions, write test_dice.csv, log.csv and
 * report.json, then report.html with the worst-case gallery (decoding videos is the slow part,
 * so the numbers are on disk before it starts).
 */
export async function runEvaluation(
  settings: Pick<EvaluateSettings, 'dataDir' | 'predictionDir' | 'outputDir'> & Partial<EvaluateSettings>,
): Promise<EvaluationOutputs> {
  const full: EvaluateSettings = { ...EVALUATE_DEFAULTS, ...settings };
  const evaluation = evaluatePredictions(full);
  const text = writeTextOutputs(evaluation);
  const gallery = await buildGallery(evaluation, full.gallery);
  const html = join(full.outputDir, 'report.html');
  atomicWriteFile(html, renderReportHtml(evaluation, gallery));
  return { evaluation, files: { ...text, html } };
}

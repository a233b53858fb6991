// The demo's orchestration (`unilvseg demo`, `npm run demo`): the main job end to end on a built-in
// synthetic dataset, through the same library functions the commands call: synth -> temporal-masking
// pre-training -> weak supervision -> test-set predictions -> bootstrap evaluation -> whole-video
// segmentation with ED/ES and EF against the synthetic truth.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeContactSheet } from '../data/synth/contact.js';
import { generateDataset } from '../data/synth/dataset.js';
import { SYNTH_FRAMES } from '../data/synth/params.js';
import type { BootstrapResult } from '../eval/bootstrap.js';
import { runEvaluation } from '../eval/run.js';
import { runSegmentSplit } from '../infer/batch/segment-split.js';
import { loadSegmentationModel } from '../infer/model.js';
import { runPredict } from '../infer/predict.js';
import { runTraining } from '../train/loop.js';
import { defaultTrainOptions, type TrainOptions } from '../train/options.js';
import type { Phase } from '../defaults.js';

export interface DemoOptions {
  out: string;
  videos: number;
  seed: number;
  encoder: string;
  widthMult: number;
  frames: number;
  batchSize: number;
  sslEpochs: number;
  weakEpochs: number;
  numWorkers: number;
  lr: number;
  /** ONNX Runtime intra-op threads for training (default: its own, one per physical core); the result depends on it (docs/numerics.md#across-hosts) */
  threads?: number;
}

export interface DemoResult {
  minutes: number;
  /** evaluate's pooled test DSC with its intervals */
  headline: { overall: BootstrapResult; large: BootstrapResult; small: BootstrapResult };
  /** segment-video's batch result on the test split, scored against the synthetic truth */
  segment: Awaited<ReturnType<typeof runSegmentSplit>>;
  files: { report: string; overlays: string; logs: string[] };
}

const STEPS = 6;

/** Runs every stage into `o.out` (data/, ssl/, weak/, predictions/, evaluation/, segment/). */
export async function runDemo(
  o: DemoOptions,
  say: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<DemoResult> {
  const out = resolve(o.out);
  const data = join(out, 'data');
  const started = Date.now();
  let step = 0;
  const stage = (title: string) => say(`\n== ${++step}/${STEPS} ${title}`);

  stage('synthetic EchoNet-format dataset');
  if (existsSync(join(data, 'FileList.csv'))) say(`   reusing ${data}`);
  else {
    await generateDataset({
      out: data,
      videos: o.videos,
      seed: o.seed,
      framesMin: SYNTH_FRAMES.min,
      framesMax: SYNTH_FRAMES.max,
    });
    await writeContactSheet(data, join(out, 'contact-sheet.png'));
  }

  const train = (phase: Phase, epochs: number, extra: Partial<TrainOptions>) =>
    runTraining({
      ...defaultTrainOptions(phase),
      dataPath: data,
      out: join(out, phase),
      encoder: o.encoder,
      widthMult: o.widthMult,
      frames: o.frames,
      batchSize: o.batchSize,
      numWorkers: o.numWorkers,
      threads: o.threads,
      seed: o.seed,
      lr: o.lr,
      epochs,
      valCheckInterval: 0.5,
      ...extra,
    });
  stage('temporal-masking pre-training (SSL)');
  await train('ssl', o.sslEpochs, {});
  stage('weak supervision from the ED/ES tracings');
  await train('weak', o.weakEpochs, { checkpoint: join(out, 'ssl', 'best.safetensors') });

  const model = await loadSegmentationModel({ model: join(out, 'weak', 'artifacts', 'model.onnx') });
  try {
    stage('test-set predictions (upstream PNG names)');
    await runPredict({
      dataPath: data,
      saveDir: join(out, 'predictions'),
      model,
      batchSize: o.batchSize,
      numWorkers: o.numWorkers,
    });
    stage('bootstrap evaluation');
    const { evaluation } = await runEvaluation({
      dataDir: data,
      predictionDir: join(out, 'predictions'),
      outputDir: join(out, 'evaluation'),
      seed: o.seed,
    });
    stage('whole-video segmentation, ED/ES and EF on the test videos');
    const segment = await runSegmentSplit({
      dataPath: data,
      saveDir: join(out, 'segment'),
      model,
      split: 'test',
      truthDir: data,
    });
    return {
      minutes: (Date.now() - started) / 60000,
      headline: evaluation.headline,
      segment,
      files: {
        report: join(out, 'evaluation', 'report.html'),
        overlays: join(out, 'segment', '<video>', 'overlay.mp4'),
        logs: [join(out, 'ssl', 'log.jsonl'), join(out, 'weak', 'log.jsonl')],
      },
    };
  } finally {
    await model.release();
  }
}

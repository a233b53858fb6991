import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { openEchoNet, type EchoVideo } from '../data/echonet.js';
import { tracingToMask } from '../data/polygon.js';
import { maskPngName, readMaskPng, videoStem } from '../infer/png-masks.js';
import { Rng } from '../util/rng.js';
import { bootstrapPooledDice, type BootstrapResult } from './bootstrap.js';
import { frameDice, overlap, pooledDice, type Overlap } from './metrics.js';
import { DEFAULT_SEED, FRAME_SIZE } from '../defaults.js';

export interface EvaluateSettings {
  dataDir: string;
  predictionDir: string;
  outputDir: string;
  split: string;
  seed: number;
  resamples: number;
  /** Worst frames shown in report.html. */
  gallery: number;
  /**
   * Leave out (and list) videos whose prediction PNG is missing, unreadable or mis-sized, instead of failing.
   */
  skipMissing: boolean;
}

export const EVALUATE_DEFAULTS = {
  split: 'test',
  seed: DEFAULT_SEED,
  resamples: 10000,
  gallery: 12,
  skipMissing: false,
};

/** One scored frame: ED ("large") or ES ("small") of one video. */
export interface FrameScore extends Overlap {
  dice: number;
  frame: number;
  /** The prediction PNG that was read. */
  prediction: string;
}

export interface VideoScore {
  fileName: string;
  videoPath: string;
  large: FrameScore;
  small: FrameScore;
  /** 2(I_L+I_S) / (U_L+I_L+U_S+I_S) */
  overall: number;
}

export interface Headline {
  overall: BootstrapResult;
  large: BootstrapResult;
  small: BootstrapResult;
}

export interface Evaluation {
  settings: EvaluateSettings;
  /** The folder the PNGs were read from, and whether it was found under data_dir. */
  predictionDirUsed: string;
  predictionDirUnderDataDir: boolean;
  headline: Headline;
  videos: VideoScore[];
  skipped: { fileName: string; problem: string }[];
  warnings: string[];
}

/**
 * Where to read predictions: the path as given if it exists (what a user expects), otherwise,
 * for a relative path, `<data_dir>/<path>`, which is where upstream always looks
 * (os.path.join(data_dir, prediction_dir)).
 */
function resolvePredictionDir(
  dataDir: string,
  predictionDir: string,
): { dir: string; underDataDir: boolean } {
  const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
  if (isDir(predictionDir)) return { dir: resolve(predictionDir), underDataDir: false };
  const under = join(dataDir, predictionDir);
  if (!isAbsolute(predictionDir) && isDir(under)) return { dir: resolve(under), underDataDir: true };
  const tried = isAbsolute(predictionDir) ? predictionDir : `${resolve(predictionDir)} or ${resolve(under)}`;
  throw new Error(`prediction folder not found: ${tried}`);
}

/** Read one prediction PNG; any problem (missing, undecodable, wrong size) names the file. */
function readPrediction(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new Error(`missing prediction for ${what}: ${path}`);
  const png = readMaskPng(path);
  if (png.height !== FRAME_SIZE || png.width !== FRAME_SIZE) {
    throw new Error(
      `prediction for ${what} is ${png.width}x${png.height}, expected ${FRAME_SIZE}x${FRAME_SIZE}: ${path}`,
    );
  }
  return png.mask;
}

/**
 * Score one video: GT masks from the tracings (ED = last traced frame = "Large", ES = first =
 * "Small"), predictions from `<stem>_<frame>_esv.png` (ED) and `_edv.png` (ES), upstream's
 * swapped tags.
 */
function scoreVideo(video: EchoVideo, predictionDir: string): VideoScore {
  const score = (which: 'ed' | 'es'): FrameScore => {
    const frame = which === 'ed' ? video.edFrame : video.esFrame;
    const rows = which === 'ed' ? video.edRows : video.esRows;
    const prediction = join(predictionDir, maskPngName(videoStem(video.fileName), frame, which));
    const pred = readPrediction(prediction, `${video.fileName} ${which.toUpperCase()} frame ${frame}`);
    const o = overlap(pred, tracingToMask(rows, FRAME_SIZE, FRAME_SIZE));
    return { ...o, dice: frameDice(o), frame, prediction };
  };
  const large = score('ed');
  const small = score('es');
  return {
    fileName: video.fileName,
    videoPath: video.path,
    large,
    small,
    overall: pooledDice([large, small]),
  };
}

/** Score every video of the split and bootstrap the three pooled DSCs (no files written). */
export function evaluatePredictions(settings: EvaluateSettings): Evaluation {
  const warnings: string[] = [];
  const videos = openEchoNet(settings.dataDir, settings.split, {
    onBadItem: (file, problem) => warnings.push(`${file}: ${problem}`),
  });
  if (videos.length === 0)
    throw new Error(`no traced videos in split "${settings.split}" of ${settings.dataDir}`);
  const { dir, underDataDir } = resolvePredictionDir(settings.dataDir, settings.predictionDir);
  const scored: VideoScore[] = [];
  const skipped: { fileName: string; problem: string }[] = [];
  for (const v of videos) {
    try {
      scored.push(scoreVideo(v, dir));
    } catch (e) {
      if (!settings.skipMissing) throw e;
      skipped.push({ fileName: v.fileName, problem: (e as Error).message });
    }
  }
  if (scored.length === 0) throw new Error(`every video was skipped; first problem: ${skipped[0]?.problem}`);
  const large = scored.map((s) => s.large);
  const small = scored.map((s) => s.small);
  // Each statistic gets its own stream, so its interval does not depend on the others.
  const boot = (items: Overlap[], k: number): BootstrapResult =>
    bootstrapPooledDice(items, settings.resamples, Rng.derive(settings.seed, k));
  const headline = { overall: boot([...large, ...small], 0), large: boot(large, 1), small: boot(small, 2) };
  return {
    settings,
    predictionDirUsed: dir,
    predictionDirUnderDataDir: underDataDir,
    headline,
    videos: scored,
    skipped,
    warnings,
  };
}

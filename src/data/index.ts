/** The EchoNet-Dynamic data pipeline: reader, masks, clips, cache, augmentation, batches. */
export { DataError, type BadItemHandler } from './errors.js';
export { readFileList, type FileListRow } from './filelist.js';
export { readVolumeTracings, esFrame, edFrame, type TracedVideo } from './tracings.js';
export { tracingToMask, tracingPolygon, fillPolygon, rint } from './polygon.js';
export { openEchoNet, subsample, type EchoVideo, type OpenOptions } from './echonet.js';
export {
  padLength,
  randomClipStart,
  centredClipStart,
  sslClipStart,
  clipIndices,
  inferenceWindows,
  inferenceWindowStarts,
} from './clips.js';
export { maskedFrameCount, sampleKeep } from './masking.js';
export { FrameCache, getFrames, defaultCacheDir, CACHE_ENV } from './cache.js';
export { augmentClip, sampleAugParams, type AugParams } from './augment/index.js';
export {
  weakSample,
  sslSample,
  gatherClip,
  checkFrames,
  sampleList,
  FRAME_SIZE,
  type WeakSample,
  type SslSample,
  type Which,
  type SampleConfig,
} from './samples.js';
export {
  BatchLoader,
  collate,
  type WeakBatch,
  type SslBatch,
  type LoaderOptions,
  type Phase,
  type BatchOf,
} from './loader.js';

export { buildArtifactSet, artifactFiles, type ArtifactSet, type BuildOptions } from './build.js';
export { loadArtifactSet, bakeWeightsIntoModel } from './load.js';
export {
  checkpointFromParams,
  paramsFromCheckpoint,
  readCheckpoint,
  writeCheckpoint,
  permuteArray,
  inversePermutation,
  type TrainingState,
} from './checkpoint.js';
export {
  readSafetensors,
  writeSafetensors,
  encodeSafetensors,
  decodeSafetensors,
  type SafeTensor,
  type SafetensorsContent,
  type SafeDType,
} from './safetensors.js';
export {
  GRAPH_FILES,
  CHECKPOINT_FILE,
  MANIFEST_FILE,
  CONVENTIONS,
  type Manifest,
  type ManifestParam,
  type GraphEntry,
  type GraphIO,
  type GraphKey,
} from './manifest.js';

/**
 * The CAMUS dataset as distributed (docs/camus.md#layout):
 *  - the NIfTI release: database_nifti/patientNNNN/patientNNNN_{4CH,2CH}_half_sequence.nii.gz with
 *    _half_sequence_gt.nii.gz (labels of every frame: 0 background, 1 LV cavity, 2 myocardium,
 *    3 left atrium) and Info_{4CH,2CH}.cfg;
 *  - the older MetaImage release: training/patientNNNN/patientNNNN_{4CH,2CH}_sequence.mhd with
 *    _ED_gt.mhd and _ES_gt.mhd (the two traced frames only) and the same cfg files.
 * A patient folder may hold either; each case says which it came from.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { readCamusInfo, type CamusInfo } from './cfg.js';
import { readMetaImage } from './metaimage.js';
import { readNifti } from './nifti.js';
import { frameOf, type Volume } from './volume.js';

export const CAMUS_VIEWS = ['4CH', '2CH'] as const;
export type CamusView = (typeof CAMUS_VIEWS)[number];

export interface CamusRoot {
  /** The folder holding the patient folders. */
  dir: string;
  /** How it was found, for the log. */
  note: string;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
const PATIENT = /^patient\d+$/;

/**
 * The folder of patient folders for --data_path: the CAMUS root holding database_nifti/ (or the
 * MetaImage release's training/), or that folder itself.
 */
export function resolveCamusRoot(dataPath: string): CamusRoot {
  const root = resolve(dataPath);
  if (!isDir(root)) throw new Error(`--data_path ${dataPath} is not a folder`);
  for (const sub of ['database_nifti', 'training'])
    if (isDir(join(root, sub))) return { dir: join(root, sub), note: `patients in ${join(root, sub)}` };
  if (readdirSync(root).some((n) => PATIENT.test(n) && isDir(join(root, n))))
    return { dir: root, note: `patients in ${root}` };
  throw new Error(
    `--data_path ${dataPath} holds neither database_nifti/ (CAMUS NIfTI release), training/ (MetaImage release) nor patientNNNN folders`,
  );
}

/** The patient folder names, sorted. */
export function listPatients(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => PATIENT.test(n) && isDir(join(dir, n)))
    .sort();
}

export interface CamusCase {
  patient: string;
  view: CamusView;
  release: 'nifti' | 'metaimage';
  info: CamusInfo;
  /** Grey frames [frames, height, width] with the pixel spacing. */
  sequence: Volume;
  /**
   * Label maps [height, width] (0..3) by 0-based frame: every frame in the NIfTI release, ED and
   * ES in the MetaImage one.
   */
  labels: Map<number, Uint8Array>;
  /** The files read, for messages. */
  files: { sequence: string; labels: string[] };
}

function sameGrid(seq: Volume, labels: Volume, frames: number): void {
  if (labels.width !== seq.width || labels.height !== seq.height || labels.frames !== frames)
    throw new DataError(
      labels.file,
      `labels are ${labels.frames} frame(s) of ${labels.width}x${labels.height}, the sequence ${seq.file} needs ${frames} of ${seq.width}x${seq.height}`,
    );
}

function requireFile(path: string, what: string): string {
  if (!existsSync(path)) throw new DataError(path, `missing ${what}`);
  return path;
}

/** The first of `names` that exists in `dir`, or null. */
function firstExisting(dir: string, names: string[]): string | null {
  for (const n of names) if (existsSync(join(dir, n))) return join(dir, n);
  return null;
}

/**
 * One patient's view: cfg, sequence and labels, checked against each other (NbFrame against the
 * file, the labels' grid against the sequence's). Every problem is a DataError naming the file.
 */
export function readCamusCase(dir: string, patient: string, view: CamusView): CamusCase {
  const pdir = join(dir, patient);
  const info = readCamusInfo(requireFile(join(pdir, `Info_${view}.cfg`), `Info_${view}.cfg`));
  const stem = `${patient}_${view}`;
  const niftiSeq = firstExisting(pdir, [`${stem}_half_sequence.nii.gz`, `${stem}_half_sequence.nii`]);
  const mhdSeq = firstExisting(pdir, [`${stem}_sequence.mhd`, `${stem}_sequence.mha`]);
  if (!niftiSeq && !mhdSeq)
    throw new DataError(
      pdir,
      `no ${stem}_half_sequence.nii.gz (NIfTI release) or ${stem}_sequence.mhd (MetaImage release)`,
    );
  const sequence = niftiSeq ? readNifti(niftiSeq) : readMetaImage(mhdSeq!);
  if (sequence.frames !== info.nbFrame)
    throw new DataError(
      info.file,
      `NbFrame ${info.nbFrame} but ${sequence.file} holds ${sequence.frames} frame(s)`,
    );
  const labels = new Map<number, Uint8Array>();
  const labelFiles: string[] = [];
  if (niftiSeq) {
    const gtName = niftiSeq.replace(/_half_sequence\.nii(\.gz)?$/, '_half_sequence_gt.nii$1');
    const gt = readNifti(requireFile(gtName, `ground truth of ${niftiSeq}`));
    sameGrid(sequence, gt, sequence.frames);
    for (let f = 0; f < gt.frames; f++) labels.set(f, frameOf(gt, f));
    labelFiles.push(gt.file);
  } else {
    for (const [phase, frame] of [
      ['ED', info.ed],
      ['ES', info.es],
    ] as const) {
      const name = firstExisting(pdir, [`${stem}_${phase}_gt.mhd`, `${stem}_${phase}_gt.mha`]);
      const gt = readMetaImage(
        requireFile(name ?? join(pdir, `${stem}_${phase}_gt.mhd`), `${phase} ground truth`),
      );
      sameGrid(sequence, gt, 1);
      labels.set(frame - 1, gt.data);
      labelFiles.push(gt.file);
    }
  }
  return {
    patient,
    view,
    release: niftiSeq ? 'nifti' : 'metaimage',
    info,
    sequence,
    labels,
    files: { sequence: sequence.file, labels: labelFiles },
  };
}

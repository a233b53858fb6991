// Where the page's fine-tuning graphs come from: served by `unilvseg serve` beside the model, or an
// artifact set's folder or zip picked or dropped by the user. Only manifest.json, train_weak.onnx
// and optimizer_weak.onnx are read; whether they belong to the loaded model is checked in the
// training worker (src/train/finetune.ts checkTrainingGraphs).
import { unzipSync } from 'fflate';
import type { Manifest } from '../../src/artifacts/manifest.js';
import { fileBytes } from './sources.js';

export const TRAINING_FILES = ['manifest.json', 'train_weak.onnx', 'optimizer_weak.onnx'] as const;

export interface TrainingFiles {
  /** where they came from, for messages: "served by unilvseg serve", a folder's or a zip's name */
  source: string;
  manifest: Manifest;
  train: Uint8Array;
  optimizer: Uint8Array;
}

function assemble(source: string, found: Map<string, Uint8Array>): TrainingFiles {
  const missing = TRAINING_FILES.filter((f) => !found.has(f));
  if (missing.length)
    throw new Error(
      `${source} has no ${missing.join(', ')}: fine-tuning needs the artifact set's ${TRAINING_FILES.join(', ')} (unilvseg build-graph and ort-train write them beside model.onnx)`,
    );
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(found.get('manifest.json'))) as Manifest;
  } catch (e) {
    throw new Error(`${source}: manifest.json is not JSON (${(e as Error).message})`, { cause: e });
  }
  if (manifest.format !== 'unilvseg-artifact-set' || !Array.isArray(manifest.params) || !manifest.weak)
    throw new Error(`${source}: manifest.json is not an artifact set's manifest`);
  return {
    source,
    manifest,
    train: found.get('train_weak.onnx')!,
    optimizer: found.get('optimizer_weak.onnx')!,
  };
}

/** The three files from URLs (serve's /api/config `training`). */
export async function trainingFilesFromUrls(
  urls: Record<string, string>,
  source: string,
): Promise<TrainingFiles> {
  const found = new Map<string, Uint8Array>();
  await Promise.all(
    TRAINING_FILES.map(async (f) => {
      if (urls[f]) found.set(f, await fileBytes(urls[f], f));
    }),
  );
  return assemble(source, found);
}

const baseName = (path: string) => path.split('/').pop() ?? path;

/**
 * The three files from what the user picked or dropped: a folder's files (any depth; the first
 * of each name in path order) or one zip of the set.
 */
export async function trainingFilesFromPicked(
  files: readonly File[],
  source: string,
): Promise<TrainingFiles> {
  const found = new Map<string, Uint8Array>();
  if (files.length === 1 && /\.zip$/i.test(files[0].name)) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(new Uint8Array(await files[0].arrayBuffer()), {
        filter: (f) => (TRAINING_FILES as readonly string[]).includes(baseName(f.name)),
      });
    } catch (e) {
      throw new Error(`${files[0].name}: not a readable zip (${(e as Error).message})`, { cause: e });
    }
    for (const name of Object.keys(entries).sort())
      if (!found.has(baseName(name))) found.set(baseName(name), entries[name]);
    return assemble(files[0].name, found);
  }
  const path = (f: File) => (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
  for (const f of [...files].sort((a, b) => path(a).localeCompare(path(b)))) {
    const name = baseName(path(f));
    if ((TRAINING_FILES as readonly string[]).includes(name) && !found.has(name))
      found.set(name, new Uint8Array(await f.arrayBuffer()));
  }
  return assemble(source, found);
}

/** A dropped folder's files (DataTransfer entries walked recursively). */
export async function droppedFolderFiles(entry: FileSystemDirectoryEntry): Promise<File[]> {
  const out: File[] = [];
  const walk = async (dir: FileSystemDirectoryEntry): Promise<void> => {
    const reader = dir.createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
        reader.readEntries(resolve, reject),
      );
      if (!batch.length) break;
      for (const e of batch) {
        if (e.isDirectory) await walk(e as FileSystemDirectoryEntry);
        else
          out.push(
            await new Promise<File>((resolve, reject) => (e as FileSystemFileEntry).file(resolve, reject)),
          );
      }
    }
  };
  await walk(entry);
  return out;
}

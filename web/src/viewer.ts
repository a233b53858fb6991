// The viewer page: chooses a model and a video (served by `unilvseg serve`, picked or dropped),
// hands them to <lv-segmenter>, says which backend runs, and offers the results as the files
// segment-video writes. Opened as index.html?video=<path in the served folder> it starts at once.
import { OUTPUT_FILES } from '../../src/infer/segment-core.js';
import './lv-segmenter.js';
import type { LoadRequest, LvSegmenter } from './lv-segmenter.js';
import {
  droppedFolderFiles,
  trainingFilesFromPicked,
  trainingFilesFromUrls,
  type TrainingFiles,
} from './training-files.js';

interface ServerConfig {
  model: { url: string; name: string; encoder: string; frames: number } | null;
  /** the served model's set's manifest.json, train_weak.onnx, optimizer_weak.onnx, when it has them */
  training: Record<string, string> | null;
  data: string;
}
interface ServerVideo {
  path: string;
  size: number;
  playable: boolean;
  dicom: boolean;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const segmenter = $<LvSegmenter>('segmenter');

const state: {
  model?: LoadRequest['model'];
  modelName?: string;
  video?: LoadRequest['video'];
  videoName?: string;
  serverVideo?: string;
  format?: LoadRequest['format'];
} = {};
let serverVideos: ServerVideo[] = [];
let servedTraining: ServerConfig['training'] = null;
/** Training graphs chosen by the user (or served); checked against each model the element loads. */
let training: TrainingFiles | undefined;

/** What serve transcodes AVI to: lossless VP9 WebM (exact pixels) where the browser plays it, else H.264 MP4. */
function browserFormat(): 'mp4' | 'webm' {
  return document.createElement('video').canPlayType('video/webm; codecs="vp9"') ? 'webm' : 'mp4';
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url);
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return undefined;
    return (await res.json()) as T;
  } catch {
    return undefined;
  }
}

function setModel(src: LoadRequest['model'], name: string): void {
  state.model = src;
  state.modelName = name;
  $('model-name').textContent = name;
  refreshRun();
}

function setVideo(
  src: LoadRequest['video'],
  name: string,
  serverPath?: string,
  format?: LoadRequest['format'],
): void {
  state.video = src;
  state.videoName = name;
  state.serverVideo = serverPath;
  state.format = format;
  $('video-name').textContent = serverPath ? '' : name;
  if (!serverPath) $<HTMLSelectElement>('video-list').value = '';
  refreshRun();
}

function refreshRun(): void {
  $<HTMLButtonElement>('run').disabled = !(state.model && state.video);
}

async function run(): Promise<void> {
  if (!state.model || !state.video) return;
  segmenter.setAttribute('backend', $<HTMLSelectElement>('backend-choice').value);
  segmenter.toggleAttribute('overlap', $<HTMLInputElement>('overlap').checked);
  const fpsText = $<HTMLInputElement>('fps').value;
  let fps = fpsText ? Number(fpsText) : undefined;
  let frames: number | undefined;
  if (state.serverVideo && state.format !== 'dicom') {
    // A DICOM file states its own frame rate and count. For videos serve knows them exactly
    // (ffprobe), where the browser would have to estimate them.
    const info = await getJson<{ fps: number; frames: number }>(
      `api/info?path=${encodeURIComponent(state.serverVideo)}`,
    );
    fps ??= info?.fps;
    frames = info?.frames;
  }
  for (const id of ['dl-frames', 'dl-summary', 'dl-plot']) $<HTMLButtonElement>(id).disabled = true;
  await segmenter
    .load({
      model: state.model,
      modelName: state.modelName,
      video: state.video,
      videoName: state.videoName,
      format: state.format,
      fps,
      frames,
    })
    .catch(() => undefined); // shown by the element
}

function download(name: string, text: string | Uint8Array<ArrayBuffer>, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/**
 * Checks training graphs against the loaded model and keeps them; the element shows a refusal,
 * and graphs it refused are not kept. Without a model yet they wait for the first one.
 */
async function useTraining(files: TrainingFiles): Promise<void> {
  if (segmenter.modelBytes) {
    try {
      await segmenter.teach.setTrainingFiles(files);
    } catch {
      return;
    }
  }
  training = files;
  $('training-name').textContent = files.source;
}

async function pickedTraining(files: File[], source: string): Promise<void> {
  try {
    await useTraining(await trainingFilesFromPicked(files, source));
  } catch (e) {
    segmenter.status((e as Error).message, true);
    segmenter.emit('lv-error', { message: (e as Error).message });
  }
}

/** VolumeTracings.csv (and optionally FileList.csv) read into the session. */
async function loadTracingFiles(files: File[]): Promise<void> {
  const byName = (re: RegExp) => files.find((f) => re.test(f.name));
  const vt = byName(/volumetracings/i) ?? files.find((f) => !/filelist/i.test(f.name));
  const fl = byName(/filelist/i);
  try {
    if (!vt) throw new Error('pick VolumeTracings.csv (and FileList.csv for the splits)');
    const names = await segmenter.teach.loadCsvs(
      { text: await vt.text(), name: vt.name },
      fl ? { text: await fl.text(), name: fl.name } : undefined,
    );
    $('tracings-note').textContent =
      `${names.length} traced video${names.length === 1 ? '' : 's'} loaded from ${vt.name}`;
  } catch (e) {
    segmenter.status((e as Error).message, true);
    segmenter.emit('lv-error', { message: (e as Error).message });
  }
}

async function downloadCsv(which: 'volumeTracings' | 'fileList'): Promise<void> {
  const csvs = await segmenter.teach.csvs();
  $('tracings-note').textContent = csvs.skipped.length ? `left out: ${csvs.skipped.join('; ')}` : '';
  download(which === 'fileList' ? 'FileList.csv' : 'VolumeTracings.csv', csvs[which], 'text/csv');
}

function wireTeaching(): void {
  $<HTMLInputElement>('tracings-file').addEventListener('change', (e) => {
    const files = Array.from((e.target as HTMLInputElement).files ?? []);
    if (files.length) void loadTracingFiles(files);
  });
  $('dl-tracings').addEventListener('click', () => void downloadCsv('volumeTracings'));
  $('dl-filelist').addEventListener('click', () => void downloadCsv('fileList'));
  $('clear-tracings').addEventListener('click', () => void segmenter.teach.clear());
  $<HTMLInputElement>('training-folder').addEventListener('change', (e) => {
    const files = Array.from((e.target as HTMLInputElement).files ?? []);
    const folder = (
      files[0] as (File & { webkitRelativePath?: string }) | undefined
    )?.webkitRelativePath?.split('/')[0];
    void pickedTraining(files, `folder ${folder ?? '(empty)'}`);
  });
  $<HTMLInputElement>('training-zip').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void pickedTraining([f], f.name);
  });
  // A new model (picked, or the tuned one) is checked against the training graphs again.
  segmenter.addEventListener('lv-backend', () => {
    if (training) void useTraining(training);
    else if (servedTraining && segmenter.modelName.endsWith('(served)'))
      void trainingFilesFromUrls(servedTraining, "the served model's artifact set").then(
        useTraining,
        (e: Error) => segmenter.status(e.message, true),
      );
  });
  segmenter.addEventListener('lv-finetuned', () => {
    for (const id of ['dl-checkpoint', 'dl-model']) $<HTMLButtonElement>(id).disabled = false;
  });
  $('dl-checkpoint').addEventListener('click', () =>
    download(
      'checkpoint.safetensors',
      segmenter.teach.tuned!.checkpoint as Uint8Array<ArrayBuffer>,
      'application/octet-stream',
    ),
  );
  $('dl-model').addEventListener('click', () =>
    download(
      'model.onnx',
      segmenter.teach.tuned!.model as Uint8Array<ArrayBuffer>,
      'application/octet-stream',
    ),
  );
}

function wireInputs(): void {
  $<HTMLInputElement>('model-file').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) setModel(f, f.name);
  });
  $<HTMLInputElement>('video-file').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) {
      setVideo(f, f.name);
      void run();
    }
  });
  $<HTMLSelectElement>('video-list').addEventListener('change', (e) => {
    const path = (e.target as HTMLSelectElement).value;
    if (!path) return;
    const url = `videos/${path.split('/').map(encodeURIComponent).join('/')}`;
    // DICOM files come as they are (the page decodes them); other videos as WebM/MP4 (AVI transcoded).
    if (serverVideos.find((v) => v.path === path)?.dicom)
      setVideo(url, path.split('/').pop()!, path, 'dicom');
    else setVideo(`${url}?format=${browserFormat()}`, path.split('/').pop()!, path);
    void run();
  });
  $('run').addEventListener('click', () => void run());
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    // A dropped folder is an artifact set (its training graphs); zips likewise; CSVs are tracings.
    const entries = Array.from(e.dataTransfer?.items ?? []).map((i) => i.webkitGetAsEntry?.());
    const folder = entries.find((en) => en?.isDirectory) as FileSystemDirectoryEntry | undefined;
    if (folder) {
      void droppedFolderFiles(folder).then((files) => pickedTraining(files, `folder ${folder.name}`));
      return;
    }
    const files = Array.from(e.dataTransfer?.files ?? []);
    const csvs = files.filter((f) => /\.csv$/i.test(f.name));
    if (csvs.length) void loadTracingFiles(csvs);
    let videoDropped = false;
    for (const f of files) {
      if (/\.onnx$/i.test(f.name)) setModel(f, f.name);
      else if (/\.zip$/i.test(f.name)) void pickedTraining([f], f.name);
      else if (!/\.csv$/i.test(f.name)) {
        setVideo(f, f.name);
        videoDropped = true;
      }
    }
    if (state.model && state.video && (videoDropped || files.some((f) => /\.onnx$/i.test(f.name))))
      void run();
  });
  segmenter.addEventListener('lv-backend', (e) => {
    $('backend').textContent = `backend: ${(e as CustomEvent<{ detail: string }>).detail.detail}`;
  });
  segmenter.addEventListener('lv-result', () => {
    for (const id of ['dl-frames', 'dl-summary', 'dl-plot']) $<HTMLButtonElement>(id).disabled = false;
  });
  // The names segment-video gives these files in its output folder.
  $('dl-frames').addEventListener('click', () =>
    download(OUTPUT_FILES.frames, segmenter.framesCsv(), 'text/csv'),
  );
  $('dl-summary').addEventListener('click', () =>
    download(OUTPUT_FILES.summary, segmenter.summaryJson(), 'application/json'),
  );
  $('dl-plot').addEventListener('click', () =>
    download(OUTPUT_FILES.plot, segmenter.areaSvg(), 'image/svg+xml'),
  );
}

async function init(): Promise<void> {
  wireInputs();
  wireTeaching();
  const config = await getJson<ServerConfig>('api/config');
  servedTraining = config?.training ?? null;
  if (config?.model) setModel(config.model.url.replace(/^\//, ''), `${config.model.name} (served)`);
  const videos = config ? await getJson<ServerVideo[]>('api/videos') : undefined;
  serverVideos = videos ?? [];
  if (videos?.length) {
    const list = $<HTMLSelectElement>('video-list');
    for (const v of videos) list.add(new Option(v.path, v.path));
    list.hidden = false;
  }
  const wanted = new URLSearchParams(location.search).get('video');
  if (wanted && videos?.some((v) => v.path === wanted)) {
    $<HTMLSelectElement>('video-list').value = wanted;
    $<HTMLSelectElement>('video-list').dispatchEvent(new Event('change'));
  }
}

void init();

// The viewer page: chooses a model and a video (served by `unilvseg serve`, picked or dropped),
// hands them to <lv-segmenter>, says which backend runs, and offers the results as the files
// segment-video writes. Opened as index.html?video=<path in the served folder> it starts at once.
import { OUTPUT_FILES } from '../../src/infer/segment-core.js';
import './lv-segmenter.js';
import type { LoadRequest, LvSegmenter } from './lv-segmenter.js';

interface ServerConfig {
  model: { url: string; name: string; encoder: string; frames: number } | null;
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

function download(name: string, text: string, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
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
    for (const f of Array.from(e.dataTransfer?.files ?? [])) {
      if (/\.onnx$/i.test(f.name)) setModel(f, f.name);
      else setVideo(f, f.name);
    }
    if (state.model && state.video) void run();
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
  const config = await getJson<ServerConfig>('api/config');
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

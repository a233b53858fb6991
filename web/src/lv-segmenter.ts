// <lv-segmenter model="model.onnx" src="echo.mp4">: segments the left ventricle in every frame of a
// video inside the browser and shows it (contour over the echo, play/pause, scrubber, LV-area
// curve with ED/ES marks, EF). The windows, fusion, cardiac analysis, frames.csv and summary.json
// are segment-video's own code (src/infer), so both give the same numbers in the same formats.
import { areaPlotSvg } from '../../src/infer/area-plot.js';
import type { BeatAnalysis, CardiacAnalysis } from '../../src/infer/cardiac/index.js';
import { drawContour, PRED_COLOR, upscaleNearest, type RgbVideo } from '../../src/infer/overlay.js';
import {
  buildSummary,
  framesCsv,
  OUTPUT_FILES,
  segmentVideoFrames,
  type SegmentSummary,
} from '../../src/infer/segment-core.js';
import type { FrameMapping } from '../../src/infer/frame-mapping.js';
import type { WindowMode } from '../../src/infer/windows.js';
import type { DecodedFrames } from './decode.js';
import { loadBrowserModel, type BackendChoice, type BrowserModel } from './ort-model.js';
import { decodeSource, fileBytes, nameOf, parseSourceFormat, type SourceFormat } from './sources.js';
import { Teacher } from './teach.js';
import { TEMPLATE } from './template.js';

const seconds = (since: number): number => (performance.now() - since) / 1000;

/** detail of the `lv-result` event. */
export interface SegmentationResult {
  /** LV area per frame (pixels) and its smoothed version. */
  areas: number[];
  smoothedAreas: number[];
  beats: BeatAnalysis[];
  edFrames: number[];
  esFrames: number[];
  /** Mean EF over the beats in percent, null when no complete beat was found. */
  ef: number | null;
  heartRateBpm: number | null;
  fps: number;
  frames: number;
  backend: string;
  /** summary.json's object, as segment-video writes it. */
  summary: SegmentSummary;
}

/** detail of the `lv-progress` event. */
export interface SegmentationProgress {
  /** finetune: steps of a fine-tuning run (teach.ts) */
  stage: 'model' | 'decode' | 'segment' | 'finetune';
  done: number;
  total: number;
}

export interface LoadRequest {
  /** URL, or the model.onnx's bytes (a File from a picker or a drop). */
  model?: string | Blob | ArrayBuffer;
  modelName?: string;
  /** URL or a File. */
  video?: string | Blob;
  videoName?: string;
  /**
   * 'dicom' reads the file as DICOM, 'mjpeg-avi' as Motion-JPEG AVI (EchoNet's format, which
   * browsers do not play), both decoded by our own code; 'video' goes through the browser's
   * <video>. Unset: by the name (.dcm/.dicom; .avi for a URL without a `format=` query, which
   * would ask serve for a transcode) or, for a File, by its content.
   */
  format?: SourceFormat;
  /** Frame rate and count, when known (serve probes them); otherwise measured in the browser. */
  fps?: number;
  frames?: number;
}

/** Frames are shown about this large (integer upscaling of small ones, EchoNet's 112x112 x4). */
const DISPLAY_PX = 448;

export class LvSegmenter extends HTMLElement {
  static observedAttributes = ['model', 'src', 'format', 'fps', 'frames', 'backend', 'overlap', 'ort-path'];

  /** Decoded frames at the video's own size, the masks the page computed, and what followed from them. */
  frames?: RgbVideo;
  masks?: Uint8Array;
  /** mm per pixel of the current video (DICOM files carry it), or null. */
  spacing?: DecodedFrames['spacing'];
  analysis?: CardiacAnalysis;
  summary?: SegmentSummary;
  result?: SegmentationResult;
  model?: BrowserModel;
  /** The loaded model.onnx's bytes and name (fine-tuning starts from its weights). */
  modelBytes?: Uint8Array;
  modelName = '';
  /** How the current video's frames became the model's input (tracings are mapped the same way). */
  mapping?: FrameMapping;
  /** Tracing on the frames and fine-tuning the model on them (teach.ts). */
  readonly teach: Teacher;

  private readonly root: ShadowRoot;
  private modelKey?: unknown;
  private generation = 0;
  private scheduled = false;
  private frame = 0;
  private playing = false;
  videoName = '';
  private decoded?: DecodedFrames;
  private t0 = 0;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.root.innerHTML = TEMPLATE;
    this.$('.play').addEventListener('click', () => (this.playing ? this.pause() : this.play()));
    this.$<HTMLInputElement>('.scrub').addEventListener('input', (e) => {
      this.pause();
      this.showFrame(Number((e.target as HTMLInputElement).value));
    });
    this.teach = new Teacher(this, this.root);
  }

  /** The shown frame's index. */
  get currentFrame(): number {
    return this.frame;
  }

  private $<T extends Element = HTMLElement>(sel: string): T {
    return this.root.querySelector(sel) as T;
  }

  connectedCallback(): void {
    this.scheduleFromAttributes();
  }

  attributeChangedCallback(): void {
    if (this.isConnected) this.scheduleFromAttributes();
  }

  /** Attribute changes arrive one by one; start one run after all of them. */
  private scheduleFromAttributes(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const model = this.getAttribute('model');
      const video = this.getAttribute('src');
      if (!model || !video) return;
      const num = (a: string) => (this.hasAttribute(a) ? Number(this.getAttribute(a)) : undefined);
      const format = this.getAttribute('format');
      this.load({
        model,
        video,
        format: parseSourceFormat(format),
        fps: num('fps'),
        frames: num('frames'),
      }).catch(() => {
        // Reported through the lv-error event and the status line.
      });
    });
  }

  private get backendChoice(): BackendChoice {
    const b = this.getAttribute('backend');
    return b === 'wasm' || b === 'webgpu' ? b : 'auto';
  }

  private get mode(): WindowMode {
    return this.hasAttribute('overlap') ? 'overlap' : 'upstream';
  }

  emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }

  progress(p: SegmentationProgress, text: string): void {
    const bar = this.$<HTMLProgressElement>('progress');
    bar.hidden = false;
    bar.value = p.total > 0 ? p.done / p.total : 0;
    this.status(text);
    this.emit('lv-progress', p);
  }

  status(text: string, error = false): void {
    const m = this.$('.message');
    m.textContent = text;
    m.className = error ? 'message error' : 'message';
  }

  /**
   * Segment a video: the model is (re)loaded when it changed, frames decoded, windows run,
   * masks analysed. Resolves with what the `lv-result` event carries; a newer load supersedes it.
   */
  async load(req: LoadRequest): Promise<SegmentationResult> {
    const gen = ++this.generation;
    const stale = () => gen !== this.generation;
    this.pause();
    try {
      const t0 = performance.now();
      const modelSrc = req.model ?? this.getAttribute('model');
      const videoSrc = req.video ?? this.getAttribute('src');
      if (!modelSrc) throw new Error('no model: set the model attribute or pick a model.onnx');
      if (!videoSrc) throw new Error('no video: set the src attribute or pick a video');
      const modelName = nameOf(modelSrc, req.modelName, 'model.onnx');
      const key = `${typeof modelSrc === 'string' ? modelSrc : modelName}|${this.backendChoice}|${this.getAttribute('ort-path')}`;
      if (!this.model || this.modelKey !== (typeof modelSrc === 'string' ? key : modelSrc)) {
        this.progress({ stage: 'model', done: 0, total: 1 }, `loading ${modelName}`);
        await this.useModel(await fileBytes(modelSrc, modelName), modelName, stale);
        this.modelKey = typeof modelSrc === 'string' ? key : modelSrc;
      }
      this.videoName = nameOf(videoSrc, req.videoName, 'video');
      this.result = undefined;
      this.teach.videoChanged();
      const tDecode = performance.now();
      const decoded = await this.decode(videoSrc, req);
      if (stale()) throw new Error('superseded');
      this.decoded = decoded;
      this.frames = decoded.video;
      this.spacing = decoded.spacing;
      this.masks = this.analysis = this.summary = this.result = this.mapping = undefined;
      this.setupPlayer();
      this.t0 = t0;
      return await this.segment(seconds(tDecode), stale);
    } catch (e) {
      this.fail(e as Error, stale);
      throw e;
    }
  }

  private fail(e: Error, stale: () => boolean): void {
    if (stale()) return;
    this.$<HTMLProgressElement>('progress').hidden = true;
    this.status(e.message, true);
    this.emit('lv-error', { message: e.message });
  }

  /**
   * Make `bytes` the element's model (released the one before). `stale` tells a superseded load.
   * The next segmentation runs it; resegment() runs it on the current video at once.
   */
  async useModel(bytes: Uint8Array, name: string, stale: () => boolean = () => false): Promise<BrowserModel> {
    const model = await loadBrowserModel(bytes, name, {
      backend: this.backendChoice,
      ortBase: this.getAttribute('ort-path') ?? undefined,
      onNote: (msg) => console.warn(msg),
    });
    if (stale()) {
      await model.release();
      throw new Error('superseded');
    }
    await this.model?.release();
    this.model = model;
    this.modelBytes = bytes;
    this.modelName = name;
    this.modelKey = bytes;
    const badge = this.$('.backend');
    badge.hidden = false;
    badge.textContent = model.backendDetail;
    badge.dataset.backend = model.backend;
    this.emit('lv-backend', { backend: model.backend, detail: model.backendDetail });
    return model;
  }

  /** Segments the current video again with the current model (e.g. after fine-tuning). */
  async resegment(): Promise<SegmentationResult> {
    if (!this.decoded) throw new Error('no video yet');
    const gen = ++this.generation;
    const stale = () => gen !== this.generation;
    this.t0 = performance.now();
    try {
      return await this.segment(0, stale);
    } catch (e) {
      this.fail(e as Error, stale);
      throw e;
    }
  }

  private async segment(decodeS: number, stale: () => boolean): Promise<SegmentationResult> {
    const { model } = this;
    const decoded = this.decoded!;
    if (!model) throw new Error('no model: set the model attribute or pick a model.onnx');
    const t0 = this.t0;
    const tInfer = performance.now();
    let done = 0;
    const segmentation = await segmentVideoFrames(decoded.video, model, {
      mode: this.mode,
      spacing: decoded.spacing,
      batchSize: 1,
      onWindows: (n, total) => {
        done += n;
        this.progress({ stage: 'segment', done, total }, `segmenting: window ${done}/${total}`);
      },
    });
    if (stale()) throw new Error('superseded');
    const inferS = seconds(tInfer);
    const { masks, analysis } = segmentation;
    const { count, fps } = decoded.video;
    const summary = buildSummary({
      video: this.videoName,
      source: decoded.source,
      model,
      mode: this.mode,
      segmentation,
      count,
      // Videos carry no pixel spacing (EF, areas in pixels); DICOM files do (cm^2, mL).
      spacing: decoded.spacing,
      outputs: { frames: OUTPUT_FILES.frames, plot: OUTPUT_FILES.plot, summary: OUTPUT_FILES.summary },
      seconds: { decode: decodeS, inference: inferS, write: 0, total: seconds(t0) },
    });
    this.masks = masks;
    this.mapping = segmentation.mapping;
    this.analysis = analysis;
    this.summary = summary;
    const result: SegmentationResult = {
      areas: Array.from(analysis.area),
      smoothedAreas: Array.from(analysis.smoothedArea),
      beats: analysis.beats,
      edFrames: analysis.beats.map((b) => b.ed),
      esFrames: analysis.beats.map((b) => b.es),
      ef: summary.meanEf,
      heartRateBpm: summary.heartRateBpm,
      fps,
      frames: count,
      backend: model.backendDetail,
      summary,
    };
    this.result = result;
    this.$<HTMLProgressElement>('progress').hidden = true;
    this.status(`${this.videoName}: ${count} frames segmented in ${summary.seconds.total.toFixed(1)} s`);
    this.showResult();
    this.emit('lv-result', result);
    await this.teach.videoSegmented();
    return result;
  }

  /** Frames of the video, reporting progress as the element's decode stage. */
  private decode(src: string | Blob, req: LoadRequest): Promise<DecodedFrames> {
    return decodeSource(src, this.videoName, {
      ...req,
      onProgress: (done, total, text) => this.progress({ stage: 'decode', done, total }, text),
    });
  }

  /** frames.csv as segment-video writes it. */
  framesCsv(): string {
    if (!this.analysis) throw new Error('no segmentation yet');
    return framesCsv(this.analysis, this.spacing ?? undefined);
  }

  /** summary.json as segment-video writes it. */
  summaryJson(): string {
    if (!this.summary) throw new Error('no segmentation yet');
    return JSON.stringify(this.summary, null, 2) + '\n';
  }

  /** area.svg as segment-video writes it. */
  areaSvg(cursor?: number): string {
    if (!this.analysis) throw new Error('no segmentation yet');
    return areaPlotSvg({ ...this.analysis, cursor }, { title: `LV area: ${this.videoName}` });
  }

  /** Integer upscaling for display. */
  get scale(): number {
    const v = this.frames;
    return v ? Math.max(1, Math.floor(DISPLAY_PX / Math.max(v.width, v.height))) : 1;
  }

  private setupPlayer(): void {
    const v = this.frames!;
    const scrub = this.$<HTMLInputElement>('.scrub');
    scrub.max = String(v.count - 1);
    scrub.disabled = false;
    this.$<HTMLButtonElement>('.play').disabled = false;
    const canvas = this.$<HTMLCanvasElement>('canvas');
    canvas.width = v.width * this.scale;
    canvas.height = v.height * this.scale;
    // Native DICOM frames are rarely square (EchoNet's are): keep the picture's own proportions.
    canvas.style.aspectRatio = `${v.width} / ${v.height}`;
    this.$('.ef').textContent = '';
    this.$('.hr').textContent = '';
    this.$('.chart').innerHTML = '';
    this.$('.beats').innerHTML = '';
    this.showFrame(0);
  }

  private showResult(): void {
    const r = this.result!;
    const ef = this.$<HTMLOutputElement>('.ef');
    ef.textContent = r.ef === null ? 'EF n/a (no complete beat)' : `EF ${r.ef.toFixed(1)} %`;
    ef.dataset.ef = r.ef === null ? '' : String(r.ef);
    const { meanEdvMl: edv, meanEsvMl: esv } = r.summary;
    this.$('.hr').textContent = [
      r.heartRateBpm === null ? '' : `${r.heartRateBpm.toFixed(0)} bpm`,
      typeof edv === 'number' && typeof esv === 'number'
        ? `EDV ${edv.toFixed(1)} mL, ESV ${esv.toFixed(1)} mL`
        : '',
    ]
      .filter(Boolean)
      .join(' · ');
    // With a pixel size (DICOM): areas in cm^2 and volumes in mL, as summary.json gives them.
    const mm = this.spacing != null;
    const fixed = (v: number | undefined, d: number) => (v === undefined ? 'n/a' : v.toFixed(d));
    const rows = r.beats.map((b, i) => {
      const cells = mm
        ? [fixed(b.edAreaCm2, 2), fixed(b.esAreaCm2, 2), fixed(b.edVolumeMl, 1), fixed(b.esVolumeMl, 1)]
        : [b.edArea, b.esArea];
      const ef = Number.isFinite(b.ef) ? b.ef.toFixed(1) : 'n/a';
      return `<tr><td>${i + 1}</td><td>${b.ed}</td><td>${b.es}</td>${cells.map((c) => `<td>${c}</td>`).join('')}<td>${ef}</td></tr>`;
    });
    const heads = mm ? ['ED cm²', 'ES cm²', 'EDV mL', 'ESV mL'] : ['ED area', 'ES area'];
    this.$('.beats').innerHTML =
      `<tr><th>beat</th><th>ED frame</th><th>ES frame</th>${heads.map((h) => `<th>${h}</th>`).join('')}<th>EF %</th></tr>` +
      rows.join('');
    this.showFrame(this.frame);
  }

  /** Show frame `f` with the predicted contour (when segmented) and move the chart's cursor. */
  showFrame(f: number): void {
    const v = this.frames;
    if (!v) return;
    this.frame = Math.max(0, Math.min(v.count - 1, Math.round(f)));
    const { width: W, height: H } = v;
    const { scale } = this;
    const plane = W * H;
    const rgb = upscaleNearest(
      v.frames.subarray(this.frame * plane * 3, (this.frame + 1) * plane * 3),
      H,
      W,
      3,
      scale,
    );
    if (this.masks) {
      const mask = upscaleNearest(
        this.masks.subarray(this.frame * plane, (this.frame + 1) * plane),
        H,
        W,
        1,
        scale,
      );
      drawContour(rgb, mask, H * scale, W * scale, PRED_COLOR, Math.max(1, Math.round(scale / 2)));
    }
    const canvas = this.$<HTMLCanvasElement>('canvas');
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(W * scale, H * scale);
    for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
      img.data[i] = rgb[j];
      img.data[i + 1] = rgb[j + 1];
      img.data[i + 2] = rgb[j + 2];
      img.data[i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    this.teach.paint(ctx, this.frame);
    this.$<HTMLInputElement>('.scrub').value = String(this.frame);
    this.$('.position').textContent =
      `frame ${this.frame + 1}/${v.count} · ${(this.frame / v.fps).toFixed(2)} s`;
    if (this.analysis) this.$('.chart').innerHTML = this.areaSvg(this.frame);
  }

  play(): void {
    const v = this.frames;
    if (!v || this.playing) return;
    this.playing = true;
    this.$('.play').textContent = 'Pause';
    let last = performance.now();
    let carry = 0;
    const tick = (now: number) => {
      if (!this.playing) return;
      carry += ((now - last) / 1000) * v.fps;
      last = now;
      if (carry >= 1) {
        const step = Math.floor(carry);
        carry -= step;
        this.showFrame((this.frame + step) % v.count);
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  pause(): void {
    this.playing = false;
    this.$('.play').textContent = 'Play';
  }
}

if (!customElements.get('lv-segmenter')) customElements.define('lv-segmenter', LvSegmenter);

declare global {
  interface HTMLElementTagNameMap {
    'lv-segmenter': LvSegmenter;
  }
}

/** The model alone, without the element's UI: for pages that run their own pipeline (and the browser bench). */
export { loadBrowserModel, ort } from './ort-model.js';

// Teaching the model the user's own images, inside <lv-segmenter>: trace the LV on frames (a
// polygon by clicks, or the predicted contour's points edited), mark them ED or ES, keep them per
// video in IndexedDB (tracing-store.ts) and as EchoNet CSVs (src/data/tracing-sets.ts); then
// fine-tune the loaded model on them in a worker (train-worker.ts) with the artifact set's weak
// train and optimizer graphs, score it before and after on the traced frames of held-out videos
// (split VAL or TEST), and segment with the tuned weights at once. Cancelling keeps the weights
// in use.
import {
  readTracingSetCsvs,
  SPLITS,
  tracingSetCsvs,
  type EchoNetCsvs,
  type Split,
} from '../../src/data/tracing-sets.js';
import {
  outlineFromTracing,
  resampleOutline,
  tracingFromOutline,
  type Outline,
} from '../../src/infer/cardiac/tracing.js';
import { maskOutline } from '../../src/infer/contour.js';
import { toModelFrames, tracingToModel, type FrameMapping } from '../../src/infer/frame-mapping.js';
import { tracedFramesDsc, type FineTuneBatch, type TraceSample } from '../../src/train/finetune.js';
import type { LvSegmenter } from './lv-segmenter.js';
import { DEFAULT_ORT_BASE, wasmThreads } from './ort-model.js';
import { TracingEditor } from './tracing-editor.js';
import { tracingStore, type StoredVideo } from './tracing-store.js';
import type { TrainingFiles } from './training-files.js';
import type { FineTuneOptions, TrainRequest, WorkerMessage } from './train-worker.js';

export type { FineTuneOptions } from './train-worker.js';

/** detail of the `lv-finetuned` event. */
export interface FineTuneResult {
  steps: number;
  lr: number;
  batchSize: number;
  /** where the steps ran, in words (a fall-back from WebGPU says why) */
  backend: string;
  /** the first step's error on WebGPU when the run fell back to wasm */
  webgpuFallback?: string;
  /** on WebGPU: the adapter of the device ONNX Runtime's WebGPU backend ran the steps on */
  webgpuAdapter?: { vendor: string; architecture: string };
  losses: number[];
  /** the whole run, and per step the train and optimizer graphs alone (batches built aside) */
  seconds: number;
  secondsPerStep: number;
  stepSeconds: number[];
  /** seconds since the run began, at the end of each step (batch building included) */
  elapsed: number[];
  trainFrames: number;
  heldOutFrames: number;
  /** pooled DSC on the held-out traced frames before and after, null without such frames */
  dscBefore: number | null;
  dscAfter: number | null;
  /** traced frames that could not be used, with why */
  skipped: string[];
  firstBatch?: FineTuneBatch;
  /** every step's batch (keepBatches) */
  batches?: FineTuneBatch[];
}

/** The record name of a video: its file name without the extension (EchoNet's FileName). */
export const recordName = (video: string): string =>
  video.replace(/\.(avi|mp4|webm|mov|mkv|dcm|dicom)$/i, '');

export class Teacher {
  readonly editor: TracingEditor;
  /** the current video's record, when it has tracings */
  current?: StoredVideo;
  files?: TrainingFiles;
  /** the last finished run's tuned model.onnx and checkpoint.safetensors */
  tuned?: { model: Uint8Array; checkpoint: Uint8Array; result: FineTuneResult };
  private worker?: { worker: Worker; cancel: () => void };
  /** the training graphs' check against a new model (the viewer runs one after each fine-tuning) */
  private checking?: Promise<unknown>;
  /** Changes to the store, one after another (a mark must see the mark before it). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly host: LvSegmenter,
    private readonly root: ShadowRoot,
  ) {
    const canvas = root.querySelector('canvas')!;
    this.editor = new TracingEditor(
      canvas,
      () => host.scale,
      () => host.showFrame(host.currentFrame),
      () => this.refresh(),
    );
    const on = (sel: string, f: () => unknown) =>
      root.querySelector(sel)!.addEventListener('click', () => {
        Promise.resolve(f()).catch((e: Error) => this.fail(e));
      });
    on('.draw', () => this.editor.draw());
    on('.edit', () => this.editor.edit(this.frameOutline() ?? this.predictedOutline()));
    on('.mark-ed', () => this.save('ED'));
    on('.mark-es', () => this.save('ES'));
    on('.discard', () => this.discard());
    on('.tune', () => this.fineTune(this.formOptions()).catch(() => undefined));
    on('.cancel', () => this.cancel());
    this.$<HTMLSelectElement>('.split').addEventListener('change', (e) => {
      this.setSplit((e.target as HTMLSelectElement).value as Split).catch((err: Error) => this.fail(err));
    });
  }

  private $<T extends Element = HTMLElement>(sel: string): T {
    return this.root.querySelector(sel) as T;
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private fail(e: Error): void {
    this.host.status(e.message, true);
    this.host.emit('lv-error', { message: e.message });
  }

  private get name(): string {
    return recordName(this.host.videoName);
  }

  /** The saved tracings of frame `f` of the current video, as outlines to draw. */
  private saved(f: number): { kind: 'ED' | 'ES'; outline: Outline }[] {
    const r = this.current;
    const out: { kind: 'ED' | 'ES'; outline: Outline }[] = [];
    if (r?.ed?.frame === f) out.push({ kind: 'ED', outline: outlineFromTracing(r.ed.rows) });
    if (r?.es?.frame === f) out.push({ kind: 'ES', outline: outlineFromTracing(r.es.rows) });
    return out;
  }

  paint(ctx: CanvasRenderingContext2D, frame: number): void {
    this.editor.paint(ctx, this.saved(frame));
  }

  private frameOutline(): Outline | undefined {
    return this.saved(this.host.currentFrame)[0]?.outline;
  }

  /** The current frame's predicted LV outline, 24 points to edit. */
  predictedOutline(): Outline {
    const { masks, frames } = this.host;
    if (!masks || !frames) throw new Error('segment a video first: its predicted contour is what you edit');
    const plane = frames.width * frames.height;
    const f = this.host.currentFrame;
    const points = maskOutline(masks.subarray(f * plane, (f + 1) * plane), frames.height, frames.width);
    if (points.length < 3) throw new Error(`no predicted LV on frame ${f}: draw the outline instead`);
    return resampleOutline({ x: points.map((p) => p[0]), y: points.map((p) => p[1]) }, 24);
  }

  /** The record of the current video with its frames mapped to the current model's input. */
  private withFrames(r: StoredVideo): StoredVideo {
    const { frames, model, mapping } = this.host;
    if (!frames || !model || !mapping) return r;
    const out: StoredVideo = {
      ...r,
      width: frames.width,
      height: frames.height,
      fps: frames.fps,
      frameCount: frames.count,
      spacing: this.host.spacing ? { x: this.host.spacing.x, y: this.host.spacing.y } : null,
    };
    if (r.model?.size !== model.size || r.model.frames.length !== frames.count * model.size ** 2 * 3)
      out.model = {
        size: model.size,
        frames: toModelFrames(frames, mapping).frames,
        rect: mapping.rect,
        mode: mapping.mode,
      };
    return out;
  }

  /** A new video is being opened: nothing of the last one's tracings applies. */
  videoChanged(): void {
    this.current = undefined;
    this.editor.mode = 'idle';
  }

  /** After each segmentation: the video's record (if traced) gets its size and model frames. */
  videoSegmented(): Promise<void> {
    return this.serial(() => this.syncRecord());
  }

  private async syncRecord(): Promise<void> {
    try {
      const r = await tracingStore.get(this.name);
      this.current = r ? this.withFrames(r) : undefined;
      if (r && this.current !== r) await tracingStore.put(this.current!);
      if (r) this.$<HTMLSelectElement>('.split').value = r.split;
      this.editor.clear();
      await this.refresh();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  /**
   * Saves an outline (default: the one drawn or edited) as the current frame's ED or ES tracing:
   * EchoNet rows (long axis + 20 chords) in the video's pixels. Returns the rows.
   */
  save(which: 'ED' | 'ES', outline: Outline | null = this.editor.outline()): Promise<number[][]> {
    const { frames } = this.host;
    const frame = this.host.currentFrame;
    if (!frames) return Promise.reject(new Error('open a video first'));
    if (!outline)
      return Promise.reject(
        new Error('draw an outline (close it on its first point) or edit the contour, then mark it'),
      );
    const rows = tracingFromOutline(outline, frames.height, frames.width);
    this.editor.clear();
    return this.serial(() => this.store(which, frame, rows));
  }

  private async store(which: 'ED' | 'ES', frame: number, rows: number[][]): Promise<number[][]> {
    const { frames } = this.host;
    if (!frames) throw new Error('open a video first');
    const base: StoredVideo = this.current ?? {
      name: this.name,
      width: frames.width,
      height: frames.height,
      fps: frames.fps,
      frameCount: frames.count,
      split: this.$<HTMLSelectElement>('.split').value as Split,
    };
    const r = this.withFrames({ ...base, [which.toLowerCase()]: { frame, rows } });
    await tracingStore.put(r);
    this.current = r;
    await this.refresh();
    this.host.showFrame(this.host.currentFrame);
    this.host.emit('lv-tracings', { video: r.name, which, frame });
    return rows;
  }

  /** Drops what is being drawn and the current frame's saved tracings. */
  discard(): Promise<void> {
    this.editor.clear();
    const f = this.host.currentFrame;
    return this.serial(() => this.drop(f));
  }

  private async drop(f: number): Promise<void> {
    const r = this.current;
    if (!r || (r.ed?.frame !== f && r.es?.frame !== f)) return;
    const next = { ...r };
    if (r.ed?.frame === f) delete next.ed;
    if (r.es?.frame === f) delete next.es;
    if (!next.ed && !next.es) await tracingStore.remove(r.name);
    else await tracingStore.put(next);
    this.current = next.ed || next.es ? next : undefined;
    await this.refresh();
    this.host.showFrame(this.host.currentFrame);
  }

  /** The current video's split (TRAIN trains; VAL and TEST are held out for the before/after DSC). */
  setSplit(split: Split): Promise<void> {
    if (!SPLITS.includes(split))
      return Promise.reject(new Error(`split must be one of ${SPLITS.join(', ')}`));
    this.$<HTMLSelectElement>('.split').value = split;
    return this.serial(async () => {
      if (!this.current) return;
      this.current = { ...this.current, split };
      await tracingStore.put(this.current);
      await this.refresh();
    });
  }

  records(): Promise<StoredVideo[]> {
    return this.serial(() => tracingStore.all());
  }

  /** The session as FileList.csv and VolumeTracings.csv. */
  csvs(): Promise<EchoNetCsvs> {
    return this.serial(async () => tracingSetCsvs(await tracingStore.all()));
  }

  /** Reads tracings back from a VolumeTracings.csv (and its FileList.csv for splits and sizes). */
  loadCsvs(
    volumeTracings: { text: string; name: string },
    fileList?: { text: string; name: string },
  ): Promise<string[]> {
    return this.serial(() => this.merge(volumeTracings, fileList));
  }

  private async merge(
    volumeTracings: { text: string; name: string },
    fileList?: { text: string; name: string },
  ) {
    const loaded = readTracingSetCsvs(volumeTracings, fileList);
    for (const t of loaded) {
      const old = await tracingStore.get(t.name);
      const r: StoredVideo = {
        width: 0,
        height: 0,
        fps: 0,
        frameCount: 0,
        split: 'TRAIN',
        ...old,
        ...t.video,
        name: t.name,
        ed: t.ed,
        es: t.es,
        ...(t.split ? { split: t.split } : {}),
      };
      const stored = t.name === this.name ? this.withFrames(r) : r;
      await tracingStore.put(stored);
      if (t.name === this.name) this.current = stored;
    }
    await this.refresh();
    this.host.showFrame(this.host.currentFrame);
    return loaded.map((t) => t.name);
  }

  clear(): Promise<void> {
    this.editor.clear();
    return this.serial(async () => {
      await tracingStore.clear();
      this.current = undefined;
      await this.refresh();
      this.host.showFrame(this.host.currentFrame);
    });
  }

  /** The traced frames to train on (TRAIN) and to score on (VAL, TEST), at the current model's size. */
  async samples(): Promise<{ train: TraceSample[]; heldOut: TraceSample[]; skipped: string[] }> {
    const size = this.host.model?.size;
    const out = { train: [] as TraceSample[], heldOut: [] as TraceSample[], skipped: [] as string[] };
    for (const r of await tracingStore.all()) {
      const traced = [
        r.ed && { which: 'ed' as const, ...r.ed },
        r.es && { which: 'es' as const, ...r.es },
      ].filter((t) => !!t);
      if (!r.model || r.model.size !== size) {
        out.skipped.push(
          `${r.name}: open this video once with the current model to use its ${traced.length} tracing(s)`,
        );
        continue;
      }
      const mapping: FrameMapping = { ...r.model, width: r.width, height: r.height, sector: null };
      const frames = { frames: r.model.frames, count: r.frameCount, height: size, width: size, fps: r.fps };
      for (const t of traced)
        (r.split === 'TRAIN' ? out.train : out.heldOut).push({
          name: r.name,
          frames,
          trace: { which: t.which, frame: t.frame, rows: tracingToModel(mapping, t.rows) },
        });
    }
    return out;
  }

  /** Updates the tracing summary line and the buttons. */
  async refresh(): Promise<void> {
    const r = this.current;
    const all = await tracingStore.all();
    const frames = all.reduce((a, v) => a + (v.ed ? 1 : 0) + (v.es ? 1 : 0), 0);
    const held = all
      .filter((v) => v.split !== 'TRAIN')
      .reduce((a, v) => a + (v.ed ? 1 : 0) + (v.es ? 1 : 0), 0);
    const here = r
      ? [r.ed && `ED frame ${r.ed.frame}`, r.es && `ES frame ${r.es.frame}`].filter(Boolean).join(', ')
      : '';
    this.$('.traced').textContent =
      `${here ? `this video: ${here} · ` : ''}session: ${all.length} video${all.length === 1 ? '' : 's'}, ` +
      `${frames} traced frame${frames === 1 ? '' : 's'} (${frames - held} to train on, ${held} held out)`;
    const segmented = !!this.host.masks;
    for (const sel of ['.draw', '.edit']) this.$<HTMLButtonElement>(sel).disabled = !segmented;
    const closed = this.editor.mode === 'edit';
    for (const sel of ['.mark-ed', '.mark-es']) this.$<HTMLButtonElement>(sel).disabled = !closed;
    this.$<HTMLButtonElement>('.tune').disabled = !this.files || !segmented || !!this.worker;
  }

  /** Training graphs for fine-tuning; refused with a message unless they belong to the loaded model. */
  async setTrainingFiles(files: TrainingFiles): Promise<number> {
    try {
      const checking = this.runWorker({ type: 'check', ...this.request(files) }, () => undefined);
      this.checking = checking.catch(() => undefined);
      const msg = await checking;
      if (msg.type !== 'checked') throw new Error('the training worker did not answer');
      this.files = files;
      this.$('.tune-status').textContent =
        `training graphs: ${files.source} (${msg.params} tensors, fit ${this.host.modelName})`;
      await this.refresh();
      return msg.params;
    } catch (e) {
      this.files = undefined;
      this.$('.tune-status').textContent = '';
      await this.refresh();
      this.fail(e as Error);
      throw e;
    }
  }

  private request(files: TrainingFiles) {
    const { modelBytes, modelName } = this.host;
    if (!modelBytes) throw new Error('load a model first: the training graphs are checked against it');
    const base = this.host.getAttribute('ort-path');
    return {
      source: files.source,
      modelName,
      model: modelBytes,
      manifest: files.manifest,
      train: files.train,
      optimizer: files.optimizer,
      ortBase: base ? new URL(base, document.baseURI).href : DEFAULT_ORT_BASE,
      threads: wasmThreads(),
    };
  }

  private formOptions(): FineTuneOptions {
    const num = (sel: string) => Number(this.$<HTMLInputElement>(sel).value);
    return { steps: num('.steps'), lr: num('.lr'), batchSize: num('.batch') };
  }

  /** Runs one request in a fresh worker; resolves with its last message (checked or done). */
  private runWorker(req: TrainRequest, onStep: (m: WorkerMessage) => void): Promise<WorkerMessage> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
      const end = () => {
        worker.terminate();
        if (this.worker?.worker === worker) this.worker = undefined;
      };
      this.worker = {
        worker,
        cancel: () => {
          end();
          reject(new Error('cancelled'));
        },
      };
      worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
        const m = e.data;
        if (m.type === 'error') {
          end();
          reject(new Error(m.message));
        } else if (m.type === 'checked' || m.type === 'done') {
          end();
          resolve(m);
        } else onStep(m);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        end();
        reject(new Error(`the training worker failed: ${e.message}`));
      };
      worker.postMessage(req);
    });
  }

  /** Stops a running fine-tuning; the weights in use stay as they were. */
  cancel(): void {
    this.worker?.cancel();
  }

  /**
   * Fine-tunes the loaded model on the TRAIN videos' traced frames, scores it on the held-out ones
   * before and after, then segments the current video with the tuned weights.
   */
  async fineTune(o: FineTuneOptions = {}): Promise<FineTuneResult> {
    const host = this.host;
    const steps = o.steps ?? 30;
    const lr = o.lr ?? 1e-3;
    const batchSize = o.batchSize ?? 2;
    if (!(steps >= 1 && Number.isInteger(steps)))
      throw new Error(`steps must be a positive integer, got ${steps}`);
    if (!(lr > 0)) throw new Error(`the learning rate must be positive, got ${lr}`);
    if (!(batchSize >= 1 && Number.isInteger(batchSize)))
      throw new Error(`batch must be a positive integer, got ${batchSize}`);
    let step = 0;
    try {
      // A check of the training graphs against the model just loaded finishes first.
      await this.checking;
      if (!this.files)
        throw new Error(
          'no training graphs: drop the artifact set folder or zip (or start serve with --model <set>)',
        );
      if (!host.model) throw new Error('load a model first');
      if (this.worker) throw new Error('a fine-tuning is already running');
      const { train, heldOut, skipped } = await this.serial(() => this.samples());
      if (!train.length)
        throw new Error('no traced frames to learn from: trace ED/ES frames of a video whose split is TRAIN');
      const before = heldOut.length ? (await tracedFramesDsc(host.model, heldOut)).dsc : null;
      const losses: number[] = [];
      const stepSeconds: number[] = [];
      const elapsed: number[] = [];
      let backend = '';
      let backendNote: Pick<FineTuneResult, 'webgpuFallback' | 'webgpuAdapter'> = {};
      let firstBatch: FineTuneBatch | undefined;
      const batches: FineTuneBatch[] = [];
      this.$<HTMLButtonElement>('.cancel').hidden = false;
      const bar = this.$<HTMLProgressElement>('.tune-progress');
      bar.hidden = false;
      const request = {
        ...this.request(this.files),
        samples: train,
        steps,
        lr,
        batchSize,
        seed: o.seed ?? 0,
      };
      const run = this.runWorker(
        {
          type: 'train',
          ...request,
          backend: o.backend ?? 'auto',
          softwareWebgpu: o.softwareWebgpu,
          keepFirstBatch: o.keepFirstBatch,
          keepBatches: o.keepBatches,
        },
        (m) => {
          if (m.type === 'backend') {
            backend = m.detail;
            backendNote = {
              ...(m.fallback ? { webgpuFallback: m.fallback } : {}),
              ...(m.adapter ? { webgpuAdapter: m.adapter } : {}),
            };
          }
          if (m.type !== 'step') return;
          step = m.step;
          losses.push(m.loss);
          stepSeconds.push(m.runSeconds);
          elapsed.push(m.seconds);
          firstBatch ??= m.batch;
          if (o.keepBatches && m.batch) batches.push(m.batch);
          bar.value = m.step / m.steps;
          this.lossChart(losses, steps);
          host.progress(
            { stage: 'finetune', done: m.step, total: m.steps },
            `fine-tuning on ${train.length} traced frames (${backend}): step ${m.step}/${m.steps}, loss ${m.loss.toFixed(4)}`,
          );
          host.emit('lv-finetune', { step: m.step, steps: m.steps, loss: m.loss, seconds: m.seconds });
        },
      );
      await this.refresh();
      const done = (await run) as Extract<WorkerMessage, { type: 'done' }>;
      const model = await host.useModel(
        done.model,
        `${host.modelName.replace(/ \(fine-tuned\)$/, '')} (fine-tuned)`,
      );
      const after = heldOut.length ? (await tracedFramesDsc(model, heldOut)).dsc : null;
      const result: FineTuneResult = {
        steps,
        lr,
        batchSize,
        backend,
        ...backendNote,
        losses: done.losses,
        seconds: done.seconds,
        secondsPerStep: done.seconds / steps,
        stepSeconds,
        elapsed,
        trainFrames: train.length,
        heldOutFrames: heldOut.length,
        dscBefore: before,
        dscAfter: after,
        skipped,
        ...(firstBatch ? { firstBatch } : {}),
        ...(o.keepBatches ? { batches } : {}),
      };
      this.tuned = { model: done.model, checkpoint: done.checkpoint, result };
      this.$('.dsc').textContent =
        before === null
          ? 'no held-out traced frames (mark a traced video VAL or TEST to score the tuning)'
          : `DSC on ${heldOut.length} held-out traced frames: ${before.toFixed(3)} before, ${after!.toFixed(3)} after`;
      this.$('.dsc').textContent += ` (${steps} step${steps > 1 ? 's' : ''} on ${backend})`;
      bar.hidden = true;
      this.$<HTMLButtonElement>('.cancel').hidden = true;
      await host.resegment();
      host.emit('lv-finetuned', result);
      return result;
    } catch (e) {
      this.$<HTMLProgressElement>('.tune-progress').hidden = true;
      this.$<HTMLButtonElement>('.cancel').hidden = true;
      const err =
        (e as Error).message === 'cancelled'
          ? new Error(
              `fine-tuning cancelled after ${step} of ${steps} steps: the previous weights stay in use`,
            )
          : (e as Error);
      this.fail(err);
      throw err;
    } finally {
      await this.refresh();
    }
  }

  private lossChart(losses: number[], steps: number): void {
    const [w, h] = [320, 90];
    const max = Math.max(...losses, 1e-6);
    const pts = losses.map((l, i) => `${((i + 1) / steps) * w},${h - (l / max) * (h - 4)}`).join(' ');
    this.$('.loss-chart').innerHTML =
      `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}"><title>training loss per step</title>` +
      `<rect width="${w}" height="${h}" fill="#f7f7fb"/><polyline fill="none" stroke="#3949ab" stroke-width="1.5" points="${pts}"/>` +
      `<text x="4" y="12" font-size="10">loss ${losses[losses.length - 1].toFixed(4)} (max ${max.toFixed(3)})</text></svg>`;
  }
}

// What the browser tests read from the viewer page: <lv-segmenter>'s frames, masks and results.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { ArtifactSet } from '../../src/artifacts/index.js';
import { readSafetensors } from '../../src/artifacts/safetensors.js';
import { loadSegmentationModel } from '../../src/infer/model.js';
import { segmentVideoFrames, type SegmentSummary } from '../../src/infer/segment-core.js';
import { stateDictListing, upstreamStateDict } from './upstream-state-dict.js';
import type { PageHelpers } from '../../tools/chromium.js';

/** Share of positions where two 0/1 mask stacks agree. */
export function agreement(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).to.equal(b.length);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** The <lv-segmenter> properties the tests read (the element's class lives in the browser bundle). */
export interface PageSegmenter extends HTMLElement {
  frames?: { frames: Uint8Array; count: number; width: number; height: number; fps: number };
  framesCsv(): string;
  masks?: Uint8Array;
  summary?: SegmentSummary;
  result?: unknown;
}

/** Waits until the page's <lv-segmenter> has a result or shows an error, then reads pageState. */
export async function finishedPageState(page: Page) {
  await page.waitForFunction(
    () => {
      const el = document.querySelector('lv-segmenter') as PageSegmenter;
      return el.result || el.shadowRoot!.querySelector('.message.error');
    },
    null,
    { timeout: 240_000 },
  );
  return pageState(page);
}

/** What the page computed: the frames it decoded (RGB at the video's own size), its masks, its result. */
export async function pageState(page: Page) {
  const s = await page.evaluate(() => {
    const el = document.querySelector('lv-segmenter') as PageSegmenter;
    const { bytesToBase64: b64 } = globalThis as unknown as PageHelpers;
    const f = el.frames!;
    return {
      frames: b64(f.frames),
      count: f.count,
      size: f.width,
      height: f.height,
      fps: f.fps,
      masks: b64(el.masks!),
      summary: el.summary!,
      efShown: el.shadowRoot!.querySelector('.ef')!.textContent!,
      efData: (el.shadowRoot!.querySelector('.ef') as HTMLElement).dataset.ef!,
      backend: document.getElementById('backend')!.textContent!,
    };
  });
  const bytes = (b: string) => new Uint8Array(Buffer.from(b, 'base64'));
  return { ...s, frames: bytes(s.frames), masks: bytes(s.masks) };
}

/**
 * The page's downloads after a fine-tuning, checked in Node: the checkpoint's entries are
 * upstream's state dict for the model's width (keys, order, shapes) then AdamW's state, and the
 * checkpoint (with its set) and the model.onnx segment the page's frames with the page's masks
 * (>= 99.5 % of pixels). Returns what the page holds now.
 */
export async function expectDownloadsAsPage(
  page: Page,
  set: ArtifactSet,
  downloads: { checkpoint: string; model: string },
) {
  const saved = readSafetensors(downloads.checkpoint).tensors;
  const upstream = upstreamStateDict(
    set.manifest.model.encoder as '3d_unet_small',
    set.manifest.model.widthMult,
  );
  expect(stateDictListing(saved).slice(0, upstream.length)).to.deep.equal(upstream);
  expect(saved.size).to.equal(upstream.length * (1 + set.manifest.weak.stateSuffixes.length));

  const tuned = await pageState(page);
  const video = {
    frames: tuned.frames,
    count: tuned.count,
    height: tuned.height,
    width: tuned.size,
    fps: tuned.fps,
  };
  for (const source of [
    { checkpoint: downloads.checkpoint, artifacts: set.dir },
    { model: downloads.model },
  ]) {
    const model = await loadSegmentationModel({ ...source, threads: 1 });
    const masks = (await segmentVideoFrames(video, model, { mode: 'upstream' })).masks;
    await model.release();
    const same = agreement(tuned.masks, masks);
    console.log(
      `      ${Object.keys(source)[0]}: mask pixels agreeing with the page ${(100 * same).toFixed(3)} %`,
    );
    expect(same).to.be.at.least(0.995);
  }
  return { tuned, video };
}

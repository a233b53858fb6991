import { expect } from 'chai';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DicomError, readDicomVideo } from '../../src/data/dicom/read.js';
import { listVideoFolder, openVideo, parsePixelSpacing } from '../../src/data/open-video.js';
import { resampleRect } from '../../src/data/resample.js';
import { decodeVideo, encodeVideo, probeVideo, VideoError } from '../../src/data/video.js';
import { tempDirs } from '../helpers/tmp.js';

// Written by tools/make-dicom-fixtures.ts: a synthetic echo in a 96x80 scanner canvas with text,
// a depth scale, a clock and an ECG strip; the uncompressed files hold its first 4 frames.
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dicom/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const W = 96;
const H = 80;
const FRAME = W * H * 3;
const source = gunzipSync(readFileSync(fixture('source-4.rgb.gz')));
const thumbs = gunzipSync(readFileSync(fixture('source-thumbs.rgb.gz')));
const tmp = tempDirs('unilvseg-dicom');

const isGrey = (rgb: Uint8Array, p: number) => rgb[p] === rgb[p + 1] && rgb[p + 1] === rgb[p + 2];

/** Largest difference overall, and over pixels whose horizontal pair is grey in the source. */
function compare(decoded: Uint8Array, reference: Uint8Array) {
  let max = 0;
  let greyMax = 0;
  let sum = 0;
  const diffs = new Uint8Array(reference.length);
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(decoded[i] - reference[i]);
    diffs[i] = d;
    sum += d;
    max = Math.max(max, d);
    const p = i - (i % 3);
    const partner = (p / 3) % 2 === 0 ? p + 3 : p - 3;
    if (isGrey(reference, p) && isGrey(reference, partner)) greyMax = Math.max(greyMax, d);
  }
  diffs.sort();
  return { max, greyMax, mean: sum / reference.length, p99: diffs[Math.floor(0.99 * diffs.length)] };
}

async function expectDicomError(fn: () => Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    expect(e).to.be.instanceOf(DicomError);
    expect(e).to.be.instanceOf(VideoError); // so every batch loop skips it like a bad video
    expect((e as DicomError).message.startsWith(`${file}: `), (e as Error).message).to.equal(true);
    expect((e as DicomError).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a DicomError for ${file}`);
}

/** A copy of fixture `name` with `from` replaced by `to` once. */
function patched(name: string, from: string | number[], to: string | number[]): string {
  const bytes = Buffer.from(readFileSync(fixture(name)));
  const a = typeof from === 'string' ? Buffer.from(from, 'latin1') : Buffer.from(from);
  const b = typeof to === 'string' ? Buffer.from(to, 'latin1') : Buffer.from(to);
  const at = bytes.indexOf(a);
  expect(at, `${name} contains the bytes to patch`).to.be.at.least(0);
  const out = join(tmp('patched'), name);
  writeFileSync(out, Buffer.concat([bytes.subarray(0, at), b, bytes.subarray(at + a.length)]));
  return out;
}

describe('data/dicom: multi-frame ultrasound DICOM', function () {
  it('uncompressed RGB (explicit VR LE) decodes to the source frames exactly; 50 fps from FrameTime; 0.3 mm pixels from the B-mode ultrasound region', async function () {
    const v = await readDicomVideo(fixture('us_rgb.dcm'));
    expect([v.count, v.width, v.height, v.fps]).to.deep.equal([4, W, H, 50]);
    expect(compare(v.frames, source).max).to.equal(0);
    expect(v.spacing).to.deep.equal({ x: 0.3, y: 0.3, source: 'SequenceOfUltrasoundRegions' });
    expect(v.dicom).to.include({ photometric: 'RGB', fpsFrom: 'FrameTime', modality: 'US' });
    expect(v.dicom.regions.map((r) => [r.spatialFormat, r.x0, r.y0, r.x1, r.y1])).to.deep.equal([
      [1, 24, 2, 87, 65],
      [4, 0, 66, 95, 79],
    ]);
  });

  it('YBR_FULL_422: grey pixel pairs exact, colours within 1 level (colour-space rounding); 30 fps from CineRate; anisotropic PixelSpacing read as row\\column', async function () {
    const v = await readDicomVideo(fixture('us_ybr422.dcm'));
    expect([v.count, v.fps]).to.deep.equal([4, 30]);
    const c = compare(v.frames, source);
    expect(c.greyMax).to.equal(0);
    expect(c.max).to.be.at.most(1);
    expect(v.spacing).to.deep.equal({ x: 0.3, y: 0.4, source: 'PixelSpacing' });
  });

  it('YBR_FULL with planar configuration 1, deflated transfer syntax: within 1 level; 25 fps from FrameTimeVector; no spacing', async function () {
    const v = await readDicomVideo(fixture('us_ybrfull_deflated.dcm'));
    expect([v.count, v.fps, v.spacing]).to.deep.equal([4, 25, null]);
    const c = compare(v.frames, source);
    expect(c.greyMax).to.equal(0);
    expect(c.max).to.be.at.most(1);
  });

  it('MONOCHROME2 (implicit VR LE) decodes to the grey levels stored; 25 fps from RecommendedDisplayFrameRate', async function () {
    const v = await readDicomVideo(fixture('us_mono_implicit.dcm'));
    expect([v.count, v.fps, v.dicom.fpsFrom]).to.deep.equal([4, 25, 'RecommendedDisplayFrameRate']);
    let wrong = 0;
    for (let p = 0; p < source.length; p += 3) {
      const grey = Math.floor(0.299 * source[p] + 0.587 * source[p + 1] + 0.114 * source[p + 2] + 0.5);
      if (v.frames[p] !== grey || v.frames[p + 1] !== grey || v.frames[p + 2] !== grey) wrong++;
    }
    expect(wrong).to.equal(0);
  });

  it('JPEG baseline: all 62 frames at 50 fps; frames 0-3 within mean 3 / 99th percentile 16 levels of the source, every frame within mean 1.5 / max 12 at 1/4 scale', async function () {
    const v = await readDicomVideo(fixture('us_jpeg.dcm'));
    expect([v.count, v.width, v.height, v.fps]).to.deep.equal([62, W, H, 50]);
    expect(v.spacing).to.deep.equal({ x: 0.3, y: 0.25, source: 'SequenceOfUltrasoundRegions' });
    expect(v.dicom.transferSyntax).to.equal('1.2.840.10008.1.2.4.50');
    const c = compare(v.frames.subarray(0, 4 * FRAME), source);
    expect(c.mean).to.be.at.most(3);
    expect(c.p99).to.be.at.most(16);
    const T = 24 * 20 * 3;
    for (let f = 0; f < v.count; f++) {
      const t = resampleRect(
        v.frames.subarray(f * FRAME, (f + 1) * FRAME),
        H,
        W,
        3,
        { x: 0, y: 0, w: W, h: H },
        20,
        24,
      );
      const d = compare(t, thumbs.subarray(f * T, (f + 1) * T));
      expect(d.mean, `frame ${f}`).to.be.at.most(1.5);
      expect(d.max, `frame ${f}`).to.be.at.most(12);
    }
  });

  it('ffmpeg never reads a DICOM file: probeVideo and decodeVideo refuse it by content, whatever its name', async function () {
    // ffmpeg would take this file for an MJPEG stream of 39 frames at 25 fps.
    const noName = join(tmp('ffmpeg'), 'IM0001');
    copyFileSync(fixture('us_jpeg.dcm'), noName);
    for (const p of [fixture('us_jpeg.dcm'), noName]) {
      for (const call of [() => probeVideo(p), () => decodeVideo(p)]) {
        const e = await call().then(
          () => null,
          (err: unknown) => err,
        );
        expect(e).to.be.instanceOf(VideoError);
        expect((e as Error).message).to.match(/a DICOM file, which ffmpeg would misread/);
      }
    }
    const opened = await openVideo(noName);
    expect([opened.source.format, opened.count, opened.fps]).to.deep.equal(['dicom', 62, 50]);
  });

  it('refuses single-frame images, other modalities, unsupported transfer syntaxes, truncated and corrupt files, each with one error naming the file and the reason', async function () {
    const single = fixture('us_single_frame.dcm');
    await expectDicomError(() => readDicomVideo(single), single, /single-frame image \(NumberOfFrames 1\)/);
    const ct = patched('us_rgb.dcm', 'CS\x02\x00US', 'CS\x02\x00CT');
    await expectDicomError(() => readDicomVideo(ct), ct, /modality CT is not ultrasound/);
    // The transfer syntax UID (VR UI, 20 bytes) becomes MPEG-2's (24 bytes).
    const mpeg2 = patched(
      'us_rgb.dcm',
      'UI\x14\x001.2.840.10008.1.2.1\0',
      'UI\x18\x001.2.840.10008.1.2.4.100\0',
    );
    await expectDicomError(
      () => readDicomVideo(mpeg2),
      mpeg2,
      /unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.100 \(MPEG2 Main Profile \/ Main Level\); convert it first \(.*ffmpeg -r 50 .*\); read here: .*RLE Lossless/,
    );
    const bytes = readFileSync(fixture('us_rgb.dcm'));
    const cut = join(tmp('cut'), 'cut.dcm');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    await expectDicomError(() => readDicomVideo(cut), cut, /truncated/);
    const jpegBytes = readFileSync(fixture('us_jpeg.dcm'));
    const jpegCut = join(tmp('cut'), 'jpeg-cut.dcm');
    writeFileSync(jpegCut, jpegBytes.subarray(0, Math.floor(jpegBytes.length * 0.5)));
    await expectDicomError(() => readDicomVideo(jpegCut), jpegCut, /truncated/);
    // The 10th JPEG frame loses its start-of-image marker.
    const soi = [0xff, 0xd8, 0xff];
    let at = -1;
    for (let k = 0; k < 10; k++) at = jpegBytes.indexOf(Buffer.from(soi), at + 1);
    const broken = Buffer.from(jpegBytes);
    broken[at + 1] = 0x00;
    const badFrame = join(tmp('bad'), 'bad-frame.dcm');
    writeFileSync(badFrame, broken);
    await expectDicomError(() => readDicomVideo(badFrame), badFrame, /frame 9/);
    const notDicom = join(tmp('not'), 'renamed.dcm');
    writeFileSync(notDicom, Buffer.alloc(400, 7));
    await expectDicomError(() => readDicomVideo(notDicom), notDicom, /not a DICOM Part 10 file/);
  });

  it('openVideo: DICOM and ffmpeg inputs at native size with their source; --pixel_spacing_mm overrides the file', async function () {
    const d = await openVideo(fixture('us_ybr422.dcm'), { pixelSpacingMm: { x: 0.2, y: 0.25 } });
    expect(d.spacing).to.deep.equal({ x: 0.2, y: 0.25, source: 'command line' });
    expect(d.source).to.include({
      format: 'dicom',
      width: W,
      height: H,
      frames: 4,
      fps: 30,
      fpsFrom: 'CineRate',
    });
    const avi = join(tmp('avi'), 'clip.avi');
    await encodeVideo(avi, source, { width: W, height: H, fps: 25, codec: 'ffv1' });
    const a = await openVideo(avi);
    expect(a.spacing).to.equal(null);
    expect(a.source).to.include({
      format: 'ffmpeg',
      width: W,
      height: H,
      frames: 4,
      fps: 25,
      fpsFrom: 'container',
    });
    expect(compare(a.frames, source).max).to.equal(0);
    expect(parsePixelSpacing('0.3')).to.deep.equal({ x: 0.3, y: 0.3 });
    expect(parsePixelSpacing('0.3,0.25')).to.deep.equal({ x: 0.3, y: 0.25 });
    for (const bad of ['', '0', '-1', 'a', '0.3,0.2,0.1', '0.3,'])
      expect(() => parsePixelSpacing(bad), bad).to.throw(/positive numbers/);
  });

  it('listVideoFolder: videos by extension and DICOM by content (with or without a name), unique output names, the rest ignored', async function () {
    const dir = tmp('folder');
    copyFileSync(fixture('us_rgb.dcm'), join(dir, 'IM0001'));
    copyFileSync(fixture('us_rgb.dcm'), join(dir, '1.2.3.dcm'));
    copyFileSync(fixture('us_rgb.dcm'), join(dir, 'DICOMDIR'));
    writeFileSync(join(dir, 'clip.avi'), 'x');
    writeFileSync(join(dir, 'clip.mp4'), 'x');
    writeFileSync(join(dir, 'notes.csv'), 'a,b\n');
    writeFileSync(join(dir, '.hidden.avi'), 'x');
    const { videos, ignored } = listVideoFolder(dir);
    expect(videos.map((v) => v.name)).to.deep.equal(['1.2.3', 'IM0001', 'clip', 'clip-2']);
    expect(ignored).to.deep.equal(['DICOMDIR', 'notes.csv']);
  });
});

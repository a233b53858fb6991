/**
 * Development tool: writes the DICOM test fixtures of test/fixtures/dicom/ (committed; CI never
 * runs this). A synthetic 62-frame, 50 fps echo is placed off-centre in a 96x80 scanner canvas
 * with text, a depth scale, a clock and an ECG strip (src/data/synth/scanner.ts); its frames are
 * stored as
 *   source-4.rgb.gz       the first 4 canvas frames, raw RGB24 (the uncompressed files hold them)
 *   source-thumbs.rgb.gz  every canvas frame area-averaged to 24x20 (to check the JPEG file)
 *   us_*.dcm              DICOM files written by tools/dicom-fixtures.py (pydicom), the JPEG
 *                         frames encoded by the ffmpeg of @ffmpeg-installer (baseline, 4:2:2)
 *
 *   npm run build && node dist/tools/make-dicom-fixtures.js [OUT_DIR]
 * Needs Debian's python3-pydicom and python3-numpy.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { resampleRect } from '../src/data/resample.js';
import { generateDataset } from '../src/data/synth/dataset.js';
import { scannerCanvas, type ScannerLayout, type ScannerVideo } from '../src/data/synth/scanner.js';
import { decodeVideo } from '../src/data/video.js';

export const FIXTURE_LAYOUT: ScannerLayout = { width: 96, height: 80, x: 24, y: 2, size: 64 };
export const THUMB = { width: 24, height: 20 };

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} ... failed (${r.status ?? r.error})`);
}

/** A synthetic 50 fps echo of `frames` frames (`seed`) in a scanner canvas of `layout`; `work` is scratch space. */
export async function syntheticScannerEcho(
  work: string,
  layout: ScannerLayout,
  frames: number,
  seed: number,
): Promise<ScannerVideo> {
  await generateDataset({
    out: work,
    videos: 1,
    seed,
    framesMin: frames,
    framesMax: frames,
    fps: 50,
    progress: false,
  });
  const name = readdirSync(join(work, 'Videos'))[0];
  return scannerCanvas(await decodeVideo(join(work, 'Videos', name)), layout);
}

async function main(): Promise<void> {
  const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));
  const out = resolve(process.argv[2] ?? join(root, 'test/fixtures/dicom'));
  const work = mkdtempSync(join(tmpdir(), 'dicom-fixtures-'));
  try {
    const L = FIXTURE_LAYOUT;
    const canvas = await syntheticScannerEcho(work, L, 62, 11);
    mkdirSync(out, { recursive: true });
    const frameBytes = L.width * L.height * 3;
    writeFileSync(
      join(out, 'source-4.rgb.gz'),
      gzipSync(canvas.frames.subarray(0, 4 * frameBytes), { level: 9 }),
    );
    const thumbs = new Uint8Array(canvas.count * THUMB.width * THUMB.height * 3);
    for (let f = 0; f < canvas.count; f++)
      resampleRect(
        canvas.frames.subarray(f * frameBytes, (f + 1) * frameBytes),
        L.height,
        L.width,
        3,
        { x: 0, y: 0, w: L.width, h: L.height },
        THUMB.height,
        THUMB.width,
        thumbs.subarray(f * THUMB.width * THUMB.height * 3, (f + 1) * THUMB.width * THUMB.height * 3),
      );
    writeFileSync(join(out, 'source-thumbs.rgb.gz'), gzipSync(thumbs, { level: 9 }));

    writeFileSync(join(work, 'canvas.rgb'), canvas.frames);
    writeFileSync(join(work, 'layout.json'), JSON.stringify(L));
    mkdirSync(join(work, 'jpeg'));
    // One baseline JPEG per frame, 4:2:2 as ultrasound scanners store YBR_FULL_422.
    // prettier-ignore
    run(ffmpegInstaller.path, [
      '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${L.width}x${L.height}`, '-i', join(work, 'canvas.rgb'),
      '-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj422p', '-start_number', '0', join(work, 'jpeg', 'frame%03d.jpg'),
    ]);
    run('/usr/bin/python3', [
      join(root, 'tools/dicom-fixtures.py'),
      work,
      out,
      String(L.width),
      String(L.height),
      String(canvas.count),
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

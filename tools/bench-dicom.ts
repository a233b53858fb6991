/**
 * DICOM decoding speed per codec (section `dicom` of `npm run bench`): a synthetic echo in a
 * 640x480 scanner canvas (8 frames), written uncompressed by pydicom and transcoded by dcmtk and
 * gdcm exactly as tools/make-dicom-codec-fixtures.ts writes the test fixtures, then decoded by
 * segment-video's reader (decodeDicomVideo: frames to RGB24, no ffmpeg). Reports milliseconds
 * per frame (median of 5 decodes after a first one, which also loads the codec) and the ratio to
 * JPEG baseline (jpeg-js). Needs dcmtk, gdcm and python3-pydicom; without them it says so.
 *
 *   node dist/tools/bench.js dicom
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDicomVideo } from '../src/data/dicom/decode.js';
import { transferSyntaxName } from '../src/data/dicom/syntax.js';
import { median } from './bench-common.js';
import { JOBS, transcode, writeCodecSources } from './make-dicom-codec-fixtures.js';
import { syntheticScannerEcho } from './make-dicom-fixtures.js';

const W = 640;
const H = 480;
const FRAMES = 8;

/** The files timed: the uncompressed source, then one per codec and sample format (names as in JOBS). */
const FILES = [
  'src-rgb.dcm',
  'dcmtk-jpeg-baseline-rgb.dcm',
  'dcmtk-jpeg-extended-rgb.dcm',
  'dcmtk-jpeg-progressive-rgb.dcm',
  'gdcm-jpeg-lossy-rgb.dcm',
  'dcmtk-rle-rgb.dcm',
  'dcmtk-jpeg-ll70-rgb.dcm',
  'dcmtk-jpeg-ll57-rgb.dcm',
  'gdcm-jpegls-rgb.dcm',
  'gdcm-jpegls-near-rgb.dcm',
  'gdcm-j2k-rgb.dcm',
  'gdcm-j2k-lossy-rgb.dcm',
  'dcmtk-be-ow-rgb.dcm',
  'src-mono16.dcm',
  'dcmtk-rle-mono16.dcm',
  'gdcm-jpeg-ll70-mono16.dcm',
  'gdcm-jpegls-mono16.dcm',
  'gdcm-j2k-mono16.dcm',
  'dcmtk-rle-palette.dcm',
];
const BASELINE = 'dcmtk-jpeg-baseline-rgb.dcm';

const hasTool = (t: string) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;

export async function benchDicom(): Promise<object> {
  const missing = ['dcmcjpeg', 'dcmcjpls', 'dcmcrle', 'gdcmconv', '/usr/bin/python3'].filter(
    (t) => !hasTool(t),
  );
  if (missing.length)
    return { skipped: `needs dcmtk, gdcm and python3-pydicom (missing: ${missing.join(', ')})` };
  const work = mkdtempSync(join(tmpdir(), 'bench-dicom-'));
  try {
    const canvas = await syntheticScannerEcho(work, { width: W, height: H, x: 140, y: 16, size: 400 }, 50, 5);
    writeFileSync(join(work, 'canvas.rgb'), canvas.frames.subarray(0, FRAMES * W * H * 3));
    writeCodecSources(join(work, 'canvas.rgb'), work, W, H, FRAMES);
    for (const file of FILES.filter((f) => !f.startsWith('src-')))
      transcode(
        JOBS.find((j) => j.file === file)!,
        work,
        work,
      );

    const results = [];
    for (const file of FILES) {
      const bytes = readFileSync(join(work, file));
      const t0 = performance.now();
      const first = await decodeDicomVideo(file, bytes);
      const firstMs = performance.now() - t0;
      const runs: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t = performance.now();
        await decodeDicomVideo(file, bytes);
        runs.push(performance.now() - t);
      }
      results.push({
        file,
        transferSyntax: transferSyntaxName(first.dicom.transferSyntax),
        photometric: first.dicom.photometric,
        bitsStored: first.dicom.bitsStored,
        kBPerFrame: Number((bytes.length / FRAMES / 1024).toFixed(1)),
        msPerFrame: Number((median(runs) / FRAMES).toFixed(2)),
        firstDecodeMs: Number(firstMs.toFixed(1)),
      });
      process.stderr.write(`dicom: ${file} ${(median(runs) / FRAMES).toFixed(2)} ms/frame\n`);
    }
    const base = results.find((r) => r.file === BASELINE)!.msPerFrame;
    return {
      frame: `${W}x${H}`,
      frames: FRAMES,
      loadAverage: Number(loadavg()[0].toFixed(1)),
      baseline: `${BASELINE} (jpeg-js)`,
      codecs: results.map((r) => ({ ...r, vsBaselineJpeg: Number((r.msPerFrame / base).toFixed(2)) })),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('bench-dicom.js')) console.log(JSON.stringify(await benchDicom(), null, 2));

/**
 * Development tool: writes test/fixtures/dicom/codecs/, the compressed DICOM files the reader is
 * tested on, each written by dcmtk or gdcm themselves (committed; CI never runs this):
 *   src-*.dcm      uncompressed sources written by pydicom (tools/dicom-fixtures.py codec-sources)
 *                  from a 66x50 crop of the first 2 frames of source-4.rgb.gz (the scanner canvas)
 *   dcmtk-*.dcm    transcoded by dcmcrle / dcmcjpeg / dcmcjpls / dcmconv
 *   gdcm-*.dcm     transcoded by gdcmconv
 *   pydicom-*.dcm  gdcm's J2K frames re-encapsulated by pydicom, two fragments per frame; MPEG-2,
 *                  H.264 and HEVC streams (ffmpeg of @ffmpeg-installer) encapsulated by pydicom
 *                  (refused; their conversion hint is tested)
 *   ref/*.dcm.gz   lossy files decoded by their writer's own toolkit (dcmdjpeg, dcmdjpls, gdcmconv --raw)
 *   ref/*.rgb.gz   palette renderings by dcm2pnm (dcmtk) or, for segmented LUTs that dcmtk and gdcm
 *                  cannot expand, by pydicom's apply_color_lut; window/range renderings by dcm2pnm
 *   manifest.json  every file: writer, command, transfer syntax, source, reference, tool versions
 *
 *   npm run build && node dist/tools/make-dicom-codec-fixtures.js [OUT_DIR]
 * Needs dcmtk, gdcm (libgdcm-tools), python3-pydicom and python3-numpy (Debian packages).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { FIXTURE_LAYOUT } from './make-dicom-fixtures.js';

/** The crop of the scanner canvas the codec fixtures hold: echo, text and the ECG strip, sizes not multiples of 8. */
export const CODEC_CROP = { x: 16, y: 26, width: 66, height: 50, frames: 2 };

export type Writer = 'dcmtk' | 'gdcm' | 'pydicom';

export interface CodecFixture {
  file: string;
  writer: Writer;
  /** The command that wrote it (IN: the source, OUT: this file). */
  command: string;
  source: string;
  transferSyntax: string;
  /** Decoded exactly to the source's stored values. */
  lossless: boolean;
  /** Lossy files: the writer's own decoding, and the command that made it. */
  reference?: { file: string; command: string };
  /** Files the reader refuses (the reason is in the test). */
  refused?: boolean;
}

export interface Rendering {
  /** Raw RGB24 of every frame, gzipped. */
  file: string;
  source: string;
  /** How a third-party tool turned the stored values into 8-bit RGB. */
  command: string;
}

export interface Job {
  file: string;
  writer: Writer;
  source: string;
  /** Argument lists; IN and OUT are replaced by paths, TMP by a scratch file. */
  steps: string[][];
  lossless: boolean;
  reference?: string[];
  refused?: boolean;
}

const LOSSY_DCMTK = ['+un']; // keep the SOP instance UID: the fixture bytes stay the same run to run

const dcmtk = (file: string, source: string, tool: string, opts: string[], lossless = true): Job => ({
  file,
  writer: 'dcmtk',
  source,
  steps: [[tool, ...opts, ...(lossless ? [] : LOSSY_DCMTK), 'IN', 'OUT']],
  lossless,
});
const gdcm = (file: string, source: string, opts: string[], lossless = true): Job => ({
  file,
  writer: 'gdcm',
  source,
  steps: [['gdcmconv', ...opts, 'IN', 'OUT']],
  lossless,
});

export const JOBS: Job[] = [
  // RLE Lossless
  dcmtk('dcmtk-rle-rgb.dcm', 'src-rgb.dcm', 'dcmcrle', []),
  dcmtk('dcmtk-rle-mono16.dcm', 'src-mono16.dcm', 'dcmcrle', []),
  dcmtk('dcmtk-rle-palette.dcm', 'src-palette.dcm', 'dcmcrle', []),
  gdcm('gdcm-rle-rgb.dcm', 'src-rgb.dcm', ['--rle']),
  gdcm('gdcm-rle-mono16s.dcm', 'src-mono16s.dcm', ['--rle']),
  gdcm('gdcm-rle-palette.dcm', 'src-palette.dcm', ['--rle']),
  // JPEG Lossless, first-order prediction (.70) and process 14 with predictor 6 (.57)
  dcmtk('dcmtk-jpeg-ll70-rgb.dcm', 'src-rgb.dcm', 'dcmcjpeg', ['+e1']),
  dcmtk('dcmtk-jpeg-ll70-mono16.dcm', 'src-mono16.dcm', 'dcmcjpeg', ['+e1']),
  dcmtk('dcmtk-jpeg-ll70-palette.dcm', 'src-palette.dcm', 'dcmcjpeg', ['+e1']),
  dcmtk('dcmtk-jpeg-ll57-rgb.dcm', 'src-rgb.dcm', 'dcmcjpeg', ['+el']),
  dcmtk('dcmtk-jpeg-ll57-mono16.dcm', 'src-mono16.dcm', 'dcmcjpeg', ['+el']),
  // Frames split over 4 KB fragments with an empty offset table: frames found by their SOI markers.
  dcmtk('dcmtk-jpeg-ll70-fragments-rgb.dcm', 'src-rgb.dcm', 'dcmcjpeg', ['+e1', '+fs', '4', '-ot']),
  gdcm('gdcm-jpeg-ll70-rgb.dcm', 'src-rgb.dcm', ['--jpeg']),
  gdcm('gdcm-jpeg-ll70-mono16.dcm', 'src-mono16.dcm', ['--jpeg']),
  gdcm('gdcm-jpeg-ll70-palette.dcm', 'src-palette.dcm', ['--jpeg']),
  // JPEG lossy: baseline, extended, spectral selection, progressive (dcmtk writes YBR_FULL_422 4:2:2)
  {
    ...dcmtk('dcmtk-jpeg-baseline-rgb.dcm', 'src-rgb.dcm', 'dcmcjpeg', ['+eb'], false),
    reference: ['dcmdjpeg'],
  },
  {
    ...dcmtk('dcmtk-jpeg-extended-rgb.dcm', 'src-rgb.dcm', 'dcmcjpeg', ['+ee'], false),
    reference: ['dcmdjpeg'],
  },
  {
    ...dcmtk('dcmtk-jpeg-spectral-rgb.dcm', 'src-rgb.dcm', 'dcmcjpeg', ['+es'], false),
    reference: ['dcmdjpeg'],
  },
  {
    ...dcmtk('dcmtk-jpeg-progressive-rgb.dcm', 'src-rgb.dcm', 'dcmcjpeg', ['+ep'], false),
    reference: ['dcmdjpeg'],
  },
  // 12-bit lossy JPEG (process 4): refused, with dcmdjpeg as the way out.
  {
    ...dcmtk('dcmtk-jpeg-extended12-mono16.dcm', 'src-mono16.dcm', 'dcmcjpeg', ['+ee'], false),
    refused: true,
  },
  // gdcm's lossy JPEG: PhotometricInterpretation RGB, 4:2:0 YCbCr inside, no JFIF or Adobe marker.
  // gdcmconv --raw and dcmdjpeg's default keep the YCbCr values as if RGB; dcmdjpeg +cg converts
  // when libjpeg guesses YCbCr, which is the decoding that reproduces the source.
  {
    ...gdcm('gdcm-jpeg-lossy-rgb.dcm', 'src-rgb.dcm', ['--jpeg', '--lossy'], false),
    reference: ['dcmdjpeg', '+cg'],
  },
  // JPEG-LS: dcmtk uninterleaved (+in) and line-interleaved, gdcm sample-interleaved
  dcmtk('dcmtk-jpegls-rgb.dcm', 'src-rgb.dcm', 'dcmcjpls', ['+in']),
  dcmtk('dcmtk-jpegls-mono16.dcm', 'src-mono16.dcm', 'dcmcjpls', []),
  dcmtk('dcmtk-jpegls-palette.dcm', 'src-palette.dcm', 'dcmcjpls', []),
  {
    ...dcmtk('dcmtk-jpegls-near-rgb.dcm', 'src-rgb.dcm', 'dcmcjpls', ['+en'], false),
    reference: ['dcmdjpls'],
  },
  gdcm('gdcm-jpegls-rgb.dcm', 'src-rgb.dcm', ['--jpegls']),
  gdcm('gdcm-jpegls-mono16.dcm', 'src-mono16.dcm', ['--jpegls']),
  gdcm('gdcm-jpegls-palette.dcm', 'src-palette.dcm', ['--jpegls']),
  {
    ...gdcm('gdcm-jpegls-near-rgb.dcm', 'src-rgb.dcm', ['--jpegls', '--lossy', '-e', '2'], false),
    reference: ['gdcmconv', '--raw'],
  },
  // JPEG 2000 (dcmtk writes none)
  gdcm('gdcm-j2k-rgb.dcm', 'src-rgb.dcm', ['--j2k']),
  gdcm('gdcm-j2k-mono16.dcm', 'src-mono16.dcm', ['--j2k']),
  gdcm('gdcm-j2k-mono16s.dcm', 'src-mono16s.dcm', ['--j2k']),
  gdcm('gdcm-j2k-palette.dcm', 'src-palette.dcm', ['--j2k']),
  {
    ...gdcm('gdcm-j2k-lossy-rgb.dcm', 'src-rgb.dcm', ['--j2k', '--lossy'], false),
    reference: ['gdcmconv', '--raw'],
  },
  {
    ...gdcm('gdcm-j2k-lossy-mono16.dcm', 'src-mono16.dcm', ['--j2k', '--lossy'], false),
    reference: ['gdcmconv', '--raw'],
  },
  // Explicit VR big endian: via implicit VR the 8-bit pixel data becomes OW, which big endian byte-swaps.
  {
    file: 'dcmtk-be-ow-rgb.dcm',
    writer: 'dcmtk',
    source: 'src-rgb.dcm',
    steps: [
      ['dcmconv', '+ti', 'IN', 'TMP'],
      ['dcmconv', '+tb', 'TMP', 'OUT'],
    ],
    lossless: true,
  },
  dcmtk('dcmtk-be-mono16.dcm', 'src-mono16.dcm', 'dcmconv', ['+tb']),
  dcmtk('dcmtk-be-palette.dcm', 'src-palette.dcm', 'dcmconv', ['+tb']),
];

/** Palette and >8-bit sources as a third-party tool renders them to 8-bit RGB (every frame). */
const RENDERINGS: { source: string; tool: 'dcm2pnm' | 'pydicom'; opts?: string[] }[] = [
  { source: 'src-palette.dcm', tool: 'dcm2pnm' },
  { source: 'src-palette-hotiron.dcm', tool: 'dcm2pnm' },
  { source: 'src-palette-seg16.dcm', tool: 'pydicom' },
  { source: 'src-palette-summer.dcm', tool: 'pydicom' },
  // The file's first VOI window, and (no window in the file) dcmtk's mapping of the full range.
  { source: 'src-mono16.dcm', tool: 'dcm2pnm', opts: ['+Wi', '1'] },
  { source: 'src-mono16s.dcm', tool: 'dcm2pnm' },
];

export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.error}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

const version = (cmd: string, args: string[], pattern: RegExp): string =>
  (spawnSync(cmd, args, { encoding: 'utf8' }).stdout.match(pattern) ?? ['?', '?'])[1];

/** The transfer syntax UID in a DICOM file's meta header, as dcmdump prints it. */
function transferSyntax(path: string): string {
  const line = run('dcmdump', ['+P', '0002,0010', '-Un', path]);
  return (line.match(/\[([0-9.]+)\]/) ?? ['', '?'])[1];
}

/** Frames of a binary PNM (P5 grey or P6 RGB) as RGB24. */
function pnmToRgb(bytes: Buffer): Buffer {
  const head = bytes.toString('latin1', 0, 64).match(/^P([56])\s+(\d+)\s+(\d+)\s+(\d+)\s/);
  if (!head) throw new Error('not a binary PNM');
  const [, kind, w, h] = head;
  const pixels = bytes.subarray(head[0].length);
  const n = Number(w) * Number(h);
  if (kind === '6') return Buffer.from(pixels.subarray(0, 3 * n));
  const rgb = Buffer.alloc(3 * n);
  for (let i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = pixels[i];
  return rgb;
}

/** Runs `job` on its source in `out`, writing out/job.file (`work`: scratch space). */
export function transcode(job: Job, out: string, work: string): CodecFixture {
  const target = join(out, job.file);
  const sub = (a: string) =>
    a === 'IN' ? join(out, job.source) : a === 'OUT' ? target : a === 'TMP' ? join(work, 'step.dcm') : a;
  for (const [cmd, ...args] of job.steps) run(cmd, args.map(sub));
  const fixture: CodecFixture = {
    file: job.file,
    writer: job.writer,
    command: job.steps.map((s) => s.join(' ')).join(' && '),
    source: job.source,
    transferSyntax: transferSyntax(target),
    lossless: job.lossless,
  };
  if (job.refused) fixture.refused = true;
  return fixture;
}

/** The pydicom-written sources (src-*.dcm) of `count` frames of raw RGB24 in `rgbFile`, into `out`. */
export function writeCodecSources(
  rgbFile: string,
  out: string,
  width: number,
  height: number,
  count: number,
): void {
  const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));
  run('/usr/bin/python3', [
    join(root, 'tools/dicom-fixtures.py'),
    'codec-sources',
    rgbFile,
    out,
    ...[width, height, count].map(String),
  ]);
}

async function main(): Promise<void> {
  const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));
  const out = resolve(process.argv[2] ?? join(root, 'test/fixtures/dicom/codecs'));
  const work = mkdtempSync(join(tmpdir(), 'dicom-codec-fixtures-'));
  const python = '/usr/bin/python3';
  try {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(join(out, 'ref'), { recursive: true });
    const L = FIXTURE_LAYOUT;
    const C = CODEC_CROP;
    const canvas = gunzipSync(readFileSync(join(root, 'test/fixtures/dicom/source-4.rgb.gz')));
    const crop = Buffer.alloc(C.frames * C.height * C.width * 3);
    for (let f = 0; f < C.frames; f++)
      for (let y = 0; y < C.height; y++) {
        const from = ((f * L.height + C.y + y) * L.width + C.x) * 3;
        canvas.copy(crop, (f * C.height + y) * C.width * 3, from, from + C.width * 3);
      }
    writeFileSync(join(work, 'crop.rgb'), crop);
    writeCodecSources(join(work, 'crop.rgb'), out, C.width, C.height, C.frames);

    const fixtures: CodecFixture[] = [];
    for (const job of JOBS) {
      const fixture = transcode(job, out, work);
      if (job.reference) {
        const [cmd, ...args] = job.reference;
        const decoded = join(work, 'decoded.dcm');
        run(cmd, [...args, join(out, job.file), decoded]);
        const file = `ref/${job.file}.gz`;
        writeFileSync(join(out, file), gzipSync(readFileSync(decoded), { level: 9 }));
        fixture.reference = { file, command: `${job.reference.join(' ')} IN OUT` };
      }
      fixtures.push(fixture);
    }

    // gdcm's J2K frames in two fragments each, no offset table: frames found by their J2K start markers.
    run(python, [
      '-c',
      [
        'import sys, pydicom',
        'from pydicom.encaps import generate_pixel_data_frame, encapsulate',
        'ds = pydicom.dcmread(sys.argv[1])',
        'frames = list(generate_pixel_data_frame(ds.PixelData, int(ds.NumberOfFrames)))',
        'ds.PixelData = encapsulate(frames, fragments_per_frame=2, has_bot=False)',
        'ds.save_as(sys.argv[2])',
      ].join('\n'),
      join(out, 'gdcm-j2k-rgb.dcm'),
      join(out, 'pydicom-j2k-fragments-rgb.dcm'),
    ]);
    fixtures.push({
      file: 'pydicom-j2k-fragments-rgb.dcm',
      writer: 'pydicom',
      command: 'pydicom.encaps.encapsulate(frames of gdcm-j2k-rgb.dcm, fragments_per_frame=2, has_bot=False)',
      source: 'src-rgb.dcm',
      transferSyntax: transferSyntax(join(out, 'pydicom-j2k-fragments-rgb.dcm')),
      lossless: true,
    });

    // Video streams in DICOM: the reader refuses them with a command that extracts them for ffmpeg.
    const videos = [
      {
        file: 'pydicom-mpeg2-rgb.dcm',
        uid: '1.2.840.10008.1.2.4.100',
        codec: 'mpeg2video',
        format: 'mpeg2video',
      },
      { file: 'pydicom-h264-rgb.dcm', uid: '1.2.840.10008.1.2.4.102', codec: 'libx264', format: 'h264' },
      { file: 'pydicom-hevc-rgb.dcm', uid: '1.2.840.10008.1.2.4.107', codec: 'libx265', format: 'hevc' },
    ];
    for (const v of videos) {
      const stream = join(work, `stream.${v.format}`);
      // prettier-ignore
      run(ffmpegInstaller.path, [
        '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${C.width}x${C.height}`, '-r', '50',
        '-i', join(work, 'crop.rgb'), '-c:v', v.codec, '-pix_fmt', 'yuv420p', '-f', v.format, stream,
      ]);
      run(python, [
        '-c',
        [
          'import sys, pydicom',
          'from pydicom.encaps import encapsulate',
          'ds = pydicom.dcmread(sys.argv[1])',
          'ds.file_meta.TransferSyntaxUID = sys.argv[3]',
          'ds.PhotometricInterpretation = "YBR_PARTIAL_420"',
          'ds.PixelData = encapsulate([open(sys.argv[2], "rb").read()])',
          'ds["PixelData"].VR = "OB"',
          'ds["PixelData"].is_undefined_length = True',
          'ds.save_as(sys.argv[4])',
        ].join('\n'),
        join(out, 'src-rgb.dcm'),
        stream,
        v.uid,
        join(out, v.file),
      ]);
      fixtures.push({
        file: v.file,
        writer: 'pydicom',
        command: `ffmpeg -c:v ${v.codec} of the frames, encapsulated by pydicom as one fragment`,
        source: 'src-rgb.dcm',
        transferSyntax: v.uid,
        lossless: false,
        refused: true,
      });
    }

    const renderings: Rendering[] = [];
    for (const r of RENDERINGS) {
      const file = `ref/${r.source.replace(/\.dcm$/, '')}.rgb.gz`;
      let rgb: Buffer;
      let command: string;
      if (r.tool === 'dcm2pnm') {
        const frames: Buffer[] = [];
        for (let f = 0; f < C.frames; f++) {
          const pnm = join(work, `frame${f}.pnm`);
          run('dcm2pnm', [
            '--write-raw-pnm',
            '+F',
            String(f + 1),
            ...(r.opts ?? []),
            join(out, r.source),
            pnm,
          ]);
          frames.push(pnmToRgb(readFileSync(pnm)));
        }
        rgb = Buffer.concat(frames);
        command = `dcm2pnm --write-raw-pnm +F <frame> ${(r.opts ?? []).join(' ')} IN OUT`.replace(/ +/g, ' ');
      } else {
        const raw = join(work, 'lut.rgb');
        run(python, [
          '-c',
          [
            'import sys, numpy as np, pydicom',
            'from pydicom.pixel_data_handlers.util import apply_color_lut',
            'ds = pydicom.dcmread(sys.argv[1])',
            'rgb = apply_color_lut(ds.pixel_array, ds)',
            'rgb = (rgb >> 8) if rgb.dtype == np.uint16 else rgb',
            'rgb.astype(np.uint8).tofile(sys.argv[2])',
          ].join('\n'),
          join(out, r.source),
          raw,
        ]);
        rgb = readFileSync(raw);
        command = 'pydicom apply_color_lut(ds.pixel_array, ds), 16-bit entries >> 8';
      }
      writeFileSync(join(out, file), gzipSync(rgb, { level: 9 }));
      renderings.push({ file, source: r.source, command });
    }

    const manifest = {
      written: 'node dist/tools/make-dicom-codec-fixtures.js',
      crop: CODEC_CROP,
      tools: {
        dcmtk: version('dcmconv', ['--version'], /dcmconv v([\d.]+)/),
        gdcm: version('gdcmconv', ['--version'], /gdcm ([\d.]+)/),
        pydicom: run(python, ['-c', 'import pydicom; print(pydicom.__version__)']).trim(),
      },
      fixtures,
      renderings,
    };
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    let total = 0;
    for (const f of [...fixtures.map((x) => x.file), ...fixtures.flatMap((x) => x.reference?.file ?? [])])
      total += statSync(join(out, f)).size;
    process.stderr.write(
      `${fixtures.length} fixtures in ${out} (${(total / 1024).toFixed(0)} KiB with references)\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { decodeDicomVideo, openDicomFrames, type DicomVideo } from '../../src/data/dicom/decode.js';
import { readDicomVideo } from '../../src/data/dicom/read.js';
import { conversionHint, pixelCodec, transferSyntaxName } from '../../src/data/dicom/syntax.js';
import { openVideo } from '../../src/data/open-video.js';
import { codecFixture, codecManifest, differences } from '../helpers/dicom-codecs.js';
import { tempDirs } from '../helpers/tmp.js';

const manifest = codecManifest();
const { width: W, height: H, frames: FRAMES } = manifest.crop;
const tmp = tempDirs('unilvseg-dicom-codecs');

/**
 * How far a lossy file's decoding may be from its writer's own (dcmtk's or gdcm's) decoding:
 * jpeg-js and libjpeg differ in their IDCT and chroma upsampling by a level here and there; JPEG-LS
 * and JPEG 2000 are decoded by the very libraries dcmtk and gdcm use (CharLS, OpenJPEG).
 */
const TOLERANCE: Record<string, { mean: number; max: number }> = {
  jpeg: { mean: 0.1, max: 2 },
  'jpeg-ls': { mean: 0, max: 0 },
  'jpeg-2000': { mean: 0, max: 0 },
};

const decodeFile = (file: string): Promise<DicomVideo> => readDicomVideo(codecFixture(file));
const gunzipped = (file: string) => gunzipSync(readFileSync(codecFixture(file)));

/** Every frame's stored values (masked, sign-extended), concatenated. */
async function storedValues(file: string): Promise<number[]> {
  const frames = await openDicomFrames(file, readFileSync(codecFixture(file)));
  return Array.from({ length: frames.header.count }, (_, k) => Array.from(frames.storedValues(k))).flat();
}

async function expectRefusal(file: string, pattern: RegExp): Promise<string> {
  const path = codecFixture(file);
  const e = await readDicomVideo(path).then(
    () => null,
    (err: unknown) => err as Error,
  );
  expect(e, `${file} is refused`).to.be.instanceOf(Error);
  expect(e!.message.startsWith(`${path}: `)).to.equal(true);
  expect(e!.message).to.match(pattern);
  return e!.message;
}

describe('data/dicom codecs: files written by dcmtk, gdcm and pydicom', function () {
  it(`the fixtures name their writers: dcmtk ${manifest.tools.dcmtk}, gdcm ${manifest.tools.gdcm}, pydicom ${manifest.tools.pydicom}; every compressed syntax read here is among them, written by dcmtk and by gdcm wherever the tool writes it`, function () {
    const bySyntax = new Map<string, Set<string>>();
    for (const f of manifest.fixtures) {
      if (!bySyntax.has(f.transferSyntax)) bySyntax.set(f.transferSyntax, new Set());
      bySyntax.get(f.transferSyntax)!.add(f.writer);
    }
    const writers = (uid: string) => [...(bySyntax.get(uid) ?? [])].sort();
    // dcmtk writes no JPEG 2000; gdcm no process-14 predictor 6, spectral selection or progressive
    // JPEG, and its lossy JPEG of 8-bit data is baseline.
    expect(writers('1.2.840.10008.1.2.5')).to.deep.equal(['dcmtk', 'gdcm']);
    expect(writers('1.2.840.10008.1.2.4.50')).to.deep.equal(['dcmtk', 'gdcm']);
    expect(writers('1.2.840.10008.1.2.4.51')).to.deep.equal(['dcmtk']);
    expect(writers('1.2.840.10008.1.2.4.53')).to.deep.equal(['dcmtk']);
    expect(writers('1.2.840.10008.1.2.4.55')).to.deep.equal(['dcmtk']);
    expect(writers('1.2.840.10008.1.2.4.57')).to.deep.equal(['dcmtk']);
    expect(writers('1.2.840.10008.1.2.4.70')).to.deep.equal(['dcmtk', 'gdcm']);
    expect(writers('1.2.840.10008.1.2.4.80')).to.deep.equal(['dcmtk', 'gdcm']);
    expect(writers('1.2.840.10008.1.2.4.81')).to.deep.equal(['dcmtk', 'gdcm']);
    expect(writers('1.2.840.10008.1.2.4.90')).to.deep.equal(['gdcm', 'pydicom']);
    expect(writers('1.2.840.10008.1.2.4.91')).to.deep.equal(['gdcm']);
    expect(writers('1.2.840.10008.1.2.2')).to.deep.equal(['dcmtk']);
  });

  describe('lossless files decode to the stored values of their pydicom-written source, exactly', function () {
    for (const f of manifest.fixtures.filter((x) => x.lossless)) {
      it(`${f.file} (${transferSyntaxName(f.transferSyntax)}; ${f.command}) = ${f.source}`, async function () {
        const [got, want] = await Promise.all([storedValues(f.file), storedValues(f.source)]);
        expect(got.length).to.equal(want.length);
        expect(
          got.findIndex((v, i) => v !== want[i]),
          'first differing sample',
        ).to.equal(-1);
        const [v, s] = await Promise.all([decodeFile(f.file), decodeFile(f.source)]);
        expect([v.count, v.width, v.height, v.fps]).to.deep.equal([FRAMES, W, H, 50]);
        expect(v.dicom.transferSyntax).to.equal(f.transferSyntax);
        expect(Buffer.from(v.frames).equals(Buffer.from(s.frames)), 'the same RGB frames').to.equal(true);
      });
    }
  });

  describe("lossy files decode within the decoder tolerance of their writer's own decoding", function () {
    for (const f of manifest.fixtures.filter((x) => x.reference)) {
      const tolerance = TOLERANCE[pixelCodec(f.transferSyntax)!];
      it(`${f.file} (${transferSyntaxName(f.transferSyntax)}; ${f.command}) vs ${f.reference!.command}: mean <= ${tolerance.mean}, max <= ${tolerance.max}`, async function () {
        const v = await decodeFile(f.file);
        const ref = await decodeDicomVideo(f.reference!.file, gunzipped(f.reference!.file));
        expect([v.count, v.width, v.height, v.fps]).to.deep.equal([FRAMES, W, H, 50]);
        const d = differences(v.frames, ref.frames);
        expect(d.mean, JSON.stringify(d)).to.be.at.most(tolerance.mean);
        expect(d.max, JSON.stringify(d)).to.be.at.most(tolerance.max);
        // Not a reference that is itself garbage: the source is close.
        expect(differences(v.frames, (await decodeFile(f.source)).frames).mean).to.be.below(2);
      });
    }
  });

  it('silent misread 1 fixed: explicit VR big endian with 8-bit pixel data as OW (dcmconv +ti, then +tb) is byte-swapped back, exactly the source; as OB (pydicom) it is read as stored', async function () {
    const source = await decodeFile('src-rgb.dcm');
    for (const file of ['dcmtk-be-ow-rgb.dcm', 'be-rgb-ob.dcm']) {
      const v = await decodeFile(file);
      expect(v.dicom.transferSyntaxName).to.equal('Explicit VR Big Endian');
      expect(differences(v.frames, source.frames).max, file).to.equal(0);
    }
  });

  it("silent misread 2 fixed: gdcm's lossy JPEG (header RGB, 4:2:0 YCbCr inside, no JFIF or Adobe marker) is read as YCbCr, as libjpeg guesses (dcmdjpeg +cg): mean <= 0.1 level from it, <= 1 from the source", async function () {
    const v = await decodeFile('gdcm-jpeg-lossy-rgb.dcm');
    expect(v.dicom.photometric).to.equal('RGB');
    const ref = await decodeDicomVideo('dcmdjpeg +cg', gunzipped('ref/gdcm-jpeg-lossy-rgb.dcm.gz'));
    expect(differences(v.frames, ref.frames).mean).to.be.at.most(0.1);
    expect(differences(v.frames, (await decodeFile('src-rgb.dcm')).frames).mean).to.be.at.most(1);
  });

  describe('PALETTE COLOR and >8-bit greyscale as dcmtk (dcm2pnm) or pydicom render them', function () {
    for (const r of manifest.renderings) {
      // dcm2pnm maps a file without a window onto 0-255 with its own rounding.
      const exact = !r.source.startsWith('src-mono16s');
      it(`${r.source}: ${r.command}${exact ? ', exactly' : ', within 1 level'}`, async function () {
        const v = await decodeFile(r.source);
        const d = differences(v.frames, gunzipped(r.file));
        expect(d.max, JSON.stringify(d)).to.be.at.most(exact ? 0 : 1);
        // The rendering uses the range: not one flat colour.
        expect(new Set(v.frames).size).to.be.above(50);
      });
    }
  });

  it('truncated files say truncated, wherever they are cut: inside the meta header, right before the pixel data, in it (never "single-frame image")', async function () {
    const files = [
      ...['src-rgb.dcm', 'dcmtk-rle-rgb.dcm', 'gdcm-jpegls-rgb.dcm', 'gdcm-j2k-rgb.dcm'].map(codecFixture),
      codecFixture('../us_ybrfull_deflated.dcm'),
    ];
    const messages = new Set<string>();
    for (const path of files) {
      const bytes = readFileSync(path);
      // Inside the meta header, just before the pixel data element (the data set then ends
      // cleanly without it), and throughout the file.
      const pixelTag = bytes.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
      const cuts = [160, 250, 318, ...(pixelTag > 0 ? [pixelTag] : [])];
      for (let k = 1; k < 40; k++) cuts.push(Math.floor(140 + ((bytes.length - 141) * k) / 40));
      for (const cut of cuts) {
        const e = await decodeDicomVideo('cut.dcm', bytes.subarray(0, cut)).then(
          () => null,
          (err: unknown) => err as Error,
        );
        expect(e, `${path} cut at ${cut}`).to.be.instanceOf(Error);
        expect(e!.message, `${path} cut at ${cut}`).to.match(/truncated/);
        messages.add(e!.message.replace(/\d+/g, 'N'));
      }
    }
    expect(messages.size, [...messages].join('\n')).to.be.at.least(3);
  });

  it('every transfer syntax is named by name (JPEG Full Progression is no longer unknown); a 12-bit lossy JPEG is refused naming its syntax, with dcmdjpeg as the way out; video syntaxes with the commands that extract them, the frame rate filled in', async function () {
    expect(transferSyntaxName('1.2.840.10008.1.2.4.55')).to.equal(
      'JPEG Full Progression, Non-Hierarchical (Process 10 & 12)',
    );
    expect((await decodeFile('dcmtk-jpeg-progressive-rgb.dcm')).dicom.transferSyntaxName).to.match(
      /^JPEG Full Progression/,
    );
    expect(transferSyntaxName('1.2.3.4')).to.equal('unknown transfer syntax');
    await expectRefusal(
      'dcmtk-jpeg-extended12-mono16.dcm',
      /JPEG Extended \(Process 2 & 4\): 12-bit lossy JPEG .*convert it first \(dcmtk: dcmdjpeg \+cg in\.dcm out\.dcm\)/,
    );
    await expectRefusal(
      'pydicom-h264-rgb.dcm',
      /unsupported transfer syntax 1\.2\.840\.10008\.1\.2\.4\.102 \(MPEG-4 AVC\/H\.264 High Profile \/ Level 4\.1\); convert it first \(.*gdcmraw -i in\.dcm -t 7fe0,0010 -o video\.h264 && ffmpeg -r 50 -i video\.h264/,
    );
    expect(conversionHint('1.2.840.10008.1.2.4.80')).to.contain('dcmdjpls');
    expect(conversionHint('1.2.840.10008.1.2.4.90')).to.contain('gdcmconv --raw');
    expect(conversionHint('1.2.840.10008.1.2.4.90')).not.to.contain('dcmtk');
  });

  it('each conversion hint works: dcmtk, gdcm (and ffmpeg for video) run as the message says turn a file of that syntax into one read here with the same frames (exact where lossless, within 2 levels where lossy; 2 frames at 50 fps for video)', async function () {
    this.timeout(60_000);
    const missing = ['dcmdjpeg', 'dcmdjpls', 'dcmdrle', 'dcmconv', 'gdcmconv', 'gdcmraw'].filter(
      (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0,
    );
    expect(missing, 'dcmtk and gdcm (bash .ci/system-packages installs them)').to.deep.equal([]);
    const DEFLATED = '1.2.840.10008.1.2.1.99';
    // [file, its transfer syntax, what the converted file must decode to: the same frames, or (for
    // a file refused here) its source within lossy tolerance]
    const cases: [string, string, string | null][] = [
      ['dcmtk-rle-rgb.dcm', '', null],
      ['dcmtk-jpeg-ll70-rgb.dcm', '', null],
      ['gdcm-jpeg-lossy-rgb.dcm', '', null],
      ['dcmtk-jpeg-progressive-rgb.dcm', '', null],
      ['dcmtk-jpeg-extended12-mono16.dcm', '', 'src-mono16.dcm'],
      ['gdcm-jpegls-rgb.dcm', '', null],
      ['dcmtk-jpegls-near-rgb.dcm', '', null],
      ['gdcm-j2k-rgb.dcm', '', null],
      ['gdcm-j2k-lossy-rgb.dcm', '', null],
      ['dcmtk-be-ow-rgb.dcm', '', null],
      ['../us_ybrfull_deflated.dcm', DEFLATED, null],
      ['pydicom-mpeg2-rgb.dcm', '', null],
      ['pydicom-h264-rgb.dcm', '', null],
      ['pydicom-hevc-rgb.dcm', '', null],
    ];
    const hints = new Set<string>();
    for (const [file, syntax, source] of cases) {
      const uid = syntax || manifest.fixtures.find((f) => f.file === file)!.transferSyntax;
      const hint = conversionHint(uid, 50);
      hints.add(hint);
      const dir = tmp('hint');
      writeFileSync(join(dir, 'in.dcm'), readFileSync(codecFixture(file)));
      const command = /\((?:[^:]+): (.*?)(?:, then segment-video (\S+))?\)$/.exec(hint);
      expect(command, `${file}: a command in "${hint}"`).to.not.equal(null);
      for (const step of command![1].split(' && ')) {
        const [tool, ...args] = step.split(' ');
        const r = spawnSync(tool === 'ffmpeg' ? ffmpegInstaller.path : tool, args, {
          cwd: dir,
          encoding: 'utf8',
        });
        expect(r.status, `${file}: ${step}: ${r.stderr}`).to.equal(0);
      }
      if (command![2]) {
        const video = await openVideo(join(dir, command![2]));
        expect([video.count, video.fps, video.width, video.height], file).to.deep.equal([FRAMES, 50, W, H]);
        continue;
      }
      const converted = await readDicomVideo(join(dir, 'out.dcm'));
      expect(pixelCodec(converted.dicom.transferSyntax), file).to.equal('native');
      const want = await decodeFile(source ?? file);
      const d = differences(converted.frames, want.frames);
      const lossy = source !== null || manifest.fixtures.find((f) => f.file === file)?.lossless === false;
      if (lossy && source) expect(d.mean, `${file}: ${JSON.stringify(d)}`).to.be.below(1);
      else expect(d.max, `${file}: ${JSON.stringify(d)}`).to.be.at.most(lossy ? 2 : 0);
    }
    expect(hints.size).to.equal(8);
  });
});

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import { decodeVideo, encodeVideo, probeVideo, VideoError } from '../../src/data/video.js';

/** Smooth gradients that move per frame: lossy codecs keep them close, noise they would not. */
function testFrames(count: number, height: number, width: number): Uint8Array {
  const f = new Uint8Array(count * height * width * 3);
  for (let t = 0; t < count; t++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const i = ((t * height + y) * width + x) * 3;
        f[i] = (x * 2 + t * 3) & 255;
        f[i + 1] = (y * 2) & 255;
        f[i + 2] = 128;
      }
  return f;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

async function expectVideoError(promise: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (e) {
    expect(e).to.be.instanceOf(VideoError);
    expect((e as VideoError).file).to.equal(file);
    expect((e as VideoError).message).to.match(pattern);
    expect((e as VideoError).message.startsWith(`${file}: `)).to.equal(true);
    return;
  }
  expect.fail(`expected a VideoError for ${file}`);
}

describe('data/video', function () {
  let dir: string;
  const W = 112;
  const H = 112;
  const F = 12;
  const frames = testFrames(F, H, W);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'video-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips FFV1 losslessly, with the probed size, rate and count', async () => {
    const path = join(dir, 'lossless.mkv');
    await encodeVideo(path, frames, { width: W, height: H, fps: 50, codec: 'ffv1' });
    expect(await probeVideo(path)).to.deep.equal({ width: W, height: H, fps: 50, frames: F });
    const v = await decodeVideo(path);
    expect([v.count, v.height, v.width, v.fps]).to.deep.equal([F, H, W, 50]);
    expect(Buffer.from(v.frames).equals(Buffer.from(frames))).to.equal(true);
  });

  it('round-trips MJPEG AVI (the default for .avi) closely', async () => {
    const path = join(dir, 'echo.avi');
    await encodeVideo(path, frames, { width: W, height: H, fps: 47 });
    const probe = await probeVideo(path);
    expect(probe).to.deep.equal({ width: W, height: H, fps: 47, frames: F });
    const v = await decodeVideo(path);
    expect(v.count).to.equal(F);
    expect(meanAbsDiff(v.frames, frames)).to.be.below(2);
    const args = [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name',
      '-of',
      'csv=p=0',
      path,
    ];
    expect(execFileSync(ffprobeInstaller.path, args, { encoding: 'utf8' }).trim()).to.equal('mjpeg');
  });

  it('writes H.264 MP4 and pads odd sizes to even', async () => {
    const path = join(dir, 'overlay.mp4');
    const odd = testFrames(4, 15, 21);
    await encodeVideo(path, odd, { width: 21, height: 15, fps: 25 });
    const probe = await probeVideo(path);
    expect([probe.width, probe.height, probe.frames, probe.fps]).to.deep.equal([22, 16, 4, 25]);
  });

  it('resizes on decode', async () => {
    const v = await decodeVideo(join(dir, 'echo.avi'), { width: 56, height: 40 });
    expect([v.count, v.height, v.width, v.frames.length]).to.deep.equal([F, 40, 56, F * 40 * 56 * 3]);
    // The horizontal gradient survives area averaging: the red channel still grows left to right.
    expect(v.frames[(20 * 56 + 50) * 3]).to.be.greaterThan(v.frames[(20 * 56 + 5) * 3] + 50);
  });

  it('leaves no temporary files behind and keeps the extension for the container', async () => {
    const names = readdirSync(dir);
    expect(names.filter((n) => n.includes('.tmp'))).to.deep.equal([]);
    expect(readFileSync(join(dir, 'echo.avi')).subarray(0, 4).toString()).to.equal('RIFF');
  });

  it('rejects a frame buffer that is not whole frames', async () => {
    const path = join(dir, 'bad.avi');
    await expectVideoError(
      encodeVideo(path, frames.subarray(1), { width: W, height: H, fps: 50 }),
      path,
      /whole number/,
    );
    expect(readdirSync(dir)).to.not.include('bad.avi');
  });

  it('reports a missing file', async () => {
    const path = join(dir, 'missing.avi');
    await expectVideoError(decodeVideo(path), path, /no such file/);
    await expectVideoError(probeVideo(path), path, /no such file/);
  });

  it('reports a file that is not a video', async () => {
    const path = join(dir, 'text.avi');
    writeFileSync(path, 'this is not a video\n'.repeat(50));
    await expectVideoError(decodeVideo(path), path, /not a readable video/);
    const audio = join(dir, 'tone.wav');
    execFileSync(ffmpegInstaller.path, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=0.2', audio]);
    await expectVideoError(probeVideo(audio), audio, /no video stream/);
  });

  it('reports a truncated video', async () => {
    const whole = readFileSync(join(dir, 'echo.avi'));
    const path = join(dir, 'truncated.avi');
    writeFileSync(path, whole.subarray(0, Math.floor(whole.length * 0.6)));
    await expectVideoError(decodeVideo(path), path, /truncated/);
  });

  it('reports corrupt frame data', async () => {
    const bytes = Buffer.from(readFileSync(join(dir, 'echo.avi')));
    for (let i = 4000; i < bytes.length - 2000; i += 37) bytes[i] ^= 0x5a;
    const path = join(dir, 'corrupt.avi');
    writeFileSync(path, bytes);
    await expectVideoError(decodeVideo(path), path, /corrupt|truncated/);
  });

  it('reports a video with zero frames', async () => {
    const path = join(dir, 'empty.avi');
    execFileSync(ffmpegInstaller.path, [
      '-v',
      'error',
      '-f',
      'rawvideo',
      '-s',
      '8x8',
      '-pix_fmt',
      'rgb24',
      '-i',
      '/dev/null',
      '-c:v',
      'mjpeg',
      path,
    ]);
    await expectVideoError(decodeVideo(path), path, /zero frames/);
  });
});

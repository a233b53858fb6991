import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeVideo, probeWithFfmpeg, probeWithFfprobe, VideoError } from '../../src/data/video.js';

// Installs without the ffprobe binary (the GPU machine's bundle) probe with ffmpeg alone: it must
// report what ffprobe reports.
describe('data/video: probing with ffmpeg alone gives what ffprobe gives', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'unilvseg-probe-'));
  const cases = [
    { file: 'a.avi', codec: 'mjpeg' as const, width: 112, height: 112, fps: 50, count: 23 },
    { file: 'b.mp4', codec: 'h264' as const, width: 96, height: 64, fps: 30000 / 1001, count: 17 },
    { file: 'c.mkv', codec: 'ffv1' as const, width: 48, height: 80, fps: 12.5, count: 9 },
  ];
  for (const c of cases)
    it(`${c.codec} in ${c.file.split('.')[1]}: ${c.width}x${c.height}, ${c.count} frames at ${c.fps.toFixed(3)} fps`, async () => {
      const path = join(dir, c.file);
      const frames = Uint8Array.from({ length: c.count * c.width * c.height * 3 }, (_, i) => (i * 7) & 255);
      await encodeVideo(path, frames, { width: c.width, height: c.height, fps: c.fps, codec: c.codec });
      const ref = await probeWithFfprobe(path);
      const got = await probeWithFfmpeg(path);
      expect({ ...got, fps: 0 }).to.deep.equal({ ...ref, fps: 0 });
      expect(got.frames).to.equal(c.count);
      // ffmpeg prints the rate with two decimals (29.97 for 30000/1001)
      expect(Math.abs(got.fps - ref.fps) / ref.fps).to.be.below(2e-4);
    });
  it('names the file and the problem for a file that is not a video', async () => {
    const path = join(dir, 'garbage.avi');
    writeFileSync(path, Buffer.from('this is not a video at all, just text '.repeat(100)));
    const error = await probeWithFfmpeg(path).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(VideoError);
    expect((error as VideoError).message).to.match(/garbage\.avi: not a readable video/);
  });
});

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeVideo } from '../../src/data/video.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { fixtureVideoNames, synthDataset, tinyArtifactSet } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('unilvseg-serve');
const DICOM_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dicom/', import.meta.url));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw HTTP GET: the path goes out exactly as written (fetch would normalise `..` away first). */
function get(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('unilvseg serve', function () {
  this.timeout(120_000);
  let server: RunningServer;
  let data: string;
  let outside: string;
  let video: string;

  before(async () => {
    const synth = await synthDataset();
    video = fixtureVideoNames(synth)[0];
    // A folder to serve: one video, a CSV beside it, and symbolic links leading out of it.
    data = tmp('data');
    outside = tmp('outside');
    mkdirSync(join(data, 'Videos'));
    copyFileSync(join(synth, 'Videos', video), join(data, 'Videos', video));
    writeFileSync(join(data, 'FileList.csv'), 'FileName,EF\n');
    copyFileSync(join(synth, 'Videos', video), join(outside, 'secret.avi'));
    writeFileSync(join(outside, 'secret.txt'), 'patient data');
    symlinkSync(join(outside, 'secret.avi'), join(data, 'Videos', 'link-out.avi'));
    symlinkSync(outside, join(data, 'linked-folder'));
    symlinkSync(join(data, 'Videos', video), join(data, 'link-in.avi'));
    // A scanner export: DICOM named by extension or only by content, its DICOMDIR index, a note.
    mkdirSync(join(data, 'dicom'));
    copyFileSync(join(DICOM_FIXTURES, 'us_jpeg.dcm'), join(data, 'dicom', 'IM0001'));
    copyFileSync(join(DICOM_FIXTURES, 'us_rgb.dcm'), join(data, 'dicom', 'scan.dcm'));
    copyFileSync(join(DICOM_FIXTURES, 'us_rgb.dcm'), join(data, 'dicom', 'DICOMDIR'));
    writeFileSync(join(data, 'dicom', 'notes.txt'), 'exported by the scanner');
    writeFileSync(join(data, 'dicom', 'zz-broken.dcm'), 'not a DICOM file');
    const set = await tinyArtifactSet();
    server = await startServer({
      dataPath: data,
      modelFile: set.files.model,
      port: 0,
      transcodeDir: tmp('transcoded'),
    });
  });

  after(() => server?.close());

  it('binds 127.0.0.1 and sends the cross-origin isolation headers on the page and on videos', async () => {
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const path of ['/', `/videos/Videos/${video}`, '/ort/ort-wasm-simd-threaded.asyncify.wasm']) {
      const r = await get(server.url, path, {}, 'HEAD');
      expect(r.status, path).to.equal(200);
      expect(r.headers['cross-origin-opener-policy'], path).to.equal('same-origin');
      expect(r.headers['cross-origin-embedder-policy'], path).to.equal('require-corp');
      expect(r.headers['cross-origin-resource-policy'], path).to.equal('same-origin');
    }
    const wasm = await get(server.url, '/ort/ort-wasm-simd-threaded.asyncify.wasm', {}, 'HEAD');
    expect(wasm.headers['content-type']).to.equal('application/wasm');
  });

  it('refuses paths leading outside the folder: .., %2e%2e, absolute paths, symbolic links out', async () => {
    const refused = [
      '/videos/../../../etc/passwd',
      `/videos/Videos/../../${'..'}/etc/passwd`,
      '/videos/%2e%2e/%2e%2e/etc/passwd',
      '/videos/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/videos//etc/passwd',
      '/videos/%2Fetc%2Fpasswd',
      `/videos/${encodeURIComponent(join(outside, 'secret.avi'))}`,
      '/videos/Videos/link-out.avi',
      '/videos/linked-folder/secret.avi',
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      `/api/info?path=${encodeURIComponent('../' + outside.split('/').pop() + '/secret.avi')}`,
      '/api/info?path=Videos/link-out.avi',
    ];
    for (const path of refused) {
      const r = await get(server.url, path);
      expect(r.status, path).to.equal(403);
      expect(r.body.toString(), path).not.to.include('patient data');
    }
    // Inside the folder, a link to a video inside is fine; files that are not videos are not served.
    expect((await get(server.url, '/videos/link-in.avi')).status).to.equal(200);
    expect((await get(server.url, '/videos/FileList.csv')).status).to.equal(404);
    expect((await get(server.url, '/videos/%ZZ')).status).to.equal(400);
  });

  it('is read-only and answers only for its own host names (DNS rebinding)', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await get(server.url, `/videos/Videos/${video}`, {}, method);
      expect(r.status, method).to.equal(405);
      expect(r.headers.allow).to.equal('GET, HEAD');
    }
    expect((await get(server.url, '/', { Host: 'evil.example:80' })).status).to.equal(421);
    expect((await get(server.url, '/', { Host: `localhost:${new URL(server.url).port}` })).status).to.equal(
      200,
    );
  });

  it('lists only the videos, and transcodes AVI to WebM/MP4 with every frame, with byte ranges for seeking', async () => {
    const list = JSON.parse((await get(server.url, '/api/videos')).body.toString()) as { path: string }[];
    // Symbolic links are not listed (never followed while listing), hidden entries neither.
    expect(list.map((v) => v.path)).to.deep.equal([
      'Videos/' + video,
      'dicom/IM0001',
      'dicom/scan.dcm',
      'dicom/zz-broken.dcm',
    ]);
    const info = JSON.parse((await get(server.url, `/api/info?path=Videos/${video}`)).body.toString());
    const source = await probeVideo(join(data, 'Videos', video));
    expect(info).to.deep.equal(source);
    for (const [format, type] of [
      ['webm', 'video/webm'],
      ['mp4', 'video/mp4'],
    ]) {
      const r = await get(server.url, `/videos/Videos/${video}?format=${format}`);
      expect(r.status, format).to.equal(200);
      expect(r.headers['content-type'], format).to.equal(type);
      const file = join(tmp('check'), `copy.${format}`);
      writeFileSync(file, r.body);
      const probed = await probeVideo(file);
      expect(probed, format).to.deep.include({
        width: source.width,
        height: source.height,
        frames: source.frames,
      });
      expect(probed.fps, format).to.be.closeTo(source.fps, 1e-6);
      const part = await get(server.url, `/videos/Videos/${video}?format=${format}`, {
        Range: 'bytes=100-199',
      });
      expect(part.status).to.equal(206);
      expect(part.body.equals(r.body.subarray(100, 200))).to.be.true;
    }
    expect((await get(server.url, `/videos/Videos/${video}?format=gif`)).status).to.equal(400);
  });

  it('lists DICOM files by name or by content (not a DICOMDIR index or other files), serves them byte for byte with ranges, and answers /api/info from their header', async () => {
    const list = JSON.parse((await get(server.url, '/api/videos')).body.toString()) as {
      path: string;
      dicom: boolean;
      playable: boolean;
    }[];
    expect(list.map((v) => [v.path, v.dicom, v.playable])).to.deep.equal([
      ['Videos/' + video, false, false],
      ['dicom/IM0001', true, false],
      ['dicom/scan.dcm', true, false],
      ['dicom/zz-broken.dcm', true, false],
    ]);
    for (const [name, fixture] of [
      ['IM0001', 'us_jpeg.dcm'],
      ['scan.dcm', 'us_rgb.dcm'],
    ]) {
      const r = await get(server.url, `/videos/dicom/${name}`);
      expect(r.status, name).to.equal(200);
      expect(r.body.equals(readFileSync(join(DICOM_FIXTURES, fixture))), name).to.be.true;
      expect(r.headers['cross-origin-resource-policy'], name).to.equal('same-origin');
    }
    const part = await get(server.url, '/videos/dicom/IM0001', { Range: 'bytes=128-131' });
    expect([part.status, part.body.toString('latin1')]).to.deep.equal([206, 'DICM']);
    expect((await get(server.url, '/videos/dicom/DICOMDIR')).status).to.equal(404);
    // /api/info reads a DICOM file's header (no ffprobe guesses); a broken one is a 422 naming it.
    const info = JSON.parse((await get(server.url, '/api/info?path=dicom/IM0001')).body.toString());
    expect(info).to.deep.equal({
      format: 'dicom',
      width: 96,
      height: 80,
      frames: 62,
      fps: 50,
      fpsFrom: 'FrameTime',
      spacing: { x: 0.3, y: 0.25, source: 'SequenceOfUltrasoundRegions' },
    });
    const broken = await get(server.url, '/api/info?path=dicom/zz-broken.dcm');
    expect(broken.status).to.equal(422);
    expect(JSON.parse(broken.body.toString()).error).to.match(/zz-broken\.dcm: not a DICOM Part 10 file/);
    expect((await get(server.url, '/videos/dicom/notes.txt')).status).to.equal(404);
  });

  it('offers the default model and reports a corrupt video as 422 naming it', async () => {
    const config = JSON.parse((await get(server.url, '/api/config')).body.toString());
    expect(config.model).to.deep.include({ url: '/model.onnx', name: 'model.onnx', frames: 16, size: 112 });
    expect((await get(server.url, '/model.onnx')).status).to.equal(200);
    writeFileSync(join(data, 'Videos', 'broken.avi'), 'not a video at all');
    // The model's set has its weak train and optimizer graphs: offered for fine-tuning in the page,
    // byte for byte, and nothing else of the set's folder.
    const set = await tinyArtifactSet();
    expect(config.training).to.deep.equal({
      'manifest.json': '/training/manifest.json',
      'train_weak.onnx': '/training/train_weak.onnx',
      'optimizer_weak.onnx': '/training/optimizer_weak.onnx',
    });
    const served = await get(server.url, '/training/train_weak.onnx');
    expect(served.status).to.equal(200);
    expect(served.body.equals(readFileSync(set.files.train_weak))).to.equal(true);
    for (const other of ['checkpoint.safetensors', 'train_ssl.onnx', '..%2fmodel.onnx'])
      expect((await get(server.url, `/training/${other}`)).status, other).to.equal(404);
    const r = await get(server.url, '/videos/Videos/broken.avi');
    expect(r.status).to.equal(422);
    expect(JSON.parse(r.body.toString()).error).to.include('broken.avi');
  });

  it('`unilvseg serve` prints its URL and serves the viewer until stopped', async () => {
    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const child = spawn(process.execPath, [main, 'serve', '--data_path', data, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const page = await get(url, '/');
      expect(page.status).to.equal(200);
      expect(page.body.toString()).to.include('<lv-segmenter');
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).to.equal(0);
  });
});

// `unilvseg serve`: the browser viewer (web/dist), a folder's videos (read-only, AVI transcoded for
// the browser) and a default model, over plain HTTP on the loopback interface by default. The
// viewer runs the model in the browser; this server never runs inference.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import send from 'send';
import { probeDicomFile } from '../data/dicom/read.js';
import { probeVideo, VideoError, type BrowserFormat } from '../data/video.js';
import { readModelHeader, type ModelHeader } from '../infer/model-header.js';
import { PathRefused, resolveInside } from './paths.js';
import { isDicomVideo, isVideoFile, listVideos, playableFormat, TranscodeCache } from './videos.js';

export interface ServeOptions {
  /** Folder whose videos are offered (never written). */
  dataPath: string;
  /** model.onnx offered as the page's default model. */
  modelFile?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The built viewer (default: this package's web/dist). */
  webRoot?: string;
  transcodeDir?: string;
  /** One record per request (method, path, status, milliseconds), e.g. a JsonlLog's write. */
  log?: (record: Record<string, unknown>) => void;
}

/** The files of the model's artifact set that the page's fine-tuning runs (docs/training-abi.md). */
export const TRAINING_FILES = ['manifest.json', 'train_weak.onnx', 'optimizer_weak.onnx'] as const;

/** The model's set folder when it holds the weak train and optimizer graphs beside model.onnx, else undefined. */
function trainingDir(modelFile: string): string | undefined {
  const dir = dirname(modelFile);
  return TRAINING_FILES.every((f) => existsSync(join(dir, f))) ? dir : undefined;
}

export interface RunningServer {
  url: string;
  server: Server;
  model?: { file: string; header: ModelHeader };
  close(): Promise<void>;
}

export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * Headers on every response. COOP + COEP make the page cross-origin isolated, which
 * SharedArrayBuffer and so onnxruntime-web's multi-threaded wasm need; CORP lets our own
 * resources load under COEP. The CSP allows only this origin (wasm compilation included).
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; " +
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; " +
    "connect-src 'self' blob: data:; frame-ancestors 'none'",
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Host header without the port ("[::1]:8080" -> "[::1]"). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  return header.split(':')[0].toLowerCase();
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** Stream a file with Range and conditional-GET support (what <video> seeking relies on). */
function sendFile(req: IncomingMessage, res: ServerResponse, file: string, cache: string): Promise<void> {
  return new Promise((resolve) => {
    const stream = send(req, '/' + encodeURIComponent(basename(file)), {
      root: dirname(file),
      dotfiles: 'allow',
      cacheControl: false,
    });
    stream.on('headers', (r: ServerResponse) => r.setHeader('Cache-Control', cache));
    stream.on('error', (err: Error & { status?: number }) => {
      if (!res.headersSent) sendJson(res, err.status ?? 500, { error: err.message });
      resolve();
    });
    stream.on('end', resolve);
    res.on('close', resolve);
    stream.pipe(res);
  });
}

export function webRootOrThrow(webRoot: string): string {
  if (!existsSync(join(webRoot, 'index.html')))
    throw new Error(
      `the viewer is not built (${join(webRoot, 'index.html')} is missing): run \`npm run build\``,
    );
  return realpathSync(webRoot);
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  if (!existsSync(o.dataPath) || !statSync(o.dataPath).isDirectory())
    throw new Error(`--data_path ${o.dataPath} is not a folder`);
  const dataRoot = realpathSync(o.dataPath);
  const webRoot = webRootOrThrow(o.webRoot ?? DEFAULT_WEB_ROOT);
  const model = o.modelFile
    ? { file: o.modelFile, header: readModelHeader(o.modelFile, readFileSync(o.modelFile)) }
    : undefined;
  const training = model ? trainingDir(model.file) : undefined;
  const transcodes = new TranscodeCache(o.transcodeDir);
  const host = o.host ?? '127.0.0.1';
  const checkHost = LOOPBACK_HOSTS.has(host);

  async function route(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) {
    if (path === '/api/config') {
      return sendJson(res, 200, {
        model: model ? { url: '/model.onnx', name: basename(model.file), ...model.header } : null,
        // The set's weak train and optimizer graphs, for fine-tuning in the page.
        training: training ? Object.fromEntries(TRAINING_FILES.map((f) => [f, `/training/${f}`])) : null,
        data: basename(dataRoot),
      });
    }
    if (path === '/api/videos') return sendJson(res, 200, listVideos(dataRoot));
    if (path === '/api/info') {
      const file = resolveInside(dataRoot, encodeURIComponent(query.get('path') ?? ''));
      // A DICOM file's header states what ffprobe would guess at.
      if (isDicomVideo(file)) return sendJson(res, 200, { format: 'dicom', ...probeDicomFile(file) });
      if (!isVideoFile(file)) throw new HttpError(404, 'not a video file');
      return sendJson(res, 200, await probeVideo(file));
    }
    if (path === '/model.onnx') {
      if (!model) throw new HttpError(404, 'no default model: start serve with --model');
      return sendFile(req, res, model.file, 'no-cache');
    }
    if (path.startsWith('/training/')) {
      const name = path.slice('/training/'.length);
      if (!training || !(TRAINING_FILES as readonly string[]).includes(name))
        throw new HttpError(
          404,
          `no ${name} beside the model (fine-tuning needs ${TRAINING_FILES.join(', ')})`,
        );
      return sendFile(req, res, join(training, name), 'no-cache');
    }
    if (path.startsWith('/videos/')) {
      const file = resolveInside(dataRoot, path.slice('/videos/'.length));
      if (isDicomVideo(file)) return sendFile(req, res, file, 'no-cache');
      if (!isVideoFile(file)) throw new HttpError(404, 'only video files are served from the data folder');
      const wanted = query.get('format') ?? playableFormat(file) ?? 'webm';
      if (wanted !== 'mp4' && wanted !== 'webm')
        throw new HttpError(400, `format must be mp4 or webm, got ${JSON.stringify(wanted)}`);
      const copy =
        playableFormat(file) === wanted ? file : await transcodes.get(file, wanted as BrowserFormat);
      return sendFile(req, res, copy, 'no-cache');
    }
    const rel = path === '/' ? 'index.html' : path.slice(1);
    return sendFile(req, res, resolveInside(webRoot, rel), 'no-cache');
  }

  const server = createServer((req, res) => {
    const t0 = Date.now();
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    // The raw path, not a URL parser's normalised one: `..` must reach resolveInside to be refused.
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    res.on('finish', () =>
      o.log?.({ method: req.method, path: raw, status: res.statusCode, ms: Date.now() - t0 }),
    );
    const fail = (status: number, message: string) => {
      if (!res.headersSent) sendJson(res, status, { error: message });
      else res.destroy();
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return fail(405, 'read-only server: only GET and HEAD');
    }
    // DNS rebinding: a page on another site resolving its name to 127.0.0.1 must not read the videos.
    if (checkHost && !LOOPBACK_HOSTS.has(hostName(req.headers.host)))
      return fail(421, `host ${JSON.stringify(req.headers.host)} is not this server`);
    route(req, res, path, query).catch((e: unknown) => {
      if (e instanceof PathRefused || e instanceof HttpError) fail(e.status, e.message);
      else if (e instanceof VideoError) fail(422, e.message);
      else fail(500, e instanceof Error ? e.message : String(e));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${port}/`,
    server,
    model,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

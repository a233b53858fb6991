// `unilvseg serve`: the browser viewer and a folder's videos over HTTP (logic in src/serve/).
import { Command } from 'commander';
import { defaultModelFile, DEMO_MODEL_DIR } from '../serve/model.js';
import { startServer } from '../serve/server.js';
import { JsonlLog } from '../util/jsonl.js';
import { parse } from './flags.js';

interface ServeFlags {
  dataPath: string;
  model?: string;
  port: number;
  host: string;
  log?: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'Serve the browser viewer (segmentation runs in the browser with onnxruntime-web) and the videos of a folder, ' +
        'read-only; AVI is transcoded to MP4/WebM for the browser on first request.',
    )
    .requiredOption(
      '--data-path <dir>',
      'folder whose videos are offered (e.g. an EchoNet root); never written',
    )
    .option(
      '--model <path>',
      `default model for the page: model.onnx, an artifact set or a run folder (default: ${DEMO_MODEL_DIR} if it exists)`,
    )
    .option('--port <n>', 'TCP port (0: any free port)', parse.int, 8080)
    .option(
      '--host <addr>',
      'interface to listen on; anything but loopback exposes the videos to the network',
      '127.0.0.1',
    )
    .option('--log <file>', 'JSON-lines access log (one record per request)')
    .addHelpText(
      'after',
      `
The page is cross-origin isolated (COOP/COEP headers), so onnxruntime-web runs multi-threaded wasm; it uses WebGPU
when the browser offers an adapter. Requests for paths outside --data_path (.., encoded .., absolute paths, symbolic
links leading out) are refused; only video files are served from it. Transcoded copies are cached in
$UNILVSEG_CACHE/transcoded or the system temp folder.

Example:
  unilvseg serve --data_path demo/data --model demo/weak --port 8080`,
    )
    .action(async (o: ServeFlags) => {
      const log = o.log ? new JsonlLog(o.log) : undefined;
      const running = await startServer({
        dataPath: o.dataPath,
        modelFile: defaultModelFile(o.model),
        host: o.host,
        port: o.port,
        log: log && ((r) => log.write(r)),
      });
      const m = running.model;
      console.log(
        `serving ${o.dataPath} at ${running.url} (default model: ${m ? `${m.file}, ${m.header.encoder} T=${m.header.frames}` : 'none, the page asks for one'}); Ctrl-C stops`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => void running.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

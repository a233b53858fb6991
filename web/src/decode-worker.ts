// The decoding worker: DICOM and Motion-JPEG AVI files are decoded here, off the page's thread, so
// the page stays responsive and shows per-frame progress. Messages: in {format, name, bytes};
// out {progress: [done, total]}*, then {frames: DecodedFrames} (pixels transferred) or {error}.
import { readFileFrames, type FileFormat } from './file-readers.js';

interface Request {
  format: FileFormat;
  name: string;
  bytes: Uint8Array;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => unknown) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = async (e) => {
  const { format, name, bytes } = e.data;
  let last = 0;
  try {
    const frames = await readFileFrames(format, bytes, name, (done, total) => {
      // About 50 updates per file are enough for a progress bar.
      if (done === total || done - last >= Math.max(1, total / 50)) {
        last = done;
        scope.postMessage({ progress: [done, total] });
      }
    });
    scope.postMessage({ frames }, [frames.video.frames.buffer]);
  } catch (err) {
    scope.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};

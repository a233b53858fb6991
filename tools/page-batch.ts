// A fine-tuning batch that left the page as base64 strings ([frames, trace_mask, trace_index], as
// the browser tests and the browser bench carry it out of page.evaluate), back as the weak batch
// ort-train's runner takes, so Node can replay the page's step on the same data.
import type { WeakBatch } from '../src/data/loader.js';

export function weakBatchFromPage(base64: readonly string[]): WeakBatch {
  const [frames, mask, index] = base64.map((s) => new Uint8Array(Buffer.from(s, 'base64')));
  const n = index.byteLength / 8;
  return {
    frames,
    trace_mask: new Float32Array(mask.buffer, mask.byteOffset, mask.byteLength / 4),
    trace_index: new BigInt64Array(index.buffer, index.byteOffset, n),
    // the runner counts samples by their items
    items: Array.from({ length: n }, (_, i) => ({
      fileName: `sample ${i}`,
      which: 'ed' as const,
      traceFrame: i,
    })),
  };
}

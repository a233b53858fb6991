/**
 * Developer tool: our model.onnx against the torch.onnx export of the same weights
 * (export_unet3d.py), in one process, runs interleaved, 2 intra-op threads: logits agreement and
 * seconds per clip. Needs the files export_unet3d.py wrote; nothing here needs torch.
 * Usage: node dist/tools/torch-baseline/compare.js ARTIFACT_DIR TORCH_OUT_DIR [runs]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArtifactSet } from '../../src/artifacts/load.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { median, syntheticClip } from '../bench-common.js';

async function main(setDir: string, torchDir: string, runs: number) {
  const set = loadArtifactSet(setDir);
  const { frames: T, size: S, mean, std } = set.manifest.model;
  const raw = syntheticClip(T, S);
  // The torch export takes the normalised clip in upstream layout (N, 3, H, W, T).
  const x = new Float32Array(raw.length);
  for (let t = 0; t < T; t++)
    for (let h = 0; h < S; h++)
      for (let w = 0; w < S; w++)
        for (let c = 0; c < 3; c++)
          x[((c * S + h) * S + w) * T + t] = (raw[((t * S + h) * S + w) * 3 + c] / 255 - mean[c]) / std[c];
  const ours = await createSession(set.files.model, { threads: 2 });
  const theirs = await createSession(join(torchDir, 'torch_unet3d.onnx'), { threads: 2 });
  const oursFeeds = { frames: tensor('uint8', raw, [1, T, S, S, 3]) };
  const theirFeeds = { x: tensor('float32', x, [1, 3, S, S, T]) };
  const a = (await ours.run(oursFeeds)).logits.data as Float32Array; // [1, T, H, W]
  const b = (await theirs.run(theirFeeds)).logits.data as Float32Array; // [1, 1, H, W, T]
  let worst = 0;
  let scale = 0;
  for (let t = 0; t < T; t++)
    for (let i = 0; i < S * S; i++) {
      worst = Math.max(worst, Math.abs(a[t * S * S + i] - b[i * T + t]));
      scale = Math.max(scale, Math.abs(b[i * T + t]));
    }
  const reference = JSON.parse(readFileSync(join(torchDir, 'reference.json'), 'utf8')) as { sum: number };
  const ourSum = a.reduce((s, v) => s + v, 0);
  const times = { ours: [] as number[], torchExport: [] as number[] };
  for (let r = 0; r < runs; r++) {
    let t0 = performance.now();
    await ours.run(oursFeeds);
    times.ours.push((performance.now() - t0) / 1000);
    t0 = performance.now();
    await theirs.run(theirFeeds);
    times.torchExport.push((performance.now() - t0) / 1000);
  }
  const [o, e] = [median(times.ours), median(times.torchExport)];
  console.log(
    JSON.stringify({
      encoder: set.manifest.model.encoder,
      maxAbsLogitDiffVsTorchExport: worst,
      logitScale: scale,
      ourLogitSum: ourSum,
      pytorchLogitSum: reference.sum,
      secondsPerClip: {
        ours: Number(o.toFixed(3)),
        torchExport: Number(e.toFixed(3)),
        ratio: Number((o / e).toFixed(3)),
      },
      runs,
      threads: 2,
    }),
  );
}

const [setDir, torchDir, runs] = process.argv.slice(2);
if (!setDir || !torchDir) {
  console.error('usage: node dist/tools/torch-baseline/compare.js ARTIFACT_DIR TORCH_OUT_DIR [runs]');
  process.exit(2);
}
main(setDir, torchDir, Number(runs ?? 5)).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

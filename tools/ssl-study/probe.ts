// What an SSL checkpoint's output means for segmentation before any weak training: its logits on
// the validation split's traced frames, inside the LV cavity against outside it (within the
// fan), and the DSC of thresholding them at 0 as they are and with the sign flipped. Evidence for
// docs/transfer.md's question whether the reconstruction head starts anti-correlated with the
// segmentation target.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadArtifactSet, readCheckpoint } from '../../src/artifacts/index.js';
import { openEchoNet } from '../../src/data/echonet.js';
import { BatchLoader } from '../../src/data/loader.js';
import { overlap, pooledDice, type Overlap } from '../../src/eval/metrics.js';
import { PhaseRunner } from '../../src/train/runner.js';
import { sslCheckpoint, type StudySettings } from './run.js';

export interface HeadProbe {
  seed: number;
  sslEpochs: number;
  meanLogitInside: number;
  meanLogitOutside: number;
  dsc: number;
  dscFlipped: number;
  frames: number;
}

export async function probeSslHead(
  s: StudySettings,
  data: string,
  seed: number,
  sslEpochs: number,
): Promise<HeadProbe | null> {
  const ckpt = sslCheckpoint(s, seed, sslEpochs);
  if (!existsSync(ckpt)) return null;
  const set = loadArtifactSet(join(s.work, 'sets', `seed${seed}`));
  const state = readCheckpoint(ckpt, set.manifest);
  const runner = await PhaseRunner.open(set, 'weak', { threads: s.threads });
  const loader = new BatchLoader({
    videos: openEchoNet(data, 'val'),
    phase: 'weak',
    frames: s.frames,
    period: 1,
    batchSize: s.batchSize,
    train: false,
    shuffle: false,
    dropLast: false,
    numWorkers: 0,
    seed,
  });
  const px = set.manifest.model.size ** 2;
  const sums = { inside: 0, nInside: 0, outside: 0, nOutside: 0 };
  const plain: Overlap[] = [];
  const flipped: Overlap[] = [];
  try {
    for await (const batch of loader.epoch(0)) {
      const { logits } = await runner.evalBatch(state, batch);
      for (let n = 0; n < batch.items.length; n++) {
        const l = logits!.subarray(n * px, (n + 1) * px);
        const m = batch.trace_mask.subarray(n * px, (n + 1) * px);
        // The fan: pixels whose raw value is above black somewhere in the clip's traced frame.
        const frame = Number(batch.trace_index[n]);
        const rgb = batch.frames.subarray(
          (n * s.frames + frame) * px * 3,
          (n * s.frames + frame + 1) * px * 3,
        );
        for (let i = 0; i < px; i++) {
          if (m[i] > 0) {
            sums.inside += l[i];
            sums.nInside++;
          } else if (rgb[3 * i] > 0) {
            sums.outside += l[i];
            sums.nOutside++;
          }
        }
        plain.push(overlap(l, m));
        flipped.push(
          overlap(
            Float32Array.from(l, (v) => -v),
            m,
          ),
        );
      }
    }
  } finally {
    await loader.close();
    await runner.release();
  }
  return {
    seed,
    sslEpochs,
    meanLogitInside: sums.inside / sums.nInside,
    meanLogitOutside: sums.outside / sums.nOutside,
    dsc: pooledDice(plain),
    dscFlipped: pooledDice(flipped),
    frames: plain.length,
  };
}

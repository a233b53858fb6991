// What an SSL checkpoint's output means for segmentation before any weak training: its logits on
// the validation split's traced frames, inside the LV cavity against outside it (within the
// fan), and the DSC of thresholding them at 0 as they are and with the sign flipped. Evidence for
// docs/transfer.md's question whether the reconstruction head starts anti-correlated with the
// segmentation target.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { overlap, pooledDice, type Overlap } from '../../src/eval/metrics.js';
import { forEachTracedFrame, sslCheckpoint, type StudySettings } from './run.js';

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
  const sums = { inside: 0, nInside: 0, outside: 0, nOutside: 0 };
  const plain: Overlap[] = [];
  const flipped: Overlap[] = [];
  await forEachTracedFrame(s, data, 'val', join(s.work, 'sets', `seed${seed}`), ckpt, seed, (l, m, rgb) => {
    for (let i = 0; i < l.length; i++) {
      if (m[i] > 0) {
        sums.inside += l[i];
        sums.nInside++;
      } else if (rgb[3 * i] > 0) {
        // outside the cavity but inside the fan (the corners are black)
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
  });
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

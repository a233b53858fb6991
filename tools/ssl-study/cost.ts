// What one optimizer step costs at each candidate model setting, relative to the first, measured
// by interleaving the settings' steps in one process (so a busy shared machine slows them alike):
// the study picks its model size from these ratios (docs/transfer.md#the-budget).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildArtifactSet, loadArtifactSet, readCheckpoint } from '../../src/artifacts/index.js';
import type { SslBatch, WeakBatch } from '../../src/data/loader.js';
import { PhaseRunner } from '../../src/train/runner.js';
import { Rng } from '../../src/util/rng.js';

export interface CostSetting {
  widthMult: number;
  size: number;
  batchSize: number;
}

export interface CostRow extends CostSetting {
  phase: 'weak' | 'ssl';
  /** median seconds of a step */
  median: number;
  /** median relative to the first setting's, same phase */
  ratio: number;
}

function randomBatches(size: number, T: number, n: number, rng: Rng): { weak: WeakBatch; ssl: SslBatch } {
  const frames = Uint8Array.from({ length: n * T * size * size * 3 }, () => Math.floor(rng.uniform() * 256));
  const mask = new Float32Array(n * size * size);
  for (let i = 0; i < mask.length; i++) mask[i] = (i % (size * size)) % size < size / 2 ? 1 : 0;
  return {
    weak: {
      frames,
      trace_mask: mask,
      trace_index: BigInt64Array.from({ length: n }, () => 3n),
      items: Array.from({ length: n }, () => ({ fileName: 'x', which: 'ed' as const, traceFrame: 3 })),
    },
    ssl: {
      frames,
      keep: Float32Array.from({ length: n * T }, (_, i) => i % 3),
      items: Array.from({ length: n }, () => ({ fileName: 'x' })),
    },
  };
}

export async function measureStepCost(
  work: string,
  settings: CostSetting[],
  opts: { frames: number; rounds: number; threads: number },
): Promise<CostRow[]> {
  const rng = new Rng(1);
  const prepared = [];
  for (const s of settings) {
    const dir = join(work, `w${s.widthMult}-s${s.size}-t${opts.frames}`);
    mkdirSync(dir, { recursive: true });
    await buildArtifactSet({
      encoder: '3d_unet_small',
      frames: opts.frames,
      period: 1,
      widthMult: s.widthMult,
      size: s.size,
      seed: 0,
      out: dir,
    });
    const set = loadArtifactSet(dir);
    const init = readCheckpoint(set.files.checkpoint, set.manifest);
    const runners = {
      weak: await PhaseRunner.open(set, 'weak', { threads: opts.threads }),
      ssl: await PhaseRunner.open(set, 'ssl', { threads: opts.threads }),
    };
    const state = () => ({ ...init, optimizer: new Map(), step: 0, epoch: 0, metadata: {} });
    prepared.push({
      s,
      runners,
      states: { weak: state(), ssl: state() },
      batches: randomBatches(s.size, opts.frames, s.batchSize, rng),
      times: { weak: [] as number[], ssl: [] as number[] },
    });
  }
  for (let r = 0; r < opts.rounds + 1; r++)
    for (const p of prepared)
      for (const phase of ['weak', 'ssl'] as const) {
        const t0 = performance.now();
        await p.runners[phase].step(p.states[phase], p.batches[phase], 1e-3);
        if (r > 0) p.times[phase].push((performance.now() - t0) / 1000); // round 0 warms up
      }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const rows: CostRow[] = [];
  for (const phase of ['weak', 'ssl'] as const) {
    const base = median(prepared[0].times[phase]);
    for (const p of prepared) {
      const m = median(p.times[phase]);
      rows.push({ ...p.s, phase, median: m, ratio: m / base });
    }
  }
  for (const p of prepared) await Promise.all([p.runners.weak.release(), p.runners.ssl.release()]);
  return rows;
}

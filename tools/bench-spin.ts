/**
 * ONNX Runtime's spinning intra-op threads (docs/performance.md#spinning-threads): one forward of the full
 * 3d_unet (a 32x112x112 clip, batch 1) on as many threads as cores, with spinning on (ORT's
 * default) and off (UNILVSEG_ORT_SPIN=0), interleaved in one process, first on the machine as it
 * is, then with one busy-looping process per core beside it (a shared cluster node). Reports the
 * median wall time and this process's CPU time per clip, and off/on ratios from the same run.
 * Run: `node dist/tools/bench.js spin`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArtifactSet } from '../src/artifacts/index.js';
import { createSession, tensor } from '../src/onnx/runtime.js';
import { median, round3, syntheticClip } from './bench-common.js';

/** One busy-looping Node process per core, at this process's priority. */
function startHogs(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

export async function benchSpin(rounds = 3, runsPerRound = 3): Promise<object> {
  const work = mkdtempSync(join(tmpdir(), 'unilvseg-bench-spin-'));
  const threads = cpus().length;
  try {
    const set = await buildArtifactSet({ encoder: '3d_unet', frames: 32, period: 1, out: work });
    const model = join(set.dir, 'model.onnx');
    const sessions = {
      on: await createSession(model, { threads, spin: true }),
      off: await createSession(model, { threads, spin: false }),
    };
    const clip = tensor('uint8', syntheticClip(32, 112), [1, 32, 112, 112, 3]);
    const run = async (k: 'on' | 'off') => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sessions[k].run({ frames: clip });
      const c = process.cpuUsage(cpu0);
      return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
    };
    for (const k of ['on', 'off'] as const) await run(k); // ORT allocates on the first run
    const conditions: Record<string, object> = {};
    for (const condition of ['as is', 'one busy process per core'] as const) {
      const hogs = condition === 'as is' ? [] : startHogs(threads);
      try {
        const times = {
          on: [] as { wall: number; cpu: number }[],
          off: [] as { wall: number; cpu: number }[],
        };
        for (let r = 0; r < rounds; r++)
          for (const k of r % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const))
            for (let i = 0; i < runsPerRound; i++) times[k].push(await run(k));
        const summary = (k: 'on' | 'off') => ({
          wallSeconds: round3(median(times[k].map((t) => t.wall))),
          cpuSeconds: round3(median(times[k].map((t) => t.cpu))),
        });
        const on = summary('on'),
          off = summary('off');
        conditions[condition] = {
          spinning: on,
          notSpinning: off,
          wallOffOverOn: round3(off.wallSeconds / on.wallSeconds),
          cpuOffOverOn: round3(off.cpuSeconds / on.cpuSeconds),
        };
        console.info(`spin, ${condition}: ${JSON.stringify(conditions[condition])}`);
      } finally {
        for (const h of hogs) h.kill('SIGKILL');
      }
    }
    await Promise.all(Object.values(sessions).map((s) => s.release()));
    return { model: '3d_unet, 1 clip of 32x112x112', threads, runs: rounds * runsPerRound, ...conditions };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

import { expect } from 'chai';
import { readCheckpoint, type TrainingState } from '../../src/artifacts/index.js';
import { CUDA_MISSING_MESSAGE, cudaAvailable, resolveProvider } from '../../src/onnx/runtime.js';
import { NonFiniteLossError, PhaseRunner, type AnyBatch } from '../../src/train/runner.js';
import { Rng } from '../../src/util/rng.js';
import { tinyArtifactSet } from '../helpers/fixtures.js';

const T = 16,
  S = 112,
  N = 4;

function randomBatch(phase: 'ssl' | 'weak', seed: number): AnyBatch {
  const rng = new Rng(seed);
  const frames = Uint8Array.from({ length: N * T * S * S * 3 }, () => rng.int(0, 255));
  const items = Array.from({ length: N }, (_, i) => ({
    fileName: `v${i}.avi`,
    which: 'ed' as const,
    traceFrame: i,
  }));
  if (phase === 'ssl')
    return { frames, keep: Float32Array.from({ length: N * T }, () => (rng.uniform() < 0.6 ? 0 : 1)), items };
  const trace_mask = new Float32Array(N * S * S);
  for (let n = 0; n < N; n++)
    for (let y = 30; y < 80; y++) for (let x = 40 + n; x < 70; x++) trace_mask[n * S * S + y * S + x] = 1;
  return { frames, trace_mask, trace_index: BigInt64Array.from([0n, 5n, 9n, 15n]), items };
}

function cloneState(s: TrainingState): TrainingState {
  return {
    params: new Map([...s.params].map(([k, v]) => [k, v.slice()])),
    optimizer: new Map(),
    step: s.step,
    epoch: s.epoch,
    metadata: {},
  };
}

/**
 * Largest element difference relative to the largest element over all tensors: tensors whose true
 * gradient is zero (a conv bias before instance norm) hold only rounding noise, so a per-tensor
 * relative measure would compare noise with noise.
 */
const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function maxRelDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let num = 0,
    den = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) {
      num = Math.max(num, Math.abs(x[i] - y[i]));
      den = Math.max(den, Math.abs(x[i]));
    }
  }
  return num / Math.max(den, 1e-30);
}

describe('train/runner: one optimizer step on ONNX Runtime', function () {
  this.timeout(300_000);

  for (const phase of ['ssl', 'weak'] as const) {
    it(`${phase}: micro-batches of 1 give the whole-batch step (gradients summed), up to float rounding`, async () => {
      const set = await tinyArtifactSet();
      const init = readCheckpoint(set.files.checkpoint, set.manifest);
      const runner = await PhaseRunner.open(set, phase);
      const batch = randomBatch(phase, 3);
      const whole = cloneState(init);
      const micro = cloneState(init);
      const a = await runner.step(whole, batch, 1e-3, 0);
      const b = await runner.step(micro, batch, 1e-3, 1);
      expect(b.loss).to.be.closeTo(a.loss, 1e-4 * Math.abs(a.loss) + 1e-7);
      // Adam normalises the update, so compare the first moments (= (1 - beta1) * gradient).
      expect(maxRelDiff(whole.optimizer, micro.optimizer)).to.be.below(1e-3);
      // Parameters too, where the gradient stands out of its rounding noise: Adam's first step is
      // +-lr * sign(gradient), so an element whose true gradient is ~0 (conv biases in front of an
      // instance norm, a few weights) may step either way.
      const firstMomentMax = Math.max(...[...whole.optimizer.values()].map(maxAbs));
      const clear = (m: Map<string, Float32Array>) =>
        new Map(
          [...m].map(([k, v]) => {
            const g = whole.optimizer.get(`${k}.exp_avg`);
            return [k, v.map((x, i) => (g && Math.abs(g[i]) > 1e-3 * firstMomentMax ? x : 0))] as const;
          }),
        );
      expect(maxRelDiff(clear(whole.params), clear(micro.params))).to.be.below(1e-3);
      // ...and the step really changed the weights.
      expect(maxRelDiff(init.params, whole.params)).to.be.above(1e-6);
      await runner.release();
    });
  }

  it('a NaN loss stops with the step number and leaves the weights untouched', async () => {
    const set = await tinyArtifactSet();
    const state = cloneState(readCheckpoint(set.files.checkpoint, set.manifest));
    const first = set.manifest.params.find((p) => p.kind === 'param')!.name;
    state.params.get(first)!.fill(NaN);
    const before = cloneState(state);
    const runner = await PhaseRunner.open(set, 'ssl');
    let err: unknown;
    try {
      await runner.step(state, randomBatch('ssl', 4), 1e-3);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(NonFiniteLossError);
    expect((err as Error).message).to.match(/at step 1/);
    expect(state.step).to.equal(0);
    const second = set.manifest.params.filter((p) => p.kind === 'param')[1].name;
    expect(Array.from(state.params.get(second)!)).to.deep.equal(Array.from(before.params.get(second)!));
    await runner.release();
  });

  it('--ep cuda without the CUDA provider says how to install it; auto falls back and says why', async function () {
    if (cudaAvailable()) this.skip(); // a machine with the CUDA binaries installed
    const error = await resolveProvider('cuda').then(
      () => null,
      (e: Error) => e.message,
    );
    expect(error).to.equal(CUDA_MISSING_MESSAGE);
    expect(CUDA_MISSING_MESSAGE).to.contain('--onnxruntime-node-install=cuda12');
    const auto = await resolveProvider('auto');
    expect(auto.provider).to.be.oneOf(['cpu', 'webgpu']);
    expect(auto.reason).to.match(/^(cpu|webgpu) \(--ep auto: no CUDA provider/);
  });
});

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inferenceModelBytes } from '../../src/artifacts/build.js';
import { readCheckpoint, type ArtifactSet, type TrainingState } from '../../src/artifacts/index.js';
import { gradients } from '../../src/autodiff/grad.js';
import { GraphBuilder, type Value } from '../../src/onnx/builder.js';
import type { GraphKey } from '../../src/artifacts/manifest.js';
import type { Graph } from '../../src/onnx/ir.js';
import { formsFor } from '../../src/onnx/forms.js';
import * as op from '../../src/onnx/ops/index.js';
import { shiftedTapsConv } from '../../src/onnx/ops/index.js';
import { profileFile, readProfile, summarizeProfile } from '../../src/onnx/profile.js';
import { createSession, tensor, webgpuUnavailable, type Provider } from '../../src/onnx/runtime.js';
import { decodeGraph } from '../../src/onnx/serialize.js';
import { webgpuIncompatibilities } from '../../src/onnx/webgpu-support.js';
import { PhaseRunner, type AnyBatch } from '../../src/train/runner.js';
import { Rng } from '../../src/util/rng.js';
import { graphFeeds, relL2 } from '../../tools/gpu/feeds.js';
import { tinyArtifactSet } from '../helpers/fixtures.js';

// Small sets: 32x32 frames keep Mesa's software Vulkan (lavapipe, what CI has) fast.
const N = 2;
const sets = {
  unet: () => tinyArtifactSet('3d_unet_small', 0.0625, 16, { size: 32, backend: 'webgpu' }),
  si: () => tinyArtifactSet('si_resnet18_unet', 0.0625, 4, { size: 64, backend: 'webgpu' }),
  uniformer: () => tinyArtifactSet('uniformer_small', 0.0625, 4, { size: 64, backend: 'webgpu' }),
};
const GRAPHS: GraphKey[] = ['model', 'train_weak', 'train_ssl', 'eval_weak', 'optimizer_weak'];

function incompatibilities(set: ArtifactSet, keys: GraphKey[]) {
  return keys.flatMap((k) => webgpuIncompatibilities(decodeGraph(readFileSync(set.files[k]))));
}

const feedsFor = (set: ArtifactSet, key: GraphKey, seed = 1) => graphFeeds(set, key, N, seed);

/**
 * A small UniFormer-like block and its gradients in WebGPU forms: depthwise 3x3 and 5x5 convs on
 * [N, 8, 4, 4], the map as 16 tokens, LayerNorm, two-head self-attention (batched MatMuls,
 * Softmax), an MLP with exact GELU; loss = sum(y * R). Gradients for every weight and the input.
 */
function transformerBlock(): { graph: Graph; inputs: Record<string, number[]> } {
  const b = new GraphBuilder();
  const inputs: Record<string, number[]> = {
    x: [N, 8, 4, 4],
    dw: [8, 1, 3, 3],
    dw_b: [8],
    dw5: [8, 1, 5, 5],
    ln_s: [8],
    ln_b: [8],
    qkv: [8, 24],
    fc1: [8, 32],
    fc2: [32, 8],
    r: [N, 16, 8],
  };
  const v = Object.fromEntries(
    Object.entries(inputs).map(([k, s]) => [k, b.input(k, 'float32', s)]),
  ) as Record<string, Value>;
  const heads = (t: Value) => op.transpose(op.reshape(t, [N, 16, 2, 4]), [0, 2, 1, 3]); // [N, 2, 16, 4]
  const pos = op.add(v.x, op.conv(v.x, v.dw, v.dw_b, { pads: [1, 1, 1, 1], group: 8 }));
  const conv = op.add(pos, op.conv(pos, v.dw5, null, { pads: [2, 2, 2, 2], group: 8 }));
  const tokens = op.transpose(op.reshape(conv, [N, 8, 16]), [0, 2, 1]);
  const [q, k, val] = op.split(op.matmul(op.layerNorm(tokens, v.ln_s, v.ln_b, 1e-6), v.qkv), 2, [8, 8, 8]);
  const attn = op.softmax(op.mul(op.matmul(heads(q), op.transpose(heads(k), [0, 1, 3, 2])), 0.5));
  const mixed = op.reshape(op.transpose(op.matmul(attn, heads(val)), [0, 2, 1, 3]), [N, 16, 8]);
  const y = op.add(mixed, op.matmul(op.gelu(op.matmul(mixed, v.fc1)), v.fc2));
  const loss = op.reduceSum(op.mul(y, v.r), [0, 1, 2], false);
  b.output(loss, 'loss');
  const wrt = ['x', 'dw', 'dw_b', 'dw5', 'ln_s', 'ln_b', 'qkv', 'fc1', 'fc2'];
  const grads = gradients(
    b,
    loss,
    wrt.map((k) => v[k]),
    formsFor('webgpu'),
  );
  for (const k of wrt) b.output(grads.get(k)!, `${k}.grad`);
  return { graph: b.toGraph('transformer_block'), inputs };
}

/**
 * The full-width 3d_unet's model.onnx as a CPU build emits it (the default backend: its 32 -> 1
 * head conv in shifted taps), at 32x32 with the WebGPU set's weights: one model for every provider.
 */
async function portableFullModel(): Promise<Uint8Array> {
  const set = await tinyArtifactSet('3d_unet', 1, 16, { size: 32, backend: 'webgpu' });
  const { params } = readCheckpoint(set.files.checkpoint, set.manifest);
  return inferenceModelBytes({ encoder: '3d_unet', frames: 16, period: 1, size: 32 }, params);
}

describe('WebGPU forms: the emitted graphs hold nothing the WebGPU provider cannot run', function () {
  this.timeout(300_000);
  it('every graph of the WebGPU-form sets (3D, ResNet and UniFormer super-image) is clean; the CPU forms are flagged for MaxPool Indices and SpaceToDepth', async () => {
    for (const make of Object.values(sets))
      expect(incompatibilities(await make(), GRAPHS.concat('train_ssl'))).to.deep.equal([]);
    const cpu = await tinyArtifactSet('3d_unet_small', 0.0625, 16, { size: 32 });
    const flagged = incompatibilities(cpu, ['train_weak']);
    expect(flagged.some((f) => f.includes('MaxPool'))).to.equal(true);
    expect(flagged.some((f) => f.includes('SpaceToDepth'))).to.equal(true);
    expect(flagged.every((f) => f.includes('MaxPool') || f.includes('SpaceToDepth'))).to.equal(true);
  });
  it('a UniFormer-like block (depthwise conv, LayerNorm, attention, GELU) and its gradients are clean', () => {
    expect(webgpuIncompatibilities(transformerBlock().graph)).to.deep.equal([]);
  });
  it("the full-width 3d_unet (its 32 -> 1 conv) is clean in WebGPU forms, and so is the CPU's model.onnx (the conv's taps sliced and added); the train graphs' split-and-sum taps are flagged for their 28-buffer Split and Sum", async () => {
    const full = await tinyArtifactSet('3d_unet', 1, 16, { size: 32, backend: 'webgpu' });
    expect(incompatibilities(full, ['model', 'train_weak'])).to.deep.equal([]);
    const cpuModel = decodeGraph(await portableFullModel());
    expect(cpuModel.nodes.filter((n) => n.op === 'Slice').length, 'the taps are there').to.be.at.least(27);
    expect(webgpuIncompatibilities(cpuModel)).to.deep.equal([]);
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 32, 4, 8, 8]);
    const w = b.input('w', 'float32', [1, 32, 3, 3, 3]);
    b.output(shiftedTapsConv(x, w, null, { pads: [1, 1, 1, 1, 1, 1] }, 'split-sum'), 'y');
    const flagged = webgpuIncompatibilities(b.toGraph('taps'));
    expect(flagged.map((f) => f.split(' ')[1]).sort()).to.deep.equal(['Split', 'Sum']);
  });
});

describe('WebGPU provider (an adapter: a GPU, or Mesa lavapipe in CI)', function () {
  this.timeout(600_000);
  before(async function () {
    const why = await webgpuUnavailable();
    if (why) {
      console.log(`      (skipped: no WebGPU adapter here: ${why})`);
      this.skip();
    }
  });

  it('every compute node of the model, train, eval and optimizer graphs runs on WebGpuExecutionProvider', async () => {
    for (const make of Object.values(sets)) {
      const set = await make();
      for (const key of GRAPHS) {
        const prefix = join(mkdtempSync(join(tmpdir(), 'unilvseg-prof-')), key);
        const session = await createSession(set.files[key], { ep: 'webgpu', profilePrefix: prefix });
        await session.run(feedsFor(set, key));
        session.endProfiling();
        const runs = readProfile(profileFile(prefix));
        // tiny index/shape nodes (fewer values than one frame) may stay on the CPU; nothing else
        const s = summarizeProfile(runs, 'WebGpuExecutionProvider', {
          hostElements: set.manifest.model.size ** 2,
        });
        expect(runs.length, `${key}: profiled nodes`).to.be.greaterThan(0);
        expect(
          s.fellBack.map((r) => `${r.op} ${r.node} on ${r.provider}`),
          `${set.manifest.model.encoder} ${key}`,
        ).to.deep.equal([]);
        await session.release();
      }
    }
  });

  it("a UniFormer-like block's forward and gradient nodes all run on WebGpuExecutionProvider and give the CPU's values (1e-4 relative L2)", async () => {
    const { graph, inputs } = transformerBlock();
    const rng = new Rng(2);
    const feeds = Object.fromEntries(
      Object.entries(inputs).map(([k, s]) => [
        k,
        tensor(
          'float32',
          Float32Array.from({ length: s.reduce((a, d) => a * d, 1) }, () => rng.normal()),
          s,
        ),
      ]),
    );
    const out = {} as Record<Provider, Record<string, { data: unknown }>>;
    for (const ep of ['cpu', 'webgpu'] as const) {
      const prefix = join(mkdtempSync(join(tmpdir(), 'unilvseg-prof-')), 'block');
      const session = await createSession(graph, { ep, profilePrefix: ep === 'webgpu' ? prefix : undefined });
      out[ep] = await session.run(feeds);
      if (ep === 'webgpu') {
        session.endProfiling();
        const runs = readProfile(profileFile(prefix));
        // every node here is tiny: only shape arithmetic (a handful of values) may stay on the CPU
        const s = summarizeProfile(runs, 'WebGpuExecutionProvider', { hostElements: 8 });
        expect(s.fellBack.map((r) => `${r.op} ${r.node} on ${r.provider}`)).to.deep.equal([]);
        expect(runs.filter((r) => r.provider === 'WebGpuExecutionProvider').length).to.be.greaterThan(50);
      }
      await session.release();
    }
    for (const name of Object.keys(out.cpu)) {
      const [c, g] = [out.cpu[name].data, out.webgpu[name].data].map((d) => Array.from(d as Float32Array));
      expect(relL2(g, c), name).to.be.below(1e-4);
    }
  });

  it("the full 3d_unet's default (CPU-built) model.onnx runs every compute node on WebGpuExecutionProvider and gives the CPU provider's logits (relative L2 < 1e-4)", async () => {
    const bytes = await portableFullModel();
    const frames = graphFeeds(await sets.unet(), 'model', 1, 5).frames; // [1, 16, 32, 32, 3]
    const prefix = join(mkdtempSync(join(tmpdir(), 'unilvseg-prof-')), 'portable');
    const gpu = await createSession(bytes, { ep: 'webgpu', profilePrefix: prefix });
    const onGpu = (await gpu.run({ frames })).logits.data as Float32Array;
    gpu.endProfiling();
    await gpu.release();
    const runs = readProfile(profileFile(prefix));
    expect(runs.some((r) => r.op === 'Slice' && r.provider === 'WebGpuExecutionProvider')).to.equal(true);
    const s = summarizeProfile(runs, 'WebGpuExecutionProvider', { hostElements: 32 * 32 });
    expect(s.fellBack.map((r) => `${r.op} ${r.node} on ${r.provider}`)).to.deep.equal([]);
    const cpu = await createSession(bytes, { ep: 'cpu' });
    const onCpu = (await cpu.run({ frames })).logits.data as Float32Array;
    await cpu.release();
    expect(onGpu.length).to.equal(16 * 32 * 32);
    expect(relL2(onGpu, onCpu)).to.be.below(1e-4);
  });

  it("a weak and an SSL train step give the CPU provider's loss and gradients (3D: 1e-4, 1e-3 relative L2; super-image: 5e-4, 2e-3)", async () => {
    for (const make of Object.values(sets)) {
      const set = await make();
      for (const key of ['train_weak', 'train_ssl'] as const) {
        const feeds = feedsFor(set, key, 7);
        const out = {} as Record<Provider, Record<string, { data: unknown }>>;
        for (const ep of ['cpu', 'webgpu'] as const) {
          const session = await createSession(set.files[key], { ep });
          out[ep] = await session.run(feeds);
          await session.release();
        }
        const what = `${set.manifest.model.encoder} ${key}`;
        // BatchNorm over 2 samples of tiny maps (the super-image model) passes float rounding on to
        // the output several times over: its SSL loss (an MSE of the raw output) was 1.3e-4 off on
        // lavapipe, its gradients 1.1e-3, while the CPU's own summation orders agree to 1e-7 (they
        // share MLAS reductions, so the CPU is no float64 reference). A wrong kernel is off by O(1).
        const [lossTol, gradTol] = set.manifest.model.family === '3d' ? [1e-4, 1e-3] : [5e-4, 2e-3];
        const [lc, lg] = [Number(out.cpu.loss.data), Number(out.webgpu.loss.data)];
        expect(Math.abs(lg - lc) / Math.abs(lc), `${what} loss ${lg} vs ${lc}`).to.be.below(lossTol);
        const grads = Object.keys(out.cpu).filter((k) => k.endsWith('.grad'));
        expect(grads.length).to.be.greaterThan(10);
        // all gradients as one vector: a bias that instance norm cancels has only rounding noise
        const flat = (o: Record<string, { data: unknown }>) =>
          grads.flatMap((k) => Array.from(o[k].data as Float32Array));
        expect(relL2(flat(out.webgpu), flat(out.cpu)), `${what} gradients`).to.be.below(gradTol);
      }
    }
  });

  it('training keeps weights and optimizer state on the device: a step moves only the batch in and the metrics out, and matches the CPU', async () => {
    const set = await sets.unet();
    const { frames: T, size: S } = set.manifest.model;
    const rng = new Rng(3);
    const batch: AnyBatch = {
      frames: Uint8Array.from({ length: N * T * S * S * 3 }, () => rng.int(0, 255)),
      trace_mask: Float32Array.from({ length: N * S * S }, (_, i) =>
        Math.abs((i % S) - S / 2) < S / 4 ? 1 : 0,
      ),
      trace_index: BigInt64Array.of(3n, 11n),
      items: [0, 1].map((i) => ({ fileName: `v${i}.avi`, which: 'ed' as const, traceFrame: i })),
    };
    const states = {} as Record<Provider, TrainingState>;
    for (const ep of ['cpu', 'webgpu'] as const) {
      const runner = await PhaseRunner.open(set, 'weak', { ep });
      const state = readCheckpoint(set.files.checkpoint, set.manifest);
      let traffic = { toDevice: 0, toHost: 0 };
      for (let k = 0; k < 3; k++) {
        await runner.step(state, batch, 1e-4, k === 2 ? 1 : 0); // the last one in micro-batches
        if (k === 1) traffic = { ...runner.resident.traffic };
      }
      if (ep === 'webgpu') {
        // a whole-batch step: the batch and the lr/step/others_* scalars in; the loss and six sums out
        const batchBytes =
          batch.frames.byteLength + batch.trace_mask.byteLength + batch.trace_index.byteLength;
        expect(traffic.toDevice).to.be.within(batchBytes, batchBytes + 64);
        expect(traffic.toHost).to.be.within(4, 64);
      }
      await runner.sync(state);
      states[ep] = state;
      await runner.release();
    }
    const flat = (s: TrainingState) =>
      [...s.params.keys()].sort().flatMap((k) => Array.from(s.params.get(k)!));
    expect(relL2(flat(states.webgpu), flat(states.cpu))).to.be.below(1e-4);
    expect(states.webgpu.step).to.equal(3);
    const moments = (s: TrainingState) =>
      [...s.optimizer.keys()].sort().flatMap((k) => Array.from(s.optimizer.get(k)!));
    expect(relL2(moments(states.webgpu), moments(states.cpu))).to.be.below(1e-3);
  });
});

describe('--ep webgpu without an adapter', function () {
  this.timeout(120_000);
  it('ort-train --ep webgpu with no Vulkan driver stops at once with the Vulkan/driver hint (exit 1)', () => {
    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const out = mkdtempSync(join(tmpdir(), 'unilvseg-nogpu-'));
    const r = spawnSync(
      process.execPath,
      [main, 'ort-train', '--phase', 'weak', '--data_path', out, '--ep', 'webgpu', '--out', join(out, 'run')],
      {
        // no Vulkan driver at all: Dawn finds no adapter
        env: {
          ...process.env,
          VK_DRIVER_FILES: join(out, 'none.json'),
          VK_ICD_FILENAMES: join(out, 'none.json'),
        },
        encoding: 'utf8',
      },
    );
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/no WebGPU adapter/);
    expect(r.stderr).to.match(/Vulkan/);
  });
});

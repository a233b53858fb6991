/**
 * Developer check (needs Debian's python3-torch; not part of the product or of CI): the full-width
 * UniFormer-S U-Net against upstream's module on the same weights, both directions.
 *
 * 1. uniformer_reference.py writes upstream's module at the given width with non-trivial BatchNorm
 *    statistics as torch.save(state_dict) (plain.pt) and its eval-mode logits in float64 for the
 *    fixed clip of T frames (export_unet3d.fixed_clip), with PyTorch float32's own error.
 * 2. import-checkpoint (library call) makes an artifact set of plain.pt; its model.onnx runs the clip
 *    on 2 threads: max |logit difference| against the float64 logits (target <= 1e-3).
 * 3. uniformer_reference.py load-ours loads that set's checkpoint.safetensors into upstream's module
 *    with strict=True and reruns the clip: the weights went out as they came in.
 *
 * Usage: node dist/tools/torch-baseline/uniformer-parity.js [--width 1] [--frames 16] [--work DIR]
 *          [--python /usr/bin/python3]
 * Prints one JSON object; exits 1 when a check fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { importCheckpoint } from '../../src/artifacts/import.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { syntheticClip } from '../bench-common.js';

const script = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../tools/torch-baseline/uniformer_reference.py',
);

function python(exe: string, args: string[]): string {
  const r = spawnSync(exe, [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${exe} ${script} ${args.join(' ')} failed (exit ${r.status})`);
  return r.stdout;
}

async function main() {
  const { values } = parseArgs({
    options: {
      width: { type: 'string', default: '1' },
      frames: { type: 'string', default: '16' },
      work: { type: 'string' },
      python: { type: 'string', default: '/usr/bin/python3' },
    },
  });
  const work = values.work ?? join(tmpdir(), `unilvseg-uniformer-parity-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const [width, T] = [values.width!, Number(values.frames)];
  python(values.python!, ['fixtures', work, '--width', width, '--frames', String(T), '--only-plain']);
  const ref = JSON.parse(readFileSync(join(work, 'reference.json'), 'utf8')) as {
    size: number;
    max_abs_logit: number;
    torch_float32_max_abs_error: number;
    parameters: number;
  };
  const S = ref.size;
  const imported = await importCheckpoint({
    checkpoint: join(work, 'plain.pt'),
    out: join(work, 'set'),
    frames: T,
  });
  const session = await createSession(imported.set.files.model, { threads: 2 });
  const got = (await session.run({ frames: tensor('uint8', syntheticClip(T, S), [1, T, S, S, 3]) })).logits
    .data as Float32Array;
  const want = new Float32Array(readFileSync(join(work, 'logits.f32')).buffer.slice(0));
  const maxAbsDiff = got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i])), 0);
  const back = JSON.parse(
    python(values.python!, ['load-ours', imported.set.files.checkpoint, work]).trim(),
  ) as {
    loaded_strictly: boolean;
    max_abs_diff_from_reference: number;
  };
  const report = {
    encoder: imported.architecture.encoder,
    widthMult: imported.architecture.widthMult,
    frames: T,
    size: S,
    parameters: { ours: imported.set.manifest.model.paramCount, torch: ref.parameters },
    modelOnnx: { maxAbsLogitDiff: maxAbsDiff, maxAbsLogit: ref.max_abs_logit, target: 1e-3 },
    torchFloat32MaxAbsError: ref.torch_float32_max_abs_error,
    ourCheckpointInTorch: back,
    work,
  };
  const pass =
    maxAbsDiff <= 1e-3 &&
    back.loaded_strictly &&
    back.max_abs_diff_from_reference <= 1e-6 * Math.max(1, ref.max_abs_logit) &&
    report.parameters.ours === ref.parameters;
  console.log(JSON.stringify({ ...report, pass }, null, 1));
  if (!pass) process.exit(1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

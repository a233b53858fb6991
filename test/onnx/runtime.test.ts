import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/onnx/builder.js';
import * as op from '../../src/onnx/ops/index.js';
import { createSession, spinFromEnv } from '../../src/onnx/runtime.js';
import { encodeGraph } from '../../src/onnx/serialize.js';

/** The smallest graph a session can be created for: c = a x b on 2x2 inputs. */
function matmulGraph() {
  const b = new GraphBuilder();
  b.output(op.matmul(b.input('a', 'float32', [2, 2]), b.input('b', 'float32', [2, 2])), 'c');
  return b.toGraph('mm');
}

/** `fn` on the path of `graph` written to a temporary folder (removed afterwards). */
function withModelFile<T>(graph: ReturnType<typeof matmulGraph>, fn: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'unilvseg-runtime-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), encodeGraph(graph));
    return fn(join(dir, 'model.onnx'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const moduleUrl = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);

/**
 * ONNX Runtime's verbose log (where it lists a session's options) of `script` run in a child
 * process, with createSession, loadSegmentationModel and ort in scope; UNILVSEG_ORT_SPIN unset unless `env` sets it.
 */
function sessionLog(script: string, env: Record<string, string> = {}): string {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { createSession, ort } from ${moduleUrl('../../src/onnx/runtime.js')};` +
        `import { loadSegmentationModel } from ${moduleUrl('../../src/infer/model.js')};` +
        `ort.env.logLevel = 'verbose';` +
        script,
    ],
    { env: { ...process.env, UNILVSEG_ORT_SPIN: '', ...env }, encoding: 'utf8' },
  );
  expect(r.status, r.stderr).to.equal(0);
  return r.stderr;
}

describe('onnx/runtime: spinning intra-op threads (UNILVSEG_ORT_SPIN)', () => {
  it('reads UNILVSEG_ORT_SPIN as 0 -> false, 1 -> true, unset or empty -> ORT default, and names the variable otherwise', () => {
    expect(spinFromEnv({ UNILVSEG_ORT_SPIN: '0' })).to.equal(false);
    expect(spinFromEnv({ UNILVSEG_ORT_SPIN: '1' })).to.equal(true);
    expect(spinFromEnv({})).to.equal(undefined);
    expect(spinFromEnv({ UNILVSEG_ORT_SPIN: '' })).to.equal(undefined);
    expect(() => spinFromEnv({ UNILVSEG_ORT_SPIN: 'no' })).to.throw(
      /UNILVSEG_ORT_SPIN must be 0 or 1, got 'no'/,
    );
  });

  it('hands the choice to ONNX Runtime: its session log lists session.intra_op.allow_spinning 0 or 1 (the option, or the variable), and nothing when neither is set', () => {
    const configOf = (spin: string, env: Record<string, string>) =>
      withModelFile(matmulGraph(), (file) =>
        /config_options: \{([^}]*)\}/
          .exec(
            sessionLog(`await createSession(${JSON.stringify(file)}, { threads: 1, spin: ${spin} });`, env),
          )?.[1]
          .trim(),
      );
    expect(configOf('false', {})).to.equal('session.intra_op.allow_spinning: 0');
    expect(configOf('true', { UNILVSEG_ORT_SPIN: '0' })).to.equal('session.intra_op.allow_spinning: 1');
    expect(configOf('undefined', { UNILVSEG_ORT_SPIN: '0' })).to.equal('session.intra_op.allow_spinning: 0');
    expect(configOf('undefined', {})).to.equal('');
  });

  it('refuses to create a session when UNILVSEG_ORT_SPIN is malformed', async () => {
    const saved = process.env.UNILVSEG_ORT_SPIN;
    process.env.UNILVSEG_ORT_SPIN = 'yes';
    try {
      let error: Error | undefined;
      await createSession(matmulGraph()).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/UNILVSEG_ORT_SPIN must be 0 or 1/);
    } finally {
      if (saved === undefined) delete process.env.UNILVSEG_ORT_SPIN;
      else process.env.UNILVSEG_ORT_SPIN = saved;
    }
  });
});

describe('onnx/runtime: the memory pattern', () => {
  /** enable_mem_pattern in ORT's log of the session that `open(file)` creates for `graph`. */
  const memPatternOf = (graph: ReturnType<typeof matmulGraph>, open: (file: string) => string) =>
    withModelFile(
      graph,
      (file) => /enable_mem_pattern:(\d)/.exec(sessionLog(open(JSON.stringify(file))))?.[1],
    );

  it('hands memPattern to ONNX Runtime: its session log says enable_mem_pattern:0 when false, 1 when true or unset (ORT default)', () => {
    const with_ = (o: string) => memPatternOf(matmulGraph(), (f) => `await createSession(${f}, ${o});`);
    expect(with_('{ memPattern: false }')).to.equal('0');
    expect(with_('{ memPattern: true }')).to.equal('1');
    expect(with_('{}')).to.equal('1');
  });

  it("loadSegmentationModel opens its session with the memory pattern off (a video's last batch is smaller)", () => {
    const b = new GraphBuilder();
    const x = b.input('frames', 'uint8', ['N', 16, 8, 8, 3]);
    b.output(op.squeeze(op.slice(op.cast(x, 'float32'), [0], [1], [4]), [4]), 'logits');
    Object.assign(b.metadata, { encoder: 'known', frames: '16', period: '1', size: '8' });
    const open = (f: string) => `await loadSegmentationModel({ model: ${f}, threads: 1 });`;
    expect(memPatternOf(b.toGraph('seg'), open)).to.equal('0');
  });
});

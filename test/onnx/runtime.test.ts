import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
    const dir = mkdtempSync(join(tmpdir(), 'unilvseg-spin-'));
    writeFileSync(join(dir, 'mm.onnx'), encodeGraph(matmulGraph()));
    const runtime = fileURLToPath(new URL('../../src/onnx/runtime.js', import.meta.url));
    // A child process: ONNX Runtime's verbose log (where it lists the session's config) goes to its stderr.
    const configOf = (spinOption: string, env: Record<string, string>) => {
      const script =
        `import { createSession, ort } from ${JSON.stringify(pathToFileURL(runtime).href)};` +
        `ort.env.logLevel = 'verbose';` +
        `await createSession(${JSON.stringify(join(dir, 'mm.onnx'))}, { threads: 1, spin: ${spinOption} });`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, UNILVSEG_ORT_SPIN: '', ...env },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).to.equal(0);
      return /config_options: \{([^}]*)\}/.exec(r.stderr)?.[1].trim();
    };
    try {
      expect(configOf('false', {})).to.equal('session.intra_op.allow_spinning: 0');
      expect(configOf('true', { UNILVSEG_ORT_SPIN: '0' })).to.equal('session.intra_op.allow_spinning: 1');
      expect(configOf('undefined', { UNILVSEG_ORT_SPIN: '0' })).to.equal(
        'session.intra_op.allow_spinning: 0',
      );
      expect(configOf('undefined', {})).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

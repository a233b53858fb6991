/**
 * Where two hosts' runs part (docs/numerics.md#across-hosts). `fingerprint` records one run's
 * stages under this host's condition; `compare` says which stages of two fingerprints differ.
 *
 *   node dist/tools/host-repro.js fingerprint --out fp.json [--label L] [--work DIR] [--threads N]
 *        [--workers N] [--steps 3] [--shared DIR] [--no-train]
 *   node dist/tools/host-repro.js compare a.json b.json
 *
 * Conditions worth comparing on one machine: --threads 1/2/4 (ONNX Runtime's intra-op threads),
 * --workers 0/2 (data loader), another CPU's kernels (`qemu-x86_64 -cpu Haswell node ...`: no
 * AVX-512), another Node version. --shared DIR trains on a reference run's data and weights so
 * that only the kernels differ.
 */
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { atomicWriteFile } from '../src/util/atomic.js';
import { compareFingerprints } from './host-repro/compare.js';
import { fingerprint, type Fingerprint } from './host-repro/fingerprint.js';

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'compare') {
    const [a, b] = rest.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Fingerprint);
    if (!b) throw new Error('compare takes two fingerprint files');
    console.log(compareFingerprints(a, b).join('\n'));
    return;
  }
  if (command !== 'fingerprint')
    throw new Error('usage: host-repro.js fingerprint --out FILE ... | compare A B');
  const { values: a } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      label: { type: 'string' },
      work: { type: 'string', default: 'runs/host-repro' },
      threads: { type: 'string', default: '2' },
      workers: { type: 'string', default: '1' },
      steps: { type: 'string', default: '3' },
      shared: { type: 'string' },
      'no-train': { type: 'boolean', default: false },
    },
  });
  if (!a.out) throw new Error('fingerprint needs --out FILE');
  mkdirSync(a.work!, { recursive: true });
  const fp = await fingerprint({
    label: a.label ?? a.out,
    work: a.work!,
    threads: Number(a.threads),
    workers: Number(a.workers),
    steps: Number(a.steps),
    shared: a.shared,
    noTrain: a['no-train'],
  });
  atomicWriteFile(a.out, JSON.stringify(fp) + '\n');
  console.log(`fingerprint ${fp.label} written to ${a.out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

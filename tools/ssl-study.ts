/**
 * The SSL transfer study (docs/transfer.md): on a synthetic EchoNet-format dataset, weak
 * supervision with 5/10/25/100 % of the training videos labelled, started from random weights or
 * from temporal-masking pre-training (every weight or the encoder's, after 2 and after 10 SSL
 * epochs), three seeds each, a fixed budget of optimizer steps per run. Writes results.jsonl (one
 * line per finished run), table.md and dsc-vs-labels.svg into --results, refreshed after every run.
 * Resumable: finished runs are skipped, an interrupted one resumes from its last checkpoint.
 *
 * Usage: node dist/tools/ssl-study.js [--work DIR] [--results docs/ssl-study] [--fractions 0.1,0.05,0.25,1]
 *          [--ssl-epochs 2,10] [--seeds 0,1,2] [--steps 60] [--variants full-newhead,...]
 *          [--variant-fractions 0.1] [--videos 100] [--look echonet|hard] [--plan] [--report] [--probe]
 * --probe measures what the SSL checkpoints' heads predict before weak training (ssl-head.json).
 *
 * `node dist/tools/ssl-study.js pool [...]` runs the pool study instead: SSL on a large unlabelled
 * pool, few labelled videos (tools/ssl-study/pool-main.ts, docs/transfer.md#the-pool-study).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SYNTH_LOOKS, type SynthLook } from '../src/data/synth/params.js';
import { atomicWriteFile } from '../src/util/atomic.js';
import { JsonlLog } from '../src/util/jsonl.js';
import { Progress } from '../src/util/progress.js';
import { planCells, RANDOM, sslInit, variantInit, VARIANTS, type InitConfig } from './ssl-study/plan.js';
import { poolMain } from './ssl-study/pool-main.js';
import { probeSslHead } from './ssl-study/probe.js';
import { writeReport } from './ssl-study/report.js';
import {
  ensureData,
  ensureSet,
  ensureSsl,
  readResults,
  runCell,
  type StudySettings,
} from './ssl-study/run.js';

const list = (v: string) => v.split(',').filter(Boolean);
function parseLook(v: string): SynthLook {
  if (!(SYNTH_LOOKS as readonly string[]).includes(v))
    throw new Error(`--look ${v}: one of ${SYNTH_LOOKS.join(', ')}`);
  return v as SynthLook;
}
const numbers = (v: string) => list(v).map(Number);

async function main() {
  const { values: a } = parseArgs({
    options: {
      work: { type: 'string', default: 'runs/ssl-study' },
      results: { type: 'string', default: 'docs/ssl-study' },
      videos: { type: 'string', default: '100' },
      'data-seed': { type: 'string', default: '0' },
      look: { type: 'string', default: 'echonet' },
      fractions: { type: 'string', default: '0.1,0.05,0.25,1' },
      'ssl-epochs': { type: 'string', default: '2,10' },
      seeds: { type: 'string', default: '0,1,2' },
      variants: { type: 'string', default: '' },
      'variant-fractions': { type: 'string', default: '0.1' },
      steps: { type: 'string', default: '60' },
      validations: { type: 'string', default: '4' },
      lr: { type: 'string', default: '1e-3' },
      'batch-size': { type: 'string', default: '4' },
      'width-mult': { type: 'string', default: '0.25' },
      frames: { type: 'string', default: '16' },
      threads: { type: 'string', default: '2' },
      workers: { type: 'string', default: '1' },
      plan: { type: 'boolean', default: false },
      report: { type: 'boolean', default: false },
      probe: { type: 'boolean', default: false },
    },
  });
  const s: StudySettings = {
    work: a.work!,
    results: a.results!,
    videos: Number(a.videos),
    dataSeed: Number(a['data-seed']),
    look: parseLook(a.look!),
    encoder: '3d_unet_small',
    widthMult: Number(a['width-mult']),
    frames: Number(a.frames),
    batchSize: Number(a['batch-size']),
    lr: Number(a.lr),
    steps: Number(a.steps),
    validations: Number(a.validations),
    threads: Number(a.threads),
    numWorkers: Number(a.workers),
  };
  const sslEpochs = numbers(a['ssl-epochs']!);
  const config = {
    fractions: numbers(a.fractions!),
    sslEpochs,
    seeds: numbers(a.seeds!),
    variants: list(a.variants!),
    variantFractions: numbers(a['variant-fractions']!),
  };
  const cells = planCells(config);
  const longest = Math.max(...sslEpochs);
  const inits: InitConfig[] = [
    RANDOM,
    ...[...sslEpochs].reverse().flatMap((e) => [sslInit(e, 'full'), sslInit(e, 'encoder')]),
    ...Object.keys(VARIANTS).map((v) => variantInit(v, longest)),
  ];
  const labels = Object.fromEntries(inits.map((i) => [i.name, i.label]));
  const order = inits.map((i) => i.name);
  const lines = order.slice(0, 1 + 2 * sslEpochs.length);
  const report = () => writeReport(s.results, readResults(s), labels, order, lines);

  const done = new Set(readResults(s).map((r) => r.key));
  const todo = cells.filter((c) => !done.has(c.key));
  if (a.plan) {
    for (const c of cells) console.log(`${done.has(c.key) ? 'done' : 'todo'} ${c.key}`);
    return;
  }
  if (a.probe) {
    // The SSL heads before weak training, for every SSL checkpoint the study has made so far.
    const data = await ensureData(s);
    const probes = [];
    for (const seed of config.seeds)
      for (const e of sslEpochs) {
        const p = await probeSslHead(s, data, seed, e);
        if (p) probes.push(p);
      }
    atomicWriteFile(join(s.results, 'ssl-head.json'), JSON.stringify(probes, null, 1) + '\n');
    console.log(JSON.stringify(probes, null, 1));
    return;
  }
  if (a.report || todo.length === 0) {
    report();
    console.log(`report of ${done.size} runs written to ${s.results}`);
    return;
  }
  const log = new JsonlLog(`${s.work}/study.jsonl`);
  log.write({ event: 'start', settings: s, config, todo: todo.length, done: done.size });
  const data = await ensureData(s);
  const progress = new Progress('ssl-study', todo.length);
  try {
    for (const cell of todo) {
      await ensureSet(s, cell.seed);
      if (cell.init.sslEpochs) await ensureSsl(s, data, cell.seed, sslEpochs, log);
      const r = await runCell(s, data, cell);
      log.write({ event: 'cell', key: r.key, testDsc: r.testDsc, valDsc: r.valDsc, seconds: r.seconds });
      report();
      progress.tick(1, `${r.key} test DSC ${r.testDsc.toFixed(3)}`);
    }
  } finally {
    progress.stop();
  }
  log.write({ event: 'end' });
}

// `ssl-study.js pool ...`: the pool study (tools/ssl-study/pool-main.ts); otherwise the fraction grid.
(process.argv[2] === 'pool' ? poolMain(process.argv.slice(3)) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

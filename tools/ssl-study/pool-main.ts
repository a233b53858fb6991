// `node dist/tools/ssl-study.js pool [options]`: the pool study (docs/transfer.md#the-pool-study).
// Runs the planned cells that have no line in results.jsonl yet, most informative first, and
// rewrites the report after each; --plan lists the cells, --report only rewrites the report,
// --step-cost measures what a step costs at candidate model sizes (to pick the budget).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SYNTH_LOOKS, type SynthLook } from '../../src/data/synth/params.js';
import { CACHE_ENV } from '../../src/data/cache.js';
import { atomicWriteFile } from '../../src/util/atomic.js';
import { JsonlLog } from '../../src/util/jsonl.js';
import { Progress } from '../../src/util/progress.js';
import { measureStepCost } from './cost.js';
import { planPoolCells, type PoolInit } from './pool-plan.js';
import { writePoolReport } from './pool-report.js';
import { poolSummaryMarkdown } from './pool-summary.js';
import {
  ensureLabelled,
  ensureSet,
  ensureSsl,
  readPoolResults,
  readSslResults,
  runPoolCell,
  type PoolStudySettings,
} from './pool-run.js';

const list = (v: string) => v.split(',').filter(Boolean);
const numbers = (v: string) => list(v).map(Number);

function looks(v: string): SynthLook[] {
  const out = list(v);
  for (const l of out)
    if (!(SYNTH_LOOKS as readonly string[]).includes(l))
      throw new Error(`--looks: ${l} is not one of ${SYNTH_LOOKS.join(', ')}`);
  return out as SynthLook[];
}

export async function poolMain(argv: string[]): Promise<void> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      work: { type: 'string', default: 'runs/ssl-pool-study' },
      results: { type: 'string', default: 'docs/ssl-pool-study' },
      looks: { type: 'string', default: 'echonet,hard' },
      labels: { type: 'string', default: '8,16,32' },
      pools: { type: 'string', default: '2000,500' },
      seeds: { type: 'string', default: '0,1,2,3,4' },
      'no-own': { type: 'boolean', default: false },
      'no-newhead': { type: 'boolean', default: false },
      only: { type: 'string' },
      'labelled-videos': { type: 'string', default: '200' },
      'data-seed': { type: 'string', default: '0' },
      'pool-seed': { type: 'string', default: '100' },
      'width-mult': { type: 'string', default: '0.125' },
      size: { type: 'string', default: '64' },
      frames: { type: 'string', default: '16' },
      'batch-size': { type: 'string', default: '4' },
      lr: { type: 'string', default: '1e-3' },
      'ssl-steps': { type: 'string', default: '2000' },
      'ssl-validations': { type: 'string', default: '8' },
      'weak-steps': { type: 'string', default: '600' },
      'weak-validations': { type: 'string', default: '15' },
      threads: { type: 'string', default: '2' },
      workers: { type: 'string', default: '1' },
      plan: { type: 'boolean', default: false },
      report: { type: 'boolean', default: false },
      'step-cost': { type: 'boolean', default: false },
    },
  });
  const pools = numbers(a.pools!);
  const s: PoolStudySettings = {
    work: a.work!,
    results: a.results!,
    labelledVideos: Number(a['labelled-videos']),
    dataSeed: Number(a['data-seed']),
    poolVideos: Math.max(0, ...pools),
    poolSeed: Number(a['pool-seed']),
    encoder: '3d_unet_small',
    widthMult: Number(a['width-mult']),
    size: Number(a.size),
    frames: Number(a.frames),
    batchSize: Number(a['batch-size']),
    lr: Number(a.lr),
    sslSteps: Number(a['ssl-steps']),
    sslValidations: Number(a['ssl-validations']),
    weakSteps: Number(a['weak-steps']),
    weakValidations: Number(a['weak-validations']),
    threads: Number(a.threads),
    numWorkers: Number(a.workers),
  };
  if (a['step-cost']) {
    const rows = await measureStepCost(
      join(s.work, 'cost-sets'),
      [
        { widthMult: 0.25, size: 112, batchSize: s.batchSize },
        { widthMult: 0.125, size: 112, batchSize: s.batchSize },
        { widthMult: 0.25, size: 64, batchSize: s.batchSize },
        { widthMult: 0.125, size: 64, batchSize: s.batchSize },
      ],
      { frames: s.frames, rounds: 8, threads: s.threads },
    );
    for (const r of rows) console.log(JSON.stringify(r));
    return;
  }
  const cells = planPoolCells({
    looks: looks(a.looks!),
    labels: numbers(a.labels!),
    pools,
    seeds: numbers(a.seeds!),
    own: !a['no-own'],
    newHead: !a['no-newhead'],
  }).filter((c) => !a.only || new RegExp(a.only).test(c.key));
  const inits = new Map<string, PoolInit>();
  for (const c of cells) inits.set(c.init.name, c.init);
  const labels = Object.fromEntries([...inits.values()].map((i) => [i.name, i.label]));
  const order = [...inits.keys()];
  const report = () => {
    const groups = writePoolReport(s.results, readPoolResults(s), readSslResults(s), labels, order);
    atomicWriteFile(join(s.results, 'summary.md'), poolSummaryMarkdown(groups, labels));
  };

  const done = new Set(readPoolResults(s).map((r) => r.key));
  const todo = cells.filter((c) => !done.has(c.key));
  if (a.plan) {
    for (const c of cells)
      console.log(`${done.has(c.key) ? 'done' : 'todo'} ${c.key}${c.ssl ? ` (after SSL ${c.ssl.key})` : ''}`);
    return;
  }
  if (a.report || todo.length === 0) {
    report();
    console.log(`report of ${done.size} cells written to ${s.results}`);
    return;
  }
  // one decoded-frame cache for the labelled sets, the pools and their lists
  process.env[CACHE_ENV] ??= join(s.work, 'cache');
  const log = new JsonlLog(join(s.work, 'study.jsonl'));
  log.write({ event: 'start', settings: s, todo: todo.length, done: done.size });
  const progress = new Progress('ssl pool study', todo.length);
  try {
    for (const cell of todo) {
      await ensureLabelled(s, cell.look);
      await ensureSet(s, cell.seed);
      if (cell.ssl) await ensureSsl(s, cell.ssl, pools, log);
      const r = await runPoolCell(s, cell);
      log.write({ event: 'cell', key: r.key, testDsc: r.testDsc, valDsc: r.valDsc, bestStep: r.bestStep });
      report();
      progress.tick(1, `${r.key} test DSC ${r.testDsc.toFixed(3)}`);
    }
  } finally {
    progress.stop();
  }
  log.write({ event: 'end' });
}

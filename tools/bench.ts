/**
 * `npm run bench`: runs the registered benchmark sections and prints ONE JSON object to stdout,
 * `{ "machine": {...}, "<section>": <its result>, ... }`; progress goes to stderr.
 * `node dist/tools/bench.js conv data` runs only the named sections.
 *
 * A section is a module under tools/ exporting an async function with no required arguments.
 * Adding one is one line in SECTIONS. A section whose module is not there (yet) is skipped with a
 * note when running everything, and is an error when named on the command line.
 */
import { cpus, totalmem } from 'node:os';
import { pathToFileURL } from 'node:url';
import { ort } from '../src/onnx/runtime.js';
import { cpuSimd } from './bench-common.js';

interface Section {
  /** module path relative to this file, as compiled (.js) */
  module: string;
  /** name of its exported async benchmark function */
  fn: string;
}

const SECTIONS: Record<string, Section> = {
  conv: { module: './bench-conv.js', fn: 'benchConv' },
  depthwise: { module: './bench-depthwise.js', fn: 'benchDepthwise' },
  transformer: { module: './bench-transformer.js', fn: 'benchTransformer' },
  data: { module: './bench-data.js', fn: 'benchData' },
  dicom: { module: './bench-dicom.js', fn: 'benchDicom' },
  segment: { module: './bench-segment.js', fn: 'benchSegment' },
  model: { module: './bench-model.js', fn: 'benchModel' },
  browser: { module: './bench-browser.js', fn: 'benchBrowser' },
  browserTrain: { module: './bench-browser-train.js', fn: 'benchBrowserTrain' },
  browserTrainWebgpu: { module: './bench-browser-train.js', fn: 'benchBrowserTrainWebgpu' },
  batch: { module: './bench-batch.js', fn: 'benchBatch' },
  uniformer: { module: './bench-uniformer.js', fn: 'benchUniformer' },
  spin: { module: './bench-spin.js', fn: 'benchSpin' },
  memPattern: { module: './bench-mem-pattern.js', fn: 'benchMemPattern' },
  gpu: { module: './gpu/check.js', fn: 'benchGpu' },
};

type BenchFn = () => Promise<unknown>;

/** The section's function, or a reason why it cannot run. */
async function load(name: string): Promise<BenchFn | string> {
  const { module, fn } = SECTIONS[name];
  const url = new URL(module, import.meta.url).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    // Only "this very module is missing" means "not written yet"; any other failure is a bug to show.
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes(url.replace('file://', '')))
      return `${module} not found`;
    throw e;
  }
  const f = mod[fn];
  return typeof f === 'function' ? (f as BenchFn) : `${module} does not export ${fn}()`;
}

/** stdout carries only the final JSON: a section's console.log/info goes to stderr while it runs. */
async function withConsoleOnStderr<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { log: console.log, info: console.info };
  console.log = console.info = (...args: unknown[]) => console.error(...args);
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
  }
}

export function machineInfo(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    // Hosts named alike differ in vector width, which moves every CPU figure (README, Measured).
    cpuSimd: cpuSimd(),
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    ort: ort.env.versions.node ?? ort.env.versions.common,
    platform: `${process.platform}-${process.arch}`,
  };
}

export async function runBench(names: string[]): Promise<Record<string, unknown>> {
  const unknown = names.filter((n) => !(n in SECTIONS));
  if (unknown.length)
    throw new Error(
      `unknown bench section(s): ${unknown.join(', ')}; available: ${Object.keys(SECTIONS).join(', ')}`,
    );
  const explicit = names.length > 0;
  const result: Record<string, unknown> = { machine: machineInfo() };
  const skipped: Record<string, string> = {};
  for (const name of explicit ? names : Object.keys(SECTIONS)) {
    const fn = await load(name);
    if (typeof fn === 'string') {
      if (explicit) throw new Error(`bench section ${name}: ${fn}`);
      process.stderr.write(`bench: skipping ${name} (${fn})\n`);
      skipped[name] = fn;
      continue;
    }
    process.stderr.write(`bench: ${name} ...\n`);
    const t0 = performance.now();
    result[name] = await withConsoleOnStderr(fn);
    process.stderr.write(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  if (Object.keys(skipped).length) result.skipped = skipped;
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const result = await runBench(process.argv.slice(2));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}

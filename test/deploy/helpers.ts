// What the deploy/ tests share: a small EchoNet-style input (a FileList.csv with a test split) and
// a way to run a deploy script with exactly the environment given (nothing inherited).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureVideoNames, synthDataset } from '../helpers/fixtures.js';

export const CHECKOUT = process.cwd();

/** The #SBATCH directives of a script: `--cpus-per-task=4` gives ['cpus-per-task', '4']. */
export function sbatchDirectives(script: string): Map<string, string> {
  const text = readFileSync(join(CHECKOUT, 'deploy/slurm', script), 'utf8');
  return new Map(
    [...text.matchAll(/^#SBATCH --([\w-]+)(?:=(\S+))?\s*$/gm)].map(
      (m) => [m[1], m[2] ?? ''] as [string, string],
    ),
  );
}

/** `3G` or `1500M` (Slurm's --mem units) in MB. */
export const slurmMb = (text: string) => Number(text.replace(/[GM]$/, '')) * (text.endsWith('G') ? 1024 : 1);

export interface EchoInput {
  fileList: string;
  /** Paths of the test split's videos, sorted as segment-batch sorts them (by key). */
  testVideos: string[];
  trainVideos: string[];
}

/**
 * `dir/FileList.csv` over `count` synthetic videos in `dir/Videos`: all but the last two in the
 * TEST split, those two in TRAIN (so `--split test` is seen to matter).
 */
export async function echoInput(dir: string, count: number): Promise<EchoInput> {
  const data = await synthDataset(count < 8 ? 8 : count);
  const names = fixtureVideoNames(data).slice(0, count);
  mkdirSync(join(dir, 'Videos'), { recursive: true });
  for (const n of names) copyFileSync(join(data, 'Videos', n), join(dir, 'Videos', n));
  const split = (i: number) => (i >= names.length - 2 ? 'TRAIN' : 'TEST');
  const fileList = join(dir, 'FileList.csv');
  writeFileSync(
    fileList,
    ['FileName,Split', ...names.map((n, i) => `${n.replace('.avi', '')},${split(i)}`)].join('\n'),
  );
  const paths = (s: string) => names.filter((_, i) => split(i) === s).map((n) => join(dir, 'Videos', n));
  return { fileList, testVideos: paths('TEST'), trainVideos: paths('TRAIN') };
}

export interface ScriptExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` with exactly `env` (as a job under --export=NONE sees only what it is given). */
export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<ScriptExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// The runtime stage of deploy/Dockerfile carried out without Docker (none runs here): its COPY,
// RUN (npm ci as root), ENV and USER lines, in order, into a folder that stands for the image's
// root. What the image's user then finds there is what a container (Docker, Apptainer, a
// Kubernetes pod as uid 1000) would find: the files npm ci made as root, with their modes.
// Like Docker's layer cache, the layers up to the last RUN are kept between runs, keyed by their
// instructions and the files they copy; the COPY --from=build layers after it are laid per run.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { CHECKOUT } from './helpers.js';

interface Instruction {
  op: string;
  args: string;
}

/** The instructions of the Dockerfile's last stage (continuation lines joined, comments dropped). */
function runtimeStage(dockerfile: string): Instruction[] {
  const lines = readFileSync(dockerfile, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const from = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  return lines.slice(from + 1).map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
}

export interface Image {
  /** The folder standing for the image's / (the app at root + WORKDIR). */
  root: string;
  workdir: string;
  user: string;
  env: Record<string, string>;
  /** ENTRYPOINT with the image's paths made paths under `root`. */
  entrypoint: string[];
}

/** The image's path `p` (absolute, or relative to the working folder) under `root`. */
const under = (root: string, workdir: string, p: string) => join(root, posix.resolve(workdir, p));

function copy(op: Instruction, root: string, workdir: string): void {
  const words = op.args.split(/\s+/);
  const fromBuild = words[0] === '--from=build';
  const paths = fromBuild ? words.slice(1) : words;
  const dest = paths.pop()!;
  for (const src of paths) {
    // The build stage's /app is a checkout after `npm ci` (its prepare script built dist/, web/dist/).
    const from = fromBuild ? join(CHECKOUT, posix.relative('/app', src)) : join(CHECKOUT, src);
    const to =
      dest.endsWith('/') && !statSync(from).isDirectory()
        ? join(under(root, workdir, dest), src.split('/').pop()!)
        : under(root, workdir, dest);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(from, to, { recursive: true });
  }
}

/**
 * An npm cache of the image's own for its RUN lines, seeded from the user's (~/.npm) where there is
 * one: the Dockerfile ends with `npm cache clean --force`, which must empty this copy, never the
 * cache of the person running the tests (nor pull it from under another npm running meanwhile).
 * Content files are immutable, so they are hard-linked; the index is appended to, so it is copied.
 */
function privateNpmCache(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const userCache = join(process.env.HOME ?? '/root', '.npm', '_cacache');
  if (existsSync(join(userCache, 'content-v2')) && existsSync(join(userCache, 'index-v5'))) {
    try {
      mkdirSync(join(dir, '_cacache'));
      execFileSync('cp', ['-al', join(userCache, 'content-v2'), join(dir, '_cacache')]);
      execFileSync('cp', ['-r', join(userCache, 'index-v5'), join(dir, '_cacache')]);
    } catch {
      // another file system (no hard links): npm fetches what it needs from the registry
      rmSync(join(dir, '_cacache'), { recursive: true, force: true });
    }
  }
  return dir;
}

/**
 * The runtime stage laid into `dir` (a fresh folder), as root. `layerCache` keeps the install
 * layers (npm ci) between runs.
 */
export function buildRuntimeImage(dir: string, layerCache = tmpdir()): Image {
  const steps = runtimeStage(join(CHECKOUT, 'deploy/Dockerfile'));
  const lastRun = steps.map((s) => s.op === 'RUN').lastIndexOf(true);
  const key = createHash('sha256');
  for (const s of steps.slice(0, lastRun + 1)) {
    key.update(`${s.op} ${s.args}\n`);
    if (s.op === 'COPY' && !s.args.startsWith('--from'))
      for (const src of s.args.split(/\s+/).slice(0, -1))
        if (statSync(join(CHECKOUT, src)).isFile()) key.update(readFileSync(join(CHECKOUT, src)));
  }
  const cached = join(layerCache, `unilvseg-fixture-image-${key.digest('hex').slice(0, 16)}`);
  let workdir = '/';
  let user = 'root';
  const env: Record<string, string> = {};
  let entrypoint: string[] = [];
  const layer = (root: string, s: Instruction) => {
    if (s.op === 'WORKDIR') workdir = posix.resolve(workdir, s.args);
    else if (s.op === 'ENV') for (const [, k, v] of s.args.matchAll(/(\w+)=(\S+)/g)) env[k] = v;
    else if (s.op === 'COPY') copy(s, root, workdir);
    else if (s.op === 'USER') user = s.args;
    else if (s.op === 'ENTRYPOINT') entrypoint = JSON.parse(s.args) as string[];
    else if (s.op === 'RUN') {
      const cwd = under(root, workdir, '.');
      mkdirSync(cwd, { recursive: true });
      // A clean environment (under `npm test` npm's own variables would point the inner npm at this
      // checkout); packages from npm's cache where it has them (CI's `npm ci` just filled it).
      const clean = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
      const npmCache = privateNpmCache(`${root}.npm-cache`);
      try {
        execFileSync('/bin/sh', ['-c', s.args], {
          cwd,
          env: { ...clean, ...env, npm_config_prefer_offline: 'true', npm_config_cache: npmCache },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
      } finally {
        rmSync(npmCache, { recursive: true, force: true });
      }
    } else if (s.op !== 'CMD') throw new Error(`deploy/Dockerfile: ${s.op} is not carried out by this test`);
  };
  if (!existsSync(join(cached, '.fixture-complete'))) {
    rmSync(cached, { recursive: true, force: true });
    mkdirSync(cached, { recursive: true });
    for (const s of steps.slice(0, lastRun + 1)) layer(cached, s);
    writeFileSync(join(cached, '.fixture-complete'), new Date().toISOString());
  }
  // This run's image: the cached layers (node_modules linked, the rest copied), then the later ones.
  workdir = '/';
  for (const s of steps.slice(0, lastRun + 1)) if (s.op === 'WORKDIR' || s.op === 'ENV') layer(dir, s);
  cpSync(cached, dir, {
    recursive: true,
    filter: (src) => !src.endsWith('/node_modules') && !src.endsWith('.fixture-complete'),
  });
  symlinkSync(join(cached, workdir, 'node_modules'), join(dir, workdir, 'node_modules'));
  for (const s of steps.slice(lastRun + 1)) layer(dir, s);
  return {
    root: dir,
    workdir: join(dir, workdir),
    user,
    env,
    entrypoint: entrypoint.map((w) => (w.startsWith('/') ? join(dir, w) : w)),
  };
}

// Which ffmpeg and ffprobe executables this process runs. In order: FFMPEG_PATH / FFPROBE_PATH when
// set (fluent-ffmpeg's own variables); the binaries bundled by @ffmpeg-installer / @ffprobe-installer
// when this user may execute them; ffmpeg / ffprobe on the PATH. The bundled build comes before the
// system's so that every node of a cluster decodes with the same build (per-video outputs then match
// byte for byte wherever a shard ran), and the PATH is the way out for an install whose bundled
// binary this user may not run (the package ships ffprobe as -rwxr--r--; our postinstall,
// tools/postinstall.mjs, opens it to every user, but an install made with --ignore-scripts keeps it).
// See deploy/README.md#ffmpeg-and-ffprobe.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';

export type BinaryName = 'ffmpeg' | 'ffprobe';

export interface BinaryChoice {
  path: string;
  from: string;
}

const ENV_NAME: Record<BinaryName, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };

const isFile = (path: string) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

const mayExecute = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Why this process may not run `path`: its mode and owner next to our uid. */
function whyNot(path: string): string {
  const s = statSync(path);
  const uid = process.getuid?.();
  return `mode ${(s.mode & 0o777).toString(8)}, owner uid ${s.uid}${uid === undefined ? '' : `, this process uid ${uid}`}`;
}

/**
 * The binary `name` to run: the variable's, else `bundled` if this user may execute it, else the
 * first executable `name` on the PATH. null when nothing is bundled (`bundled` missing) and none is
 * on the PATH (ffprobe: then ffmpeg probes). Throws, naming the binary and the fixes, when a binary
 * is there but nothing can be run.
 */
export function chooseBinary(
  name: BinaryName,
  bundled: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): BinaryChoice | null {
  const variable = ENV_NAME[name];
  const set = env[variable];
  if (set) {
    if (isFile(set) && mayExecute(set)) return { path: set, from: variable };
    throw new Error(
      `${variable}=${set}: ${isFile(set) ? `not executable by this user (${whyNot(set)})` : 'no such file'}. Point ${variable} at an executable ${name}, or unset it`,
    );
  }
  if (bundled && isFile(bundled) && mayExecute(bundled)) return { path: bundled, from: 'bundled' };
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (isFile(candidate) && mayExecute(candidate)) return { path: candidate, from: 'PATH' };
  }
  if (!bundled || !isFile(bundled)) {
    if (name === 'ffprobe') return null;
    throw new Error(
      `no ffmpeg to run: the bundled binary (${bundled ?? 'none for this platform'}) is missing and there is none on the PATH. Re-run npm install (without --ignore-scripts), install ffmpeg on the PATH, or set ${variable}`,
    );
  }
  throw new Error(
    `${name} cannot be run by this user: ${bundled} is not executable by it (${whyNot(bundled)}) and there is no ${name} on the PATH. ` +
      `Fix: as the install's owner, chmod a+rx ${bundled} (npm install does it through this package's postinstall, unless run with --ignore-scripts), ` +
      `or install ${name} on the PATH, or set ${variable} to an executable ${name}`,
  );
}

export interface FfmpegBinaries {
  ffmpeg: BinaryChoice;
  /** null: no ffprobe at all (an install pruned of it): ffmpeg probes instead. */
  ffprobe: BinaryChoice | null;
}

let chosen: FfmpegBinaries | undefined;

/** This process's binaries, chosen on first use (a failure throws each time, naming the fix). */
export function ffmpegBinaries(): FfmpegBinaries {
  chosen ??= {
    ffmpeg: chooseBinary('ffmpeg', ffmpegInstaller.path)!,
    ffprobe: chooseBinary('ffprobe', ffprobeInstaller.path),
  };
  return chosen;
}

// A copy of a synthetic EchoNet-format dataset with one video damaged in each way a batch must
// survive, for the skip-and-report tests of every batch command.
import { cpSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DAMAGES = ['missing', 'badNumber', 'oneFrame', 'garbage', 'truncated', 'empty'] as const;
export type Damage = (typeof DAMAGES)[number];

/**
 * Copies `src` to `dst` and damages its first six FileList videos (in DAMAGES order): deleted but
 * still listed, a malformed number in its VolumeTracings.csv rows, tracings collapsed onto one
 * frame, garbage bytes, cut to half its bytes, emptied. The remaining videos stay good. With
 * `splits`, the Split column is rewritten: damaged videos and all good ones but the last get
 * `splits.damaged`, the last good one `splits.last`. Returns the damaged file names (with .avi)
 * and the good ones.
 */
export function damagedCopy(
  src: string,
  dst: string,
  splits?: { damaged: string; last: string },
): { damaged: Record<Damage, string>; good: string[] } {
  cpSync(src, dst, {
    recursive: true,
    filter: (p) => !p.includes('.unilvseg-cache') && !p.includes('.fixture-complete'),
  });
  const listPath = join(dst, 'FileList.csv');
  const lines = readFileSync(listPath, 'utf8').trim().split('\n');
  const names = lines.slice(1).map((l) => `${l.split(',')[0]}.avi`);
  if (names.length < DAMAGES.length + 1) throw new Error(`${src} has too few videos to damage`);
  const damaged = Object.fromEntries(DAMAGES.map((d, i) => [d, names[i]])) as Record<Damage, string>;
  const video = (d: Damage) => join(dst, 'Videos', damaged[d]);
  rmSync(video('missing'));
  writeFileSync(video('garbage'), Buffer.from('RIFF\0\0\0\0AVI garbage, not a video'.repeat(40)));
  truncateSync(video('truncated'), Math.floor(statSync(video('truncated')).size / 2));
  truncateSync(video('empty'), 0);

  const tracePath = join(dst, 'VolumeTracings.csv');
  let firstOfBad = true;
  const traces = readFileSync(tracePath, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.split(',');
      if (f[0] === damaged.badNumber && firstOfBad) {
        firstOfBad = false;
        f[2] = `${f[2]}.5.5`; // "36.0.5.5": not a number
      }
      if (f[0] === damaged.oneFrame) f[5] = '7';
      return f.join(',');
    });
  writeFileSync(tracePath, traces.join('\n') + '\n');

  if (splits) {
    const rows = lines.slice(1).map((l, i) => {
      const f = l.split(',');
      f[f.length - 1] = i === lines.length - 2 ? splits.last : splits.damaged;
      return f.join(',');
    });
    writeFileSync(listPath, [lines[0], ...rows].join('\n') + '\n');
  }
  return { damaged, good: names.slice(DAMAGES.length) };
}

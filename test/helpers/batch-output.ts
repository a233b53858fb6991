// Comparing two segment-batch output folders: the files they hold, summary.json without its
// timings, results.csv without its seconds column.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under `dir`, relative, sorted. */
export function fileTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** summary.json without what depends on time. */
export function summaryWithoutTimes(path: string): unknown {
  const s = JSON.parse(readFileSync(path, 'utf8'));
  delete s.seconds;
  delete s.framesPerSecond;
  return s;
}

/** results.csv's lines without the `seconds` column. */
export function resultsWithoutSeconds(out: string): string[] {
  return readFileSync(join(out, 'results.csv'), 'utf8')
    .split('\n')
    .map((l) =>
      l
        .split(',')
        .filter((_, i) => i !== 10)
        .join(','),
    );
}

// Bad items of a batch run (a video that is missing, corrupt or badly traced): each one named with
// the reason in `failures.csv`, and the exit status that tells a scheduler something was skipped.
import { stringify } from 'csv-stringify/sync';
import { atomicWriteFile } from './atomic.js';

/** Exit status of a batch command that finished but skipped bad items (listed in its failures.csv). */
export const EXIT_SKIPPED = 3;
/** Exit status of merge-batch while videos of the input have no result yet. */
export const EXIT_INCOMPLETE = 4;

export interface Failure {
  /** The file at fault: the video, or the CSV holding its bad row (the problem then names the video). */
  file: string;
  problem: string;
}

/** RFC 4180 CSV of `rows` under `header` (fields with commas, quotes or newlines are quoted). */
export function csvText(header: string[], rows: unknown[][]): string {
  return stringify([header, ...rows], { record_delimiter: '\n' });
}

/**
 * The failures of one run: kept in order, each new one rewrites `csvPath` atomically, so a run
 * killed later still leaves a complete list of what it skipped. A repeated report is kept once.
 */
export class FailureLog {
  readonly items: Failure[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly csvPath: string,
    private readonly onAdd: (f: Failure) => void = (f) =>
      process.stderr.write(`skipping ${f.file}: ${f.problem}\n`),
  ) {}

  /** Records a failure; `announce` false for one already reported (e.g. by an earlier, resumed run). */
  add(file: string, problem: string, announce = true): void {
    const key = `${file}\n${problem}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const f = { file, problem };
    this.items.push(f);
    if (announce) this.onAdd(f);
    this.write();
  }

  /** Writes the file (a header only when nothing failed), so a finished run always has one. */
  write(): void {
    atomicWriteFile(
      this.csvPath,
      csvText(
        ['file', 'problem'],
        this.items.map((f) => [f.file, f.problem]),
      ),
    );
  }
}

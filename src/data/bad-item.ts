// Which errors are a bad input item (report it, skip it, go on) rather than a bug or a broken setup.
import { DataError } from './errors.js';
import { VideoError } from './video.js';

/**
 * The file at fault and the problem (without the file name, which the caller prints next to it)
 * when `e` is a bad input: a missing, corrupt, truncated or empty video, a bad CSV row or trace.
 * Anything else (undefined) is a bug, a model problem or a broken setup and should stop a run.
 */
export function badItem(e: unknown): { file: string; problem: string } | undefined {
  if (e instanceof DataError)
    return { file: e.file, problem: e.line === undefined ? e.problem : `line ${e.line}: ${e.problem}` };
  if (e instanceof VideoError) return { file: e.file, problem: e.problem };
  return undefined;
}

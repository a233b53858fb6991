import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';

/**
 * Write a file so that readers see either the old content or the new one, never a torn file:
 * write a temporary file in the same folder, fsync it, then rename it over the target. The
 * temporary name is unique per process, thread and call, so loader threads may write the same
 * target at once. `data` may be given in parts (written in order, never concatenated in memory).
 */
export function atomicWriteFile(path: string, data: string | Uint8Array | Uint8Array[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${threadId}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : Array.isArray(data) ? data : [data];
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const part of parts) {
        for (let at = 0; at < part.length;) at += writeSync(fd, part, at, part.length - at);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

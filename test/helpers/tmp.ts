import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Temporary folders for one test file, all removed after its tests: call at module level, use the
 * returned function as `tmp('tag')`, and `tmp.adopt(dir)` for folders made elsewhere.
 */
export function tempDirs(prefix: string): ((tag: string) => string) & { adopt: (dir: string) => void } {
  const made: string[] = [];
  after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tmp = (tag: string) => {
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-${tag}-`));
    made.push(dir);
    return dir;
  };
  return Object.assign(tmp, { adopt: (dir: string) => void made.push(dir) });
}

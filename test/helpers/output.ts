import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * A folder for files a test leaves for people to look at (screenshots): test-output/<tag> in the
 * working folder, or under $UNILVSEG_TEST_OUTPUT. Kept after the run, ignored by git.
 */
export function testOutputDir(tag: string): string {
  const dir = join(resolve(process.env.UNILVSEG_TEST_OUTPUT ?? 'test-output'), tag);
  mkdirSync(dir, { recursive: true });
  return dir;
}

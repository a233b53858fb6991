// npm install's last step for this package (plain JavaScript: it runs before anything is compiled).
// @ffprobe-installer ships ffprobe as -rwxr--r-- (and its own install script adds u+x only), so an
// install made by root (a shared checkout, `npm ci` in deploy/Dockerfile before `USER node`) could not
// probe a single video for any other user. Give every user read and execute on the bundled binaries.
import { chmodSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';

const require = createRequire(import.meta.url);
for (const pkg of ['@ffmpeg-installer/ffmpeg', '@ffprobe-installer/ffprobe']) {
  let path;
  try {
    path = require(pkg).path;
    const mode = statSync(path).mode & 0o7777;
    if ((mode & 0o555) !== 0o555) chmodSync(path, mode | 0o555);
  } catch (e) {
    // A platform the package has no binary for: src/data/ffmpeg-binaries.ts looks on the PATH.
    process.stderr.write(
      `postinstall: ${pkg}: ${path ?? 'no binary'}: ${e instanceof Error ? e.message : e}\n`,
    );
  }
}

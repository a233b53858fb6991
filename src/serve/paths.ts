// Confining request paths to the served folder. The folder holds patient videos, so every way out
// is refused: `..` segments (also percent-encoded), absolute paths, NUL bytes, and symbolic links
// (or linked parent folders) whose target lies outside; the check runs on the resolved real path.
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** A request that must not be served, with the HTTP status to answer. */
export class PathRefused extends Error {
  constructor(
    readonly status: 403 | 404 | 400,
    message: string,
  ) {
    super(message);
    this.name = 'PathRefused';
  }
}

/** Whether `child` (a real path) is `root` itself or lies below it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The real path of the regular file `urlPath` names under `root` (already a real path).
 * `urlPath` is the percent-encoded path below the route prefix, e.g. "Videos/0X1A.avi".
 */
export function resolveInside(root: string, urlPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw new PathRefused(400, `malformed percent-encoding in ${JSON.stringify(urlPath)}`);
  }
  if (decoded.includes('\0')) throw new PathRefused(400, 'NUL byte in path');
  if (decoded.includes('\\')) throw new PathRefused(403, `backslash in path ${JSON.stringify(decoded)}`);
  if (isAbsolute(decoded)) throw new PathRefused(403, `absolute path ${JSON.stringify(decoded)} refused`);
  if (decoded.split('/').includes('..'))
    throw new PathRefused(403, `path ${JSON.stringify(decoded)} leaves the served folder`);
  const candidate = resolve(root, decoded);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new PathRefused(404, `no such file: ${decoded}`);
  }
  if (!isInside(root, real))
    throw new PathRefused(403, `${decoded} resolves outside the served folder (symbolic link)`);
  if (!statSync(real).isFile()) throw new PathRefused(404, `not a file: ${decoded}`);
  return real;
}

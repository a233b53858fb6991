import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Append-only machine-readable log: one JSON object per line, each stamped with the time. */
export class JsonlLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  write(record: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  }
}

/**
 * The upstream scripts spell flags in snake_case (`--data_path`); ours are kebab-case
 * (`--data-path`). Rewriting the flag names before commander parses them makes both spellings
 * work everywhere, so upstream README commands run unchanged.
 */
export function normalizeFlagNames(argv: string[]): string[] {
  return argv.map((arg) => {
    if (!arg.startsWith('--')) return arg;
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const rest = eq < 0 ? '' : arg.slice(eq);
    return name.replace(/_/g, '-') + rest;
  });
}

/** Parsers for commander options. */
export const parse = {
  int(v: string): number {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`expected an integer, got "${v}"`);
    return n;
  },
  float(v: string): number {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`expected a number, got "${v}"`);
    return n;
  },
  /** For `--mean 0.1 0.2 0.3` (variadic options collect strings). */
  floats(v: string, prev: number[] | undefined): number[] {
    return [...(prev ?? []), parse.float(v)];
  },
};

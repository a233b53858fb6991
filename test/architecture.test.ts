// Structural rules of the source tree, checked on the TypeScript sources: no import cycles, and the
// library never reaches back into the command-line layer (docs/architecture.md).
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Tests run from dist/test/; the sources are two levels up.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FOLDERS = ['src', 'graphs', 'tools', 'test'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory())
      return name === 'node_modules' || name === 'fixtures' ? [] : sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative module specifiers of a file: static imports and re-exports, side-effect and dynamic imports. */
function relativeImports(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g, /\bimport\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]);
  return found;
}

/** Import graph over the sources: file -> the files it imports (`.js` specifiers resolve to `.ts`). */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const targets = relativeImports(readFileSync(f, 'utf8'))
      .map((spec) => resolve(dirname(f), spec.replace(/\.js$/, '.ts')))
      .filter((t) => known.has(t));
    graph.set(f, targets);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe('source tree structure (docs/architecture.md)', function () {
  const files = FOLDERS.flatMap((d) => sourceFiles(join(ROOT, d)));
  const graph = importGraph(files);
  const rel = (f: string) => relative(ROOT, f);

  it('finds the sources and their imports', function () {
    expect(files.length).to.be.above(100);
    expect(graph.get(join(ROOT, 'src', 'cli', 'main.ts'))).to.include(join(ROOT, 'src', 'cli', 'demo.ts'));
  });

  it('detects a cycle, a self-import and a dynamic import in a made-up graph', function () {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['d']],
      ['e', ['a']],
    ]);
    expect(importCycles(g)).to.deep.equal([['a', 'b', 'c'], ['d']]);
    expect(
      relativeImports("const { main } = await import('./main.js');\nexport * from '../x.js';"),
    ).to.deep.equal(['../x.js', './main.js']);
  });

  it('has no import cycles', function () {
    expect(importCycles(graph).map((c) => c.map(rel))).to.deep.equal([]);
  });

  it('keeps the library independent of the command-line layer (only src/cli imports src/cli)', function () {
    const cli = join(ROOT, 'src', 'cli');
    const offenders = [...graph]
      .filter(([f]) => f.startsWith(join(ROOT, 'src')) && !f.startsWith(cli))
      .flatMap(([f, targets]) =>
        targets.filter((t) => t.startsWith(cli)).map((t) => `${rel(f)} -> ${rel(t)}`),
      );
    expect(offenders).to.deep.equal([]);
  });
});

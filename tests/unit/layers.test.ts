/**
 * The import structure the code keeps: no module imports itself back through others (no
 * import circles at run time; `import type` is erased and does not count), and no layer
 * imports one above it — the core imports no host, and no host another (the app starts its
 * workers). The test lists every circle and every upward import it finds.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../fixtures';

/** Every .ts and .svelte file under the source folders, by path relative to the project root. */
function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(projectRoot, dir))) {
      const path = join(dir, name);
      if (statSync(join(projectRoot, path)).isDirectory()) walk(path);
      else if (/\.(ts|svelte)$/.test(name) && !name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const dir of ['src', 'workers']) walk(dir);
  return files;
}

/** The project files a file imports at run time (relative specifiers; `import type` / `export type` left out). */
function runtimeImports(file: string, known: Set<string>): string[] {
  const text = readFileSync(join(projectRoot, file), 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/^\s*(import|export)\s+(?!type\s)([^;]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    const target = normalize(join(dirname(file), match[3]));
    const candidates = [target, `${target}.ts`, target.replace(/\.js$/, '.ts'), join(target, 'index.ts')];
    const hit = candidates.find((c) => known.has(c));
    if (hit) found.push(hit);
  }
  return found;
}

const files = sources();
const known = new Set(files);
const graph = new Map(files.map((f) => [f, runtimeImports(f, known)]));

/** Strongly connected components of more than one file (Tarjan), each sorted. */
function circles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
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
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

/** The layer of a file; a layer may import only those listed for it. */
const LAYERS: { name: string; match: (file: string) => boolean; mayImport: string[] }[] = [
  { name: 'core', match: (f) => f.startsWith('src/core/'), mayImport: ['core'] },
  // The package's hosts: the Node API (and its browser twin) and the CLI built on it, which share Node's file and registry access.
  { name: 'package', match: (f) => f.startsWith('src/api/') || f.startsWith('src/cli/'), mayImport: ['core', 'package'] },
  { name: 'workers', match: (f) => f.startsWith('workers/'), mayImport: ['core', 'workers'] },
  { name: 'app', match: (f) => f.startsWith('src/app/') || f === 'src/main.ts', mayImport: ['core', 'app', 'workers'] },
];
const layerOf = (file: string) => LAYERS.find((l) => l.match(file))?.name ?? 'unknown';

describe('the import structure', () => {
  it('reads every source file', () => {
    expect(files.filter((f) => f.startsWith('src/core/')).length).toBeGreaterThan(50);
    expect([...graph.values()].reduce((n, deps) => n + deps.length, 0)).toBeGreaterThan(200);
    expect(files.filter((f) => layerOf(f) === 'unknown')).toEqual([]);
  });

  it('has no source file over 400 lines, save generated ones (marked "generated" in their first lines)', () => {
    const long = files.filter((f) => {
      const text = readFileSync(join(projectRoot, f), 'utf8');
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      return lines > 400 && !/generated/i.test(text.split('\n').slice(0, 5).join('\n'));
    });
    expect(long).toEqual([]);
  });

  it('has no import circles at run time', () => {
    expect(circles().map((c) => c.join(' → '))).toEqual([]);
  });

  it('has no layer importing a layer above it (the core imports no host; no host imports another, save the app its workers)', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      const layer = LAYERS.find((l) => l.name === layerOf(file))!;
      for (const dep of deps) if (!layer.mayImport.includes(layerOf(dep))) upward.push(`${file} (${layer.name}) imports ${dep} (${layerOf(dep)})`);
    }
    expect(upward).toEqual([]);
  });

  it('finds a circle and an upward import when there is one (the test can fail)', () => {
    graph.set('src/core/a-test-only.ts', ['src/core/b-test-only.ts']);
    graph.set('src/core/b-test-only.ts', ['src/core/a-test-only.ts', 'src/cli/main.ts']);
    files.push('src/core/a-test-only.ts', 'src/core/b-test-only.ts');
    try {
      expect(circles().map((c) => c.join(' → '))).toEqual(['src/core/a-test-only.ts → src/core/b-test-only.ts']);
      const layer = LAYERS.find((l) => l.name === layerOf('src/core/b-test-only.ts'))!;
      expect(layer.mayImport.includes(layerOf('src/cli/main.ts'))).toBe(false);
    } finally {
      graph.delete('src/core/a-test-only.ts');
      graph.delete('src/core/b-test-only.ts');
      files.splice(files.indexOf('src/core/a-test-only.ts'), 2);
    }
  });
});

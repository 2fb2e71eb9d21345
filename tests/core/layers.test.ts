/**
 * The import structure the code keeps:
 * - no import circles at run time (`import type` is erased and does not count);
 * - the core in layers, each importing only itself and the layers below it (types too):
 *   base → data → model → metrics → analyses → audit → outputs → registry → index;
 * - hosts import the core only through its index (src/core/index.ts), types too, and no
 *   host imports another (the app starts its workers; the API and the CLI are one package);
 *   the pool's thread entries import the core's pool alone (src/core/pool/index.ts), and
 *   onnxruntime's worker the core's session server alone (src/core/model/onnx-remote.ts);
 * - no source file over 400 lines unless generated.
 * The test lists every circle and every import that breaks a rule, and shows on planted
 * files that it can fail.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/fixtures';

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

/**
 * The project files a file imports (relative specifiers). With `types: false`, those it
 * loads as it is itself loaded (`import type` / `export type` and `import('…')` left out):
 * the edges an import circle runs on. With `types: true`, every import, `import('…')` too.
 */
function importsOf(file: string, known: Set<string>, types: boolean): string[] {
  const text = readFileSync(join(projectRoot, file), 'utf8');
  const found: string[] = [];
  const pattern = types ? /^\s*(import|export)\s+([^;]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm : /^\s*(import|export)\s+(?!type\s)([^;]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const match of text.matchAll(pattern)) {
    const target = normalize(join(dirname(file), match[3]));
    const candidates = [target, `${target}.ts`, target.replace(/\.js$/, '.ts'), join(target, 'index.ts')];
    const hit = candidates.find((c) => known.has(c));
    if (hit) found.push(hit);
  }
  // import('…') loads a module later, when called (the core's index loads the PDF writer so).
  if (types) for (const match of text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    const target = normalize(join(dirname(file), match[1]));
    const hit = [target, `${target}.ts`, target.replace(/\.js$/, '.ts'), join(target, 'index.ts')].find((c) => known.has(c));
    if (hit) found.push(hit);
  }
  return found;
}

const files = sources();
const known = new Set(files);
const graph = new Map(files.map((f) => [f, importsOf(f, known, false)]));
/** Every import, types included: what the layers are checked on. */
const typedGraph = new Map(files.map((f) => [f, importsOf(f, known, true)]));

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

/** The host of a file (or 'core'); a host may import only those listed for it. */
const HOSTS: { name: string; match: (file: string) => boolean; mayImport: string[] }[] = [
  { name: 'core', match: (f) => f.startsWith('src/core/'), mayImport: ['core'] },
  // The package's hosts: the Node API (and its browser twin) and the CLI built on it, which share Node's file and registry access.
  { name: 'package', match: (f) => f.startsWith('src/api/') || f.startsWith('src/cli/'), mayImport: ['core', 'package'] },
  { name: 'workers', match: (f) => f.startsWith('workers/'), mayImport: ['core', 'workers'] },
  { name: 'app', match: (f) => f.startsWith('src/app/') || f === 'src/main.ts', mayImport: ['core', 'app', 'workers'] },
];
const hostOf = (file: string) => HOSTS.find((l) => l.match(file))?.name ?? 'unknown';
/**
 * The pool's thread entries, which start many times per audit: they import the core's pool
 * alone (src/core/pool/index.ts), not the whole core, which halves a thread's start-up.
 */
const POOL_THREADS = ['workers/pool.worker.ts', 'src/api/pool-thread.ts'];
/** The thread entries that import one module of the core alone, and which: onnxruntime's worker serves sessions (src/core/model/onnx-remote.ts). */
const LEAN_THREADS: Record<string, string> = { 'workers/ort.worker.ts': 'src/core/model/onnx-remote.ts' };

/**
 * The core's layers, lowest first, by folder: a core file may import its own layer and those
 * below it. (The audit layer holds the audits of every kind with what plans and judges them:
 * audit/, task/, comparison/, config/, data-check/, and the thread pool that runs their splittable parts, pool/.)
 */
const CORE_LAYERS: { name: string; folders: string[] }[] = [
  { name: 'base', folders: ['base'] },
  { name: 'data', folders: ['data'] },
  { name: 'model', folders: ['model'] },
  { name: 'metrics', folders: ['metrics'] },
  { name: 'analyses', folders: ['analyses'] },
  { name: 'audit', folders: ['audit', 'task', 'comparison', 'config', 'data-check', 'pool'] },
  { name: 'outputs', folders: ['outputs'] },
  { name: 'registry', folders: ['registry'] },
  { name: 'index', folders: ['index.ts'] },
];
/** The rank of a core file's layer (-1 when its folder has no layer). */
const coreRank = (file: string) => CORE_LAYERS.findIndex((l) => l.folders.includes(file.slice('src/core/'.length).split('/')[0]));

/** Every import that breaks a layer rule, in words. */
function layerBreaks(edges: Map<string, string[]>): string[] {
  const breaks: string[] = [];
  for (const [file, deps] of edges) {
    const host = HOSTS.find((l) => l.name === hostOf(file))!;
    for (const dep of deps) {
      if (!host.mayImport.includes(hostOf(dep))) breaks.push(`${file} (${host.name}) imports ${dep} (${hostOf(dep)})`);
      else if (host.name !== 'core' && hostOf(dep) === 'core' && dep !== 'src/core/index.ts' && !(POOL_THREADS.includes(file) && dep === 'src/core/pool/index.ts') && LEAN_THREADS[file] !== dep) breaks.push(`${file} (${host.name}) imports ${dep}: a host imports the core only from src/core/index.ts`);
      else if (host.name === 'core' && coreRank(dep) > coreRank(file)) breaks.push(`${file} (${CORE_LAYERS[coreRank(file)].name}) imports ${dep} (${CORE_LAYERS[coreRank(dep)].name}, a layer above)`);
    }
  }
  return breaks;
}

describe('the import structure', () => {
  it('reads every source file', () => {
    expect(files.filter((f) => f.startsWith('src/core/')).length).toBeGreaterThan(50);
    expect([...graph.values()].reduce((n, deps) => n + deps.length, 0)).toBeGreaterThan(200);
    expect(files.filter((f) => hostOf(f) === 'unknown')).toEqual([]);
    expect(files.filter((f) => hostOf(f) === 'core' && !f.endsWith('platform.d.ts') && coreRank(f) < 0)).toEqual([]);
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

  it('has no core module importing a layer above its own, no host importing the core but through its index, no host importing another', () => {
    expect(layerBreaks(typedGraph)).toEqual([]);
  });

  it('finds a circle and an import that breaks a layer when there is one (the test can fail)', () => {
    graph.set('src/core/base/a-test-only.ts', ['src/core/base/b-test-only.ts']);
    graph.set('src/core/base/b-test-only.ts', ['src/core/base/a-test-only.ts']);
    files.push('src/core/base/a-test-only.ts', 'src/core/base/b-test-only.ts');
    try {
      expect(circles().map((c) => c.join(' → '))).toEqual(['src/core/base/a-test-only.ts → src/core/base/b-test-only.ts']);
    } finally {
      graph.delete('src/core/base/a-test-only.ts');
      graph.delete('src/core/base/b-test-only.ts');
      files.splice(files.indexOf('src/core/base/a-test-only.ts'), 2);
    }
    const planted = new Map([
      ['src/core/metrics/x.ts', ['src/core/outputs/pdf.ts', 'src/core/data/table.ts']],
      ['src/cli/x.ts', ['src/core/base/errors.ts', 'src/core/index.ts', 'src/app/App.svelte']],
      ['workers/x.ts', ['src/core/index.ts', 'src/core/pool/index.ts']],
      ['workers/pool.worker.ts', ['src/core/pool/index.ts']],
    ]);
    expect(layerBreaks(planted)).toEqual([
      'src/core/metrics/x.ts (metrics) imports src/core/outputs/pdf.ts (outputs, a layer above)',
      'src/cli/x.ts (package) imports src/core/base/errors.ts: a host imports the core only from src/core/index.ts',
      'src/cli/x.ts (package) imports src/app/App.svelte (app)',
      'workers/x.ts (workers) imports src/core/pool/index.ts: a host imports the core only from src/core/index.ts',
    ]);
  });
});

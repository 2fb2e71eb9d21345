#!/usr/bin/env node
/**
 * Builds what the npm package ships (run by `npm pack` through the prepack script): the CLI
 * and the API, with the core they import, compiled by tsc into dist-node/ as JavaScript
 * plus type declarations. The installed package then runs on Node alone: no tsx, no
 * TypeScript, no build step at install.
 *
 * The core imports its siblings without an extension (`./audit`), which Node's ESM loader
 * does not resolve; tsc rewrites `.ts` specifiers but leaves those as they are, so each
 * relative specifier is completed here from the files tsc wrote (`./audit.js`,
 * `./data/index.js`), in the JavaScript and in the declarations alike.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist-node');
rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });

/** Every file under a folder. */
function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** The specifier Node resolves: `./x` → `./x.js` or `./x/index.js` (a `.d.ts` beside each). */
function completed(file, specifier) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return specifier;
  if (/\.(m?js|json)$/.test(specifier)) return specifier;
  // A side-effect import keeps its `.ts` in a declaration.
  if (specifier.endsWith('.ts')) specifier = specifier.slice(0, -3);
  const base = resolve(dirname(file), specifier);
  if (existsSync(`${base}.js`)) return `${specifier}.js`;
  if (existsSync(join(base, 'index.js'))) return `${specifier}/index.js`;
  throw new Error(`${file}: cannot resolve ${specifier} in the build`);
}

// `from '…'`, `import '…'` and `import('…')`, the only forms tsc writes.
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\2/g;
let rewritten = 0;
for (const file of walk(out)) {
  if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8');
  const next = text.replace(SPECIFIER, (_match, lead, quote, specifier) => `${lead}${quote}${completed(file, specifier)}${quote}`);
  if (next !== text) {
    writeFileSync(file, next);
    rewritten++;
  }
}
process.stdout.write(`dist-node/: built, relative imports completed in ${rewritten} files\n`);

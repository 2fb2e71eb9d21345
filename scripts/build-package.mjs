#!/usr/bin/env node
/**
 * Builds what the npm package ships (run by `npm pack` through the prepack script), so that
 * the installed package runs on Node alone, with no dependency to install:
 *
 * - dist-node/*.js — the CLI (main.js), the Node API (node.js), the browser API for Node
 *   (browser-node.js) and the thread pool's entry (pool-thread.js), bundled by esbuild with
 *   the JavaScript libraries they use (jsPDF, apache-arrow, yaml, pg …), split into chunks so
 *   that what a command loads on demand (the PDF writer, the registry) stays on demand.
 * - dist-node/browser/ — the browser API for bundlers (Vite, webpack): the same sources built
 *   for browsers; onnxruntime-web is left to the app (an optional peer dependency), which
 *   picks the browser build of it.
 * - dist-node/vendor/ — the WebAssembly the Node build loads from disk, with the JavaScript
 *   that loads it: onnxruntime-web's Node build (its glue bundled with onnxruntime-common,
 *   the .wasm beside it, where it looks for it) and parquet-wasm's Node build. Only these:
 *   onnxruntime-web's package is 139 MB of builds for every backend, Node loads 14 MB of it.
 * - dist-node/types/ — type declarations, by tsc (declarations only), with the few names they
 *   take from bundled libraries declared in types/externals/.
 *
 * Until 4 Dec the package shipped tsc's JavaScript with every runtime dependency
 * bundled as a package (bundleDependencies): a 65 MB tarball, 281 MB installed, 9,184 files.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist-node');
const modules = join(root, 'node_modules');
rmSync(out, { recursive: true, force: true });

const version = (name) => JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version;

// The vendored WebAssembly: what the Node build imports in place of the packages.
const ORT = './vendor/onnxruntime-web/ort.node.min.mjs';
const PARQUET = './vendor/parquet-wasm/parquet_wasm.js';
const ortDir = join(out, 'vendor', 'onnxruntime-web');
mkdirSync(ortDir, { recursive: true });
// onnxruntime-web's Node build, bundled with onnxruntime-common (the one package it imports),
// under its own name: it finds its glue and .wasm beside `ort.node.min.mjs`.
const vendoredOrt = await build({
  entryPoints: [join(modules, 'onnxruntime-web/dist/ort.node.min.mjs')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: join(ortDir, 'ort.node.min.mjs'),
  metafile: true,
  logLevel: 'warning',
});
for (const file of ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) copyFileSync(join(modules, 'onnxruntime-web/dist', file), join(ortDir, file));
const parquetDir = join(out, 'vendor', 'parquet-wasm');
mkdirSync(parquetDir, { recursive: true });
for (const file of ['package.json', 'parquet_wasm.js', 'parquet_wasm_bg.wasm']) copyFileSync(join(modules, 'parquet-wasm/node', file), join(parquetDir, file));
for (const file of ['LICENSE_MIT', 'LICENSE_APACHE']) copyFileSync(join(modules, 'parquet-wasm', file), join(parquetDir, file));
writeFileSync(
  join(out, 'vendor', 'README.md'),
  `# Vendored WebAssembly\n\nCopied from the npm packages at build time (scripts/build-package.mjs), unchanged but for the bundling noted.\n\n` +
    `- onnxruntime-web ${version('onnxruntime-web')} (MIT, Microsoft): its Node build \`dist/ort.node.min.mjs\`, bundled by esbuild with onnxruntime-common ${version('onnxruntime-common')} (MIT), and \`dist/ort-wasm-simd-threaded.{mjs,wasm}\` as published.\n` +
    `- parquet-wasm ${version('parquet-wasm')} (MIT OR Apache-2.0, Kyle Barron): \`node/parquet_wasm.js\`, \`node/parquet_wasm_bg.wasm\` and \`node/package.json\` as published, with its licence files.\n\n` +
    `Their licence texts, and those of every library in the bundle, are in ../THIRD_PARTY_NOTICES.md. ONNX Runtime's WebAssembly also carries the third-party components its repository lists in ThirdPartyNotices.txt, which the npm package does not include.\n`,
);

/** The vendored builds in place of the packages, for the Node build. */
const vendored = {
  name: 'vendored-webassembly',
  setup(b) {
    b.onResolve({ filter: /^onnxruntime-web$/ }, () => ({ path: ORT, external: true }));
  },
};

// Only in the JavaScript world of a bundle: modules the libraries load for features the
// package does not use (jsPDF's html(), pg's native driver and Cloudflare sockets).
const unused = ['pg-native', 'pg-cloudflare', 'html2canvas', 'dompurify', 'canvg', 'better-sqlite3'];
const node = await build({
  entryPoints: { main: join(root, 'src/cli/main.ts'), node: join(root, 'src/api/node.ts'), 'browser-node': join(root, 'src/api/browser.ts'), 'pool-thread': join(root, 'src/api/pool-thread.ts') },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: out,
  external: unused,
  // parquet-node.ts loads parquet-wasm with require() when a Parquet file comes (a specifier esbuild does not follow).
  define: { PLUMBLINE_PARQUET_WASM: JSON.stringify(PARQUET) },
  plugins: [vendored],
  // CommonJS libraries (pg, papaparse) call require() for Node's modules: give the ESM bundle one.
  banner: { js: "import { createRequire as __plumblineRequire } from 'node:module'; const require = __plumblineRequire(import.meta.url);" },
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});
/** jsPDF's html() libraries, which a bundler of the browser build could not resolve: a module that says so, in their place. */
const notShipped = {
  name: 'not-shipped',
  setup(b) {
    b.onResolve({ filter: /^(html2canvas|dompurify|canvg)$/ }, (args) => ({ path: args.path, namespace: 'not-shipped' }));
    b.onLoad({ filter: /.*/, namespace: 'not-shipped' }, (args) => ({ contents: `throw new Error(${JSON.stringify(`${args.path} is not part of plumbline-audit (jsPDF's html(), which Plumbline does not use)`)});`, loader: 'js' }));
  },
};
const browserBuild = await build({
  entryPoints: { browser: join(root, 'src/api/browser.ts') },
  bundle: true,
  splitting: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  outdir: join(out, 'browser'),
  external: ['onnxruntime-web'],
  plugins: [notShipped],
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

// The licences of everything the package carries: each library the builds took a file from
// (from their metafiles), with its licence and notice files as published, in one file.
const MIT = `Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`;
// The Apache License 2.0's text as TypeScript publishes it (the terms, to their end).
const APACHE = readFileSync(join(modules, 'typescript/LICENSE.txt'), 'utf8').split('END OF TERMS AND CONDITIONS')[0].trim() + '\n\nEND OF TERMS AND CONDITIONS';
const BSD3 = `Copyright 2008 Google Inc.  All rights reserved.\n\nRedistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met:\n\n    * Redistributions of source code must retain the above copyright notice, this list of conditions and the following disclaimer.\n    * Redistributions in binary form must reproduce the above copyright notice, this list of conditions and the following disclaimer in the documentation and/or other materials provided with the distribution.\n    * Neither the name of Google Inc. nor the names of its contributors may be used to endorse or promote products derived from this software without specific prior written permission.\n\nTHIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT OWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.`;
const packages = new Set([join(modules, 'onnxruntime-web'), join(modules, 'parquet-wasm')]);
const packageOf = (input) => {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return null;
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  return join(root, input.slice(0, at), 'node_modules', name);
};
for (const meta of [node.metafile, browserBuild.metafile, vendoredOrt.metafile]) for (const input of Object.keys(meta.inputs)) {
  const dir = packageOf(input);
  if (dir) packages.add(dir);
}
const notices = [];
for (const dir of [...packages].sort((a, b) => relative(modules, a).localeCompare(relative(modules, b)))) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const licence = typeof manifest.license === 'string' ? manifest.license : (manifest.license?.type ?? 'see below');
  const texts = readdirSync(dir).filter((name) => /^(licen[cs]e|notice|copying)/i.test(name) && statSync(join(dir, name)).isFile()).sort();
  const author = typeof manifest.author === 'string' ? manifest.author : manifest.author?.name;
  let entry = `## ${manifest.name} ${manifest.version}\n\nLicence: ${licence}${manifest.repository ? ` — ${typeof manifest.repository === 'string' ? manifest.repository : manifest.repository.url}` : ''}\n`;
  for (const name of texts) entry += `\n### ${name}\n\n\`\`\`\n${readFileSync(join(dir, name), 'utf8').trim()}\n\`\`\`\n`;
  if (texts.length === 0 && manifest.name === '@bufbuild/protobuf') {
    // Buf's runtime (Apache-2.0) with parts derived from Google's protobuf (BSD-3-Clause); the package ships neither text.
    entry += `\nThe package ships no licence file; its licences are Apache-2.0 (Copyright 2021-2025 Buf Technologies, Inc.) and BSD-3-Clause (the parts derived from Protocol Buffers, Copyright 2008 Google Inc.):\n\n\`\`\`\n${APACHE}\n\`\`\`\n\n\`\`\`\n${BSD3}\n\`\`\`\n`;
  } else if (texts.length === 0) {
    if (licence !== 'MIT') throw new Error(`${manifest.name}: licence ${licence} and no licence file: write its notice in scripts/build-package.mjs`);
    const holder = manifest.name.startsWith('onnxruntime') ? 'Microsoft Corporation' : (author ?? `the authors of ${manifest.name}`);
    entry += `\nThe package ships no licence file; its licence is MIT:\n\n\`\`\`\nCopyright (c) ${holder}\n\n${MIT}\n\`\`\`\n`;
  }
  notices.push(entry);
}
writeFileSync(join(out, 'THIRD_PARTY_NOTICES.md'), `# Third-party notices\n\nThe npm package plumbline-audit carries, bundled or vendored (scripts/build-package.mjs), code from the ${notices.length} packages below, each under its own licence, given here as the package publishes it.\n\n${notices.join('\n')}`);

// Every npm import of the Node build is bundled or vendored: nothing is left for Node to resolve from node_modules.
const leftOver = new Set();
for (const output of Object.values(node.metafile.outputs)) for (const imported of output.imports) if (imported.external && !imported.path.startsWith('./') && !unused.includes(imported.path) && !isBuiltin(imported.path)) leftOver.add(imported.path);
if (leftOver.size > 0) throw new Error(`dist-node: the Node build still imports ${[...leftOver].join(', ')} from node_modules; bundle or vendor it`);

// Type declarations only (the JavaScript is esbuild's).
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

// The core imports its siblings without an extension (`./audit`): in a declaration each
// relative specifier is completed (`./audit.js`, `./data/index.js`) for NodeNext resolution.
function completed(file, specifier) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return specifier;
  if (/\.(m?js|json)$/.test(specifier)) return specifier;
  if (specifier.endsWith('.ts')) specifier = specifier.slice(0, -3);
  const base = resolve(dirname(file), specifier);
  if (existsSync(`${base}.d.ts`)) return `${specifier}.js`;
  if (existsSync(join(base, 'index.d.ts'))) return `${specifier}/index.js`;
  throw new Error(`${file}: cannot resolve ${specifier} in the build`);
}
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\2/g;

// The libraries the bundle carries are not installed beside the package, so a declaration
// naming one (internal signatures: the ONNX protobuf types, onnxruntime's session, pg's
// client) would not resolve for a TypeScript user without skipLibCheck. Those names are
// declared here as `any`, in files of the package's own; a new library named in the
// declarations fails the build until it is listed.
const EXTERNAL_TYPES = {
  'onnx-buf': 'export type ModelProto = any;\nexport type NodeProto = any;\nexport type AttributeProto = any;\n',
  'onnxruntime-web': 'export declare const InferenceSession: any;\nexport type InferenceSession = any;\nexport declare namespace InferenceSession {\n  type SessionOptions = any;\n}\nexport declare const Tensor: any;\nexport type Tensor = any;\n',
  pg: 'declare namespace pg {\n  type Client = any;\n  type ClientConfig = any;\n}\ndeclare const pg: any;\nexport default pg;\n',
};
const externalsDir = join(out, 'types', 'externals');
mkdirSync(externalsDir, { recursive: true });
for (const [name, body] of Object.entries(EXTERNAL_TYPES)) writeFileSync(join(externalsDir, `${name}.d.ts`), `// The types the package's declarations name from ${name}, which its bundle carries (scripts/build-package.mjs): \`any\` here.\n${body}`);
// Import and export statements (at the start of a line) and import() types.
const BARE = /(^\s*(?:import|export)\b[^'";]*?\bfrom\s*|\bimport\s*\(\s*)(['"])([^.'"][^'"]*)\2/gm;
const external = (file, specifier) => {
  // Node's modules, and the package itself (named in its documentation comments).
  if (isBuiltin(specifier) || specifier === 'plumbline-audit' || specifier.startsWith('plumbline-audit/')) return specifier;
  if (!(specifier in EXTERNAL_TYPES)) throw new Error(`${file}: the declarations name ${specifier}, which a user of the package does not have; declare its names in EXTERNAL_TYPES`);
  const path = relative(dirname(file), join(externalsDir, `${specifier}.js`));
  return path.startsWith('.') ? path : `./${path}`;
};
let rewritten = 0;
for (const file of walk(join(out, 'types'))) {
  if (!file.endsWith('.d.ts') || file.startsWith(externalsDir)) continue;
  const text = readFileSync(file, 'utf8');
  const next = text
    .replace(SPECIFIER, (_match, lead, quote, specifier) => `${lead}${quote}${completed(file, specifier)}${quote}`)
    .replace(BARE, (_match, lead, quote, specifier) => `${lead}${quote}${external(file, specifier)}${quote}`);
  if (next !== text) {
    writeFileSync(file, next);
    rewritten++;
  }
}
process.stdout.write(`dist-node/: bundled, with the vendored WebAssembly; type declarations in types/ (${rewritten} files' imports completed)\n`);

/**
 * Once per test run, before any test file: the `plumbline` command bundled (esbuild, with
 * its JavaScript libraries, as the npm package is: scripts/build-package.mjs), for the tests that start it as
 * a process of its own — concurrent appends, an append killed with SIGKILL, the heap limit.
 * Started through bin/plumbline.js in a checkout, every process would compile the
 * TypeScript sources through tsx again (twice the start-up; minutes over a run). The
 * bundle is made from the same sources, so it is the command a user runs; the tests of
 * bin/plumbline.js itself and of the installed package start those.
 */
import { buildSync } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_CLI, BUNDLED_CLI_DIR } from './cli-process';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  rmSync(BUNDLED_CLI_DIR, { recursive: true, force: true });
  mkdirSync(BUNDLED_CLI_DIR, { recursive: true });
  // Split into chunks, so what the command imports on demand (a command's module, the PDF
  // writer, the registry drivers) is loaded on demand, as in the package; the thread pool's
  // entry lies beside the pool's chunk as it lies beside the pool in the package (src/api/node-pool.ts).
  buildSync({
    entryPoints: { main: join(root, 'src/cli/main.ts'), 'pool-thread': join(root, 'src/api/pool-thread.ts') },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The libraries in the bundle, as in the package: a start then reads a few files, not the
    // hundreds of modules of apache-arrow, protobuf and jsPDF (0.2 s instead of 0.6 s a start).
    // onnxruntime-web and parquet-wasm load their .wasm beside their own modules, and
    // better-sqlite3 is native: Node loads those three from node_modules.
    external: ['onnxruntime-web', 'parquet-wasm', 'better-sqlite3', 'pg-native', 'pg-cloudflare', 'html2canvas', 'dompurify', 'canvg'],
    banner: { js: "import { createRequire as __plumblineRequire } from 'node:module'; const require = __plumblineRequire(import.meta.url);" },
    outdir: BUNDLED_CLI_DIR,
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  // What bin/plumbline.js does around main(): an early-closed pipe ends the output, the exit code is main's.
  writeFileSync(
    BUNDLED_CLI,
    `import { main } from './main.mjs';
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}
process.exitCode = await main(process.argv.slice(2));
`,
  );
}

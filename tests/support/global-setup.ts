/**
 * Once per test run, before any test file: the `plumbline` command bundled into one
 * JavaScript file (esbuild, the npm packages left to Node), for the tests that start it as
 * a process of its own — concurrent appends, an append killed with SIGKILL, the heap limit.
 * Started through bin/plumbline.js in a checkout, every process would compile the
 * TypeScript sources through tsx again (twice the start-up; minutes over a run). The
 * bundle is made from the same sources, so it is the command a user runs; the tests of
 * bin/plumbline.js itself and of the installed package start those.
 */
import { buildSync } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_CLI, BUNDLED_CLI_DIR } from './cli-process';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  mkdirSync(BUNDLED_CLI_DIR, { recursive: true });
  const bundle = (entry: string, file: string) => buildSync({ entryPoints: [join(root, entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: join(BUNDLED_CLI_DIR, file), logLevel: 'warning' });
  bundle('src/cli/main.ts', 'main.mjs');
  // The thread pool's entry, beside the bundle as it is beside the pool in the package (src/api/node-pool.ts).
  bundle('src/api/pool-thread.ts', 'pool-thread.mjs');
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

#!/usr/bin/env node
// The `plumbline` command. Installed from the package (npm install plumbline-audit, or the
// packed tarball), it runs the JavaScript that `npm pack` built into dist-node/: Node alone,
// no TypeScript and no build step at install. In a checkout of the repository it runs the
// TypeScript sources through tsx (a dev dependency), so a change is seen without a build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist-node/main.js'));
}
// A reader that stops early (plumbline … | head) closes the pipe: that ends the output, not in an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}
process.exitCode = await main(process.argv.slice(2));

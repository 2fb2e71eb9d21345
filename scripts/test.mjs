#!/usr/bin/env node
// `npm test`: everything a fresh machine needs, then every test.
//  1. installs the npm dependencies when node_modules is missing or older than the lock file;
//  2. finds Debian's Chromium for the browser tests, installing it (apt-get) when running
//     as root, or stops with the one command to run;
//  3. type-checks core, worker, app and Node code, runs the unit tests (vitest), builds the
//     app and runs the browser tests (Playwright) against the built app on localhost.
// Uses only Node's standard library, so it works before `npm install`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.PLUMBLINE_CHROMIUM ?? '/usr/bin/chromium';

function run(command, args, options = {}) {
  console.log(`\n▶ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`\n✖ ${[command, ...args].join(' ')} failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status || 1);
  }
}

function dependenciesCurrent() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  return existsSync(marker) && existsSync(lock) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
}

if (!dependenciesCurrent()) run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund']);

// Debian packages the tests drive: Chromium (browser tests), poppler-utils (reads the PDF reports as a reader would),
// sqlite3 (another SQLite client on the registry file while plumbline appends to it), postgresql (below).
const needed = [];
if (!existsSync(chromium)) needed.push('chromium');
if (!['/usr/bin/pdftotext', '/usr/local/bin/pdftotext'].some((p) => existsSync(p))) needed.push('poppler-utils');
if (!['/usr/bin/sqlite3', '/usr/local/bin/sqlite3'].some((p) => existsSync(p))) needed.push('sqlite3');
// PostgreSQL's server binaries (initdb, pg_ctl): the PostgreSQL registry's tests start a throw-away cluster
// with them (tests/pg-server.ts); without them those tests fail, they do not skip.
const hasPostgres = () => process.env.PLUMBLINE_PG_BIN || (existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb'))));
if (!hasPostgres()) needed.push('postgresql');
if (needed.length) {
  if (process.getuid?.() === 0) {
    run('apt-get', ['update', '-q']);
    run('apt-get', ['install', '-y', '-q', ...needed], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.error(`Missing for the tests: run \`sudo apt-get install -y ${needed.join(' ')}\` (or set PLUMBLINE_CHROMIUM to a Chromium binary), then npm test again.`);
    process.exit(1);
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
run(bin('tsc'), ['-p', 'tsconfig.core.json']);
run(bin('tsc'), ['-p', 'tsconfig.worker.json']);
run(bin('tsc'), ['-p', 'tsconfig.json']);
run(bin('svelte-check'), ['--tsconfig', 'tsconfig.app.json', '--fail-on-warnings', '--output', 'human']);
run(bin('vitest'), ['run']);
run(bin('vite'), ['build', '--logLevel', 'warn']);
run(bin('playwright'), ['test']);
console.log('\n✔ all tests passed');

/**
 * The package as a user gets it: `npm pack` of this checkout (its prepack builds dist-node/),
 * installed with `npm install ./plumbline-audit-<version>.tgz` into an empty folder, npm
 * offline (the package has no dependencies to fetch; better-sqlite3, optional, is left out).
 * Packing and installing take about ten seconds, done once for a given state of the
 * sources and shared by the test files (a lock folder keeps two workers from packing at once).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './fixtures';

/** What the package is built from: a change to any of these packs it again. */
const SOURCES = ['package.json', 'package-lock.json', 'bin/plumbline.js', 'scripts/build-package.mjs', 'tsconfig.build.json', 'tsconfig.base.json', 'README.md', 'src/api', 'src/cli', 'src/core', 'schema'];

function* filesUnder(path: string): Generator<string> {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) for (const name of readdirSync(path).sort()) yield* filesUnder(join(path, name));
  else yield path;
}

/** Environment for npm: offline, and none of the npm_* variables of an `npm test` around the tests. */
export function npmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
  return { ...env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra };
}

/** The packed tarball and a folder where it is installed. */
export interface InstalledPackage {
  tarball: string;
  /** A folder holding node_modules/plumbline-audit (and node_modules/.bin/plumbline). */
  app: string;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Packs and installs the package (once per state of its sources), returning where. */
export function installedPackage(): InstalledPackage {
  const hash = createHash('sha256');
  for (const source of SOURCES) for (const file of filesUnder(join(projectRoot, source))) hash.update(file).update(readFileSync(file));
  const root = join(tmpdir(), `plumbline-package-${hash.digest('hex').slice(0, 16)}`);
  const ready = join(root, 'ready.json');
  const lock = `${root}.lock`;
  for (let waited = 0; !existsSync(ready); waited += 1000) {
    try {
      mkdirSync(lock);
    } catch {
      // Another worker packs; a lock older than 10 minutes is a crashed one.
      if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      sleep(1000);
      continue;
    }
    try {
      rmSync(root, { recursive: true, force: true });
      mkdirSync(join(root, 'app'), { recursive: true });
      execFileSync('npm', ['pack', '--pack-destination', root], { cwd: projectRoot, env: npmEnv(), stdio: 'pipe', maxBuffer: 64 << 20 });
      const tarball = join(root, readdirSync(root).find((name) => name.endsWith('.tgz'))!);
      // Without the optional better-sqlite3, whatever this machine's npm cache holds (an offline install takes it when its metadata is cached).
      execFileSync('npm', ['install', '--omit=optional', tarball], { cwd: join(root, 'app'), env: npmEnv(), encoding: 'utf8', stdio: 'pipe' });
      writeFileSync(ready, JSON.stringify({ tarball, app: join(root, 'app') }));
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return JSON.parse(readFileSync(ready, 'utf8')) as InstalledPackage;
}

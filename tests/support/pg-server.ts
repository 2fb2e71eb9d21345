/**
 * A throw-away PostgreSQL cluster for tests: Debian's `postgresql` server binaries
 * (`initdb`, `pg_ctl`), a data folder and a unix socket folder in a new temporary folder,
 * a free port on 127.0.0.1, stopped and removed by `stop()`. No test mocks the database.
 *
 * - The binaries are looked up in PLUMBLINE_PG_BIN, then the newest
 *   `/usr/lib/postgresql/<version>/bin` (Debian's layout), then `pg_config --bindir`.
 *   `npm test` (scripts/test.mjs) installs Debian's `postgresql` when it is missing and
 *   runs as root. Without them `startPgServer` throws, so the tests fail rather than skip.
 * - `initdb` refuses to run as root (a server must not own the machine). Run as root, the
 *   temporary folder is handed to the `postgres` user (Debian's package creates it; else
 *   `nobody`) and `initdb`/`pg_ctl` run as that user through `runuser`. The test process
 *   itself stays root and talks to the server over TCP or the socket, like any client.
 * - Authentication: over the unix socket the superuser `postgres` is trusted (tests use it
 *   to set up roles and to play the forger); over TCP every login needs its password
 *   (SCRAM), so a test can show that credentials are taken from the URL, PGPASSWORD or
 *   .pgpass, and are refused when wrong.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A running throw-away cluster. */
export interface PgServer {
  /** Port on 127.0.0.1. */
  port: number;
  /** Folder of the server's unix socket. */
  socketDir: string;
  /** `postgresql://user[:password]@127.0.0.1:port/database`. */
  url(user: string, database: string, password?: string): string;
  /** Runs SQL as the superuser over the unix socket (in `database`, default `postgres`). */
  sql(text: string, database?: string): Promise<pg.QueryResult['rows']>;
  /** Creates a login role with a password and a database it owns. */
  createDatabase(database: string, owner: string, password: string): Promise<void>;
  /** Stops the server at once and removes its folder. */
  stop(): void;
}

/** The folder with `initdb` and `pg_ctl`, or null. */
export function findPgBin(): string | null {
  const candidates: string[] = [];
  if (process.env.PLUMBLINE_PG_BIN) candidates.push(process.env.PLUMBLINE_PG_BIN);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) ?? null;
}

/** A port nothing listens on now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The user the server runs as: ourselves, or when we are root a user initdb accepts. */
function serverUser(): string | null {
  if (process.getuid?.() !== 0) return null;
  return spawnSync('id', ['-u', 'postgres']).status === 0 ? 'postgres' : 'nobody';
}

/** Starts a new cluster; throws with what to install when PostgreSQL is not there. */
export async function startPgServer(): Promise<PgServer> {
  const bin = findPgBin();
  if (!bin) {
    throw new Error('PostgreSQL server binaries (initdb, pg_ctl) were not found: run npm test as root (it installs Debian’s postgresql) or apt-get install -y postgresql, or set PLUMBLINE_PG_BIN to the folder holding initdb and pg_ctl.');
  }
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-pg-'));
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  chmodSync(dir, 0o755);
  const as = (command: string, args: string[]) => (user ? execFileSync('runuser', ['-u', user, '--', command, ...args], { stdio: 'pipe' }) : execFileSync(command, args, { stdio: 'pipe' }));
  if (user) execFileSync('chown', ['-R', `${user}:`, dir]);
  const port = await freePort();
  try {
    as(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
    // fsync off: a throw-away cluster, and the 2-core test machine spends its time elsewhere.
    as(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, '-w', 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`could not start a test PostgreSQL cluster with ${bin}: ${stderr || (error as Error).message}`);
  }
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // Already gone; the folder is removed either way.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A test run that ends without calling stop() (a crash, Ctrl-C) leaves no server behind.
  process.once('exit', stop);

  const sql = async (text: string, database = 'postgres') => {
    const client = new pg.Client({ host: dir, port, user: 'postgres', database });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    port,
    socketDir: dir,
    url: (role, database, password) => `postgresql://${encodeURIComponent(role)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@127.0.0.1:${port}/${database}`,
    sql,
    async createDatabase(database, owner, password) {
      const exists = await sql(`SELECT 1 FROM pg_roles WHERE rolname = '${owner}'`);
      if (!exists.length) await sql(`CREATE ROLE "${owner}" LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
      await sql(`CREATE DATABASE "${database}" OWNER "${owner}"`);
    },
    stop,
  };
}

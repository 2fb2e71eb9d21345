/**
 * The registry on PostgreSQL, against a real server (tests/pg-server.ts starts a throw-away
 * cluster; nothing is mocked): concurrent appends from several processes are serialised by
 * the database, a process killed mid-append leaves no partial entry, verify names an edited,
 * deleted, reordered or re-hashed entry, a file and a database move into one another with
 * the same Merkle root, and the password never shows in any output.
 *
 * Every login over TCP needs its password (SCRAM); the test's own superuser connection goes
 * through the cluster's unix socket, and plays the forger there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, merkleRoot, type EntryColumns } from '../../src/core/registry/index.ts';
import { startPgServer, type PgServer } from '../support/pg-server.ts';
import { fixture, projectRoot } from '../support/fixtures';
import { runCli } from '../support/cli-in-process';
import { BUNDLED_CLI, BUNDLED_MAIN } from '../support/cli-process';

const PASSWORD = 'Zq7-pl#mb:secret';
const ROLE = 'auditor';
const work = mkdtempSync(join(tmpdir(), 'plumbline-registry-pg-'));
// A small score-column audit: the registry, not the audit, is under test here.
const small = join(work, 'small.csv');
writeFileSync(small, readFileSync(fixture('compas/test.csv'), 'utf8').split('\n').slice(0, 201).join('\n'));
const auditArgs = (output: string, registry: string) => ['audit', '--score', 'decile_score', '--threshold', '5', '--data', small, '--target', 'two_year_recid', '--protected', 'race,sex', '--bootstrap', '0', '--output', join(work, output, 'result.json'), '--registry', registry];

/** Everything any plumbline run printed in this file: none of it may hold the password. */
const printed: string[] = [];

let server: PgServer;
/** A new database with a registry-owning role, and its URL with the password in it. */
async function database(name: string): Promise<string> {
  await server.createDatabase(name, ROLE, PASSWORD);
  return server.url(ROLE, name, PASSWORD);
}

/** The command in this process (its main with captured streams), in the work folder. */
async function plumbline(args: string[], env: Record<string, string> = {}) {
  const run = await runCli(args, { cwd: work, env });
  printed.push(run.stdout, run.stderr);
  return run;
}

/** The command as a process of its own (it is killed below). */
function plumblineAsync(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [BUNDLED_CLI, ...args], { cwd: work });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdout!.on('data', (chunk) => printed.push(String(chunk)));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      printed.push(stderr);
      resolve({ code, signal, stderr });
    }),
  );
  return { child, done };
}

const rootOf = (stdout: string) => /merkle root ([0-9a-f]{64})/.exec(stdout)?.[1];

beforeAll(async () => {
  server = await startPgServer();
}, 60_000);
afterAll(() => server?.stop());

describe('registry on PostgreSQL', () => {
  it(`serialises concurrent appends in the database: 4 processes × 25 audits through the CLI → 100 entries, chain intact`, async () => {
    const url = await database('concurrent');
    expect((await plumbline(['registry', 'init', url])).code).toBe(0);
    // Each process runs the CLI's own main() 25 times, as 25 CI jobs would run the command:
    // every audit opens its own connection and appends in its own transaction. (100 separate
    // starts of the command would cost minutes of start-up on two cores.)
    const driver = join(work, 'appender.mjs');
    writeFileSync(
      driver,
      `import { main } from ${JSON.stringify(BUNDLED_MAIN)};
const [out, url, count] = process.argv.slice(2);
for (let i = 0; i < Number(count); i++) {
  const code = await main(${JSON.stringify(auditArgs('OUT', 'URL'))}.map((a) => a.replace('OUT', out + '-' + i).replace(/^URL$/, url)));
  if (code !== 0) process.exit(10 + code);
}
`,
    );
    const lanes = Array.from({ length: 4 }, (_, lane) => {
      const child = spawn(process.execPath, [driver, `lane${lane}`, url, '25'], { cwd: projectRoot });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      return new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
    });
    const runs = await Promise.all(lanes);
    for (const run of runs) {
      printed.push(run.stderr);
      expect(run.code, run.stderr).toBe(0);
    }
    // Every append said which entry it became, with its checkpoint; together they are 1–100, each once.
    const appended = runs.flatMap((r) => [...r.stderr.matchAll(/appended entry (\d+) .*\nplumbline: registry checkpoint (\d+:[0-9a-f]{64})/g)].map((m) => ({ seq: Number(m[1]), checkpoint: m[2] })));
    expect(appended.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const rows = await server.sql('SELECT seq, prev_hash, entry_hash FROM plumbline.entries ORDER BY seq', 'concurrent');
    expect(rows).toHaveLength(100);
    rows.forEach((row, i) => expect(row.prev_hash).toBe(i === 0 ? '0'.repeat(64) : rows[i - 1].entry_hash));
    const hashes = rows.map((r) => r.entry_hash as string);
    for (const { seq, checkpoint } of appended) expect(checkpoint).toBe(`${seq}:${merkleRoot(hashes.slice(0, seq))}`);
    const verify = await plumbline(['registry', 'verify', url]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`: 100 entries, schema version 4\nmerkle root ${merkleRoot(hashes)}\n`);
  }, 150_000);

  it('leaves no partial entry when an appending process is killed (SIGKILL), 20 times, and appends on after', async () => {
    const url = await database('killed');
    expect((await plumbline(['registry', 'init', url])).code).toBe(0);
    expect((await plumbline(auditArgs('before', url))).code).toBe(0);
    const { default: pg } = await import('pg');
    const forger = new pg.Client({ host: server.socketDir, port: server.port, user: 'postgres', database: 'killed' });
    // A second connection watches: inside the forger's transaction pg_stat_activity would stay the snapshot taken at its start.
    const watcher = new pg.Client({ host: server.socketDir, port: server.port, user: 'postgres', database: 'killed' });
    await forger.connect();
    await watcher.connect();
    try {
      // Five rounds of four processes. In each, the test holds a lock the append needs, so
      // the processes stop inside their append transaction: on the chain head (they wait to
      // lock it), or, in odd rounds, on the results table, when one of them has already
      // inserted its entry row. Then every one is killed.
      for (let round = 0; round < 5; round++) {
        await forger.query('BEGIN');
        if (round % 2) await forger.query('LOCK TABLE plumbline.results IN SHARE MODE');
        else await forger.query("SELECT value FROM plumbline.meta WHERE key = 'head_hash' FOR UPDATE");
        const runs = Array.from({ length: 4 }, (_, k) => plumblineAsync(auditArgs(`killed-${round}-${k}`, url)));
        const waiting = async () => (await watcher.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'plumbline' AND wait_event_type = 'Lock'")).rows.map((r) => r.pid as number);
        const deadline = Date.now() + 60_000;
        while ((await waiting()).length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        const blocked = await waiting();
        const activity = JSON.stringify((await watcher.query("SELECT pid, application_name, state, wait_event_type, wait_event, left(query, 50) AS q FROM pg_stat_activity WHERE datname = 'killed'")).rows);
        if (blocked.length < 4) {
          for (const run of runs) run.child.kill('SIGKILL');
          expect.fail(`round ${round}: ${blocked.length} of 4 processes reached the append: ${(await Promise.all(runs.map((r) => r.done))).map((r) => r.stderr).join('\n')} ${activity}`);
        }
        if (round % 2) {
          // One process is past the head: its entry row is written, not committed.
          const writers = await watcher.query("SELECT DISTINCT pid FROM pg_locks WHERE relation = 'plumbline.entries'::regclass AND mode = 'RowExclusiveLock' AND granted");
          expect(writers.rows.filter((r) => blocked.includes(r.pid))).toHaveLength(1);
        }
        for (const run of runs) run.child.kill('SIGKILL');
        for (const run of runs) {
          const { signal, stderr } = await run.done;
          expect(signal, `round ${round}: ${stderr} ${activity}`).toBe('SIGKILL');
        }
        await forger.query('COMMIT');
        // A backend blocked on a lock notices its client is gone only once it has the lock:
        // wait until the server has ended (and rolled back) every one of them.
        while ((await watcher.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'plumbline'")).rows[0].n > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      }
      // The server rolled every killed append back: one entry, its head, and nothing else.
      const counts = await forger.query("SELECT (SELECT count(*)::int FROM plumbline.entries) AS entries, (SELECT count(*)::int FROM plumbline.results) AS results, (SELECT value FROM plumbline.meta WHERE key = 'entries') AS head");
      expect(counts.rows[0]).toEqual({ entries: 1, results: 1, head: '1' });
    } finally {
      await forger.end();
      await watcher.end();
    }
    expect((await plumbline(['registry', 'verify', url])).code).toBe(0);
    const after = await plumbline(auditArgs('after', url));
    expect(after.stderr).toContain('appended entry 2 ');
    expect((await plumbline(['registry', 'verify', url])).code).toBe(0);
  }, 150_000);

  describe('verify names what was changed in the database', () => {
    /** A registry file of five entries, exported from a database (the forgeries start from copies of it). */
    let seedFile = '';
    let seedRoot = '';
    let checkpoint5 = '';
    beforeAll(async () => {
      const url = await database('seed');
      expect((await plumbline(['registry', 'init', url])).code).toBe(0);
      const runs = await Promise.all(Array.from({ length: 5 }, (_, k) => plumblineAsync(auditArgs(`seed-${k}`, url)).done));
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      const verify = await plumbline(['registry', 'verify', url]);
      seedRoot = rootOf(verify.stdout)!;
      checkpoint5 = `5:${seedRoot}`;
      seedFile = join(work, 'seed.db');
      const exported = await plumbline(['registry', 'export', url, '--sqlite', seedFile]);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout).toContain(`merkle root ${seedRoot}`);
    }, 90_000);

    /** A new database holding the seed's five entries, imported from the file. */
    async function copy(name: string): Promise<string> {
      const url = await database(name);
      expect((await plumbline(['registry', 'init', url])).code).toBe(0);
      const imported = await plumbline(['registry', 'import', seedFile, '--registry', url]);
      expect(imported.code, imported.stderr).toBe(0);
      return url;
    }

    /** SQL as a superuser who steps around the triggers (they would refuse every change). */
    const forge = (sql: string, db: string) => server.sql(`BEGIN; SET LOCAL session_replication_role = replica; ${sql}; COMMIT;`, db);

    it('an import and an export keep the Merkle root; the guard refuses changes', async () => {
      const url = await copy('imported');
      expect(rootOf((await plumbline(['registry', 'verify', url])).stdout)).toBe(seedRoot);
      expect(rootOf((await plumbline(['registry', 'verify', seedFile])).stdout)).toBe(seedRoot);
      // Imported again: nothing to add.
      expect((await plumbline(['registry', 'import', seedFile, '--registry', url])).stdout).toContain(`appended 0 entries of ${seedFile} (5 it already held were skipped); 5 entries now.`);
      await expect(server.sql("UPDATE plumbline.entries SET team = 'x' WHERE seq = 2", 'imported')).rejects.toThrow(/this is a Plumbline audit registry: it is append-only/);
      await expect(server.sql('DELETE FROM plumbline.entries WHERE seq = 5', 'imported')).rejects.toThrow(/append-only/);
      await expect(server.sql('TRUNCATE plumbline.entries, plumbline.results, plumbline.blobs', 'imported')).rejects.toThrow(/append-only/);
      await expect(server.sql("UPDATE plumbline.meta SET value = '4' WHERE key = 'entries'", 'imported')).rejects.toThrow(/append-only/);
      // A trigger dropped is found.
      await server.sql('DROP TRIGGER entries_no_change ON plumbline.entries', 'imported');
      const unguarded = await plumbline(['registry', 'verify', url]);
      expect(unguarded.code).toBe(1);
      expect(unguarded.stdout).toContain("TAMPERED: the registry's append-only guard was taken off (trigger entries_no_change was dropped)");
    });

    it('names an edited entry', async () => {
      const url = await copy('edited');
      await forge("UPDATE plumbline.entries SET team = 'someone else' WHERE seq = 3", 'edited');
      const run = await plumbline(['registry', 'verify', url]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/\nTAMPERED: entry 3 \(score column decile_score, [^)]+\) was altered: its content hashes to [0-9a-f]{12}…, not the [0-9a-f]{12}… recorded when it was appended\.\n/);
      expect((await plumbline(['registry', 'show', url, '3'])).code).toBe(2);
    });

    it('names a deleted entry', async () => {
      const url = await copy('deleted');
      await forge('DELETE FROM plumbline.results WHERE seq = 2; DELETE FROM plumbline.entries WHERE seq = 2', 'deleted');
      const run = await plumbline(['registry', 'verify', url]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('\nTAMPERED: entry 2 was removed: the chain goes from entry 1 to entry 3.\n');
    });

    it('names reordered entries', async () => {
      const url = await copy('reordered');
      await forge('UPDATE plumbline.results SET seq = -1 WHERE seq = 2; UPDATE plumbline.entries SET seq = -1 WHERE seq = 2; UPDATE plumbline.results SET seq = 2 WHERE seq = 3; UPDATE plumbline.entries SET seq = 2 WHERE seq = 3; UPDATE plumbline.results SET seq = 3 WHERE seq = -1; UPDATE plumbline.entries SET seq = 3 WHERE seq = -1', 'reordered');
      const run = await plumbline(['registry', 'verify', url]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/\nTAMPERED: entry 2 \(score column decile_score, [^)]+\) is out of order: it was appended after entry 3, but now follows entry 1\.\n/);
    });

    it('a chain re-hashed consistently passes verify alone; --root with the checkpoint names it', async () => {
      const url = await copy('rehashed');
      const rows = await server.sql('SELECT e.*, r.result_gz FROM plumbline.entries e JOIN plumbline.results r USING (seq) ORDER BY seq', 'rehashed');
      let prev = '0'.repeat(64);
      const updates: string[] = [];
      for (const row of rows) {
        const columns = { ...row, prev_hash: prev, ...(row.seq === 2 ? { team: 'rewritten' } : {}) } as unknown as EntryColumns;
        const hash = entryHash({ ...columns, result_gz: new Uint8Array(row.result_gz) });
        updates.push(`UPDATE plumbline.entries SET team = ${row.seq === 2 ? "'rewritten'" : 'team'}, prev_hash = '${prev}', entry_hash = '${hash}' WHERE seq = ${row.seq}`);
        prev = hash;
      }
      // entry_hash is UNIQUE: move the old ones aside first.
      await forge(`UPDATE plumbline.entries SET entry_hash = 'old-' || entry_hash; ${updates.join('; ')}; UPDATE plumbline.meta SET value = '${prev}' WHERE key = 'head_hash'`, 'rehashed');
      expect((await plumbline(['registry', 'verify', url])).code).toBe(0);
      const checked = await plumbline(['registry', 'verify', url, '--root', checkpoint5]);
      expect(checked.code).toBe(1);
      expect(checked.stdout).toContain(`\nTAMPERED: the Merkle root of entries 1–5 is ${rootOf(checked.stdout)!.slice(0, 12)}…, not the 5:${seedRoot.slice(0, 12)}… recorded in the checkpoint: the registry was rewritten since the checkpoint was recorded, or it is another file.\n`);
      expect((await plumbline(['registry', 'export', url, '--sqlite', join(work, 'rehashed.db'), '--root', checkpoint5])).code).toBe(2);
    });
  });

  describe('credentials and errors', () => {
    let url = '';
    beforeAll(async () => {
      url = await database('credentials');
      expect((await plumbline(['registry', 'init', url])).code).toBe(0);
    });
    const bare = () => url.replace(`:${encodeURIComponent(PASSWORD)}@`, '@');

    it('takes the password from the URL, PGPASSWORD or ~/.pgpass, and names a refused or missing one', async () => {
      expect(bare()).not.toContain(PASSWORD);
      const home = join(work, 'home');
      mkdirSync(home, { recursive: true });
      const noPassword = { HOME: home, PGPASSWORD: '', PGPASSFILE: join(home, 'none') };
      const refused = await plumbline(['registry', 'list', url.replace(encodeURIComponent(PASSWORD), 'wrong')], noPassword);
      expect(refused).toMatchObject({ code: 2, stderr: `plumbline: the PostgreSQL server of ${bare()} refused the password of user "auditor". Give the right one in PGPASSWORD, ~/.pgpass or the URL, and run again.\n` });
      const missing = await plumbline(['registry', 'list', bare()], noPassword);
      expect(missing).toMatchObject({ code: 2, stderr: `plumbline: the PostgreSQL server of ${bare()} asks user "auditor" for a password and none was given. Set PGPASSWORD, add a line for it to ~/.pgpass, or give it in the URL, and run again.\n` });
      expect(await plumbline(['registry', 'list', bare()], { ...noPassword, PGPASSWORD: PASSWORD })).toMatchObject({ code: 0, stdout: 'no audits match.\n' });
      const pgpass = join(home, '.pgpass');
      writeFileSync(pgpass, `# host:port:database:user:password\n127.0.0.1:${server.port}:credentials:auditor:${PASSWORD.replace(/[\\:]/g, '\\$&')}\n`);
      chmodSync(pgpass, 0o600);
      expect(await plumbline(['registry', 'list', bare()], { ...noPassword, PGPASSFILE: pgpass })).toMatchObject({ code: 0, stdout: 'no audits match.\n' });
    });

    it('names an unreachable server, a missing database and a database without a registry, with the fix', async () => {
      const down = server.url(ROLE, 'credentials', PASSWORD).replace(`:${server.port}/`, ':1/');
      expect((await plumbline(['registry', 'verify', down])).stderr).toBe(`plumbline: cannot reach the PostgreSQL server of postgresql://auditor@127.0.0.1:1/credentials: nothing accepts connections at 127.0.0.1:1. Start the server, or correct the host and port in the URL, and run again.\n`);
      // The audit checks the registry before it runs: nothing is audited for nothing.
      const audit = await plumbline(auditArgs('down', down));
      expect(audit.code).toBe(2);
      expect(() => statSync(join(work, 'down', 'result.json'))).toThrow();
      const nodb = server.url(ROLE, 'nodb', PASSWORD);
      expect((await plumbline(['registry', 'list', nodb])).stderr).toBe(`plumbline: postgresql://auditor@127.0.0.1:${server.port}/nodb: the PostgreSQL server has no database "nodb". Create it (createdb nodb), then plumbline registry init postgresql://auditor@127.0.0.1:${server.port}/nodb.\n`);
      const empty = server.url(ROLE, 'postgres', PASSWORD);
      expect((await plumbline(['registry', 'list', empty])).stderr).toBe(`plumbline: postgresql://auditor@127.0.0.1:${server.port}/postgres holds no Plumbline registry (the database has no schema plumbline). Create one with: plumbline registry init postgresql://auditor@127.0.0.1:${server.port}/postgres.\n`);
    });

    it('init takes --database as the registry; audit, list, show, summary and export work on the URL', async () => {
      expect((await plumbline(['registry', 'init', '--database', url])).stdout).toBe(`${bare()}: already a registry (0 entries, schema version 4); left as is.\n`);
      const audit = await plumbline(auditArgs('cred', url));
      expect(audit.code, audit.stderr).toBe(0);
      expect(audit.stderr).toContain(`plumbline: appended entry 1 (score column decile_score, no policy) to the registry ${bare()}\n`);
      expect((await plumbline(['registry', 'list', url, '--json'])).stdout).toContain('"model_id": "score column decile_score"');
      // --failed-gates reads the entries' parsed gates, as the file registry does: an audit without a policy has none.
      expect((await plumbline(['registry', 'list', url, '--failed-gates'])).stdout).toMatch(/^no audits match\./);
      expect(JSON.parse((await plumbline(['registry', 'show', url, '1'])).stdout)).toEqual(JSON.parse(readFileSync(join(work, 'cred', 'result.json'), 'utf8')));
      expect((await plumbline(['registry', 'summary', url, '--month', new Date().toISOString().slice(0, 7)])).stdout).toContain(`Registry: ${bare()} (1 audits in all).`);
      expect((await plumbline(['registry', 'export', url, '--csv'])).stdout.split('\n')).toHaveLength(3);
      const file = join(work, 'credentials.db');
      expect((await plumbline(['registry', 'export', url, '--sqlite', file])).code).toBe(0);
      const db = new Database(file, { readonly: true });
      expect(db.prepare('SELECT count(*) FROM entries').pluck().get()).toBe(1);
      db.close();
    });

    it('no output, result, manifest or exported registry holds the password', async () => {
      const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
      const written = files(work).filter((f) => !f.endsWith('.pgpass'));
      expect(written.length).toBeGreaterThan(20);
      for (const file of written) expect(readFileSync(file).includes(PASSWORD), file).toBe(false);
      for (const file of written) expect(readFileSync(file).includes(encodeURIComponent(PASSWORD)), file).toBe(false);
      expect(printed.length).toBeGreaterThan(50);
      for (const text of printed) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(encodeURIComponent(PASSWORD));
      }
    });
  });
});

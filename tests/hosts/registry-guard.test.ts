/**
 * The registry file against other SQLite clients, forgers and a full disk, through the CLI:
 * what the append-only guard refuses, what verify finds without an outside record and what
 * only a recorded checkpoint finds, and the messages a full disk gives.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import { createRegistryAtVersion, entryHash } from '../../src/core/registry/index.ts';
import { openSqliteFile } from '../../src/cli/sqlite-file.ts';
import { fixture } from '../support/fixtures';
import { BUNDLED_CLI } from '../support/cli-process';

const work = mkdtempSync(join(tmpdir(), 'plumbline-registry-guard-'));
writeFileSync(join(work, 'small.csv'), readFileSync(fixture('compas/test.csv'), 'utf8').split('\n').slice(0, 201).join('\n'));
const hasSqlite3 = spawnSync('sqlite3', ['-version']).status === 0;

/** The command in this process. */
function plumbline(args: string[], cwd = work) {
  return runCli(args, { cwd });
}

/** A small score-column audit appended to `file`; returns the checkpoint it printed. */
async function audit(file: string, out: string, cwd = work): Promise<string> {
  const run = (await plumbline(['audit', '--score', 'decile_score', '--threshold', '5', '--data', join(work, 'small.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--bootstrap', '0', '--output', join(work, out, 'result.json'), '--registry', file], cwd));
  expect(run.code, run.stderr).toBe(0);
  return /registry checkpoint (\d+:[0-9a-f]{64})/.exec(run.stderr)![1];
}

/** The sqlite3 shell on a file: its exit code and what it said. */
function sqlite3(file: string, sql: string) {
  const run = spawnSync('sqlite3', [join(work, file), sql], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const APPEND_ONLY = 'this is a Plumbline audit registry: it is append-only, its entries, stored results, kept files and chain head cannot be changed or deleted (plumbline registry verify would report the file as tampered)';

let checkpoints: string[] = [];
beforeAll(async () => {
  expect((await plumbline(['registry', 'init', 'team.db'])).code).toBe(0);
  // One after another: each append's checkpoint covers the entries before it.
  checkpoints = [];
  for (const out of ['a', 'b', 'c']) checkpoints.push(await audit('team.db', out));
}, 120_000);

describe.runIf(hasSqlite3)('the append-only guard, against the sqlite3 shell', () => {
  it('refuses to change, remove or replace what was appended, and to set the chain head by hand', async () => {
    const before = readFileSync(join(work, 'team.db'));
    for (const sql of [
      'DELETE FROM entries WHERE seq > 1',
      "UPDATE entries SET decision = 'PASS' WHERE seq = 2",
      'DELETE FROM results WHERE seq = 3',
      "UPDATE results SET result_gz = X'00' WHERE seq = 1",
      "UPDATE meta SET value = '1' WHERE key = 'entries'",
      "UPDATE meta SET value = (SELECT entry_hash FROM entries WHERE seq = 1) WHERE key = 'head_hash'",
      "INSERT OR REPLACE INTO meta VALUES ('entries', '1')",
      'DELETE FROM meta',
      'INSERT OR REPLACE INTO results SELECT seq, zeroblob(10) FROM results WHERE seq = 2',
    ]) {
      const run = sqlite3('team.db', sql);
      expect(run.code, sql).not.toBe(0);
      expect(run.stderr, sql).toContain(APPEND_ONLY);
    }
    const insert = sqlite3('team.db', 'INSERT INTO entries SELECT * FROM entries WHERE seq = 1');
    expect(insert.stderr).toContain('this is a Plumbline audit registry: an entry can only be added at the end of the chain, by plumbline audit --registry');
    expect(readFileSync(join(work, 'team.db'))).toEqual(before);
    expect((await plumbline(['registry', 'verify', 'team.db'])).code).toBe(0);
  });

  it('finds the guard taken off, and refuses every entry of such a file', async () => {
    execFileSync('cp', [join(work, 'team.db'), join(work, 'unguarded.db')]);
    // The tail removed and the chain head fixed, with the guard dropped and left off.
    const run = sqlite3('unguarded.db', `DROP TRIGGER entries_no_delete; DROP TRIGGER results_no_delete; DROP TRIGGER meta_head_follows_chain;
      DELETE FROM entries WHERE seq = 3; DELETE FROM results WHERE seq = 3;
      UPDATE meta SET value = '2' WHERE key = 'entries'; UPDATE meta SET value = (SELECT entry_hash FROM entries WHERE seq = 2) WHERE key = 'head_hash';`);
    expect(run.code, run.stderr).toBe(0);
    const problem = "the registry's append-only guard was taken off (trigger entries_no_delete was dropped, trigger results_no_delete was dropped, trigger meta_head_follows_chain was dropped): entries may have been removed or rewritten with the chain head fixed. Check the file against a checkpoint recorded elsewhere (plumbline registry verify FILE --root N:ROOT), or open an intact copy.";
    const verify = (await plumbline(['registry', 'verify', 'unguarded.db']));
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`\nTAMPERED: ${problem}\n`);
    expect((await plumbline(['registry', 'show', 'unguarded.db', '1'])).stderr).toBe(`plumbline: unguarded.db entry 1 failed verification, so it is not opened or exported as an audit: TAMPERED: ${problem}\n`);
  });

  it('cannot tell a tail removed by someone who put the guard back from an honest file; the checkpoint printed on append can', async () => {
    execFileSync('cp', [join(work, 'team.db'), join(work, 'cut.db')]);
    const triggers = sqlite3('cut.db', "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger'").stdout;
    const names = sqlite3('cut.db', "SELECT name FROM sqlite_master WHERE type = 'trigger'").stdout.trim().split('\n');
    const run = sqlite3('cut.db', `${names.map((n) => `DROP TRIGGER ${n};`).join('\n')}
      DELETE FROM entries WHERE seq = 3; DELETE FROM results WHERE seq = 3;
      UPDATE meta SET value = '2' WHERE key = 'entries'; UPDATE meta SET value = (SELECT entry_hash FROM entries WHERE seq = 2) WHERE key = 'head_hash';
      ${triggers}`);
    expect(run.code, run.stderr).toBe(0);
    // Indistinguishable, in the file alone, from a registry that only ever had two entries
    // (or from an older copy of the whole file put back): the README says so.
    expect((await plumbline(['registry', 'verify', 'cut.db'])).code).toBe(0);
    const checked = (await plumbline(['registry', 'verify', 'cut.db', '--root', checkpoints[2]]));
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain(`\nTAMPERED: the checkpoint 3:${checkpoints[2].slice(2, 14)}… recorded 3 entries, the registry holds 2: entry 3 was removed, or an older copy of the file was put back.\n`);
    expect((await plumbline(['registry', 'verify', 'cut.db', '--root', checkpoints[1]])).code).toBe(0);
  });

  it('cannot tell a rehashed chain from an honest one either; the checkpoint can', async () => {
    execFileSync('cp', [join(work, 'team.db'), join(work, 'rehashed.db')]);
    // The forger edits entry 1 and recomputes every hash after it (the format is public).
    const db = openSqliteFile(join(work, 'rehashed.db'));
    const triggers = db.exec("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")[0].values;
    for (const [name] of triggers) db.run(`DROP TRIGGER ${name}`);
    db.run(`UPDATE entries SET metrics = json_set(metrics, '$.roc_auc', 0.99) WHERE seq = 1`);
    let prev = '0'.repeat(64);
    for (let seq = 1; seq <= 3; seq++) {
      const { columns, values } = db.exec('SELECT e.*, r.result_gz FROM entries e JOIN results r USING (seq) WHERE e.seq = ?', [seq])[0];
      const row = Object.fromEntries(columns.map((c, i) => [c, values[0][i]]));
      const hash = entryHash({ ...row, prev_hash: prev } as Parameters<typeof entryHash>[0]);
      db.run('UPDATE entries SET prev_hash = ?, entry_hash = ? WHERE seq = ?', [prev, hash, seq]);
      prev = hash;
    }
    db.run("UPDATE meta SET value = ? WHERE key = 'head_hash'", [prev]);
    for (const [, sql] of triggers) db.run(String(sql));
    db.close();
    expect((await plumbline(['registry', 'verify', 'rehashed.db'])).code).toBe(0);
    const checked = (await plumbline(['registry', 'verify', 'rehashed.db', '--root', checkpoints[0]]));
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(/\nTAMPERED: the Merkle root of entries 1–1 is [0-9a-f]{12}…, not the 1:[0-9a-f]{12}… recorded in the checkpoint: the registry was rewritten since the checkpoint was recorded, or it is another file\.\n/);
    // A file-wide problem: no entry is vouched for.
    expect((await plumbline(['registry', 'show', 'rehashed.db', '3', '--root', checkpoints[0]])).code).toBe(2);
  });
});

describe('opening and upgrading', () => {
  it('names a folder that does not exist', async () => {
    expect((await plumbline(['registry', 'init', 'nowhere/team.db']))).toMatchObject({ code: 2, stderr: 'plumbline: cannot create the registry nowhere/team.db: the folder nowhere does not exist.\n' });
  });

  it('the audit checks the registry before it runs without writing to it; the append upgrades an old file under the lock', async () => {
    const db = openSqliteFile(join(work, 'old.db'), { create: true });
    createRegistryAtVersion(db, 3);
    db.close();
    const before = readFileSync(join(work, 'old.db'));
    const failed = (await plumbline(['audit', '--score', 'decile_score', '--threshold', '5', '--data', join(work, 'small.csv'), '--target', 'no_such_column', '--output', join(work, 'x', 'result.json'), '--registry', 'old.db']));
    expect(failed.code).toBe(2);
    expect(readFileSync(join(work, 'old.db'))).toEqual(before);
    (await audit('old.db', 'old-1'));
    expect((await plumbline(['registry', 'verify', 'old.db'])).stdout).toContain('old.db: 1 entries, schema version 4\n');
  });

  it('four processes upgrading the same old file at once upgrade it once', async () => {
    const db = openSqliteFile(join(work, 'race.db'), { create: true });
    createRegistryAtVersion(db, 2);
    db.close();
    const { spawn } = await import('node:child_process');
    const runs = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<string>((done) => {
            const child = spawn(process.execPath, [BUNDLED_CLI, 'registry', 'init', 'race.db'], { cwd: work });
            let out = '';
            child.stdout.on('data', (chunk) => (out += chunk));
            child.stderr.on('data', (chunk) => (out += chunk));
            child.on('close', () => done(out));
          }),
      ),
    );
    const left = 'race.db: already a registry (0 entries, schema version 4); left as is.\n';
    expect(runs.sort()).toEqual([left, left, left, 'race.db: upgraded the registry to schema version 4 (0 entries kept).\n']);
    expect((await plumbline(['registry', 'verify', 'race.db'])).code).toBe(0);
  });
});

// A full disk, made real: a 1 MB tmpfs filled to the last byte (needs root and mount).
const full = join(work, 'full');
mkdirSync(full);
const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full]).status === 0;
afterAll(() => {
  if (mounted) spawnSync('umount', [full]);
});

describe.runIf(mounted)('a full disk', () => {
  it('says so, with what to do, and leaves the registry and the outputs as they were', async () => {
    expect((await plumbline(['registry', 'init', 'team.db'], full)).code).toBe(0);
    (await audit('team.db', 'full-1', full));
    spawnSync('dd', ['if=/dev/zero', `of=${join(full, 'filler')}`, 'bs=4k']);
    const before = readFileSync(join(full, 'team.db'));

    const append = (await plumbline(['audit', '--score', 'decile_score', '--threshold', '5', '--data', join(work, 'small.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--bootstrap', '0', '--output', join(work, 'full-2', 'result.json'), '--registry', 'team.db'], full));
    expect(append.code).toBe(2);
    expect(append.stderr).toContain('plumbline: cannot write team.db: the disk is full: free space and run again. The registry is as it was (SQLite rolled the unfinished write back).\n');
    expect(append.stderr).not.toContain('appended');
    expect(readFileSync(join(full, 'team.db'))).toEqual(before);

    const csv = (await plumbline(['registry', 'export', 'team.db', '--csv', '--output', 'audits.csv'], full));
    expect(csv).toMatchObject({ code: 2, stderr: 'plumbline: cannot write audits.csv: the disk is full: free space and run again (nothing was written to audits.csv).\n' });
    expect(readdirSync(full).sort()).toEqual(['filler', 'team.db']);

    // Space freed: the same commands work, on the same registry.
    spawnSync('rm', [join(full, 'filler')]);
    expect((await plumbline(['registry', 'export', 'team.db', '--csv', '--output', 'audits.csv'], full)).code).toBe(0);
    (await audit('team.db', 'full-3', full));
    expect((await plumbline(['registry', 'verify', 'team.db'], full)).stdout).toContain('team.db: 2 entries');
    expect(existsSync(join(full, 'audits.csv'))).toBe(true);
  }, 60_000);
});

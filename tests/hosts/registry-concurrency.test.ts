/**
 * Regression test for "lost audits": four `plumbline audit … --registry FILE` processes
 * appended five audits each while another SQLite client (Debian's `sqlite3`) read the file;
 * all twenty said "appended entry N" and exited 0, and the file kept twelve. Every append
 * that exits 0 must be in the file, with the number and checkpoint it printed.
 *
 * The default unit run does one round (20 audit processes, ~20 s on two cores); the issue
 * asks for 50 rounds in a row, run on their own with:
 *   REGISTRY_STRESS_RUNS=50 npx vitest run tests/hosts/registry-concurrency.test.ts
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { merkleRoot } from '../../src/core/registry/index.ts';
import { fixture } from '../support/fixtures';
import { BUNDLED_CLI } from '../support/cli-process';

const RUNS = Number(process.env.REGISTRY_STRESS_RUNS ?? 1);
const APPENDERS = 4;
const AUDITS_EACH = 5;
const work = mkdtempSync(join(tmpdir(), 'plumbline-registry-concurrency-'));
// A small score-column audit: the registry, not the audit, is under test here.
writeFileSync(join(work, 'small.csv'), readFileSync(fixture('compas/test.csv'), 'utf8').split('\n').slice(0, 201).join('\n'));

const sqlite3 = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' });

function plumbline(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BUNDLED_CLI, ...args], { cwd: work });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => done({ code, stderr }));
  });
}

/**
 * `sqlite3` reading the registry over and over (a dashboard, a person with the CLI) until
 * stopped: about fifty reads a second, each holding its read lock while appends run (a
 * loop without the pause would spend a whole core starting sqlite3, and starve the appenders).
 */
function reader(file: string): ChildProcess {
  const query = 'select count(*), max(seq) from entries; select count(*) from results;';
  return spawn('bash', ['-c', `while :; do sqlite3 -cmd '.timeout 5000' ${JSON.stringify(file)} ${JSON.stringify(query)} >/dev/null 2>&1; sleep 0.02; done`], { stdio: 'ignore', detached: true });
}

const readers = new Set<ChildProcess>();
/** Stops a reader loop and the sqlite3 it may be running (its process group). */
function stop(reader: ChildProcess): void {
  if (readers.delete(reader) && reader.pid) process.kill(-reader.pid, 'SIGKILL');
}
afterAll(() => readers.forEach(stop));

describe('registry appends under concurrency', () => {
  it.runIf(sqlite3.status === 0)(`keeps every append that exited 0: ${APPENDERS} audit processes × ${AUDITS_EACH} audits with sqlite3 reading, ${RUNS} round(s)`, async () => {
    for (let round = 1; round <= RUNS; round++) {
      const file = `round-${round}.db`;
      const init = await plumbline(['registry', 'init', file]);
      expect(init.code, init.stderr).toBe(0);
      const read = reader(join(work, file));
      readers.add(read);
      const appended: { seq: number; checkpoint: string }[] = [];
      const failed: string[] = [];
      await Promise.all(
        Array.from({ length: APPENDERS }, async (_, appender) => {
          for (let audit = 0; audit < AUDITS_EACH; audit++) {
            const out = `out-${round}-${appender}-${audit}`;
            mkdirSync(join(work, out), { recursive: true });
            const run = await plumbline(['audit', '--score', 'decile_score', '--threshold', '5', '--data', 'small.csv', '--target', 'two_year_recid', '--protected', 'race,sex', '--bootstrap', '0', '--output', `${out}/result.json`, '--registry', file]);
            if (run.code !== 0) {
              failed.push(run.stderr);
              continue;
            }
            const seq = /appended entry (\d+) /.exec(run.stderr);
            const checkpoint = /checkpoint (\d+:[0-9a-f]{64})/.exec(run.stderr);
            expect(seq, run.stderr).not.toBeNull();
            expect(checkpoint, run.stderr).not.toBeNull();
            appended.push({ seq: Number(seq![1]), checkpoint: checkpoint![1] });
          }
        }),
      );
      stop(read);

      const db = new Database(join(work, file), { readonly: true });
      const hashes = db.prepare('SELECT entry_hash FROM entries ORDER BY seq').pluck().all() as string[];
      db.close();
      // Every append that exited 0 printed its own number, and the file holds exactly those.
      expect(appended.map((a) => a.seq).sort((a, b) => a - b), `round ${round}`).toEqual(hashes.map((_, i) => i + 1));
      // None is refused either: appends wait for one another's lock.
      expect(failed, failed.join('\n')).toEqual([]);
      // Each printed checkpoint still holds once the later appends landed.
      for (const { seq, checkpoint } of appended) expect(checkpoint, `round ${round}`).toBe(`${seq}:${merkleRoot(hashes.slice(0, seq))}`);
      const verify = spawnSync(process.execPath, [BUNDLED_CLI, 'registry', 'verify', file], { cwd: work, encoding: 'utf8' });
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    }
  }, 120_000 * RUNS);

  it.runIf(sqlite3.status !== 0)('needs Debian’s sqlite3 command line as the concurrent reader (npm test installs it)', () => {
    expect.fail('sqlite3 was not found: run npm test (it installs sqlite3 when run as root) or apt-get install -y sqlite3.');
  });
});

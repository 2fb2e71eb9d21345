/**
 * A PostgreSQL registry reaches the app: audits appended to a database on a real
 * throw-away server (tests/pg-server.ts), exported with `registry export --sqlite`, open
 * in the Portfolio page with the Merkle root `registry verify` prints for the database and
 * for the file.
 */
import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPgServer, type PgServer } from '../support/pg-server';
import { fixture, projectRoot } from '../support/fixtures';

const PLAIN = 'http://127.0.0.1:4173/';
const PASSWORD = 'browser-Test:pw';
const work = mkdtempSync(join(tmpdir(), 'plumbline-registry-pg-browser-'));

function plumbline(args: string[]) {
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin', 'plumbline.js'), ...args], { encoding: 'utf8', cwd: work });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

let server: PgServer;
test.beforeAll(async () => {
  server = await startPgServer();
});
test.afterAll(() => server?.stop());

test('a PostgreSQL registry exported with --sqlite opens in the Portfolio page with the Merkle root verify prints for both', async ({ page }) => {
  await server.createDatabase('portfolio', 'auditor', PASSWORD);
  const url = server.url('auditor', 'portfolio', PASSWORD);
  expect(plumbline(['registry', 'init', url]).code).toBe(0);
  const small = join(work, 'small.csv');
  writeFileSync(small, readFileSync(fixture('compas/test.csv'), 'utf8').split('\n').slice(0, 201).join('\n'));
  writeFileSync(join(work, 'audit.yaml'), `data:\n  test: ${small}\n  target: two_year_recid\n  score_column: decile_score\n  protected_attributes: [race, sex]\nthreshold: 5\nbootstrap:\n  resamples: 0\nmetadata:\n  model_id: compas-decile\n  team: risk\n`);
  for (const k of [1, 2, 3]) {
    const run = plumbline(['audit', '--config', 'audit.yaml', '--output', `a${k}/result.json`, '--registry', url]);
    expect(run.code, run.stderr).toBe(0);
  }
  const fromDatabase = plumbline(['registry', 'verify', url]);
  expect(fromDatabase.code, fromDatabase.stderr).toBe(0);
  const root = /merkle root ([0-9a-f]{64})/.exec(fromDatabase.stdout)![1];

  const file = join(work, 'team.db');
  const exported = plumbline(['registry', 'export', url, '--sqlite', file]);
  expect(exported.code, exported.stderr).toBe(0);
  const fromFile = plumbline(['registry', 'verify', file]);
  expect(fromFile.code).toBe(0);
  expect(/merkle root ([0-9a-f]{64})/.exec(fromFile.stdout)![1]).toBe(root);

  await page.goto(PLAIN);
  await page.getByTestId('nav-portfolio').click();
  await page.getByTestId('registry-input').setInputFiles({ name: 'team.db', mimeType: 'application/vnd.sqlite3', buffer: readFileSync(file) });
  await expect(page.getByTestId('registry-summary')).toContainText('team.db · 3 audits of 1 model');
  await expect(page.getByTestId('registry-verify')).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('merkle-root')).toHaveText(root);
  await expect(page.getByTestId('checkpoint')).toHaveText(`3:${root}`);
  await expect(page.getByTestId('portfolio-models').locator('[data-model="compas-decile"]')).toContainText('risk');
});

import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { listEntries, verifyRegistry, type SqlDatabase } from '../../src/core/registry';
import { monthlySummaryMarkdown } from '../../src/core/registry/summary';
import { expected, fixture, projectRoot } from '../support/fixtures';

const PLAIN = 'http://127.0.0.1:4173/';
const rf = expected('compas/rf.expected.json');
const work = mkdtempSync(join(tmpdir(), 'plumbline-portfolio-'));

function plumbline(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin', 'plumbline.js'), ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, ...env } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A registry written by the CLI: a failing audit of "recidivism-rf" (with a policy), then one of "rf" without a policy. */
function cliRegistry(): { path: string; root: string; firstResult: { performance: { roc_auc: number } } } {
  writeFileSync(
    join(work, 'audit.yaml'),
    `model:\n  path: ${fixture('compas/rf.onnx')}\n  features: [${rf.features!.join(', ')}]\ndata:\n  test: ${fixture('compas/test.csv')}\n  target: two_year_recid\n  positive_label: 1\n  protected_attributes: [race, sex]\nrandom_seed: 42\naudit_profile: quickstart\nmetadata:\n  model_id: recidivism-rf\n  team: risk\n`,
  );
  writeFileSync(join(work, 'policy.yaml'), `policy_name: Portfolio test\ngates:\n  - name: Minimum AUC\n    metric: roc_auc\n    threshold: ${rf.performance.roc_auc + 0.01}\n    comparison: greater_than\n    severity: error\n`);
  expect(plumbline(['registry', 'init', 'team.db']).code).toBe(0);
  expect(plumbline(['audit', '--config', 'audit.yaml', '--policy-gates', 'policy.yaml', '--output', 'a/result.json', '--registry', 'team.db']).code).toBe(1);
  const second = plumbline(['audit', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--features', rf.features!.join(','), '--output', 'b/result.json', '--registry', 'team.db']);
  expect(second.code, second.stderr).toBe(0);
  const verify = plumbline(['registry', 'verify', 'team.db']);
  return { path: join(work, 'team.db'), root: /merkle root ([0-9a-f]{64})/.exec(verify.stdout)![1], firstResult: JSON.parse(readFileSync(join(work, 'a', 'result.json'), 'utf8')) };
}

async function openPortfolioFile(page: Page, path: string, name = 'team.db') {
  await page.getByTestId('nav-portfolio').click();
  await page.getByTestId('registry-input').setInputFiles({ name, mimeType: 'application/vnd.sqlite3', buffer: readFileSync(path) });
}

test('a registry written by the CLI opens in the app, drills down, takes the app’s audit and exports the same format', async ({ page }) => {
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  const registry = cliRegistry();
  await page.goto(PLAIN);
  await openPortfolioFile(page, registry.path);

  await expect(page.getByTestId('registry-summary')).toContainText('team.db · 2 audits of 2 models · schema version 4');
  await expect(page.getByTestId('registry-verify')).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('merkle-root')).toHaveText(registry.root);
  await expect(page.getByTestId('checkpoint')).toHaveText(`2:${registry.root}`);
  const tile = (group: string) => page.locator(`[data-metric="portfolio_status"][data-group="${group}"]`);
  await expect(tile('FAIL')).toHaveAttribute('data-value', '1');
  await expect(tile('NONE')).toHaveAttribute('data-value', '1');
  await expect(tile('PASS')).toHaveAttribute('data-value', '0');
  await expect(page.locator('[data-chart="portfolio-gates"] svg')).toContainText('Minimum AUC');
  await expect(page.getByTestId('portfolio-models').locator('[data-model="recidivism-rf"]')).toContainText('risk');
  await page.screenshot({ path: 'test-results/portfolio.png', fullPage: true });

  // Drill down: the stored result opens in the results view, with its stored decision.
  await page.getByTestId('open-entry-1').click();
  await expect(page.getByTestId('decision')).toHaveAttribute('data-value', 'FAIL');
  await expect(page.locator('[data-gate="Minimum AUC"]')).toHaveAttribute('data-outcome', 'FAIL');
  const auc = Number(await page.locator('[data-metric="roc_auc"]:not([data-attribute])').first().getAttribute('data-value'));
  expect(auc).toBe(registry.firstResult.performance.roc_auc);

  // An audit run in the app is appended to the same registry.
  await page.getByTestId('nav-audit').click();
  await page.getByTestId('run-demo').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('label-model_id').fill('compas-demo');
  await page.getByTestId('add-to-portfolio').click();
  await expect(page.getByTestId('added')).toHaveText('Added as entry 3.');
  await page.getByTestId('nav-portfolio').click();
  await expect(page.getByTestId('registry-summary')).toContainText('3 audits of 3 models');
  await expect(page.getByTestId('registry-verify')).toHaveAttribute('data-ok', 'true');

  // The exported file is the same SQLite format: the core (as the CLI uses it) reads and verifies it.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('registry-export').click()]);
  const bytes = readFileSync((await download.path())!);
  const SQL = await initSqlJs();
  const db = new SQL.Database(bytes);
  const rows = listEntries(db as unknown as SqlDatabase);
  expect(rows.map((r) => r.model_id)).toEqual(['recidivism-rf', 'rf', 'compas-demo']);
  const full = verifyRegistry(db as unknown as SqlDatabase);
  expect(full.ok).toBe(true);
  // The app extended its check when it appended; the root it shows is the full recomputation's.
  await expect(page.getByTestId('merkle-root')).toHaveText(full.merkle_root);
  writeFileSync(join(work, 'from-app.db'), bytes);
  // The monthly summary made in the app is the core's summary of the same entries.
  const month = new Date().toISOString().slice(0, 7);
  await page.getByTestId('summary-month').fill(month);
  const [md] = await Promise.all([page.waitForEvent('download'), page.getByTestId('summary-md').click()]);
  expect(readFileSync((await md.path())!, 'utf8')).toBe(monthlySummaryMarkdown(rows, month, 'team.db'));
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByTestId('summary-pdf').click()]);
  expect(readFileSync((await pdf.path())!).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  const cliVerify = plumbline(['registry', 'verify', 'from-app.db']);
  expect(cliVerify.code, cliVerify.stdout).toBe(0);

  // Kept in the browser's private storage: a reload opens it again.
  await page.reload();
  await page.getByTestId('nav-portfolio').click();
  await expect(page.getByTestId('registry-summary')).toContainText('3 audits of 3 models');

  const origin = PLAIN.slice(0, -1);
  expect(urls.filter((url) => !url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:'))).toEqual([]);
});

test('a tampered registry shows which entry was altered and will not open or export it as a clean audit; a file that is not a registry is refused in words', async ({ page }) => {
  const registry = cliRegistry();
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(registry.path));
  // A forger who knows the format: the append-only guard off, the failed audit made a pass, the guard back on.
  const triggers = db.exec("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")[0].values;
  for (const [name] of triggers) db.run(`DROP TRIGGER ${name}`);
  db.run(`UPDATE entries SET decision = 'PASS', failed_gates = '[]' WHERE seq = 1`);
  for (const [, sql] of triggers) db.run(String(sql));
  const tampered = db.export();
  writeFileSync(join(work, 'tampered.db'), tampered);
  const problem = verifyRegistry(new SQL.Database(tampered) as unknown as SqlDatabase).problems[0].message;
  expect(problem).toMatch(/^entry 1 \(recidivism-rf, .*\) was altered: its content hashes to/);
  await page.goto(PLAIN);
  await openPortfolioFile(page, join(work, 'tampered.db'), 'tampered.db');
  await expect(page.getByTestId('registry-verify')).toHaveAttribute('data-ok', 'false');
  await expect(page.getByTestId('registry-verify')).toContainText(`TAMPERED: ${problem}`);
  await expect(page.getByTestId('tampered-1')).toHaveText('TAMPERED');
  await expect(page.getByTestId('tampered-2')).toHaveCount(0);

  // Opening the forged entry (whose report and evidence pack would come out clean) is refused;
  // so are a CSV and a summary of the registry. The intact entry opens.
  await page.getByTestId('open-entry-1').click();
  await expect(page.getByTestId('registry-error')).toHaveText(`tampered.db entry 1 failed verification, so it is not opened or exported as an audit: TAMPERED: ${problem}`);
  await expect(page.getByTestId('result-summary')).toHaveCount(0);
  await page.getByTestId('registry-csv').click();
  await expect(page.getByTestId('registry-error')).toHaveText(`tampered.db failed verification, so no CSV is made from it: TAMPERED: ${problem}`);
  await page.getByTestId('summary-pdf').click();
  await expect(page.getByTestId('registry-error')).toHaveText(`tampered.db failed verification, so no monthly summary is made from it: TAMPERED: ${problem}`);
  await page.getByTestId('open-entry-2').click();
  await expect(page.getByTestId('result-summary')).toBeVisible();
  await page.getByTestId('nav-portfolio').click();

  await page.getByTestId('registry-input').setInputFiles({ name: 'data.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n'.repeat(300)) });
  await expect(page.getByTestId('registry-error')).toHaveText('data.csv is not an SQLite database (file is not a database): not a registry, or one whose first bytes were overwritten (then open an intact copy). Give a registry\'s path, or create one at a new path with: plumbline registry init FILE.');
});

test('a registry of 1,500 audits opens, verifies and scrolls with only the rows in view in the page', async ({ page }) => {
  const { registryFile } = await import('../../bench/registry');
  const path = (await registryFile(1500))!;
  await page.goto(PLAIN);
  await page.getByTestId('nav-portfolio').click();
  await page.getByTestId('registry-input').setInputFiles(path);
  await expect(page.getByTestId('registry-summary')).toContainText(/registry-1500-v\d+\.db · 1500 audits of 40 models/, { timeout: 60_000 });
  await expect(page.getByTestId('registry-verify')).toHaveAttribute('data-ok', 'true');
  const rendered = page.locator('[data-testid="portfolio-audits"] tbody tr[data-seq]');
  expect(await rendered.count()).toBeLessThan(50);
  await expect(page.locator('[data-testid="portfolio-audits"] tr[data-seq="1500"]')).toBeVisible();
  // Scrolled to the end, the oldest entry is there and opens.
  await page.getByTestId('portfolio-audits-box').evaluate((box) => box.scrollTo(0, box.scrollHeight));
  await expect(page.locator('[data-testid="portfolio-audits"] tr[data-seq="1"]')).toBeVisible();
  expect(await rendered.count()).toBeLessThan(50);
  await page.getByTestId('open-entry-1').click();
  await expect(page.getByTestId('result-summary')).toBeVisible();
});

test('the monthly summary starts at the month the page dates audits in (?source_date_epoch=), not the real clock\'s', async ({ page }) => {
  await page.goto(`${PLAIN}?source_date_epoch=1700000000`);
  await page.getByTestId('nav-portfolio').click();
  await page.getByTestId('registry-new').click();
  await expect(page.getByTestId('summary-month')).toHaveValue(new Date(1700000000 * 1000).toISOString().slice(0, 7));
});

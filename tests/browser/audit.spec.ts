import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { resultDigest } from '../../src/core/outputs/manifest';
import { resultFromPdf } from '../../src/core/outputs/pdf';
import { expected, fixture, projectRoot } from '../support/fixtures';

const PLAIN = 'http://127.0.0.1:4173/';
const ISOLATED = 'http://127.0.0.1:4174/';
const rf = expected('compas/rf.expected.json');

/** Records every request the page makes, so a test can prove nothing left the origin. */
function recordRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  return urls;
}

function expectOnlyOrigin(urls: string[], origin: string) {
  const foreign = urls.filter((url) => !url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:'));
  expect(foreign, `requests outside ${origin}`).toEqual([]);
  expect(urls.length).toBeGreaterThan(0);
}

async function metricValue(page: Page, id: string, attribute?: string, group?: string): Promise<number | null> {
  let selector = `[data-metric="${id}"]`;
  if (attribute) selector += `[data-attribute="${attribute}"]`;
  else selector += ':not([data-attribute])';
  if (group) selector += `[data-group="${group}"]`;
  const raw = await page.locator(selector).first().getAttribute('data-value');
  return raw === 'null' ? null : Number(raw);
}

async function checkAgainstFixture(page: Page) {
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  for (const id of ['accuracy', 'roc_auc', 'precision', 'recall', 'f1', 'average_precision', 'log_loss', 'brier_score']) {
    expect(Math.abs((await metricValue(page, id))! - rf.performance[id]), id).toBeLessThan(1e-6);
  }
  for (const [attribute, fairness] of Object.entries(rf.fairness)) {
    for (const [group, metrics] of Object.entries(fairness.groups)) {
      for (const rate of ['selection_rate', 'tpr', 'fpr', 'precision', 'accuracy']) {
        const shown = await metricValue(page, rate, attribute, group);
        const want = metrics[rate];
        if (want === null) expect(shown, `${attribute}/${group}/${rate}`).toBeNull();
        else expect(Math.abs(shown! - want), `${attribute}/${group}/${rate}`).toBeLessThan(1e-6);
      }
    }
  }
}

test('audits the COMPAS forest chosen through the file input, with no request off the origin', async ({ page }) => {
  const urls = recordRequests(page);
  await page.goto(PLAIN);
  await page.getByTestId('file-input').setInputFiles([fixture('compas/rf.onnx'), fixture('compas/test.csv')]);
  await expect(page.getByTestId('model-card')).toContainText('rf.onnx');
  await expect(page.getByTestId('data-card')).toContainText('1,852 rows');
  await page.getByTestId('target-select').selectOption('two_year_recid');
  // race and sex are pre-ticked in column order (sex, race); tick them in the CLI's order.
  const attributes = page.getByTestId('protected-attributes');
  for (const name of ['sex', 'race']) await attributes.locator(`[data-column="${name}"]`).uncheck();
  for (const name of ['race', 'sex']) await attributes.locator(`[data-column="${name}"]`).check();
  for (const feature of rf.features!) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  await page.getByTestId('run-audit').click();
  await checkAgainstFixture(page);
  // Served with no special headers: single-threaded WASM.
  await expect(page.getByTestId('threads')).toHaveAttribute('data-value', '1');
  expectOnlyOrigin(urls, PLAIN.slice(0, -1));

  // The CLI, given the same files and settings, produces a result with the same digest.
  const cli = spawnSync(process.execPath, [join(projectRoot, 'bin/plumbline.js'), 'audit', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--features', rf.features!.join(',')], { encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(cli.status, cli.stderr).toBe(0);
  await expect(page.getByTestId('result-digest')).toHaveText(resultDigest(JSON.parse(cli.stdout)));
});

test('the built-in demo runs with one click, cross-origin isolated, on one onnxruntime thread (the same bits as the CLI)', async ({ page }) => {
  const urls = recordRequests(page);
  await page.goto(ISOLATED);
  expect(await page.evaluate('crossOriginIsolated')).toBe(true);
  await page.getByTestId('run-demo').click();
  await checkAgainstFixture(page);
  // One onnxruntime thread even where threads are allowed: its threaded kernels change last bits (README, One audit, any host).
  const threads = Number(await page.getByTestId('threads').getAttribute('data-value'));
  expect(threads).toBe(1);
  expectOnlyOrigin(urls, ISOLATED.slice(0, -1));
  // The demo's reference (the train split) gives drift exactly as the reference computation.
  const drift = (rf as unknown as { drift_train_vs_test: { values: Record<string, number> } }).drift_train_vs_test.values;
  for (const [column, value] of Object.entries(drift)) {
    const shown = Number(await page.locator(`[data-metric="psi"][data-attribute="${column}"]`).getAttribute('data-value'));
    expect(Math.abs(shown - value), column).toBeLessThan(1e-9);
  }
  await page.getByTestId('tab-drift').click();
  await expect(page.getByTestId('drift-table')).toBeVisible();
  await page.screenshot({ path: 'test-results/tab-drift.png' });
  // Charts drawn from the same specs as the report.
  await page.getByTestId('tab-performance').click();
  await expect(page.locator('[data-chart="pr"] svg')).toBeVisible();
  await expect(page.locator('[data-chart="roc"] svg')).toBeVisible();
  await expect(page.locator('[data-chart="selection-race"] svg')).toContainText('Native American');
  await page.screenshot({ path: 'test-results/demo-results.png', fullPage: true });

  // The PDF report is made in the browser and carries the same result.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-pdf').click()]);
  const path = await download.path();
  const bytes = new Uint8Array(readFileSync(path!));
  expect(new TextDecoder().decode(bytes.subarray(0, 5))).toBe('%PDF-');
  const embedded = resultFromPdf(bytes);
  await expect(page.getByTestId('result-digest')).toHaveText(resultDigest(embedded));
  expectOnlyOrigin(urls, ISOLATED.slice(0, -1));
});

test('two data files dropped together: the one set aside is named; a config\'s registry notice stays while its data loads', async ({ page }) => {
  await page.goto(PLAIN);
  const csv = readFileSync(fixture('compas/test.csv'));
  const model = { name: 'rf.onnx', mimeType: 'application/octet-stream', buffer: readFileSync(fixture('compas/rf.onnx')) };
  await page.getByTestId('file-input').setInputFiles([model, { name: 'q2_2025.csv', mimeType: 'text/csv', buffer: csv }, { name: 'q1_2025.csv', mimeType: 'text/csv', buffer: csv }]);
  await expect(page.getByTestId('notice')).toHaveText('q1_2025.csv replaced q2_2025.csv as the audited data. To audit one against the other, name the reference train or reference, or use Swap test and reference.');
  // A config with a registry block, dropped with its model and data (the notice was cleared when the data loaded).
  await page.goto(PLAIN);
  const config = `model:\n  path: rf.onnx\ndata:\n  test: test.csv\n  target: two_year_recid\n  protected_attributes: [race]\nregistry:\n  database: team.db\n`;
  await page.getByTestId('file-input').setInputFiles([{ name: 'audit.yaml', mimeType: 'text/yaml', buffer: Buffer.from(config) }, model, { name: 'test.csv', mimeType: 'text/csv', buffer: csv }]);
  await expect(page.getByTestId('data-card')).toContainText('test.csv');
  await expect(page.getByTestId('notice')).toHaveText('audit.yaml: the registry block appends audits run by the command line (plumbline audit --config audit.yaml) to team.db; the app does not write there: add this audit to a portfolio on the Portfolio page.');
});

test('a CSV without the target column clears the old target and says so', async ({ page }) => {
  await page.goto(PLAIN);
  await page.getByTestId('file-input').setInputFiles([fixture('compas/rf.onnx'), fixture('compas/test.csv')]);
  await page.getByTestId('target-select').selectOption('two_year_recid');
  for (const feature of rf.features!) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  // The validator then swaps in a file that lacks the target.
  const csv = 'age,priors_count,juv_fel_count,juv_misd_count,juv_other_count,race,two_year\n30,1,0,0,0,Caucasian,1\n40,0,0,0,0,Asian,0\n';
  await page.getByTestId('file-input').setInputFiles([{ name: 'no-target.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) }]);
  await expect(page.getByTestId('data-card')).toContainText('no-target.csv');
  await expect(page.getByTestId('notice')).toHaveText('no-target.csv replaced test.csv as the audited data; the target two_year_recid, the columns sex were cleared (they belonged to the old file): drop the matching files or choose again. To audit one against the other, name the reference train or reference, or use Swap test and reference.');
  await expect(page.getByTestId('target-select')).toHaveValue('');
  // Without a target the audit runs without labels (and says so in every output): it may start.
  await expect(page.getByTestId('target-select').locator('option:checked')).toHaveText('none: audit without labels');
  await expect(page.getByTestId('run-audit')).toBeEnabled();
});

test('a file that is not ONNX is refused with what its bytes look like', async ({ page }) => {
  await page.goto(PLAIN);
  await page.getByTestId('file-input').setInputFiles([{ name: 'model.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('PK\u0003\u0004 this is a zip, not a model') }]);
  await expect(page.getByTestId('error')).toContainText('model.onnx: not a model file Plumbline can read (it starts with the bytes 50 4b 03 04');
});

test('a model whose inputs do not match the chosen columns is refused', async ({ page }) => {
  await page.goto(PLAIN);
  await page.getByTestId('file-input').setInputFiles([fixture('compas/rf.onnx'), fixture('compas/test.csv')]);
  await page.getByTestId('target-select').selectOption('two_year_recid');
  for (const feature of rf.features!.slice(0, 4)) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('error')).toContainText('rf.onnx: input "float_input" takes 5 columns, but 4 were chosen (age, priors_count, juv_fel_count, juv_misd_count)');
});

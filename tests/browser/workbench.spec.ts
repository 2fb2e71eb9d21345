/// <reference lib="dom" />
// page.evaluate callbacks run in the page, with the DOM.
import { expect, test, type Page } from '@playwright/test';
import { download, dropFiles } from './app-files';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readTable } from '../../src/core/data/read';
import { verifyEvidencePack } from '../../src/core/outputs/evidence';
import { expected, fixture, projectRoot } from '../support/fixtures';

const PLAIN = 'http://127.0.0.1:4173/';
const rf = expected('compas/rf.expected.json');
const work = mkdtempSync(join(tmpdir(), 'plumbline-workbench-'));

function plumbline(args: string[]) {
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin', 'plumbline.js'), ...args], { encoding: 'utf8', cwd: work });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const config = `model:\n  path: rf.onnx\n  features: [${rf.features!.join(', ')}]\ndata:\n  test: test.csv\n  target: two_year_recid\n  positive_label: 1\n  protected_attributes: [race, sex]\nrandom_seed: 7\nbootstrap:\n  resamples: 200\nlimits:\n  stage_memory_mb: 1024\nmetadata:\n  model_id: recidivism-rf\n`;
const policy = `policy_name: Workbench test\ngates:\n  - name: Minimum AUC\n    metric: roc_auc\n    threshold: ${rf.performance.roc_auc + 0.01}\n    comparison: greater_than\n    severity: error\n  - name: Parity\n    metric: demographic_parity_difference\n    attr: sex\n    threshold: 0.5\n    comparison: less_than\n    severity: warning\n`;
writeFileSync(join(work, 'audit.yaml'), config);
writeFileSync(join(work, 'policy.yaml'), policy);

test('drop model, data, config and policy; the set-up follows the config; gates, slider, tabs, exports and compare work', async ({ page }) => {
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  // The CLI on the same files and policy, for the decision; and with p(positive) of every row for the slider.
  const cli = plumbline(['audit', '--config', join(work, 'audit.yaml'), '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--policy-gates', 'policy.yaml', '--predictions', '--output', 'cli/result.json']);
  expect(cli.code, cli.stderr).toBe(1);
  const cliDecision = JSON.parse(readFileSync(join(work, 'cli', 'policy_decision.json'), 'utf8'));
  const cliResult = JSON.parse(readFileSync(join(work, 'cli', 'result.json'), 'utf8'));

  await page.goto(PLAIN);
  await dropFiles(page, [fixture('compas/rf.onnx'), fixture('compas/test.csv'), join(work, 'audit.yaml'), join(work, 'policy.yaml')]);
  await expect(page.getByTestId('policy-card')).toContainText('Workbench test · 2 gates');
  await expect(page.getByTestId('config-card')).toContainText('audit.yaml');
  await expect(page.getByTestId('target-select')).toHaveValue('two_year_recid');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });

  // Summary: the decision and each gate, as the CLI decided them.
  await expect(page.getByTestId('decision')).toHaveAttribute('data-value', cliDecision.decision);
  for (const gate of cliDecision.gates) await expect(page.locator(`[data-gate="${gate.name}"]`)).toHaveAttribute('data-outcome', gate.outcome);
  const exported = JSON.parse((await download(page, 'export-decision')).toString('utf8'));
  expect(exported.gates.map((g: { name: string; value: number; outcome: string }) => [g.name, g.value, g.outcome])).toEqual(cliDecision.gates.map((g: { name: string; value: number; outcome: string }) => [g.name, g.value, g.outcome]));
  expect(exported.policy_sha256).toBe(cliDecision.policy_sha256);
  await expect(page.getByTestId('label-model_id')).toHaveValue('recidivism-rf');
  // The config's other settings (seed, resamples, stage budget) reached the app's audit: the CLI's numbers.
  const appResult = JSON.parse((await download(page, 'export-json')).toString('utf8'));
  expect(appResult.settings).toEqual(cliResult.settings);
  expect(appResult.settings).toMatchObject({ seed: 7, bootstrap_resamples: 200, limits: { stage_memory_mb: 1024, stage_seconds: null } });
  expect(appResult.fairness).toEqual(cliResult.fairness);
  // The YAML view of the set-up keeps those settings, so applying it back does not lose them.
  await page.getByTestId('config-editor-toggle').click();
  await expect(page.getByTestId('config-editor')).toHaveValue(/test: test\.csv/);
  const { parseAuditConfig } = await import('../../src/core/config/audit-config');
  expect(parseAuditConfig(await page.getByTestId('config-editor').inputValue(), 'view.yaml')).toMatchObject({ random_seed: 7, bootstrap: { resamples: 200 }, limits: { stage_memory_mb: 1024 } });
  await page.getByTestId('config-editor-toggle').click();

  // Every tab, keyboard operable, with a screenshot at 1280×800.
  await page.getByTestId('tab-summary').focus();
  for (const tab of ['summary', 'data', 'performance', 'calibration', 'fairness', 'explanations', 'robustness', 'drift', 'recourse', 'reproducibility']) {
    await page.getByTestId(`tab-${tab}`).click();
    await expect(page.locator(`#panel-${tab}`)).toBeVisible();
    await page.evaluate(() => document.querySelector('[role=tablist]')!.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: `test-results/tab-${tab}.png` });
  }
  await page.getByTestId('tab-reproducibility').press('ArrowRight');
  await expect(page.getByTestId('tab-summary')).toHaveAttribute('aria-selected', 'true');

  // Threshold slider: at the audit's threshold the group rates are the reference's…
  await page.getByTestId('tab-fairness').click();
  const sweepRate = async (group: string) => Number(await page.locator(`[data-metric="sweep_selection_rate"][data-attribute="sex"][data-group="${group}"]`).getAttribute('data-value'));
  await expect(page.getByTestId('slider-threshold')).toHaveAttribute('data-value', String(rf.threshold));
  for (const group of ['Female', 'Male']) expect(Math.abs((await sweepRate(group)) - (rf.fairness.sex.groups[group].selection_rate as number))).toBeLessThan(1e-9);
  // …and moved to 0.6 they are the share of each group's rows with p >= 0.6 (from the CLI's predictions).
  const slider = page.getByTestId('threshold-slider');
  await slider.focus();
  for (let i = 0; i < 10; i++) await slider.press('ArrowRight');
  await expect(page.getByTestId('slider-threshold')).toHaveAttribute('data-value', '0.6');
  const table = readTable(new Uint8Array(readFileSync(fixture('compas/test.csv'))), 'test.csv');
  const sex = table.columns.find((c) => c.name === 'sex')!;
  if (sex.kind !== 'categorical') throw new Error('sex is categorical');
  for (const group of ['Female', 'Male']) {
    const code = sex.dictionary.indexOf(group);
    let n = 0;
    let selected = 0;
    cliResult.predictions_p1.forEach((p: number, row: number) => {
      if (sex.codes[row] !== code) return;
      n++;
      if (p >= 0.6) selected++;
    });
    expect(Math.abs((await sweepRate(group)) - selected / n), group).toBeLessThan(1e-12);
  }
  await page.evaluate(() => document.querySelector('[role=tablist]')!.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: 'test-results/tab-fairness-slider.png' });
  // A click on the d3 sweep chart picks the nearest threshold (x = 220 of 520 is threshold 0.5).
  const chart = page.locator('[data-testid="sweep-chart"][data-attribute="sex"]');
  const box = (await chart.boundingBox())!;
  await chart.click({ position: { x: (box.width * 220) / 520, y: box.height / 2 } });
  await expect(page.getByTestId('slider-threshold')).toHaveAttribute('data-value', '0.5');

  // Exports: the result JSON re-opens and compares equal; the HTML report and model card come out.
  const resultJson = await download(page, 'export-json');
  writeFileSync(join(work, 'app-result.json'), resultJson);
  expect((await download(page, 'export-card')).toString('utf8')).toContain('# Model card');
  const manifest = JSON.parse((await download(page, 'export-manifest')).toString('utf8'));
  expect(manifest.result_sha256).toMatch(/^[0-9a-f]{64}$/);
  // The evidence pack is intact, holds every output, and the app checks it when it comes back.
  const pack = await download(page, 'export-pack');
  const check = verifyEvidencePack(new Uint8Array(pack));
  expect(check.ok, check.problems.join('; ')).toBe(true);
  expect(check.files).toEqual(expect.arrayContaining(['report.json', 'report.manifest.json', 'report.pdf', 'report.html', 'report.model_card.md', 'policy_decision.json', 'config-audit.yaml', 'policy-policy.yaml']));
  writeFileSync(join(work, 'app.evidence.zip'), pack);
  await page.getByTestId('file-input').setInputFiles(join(work, 'app.evidence.zip'));
  await expect(page.getByTestId('pack-card')).toHaveAttribute('data-ok', 'true');
  // The exported HTML report re-opens as a result: compared with the audit, nothing changed.
  writeFileSync(join(work, 'app-report.html'), await download(page, 'export-html'));
  await page.getByTestId('file-input').setInputFiles(join(work, 'app-report.html'));
  await page.getByTestId('tab-compare').click();
  await expect(page.getByTestId('compare')).toContainText(/ 0 of \d+ metrics changed/);

  // Compare with the CLI's result at another threshold: metric by metric and gate by gate.
  const other = plumbline(['audit', '--config', join(work, 'audit.yaml'), '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--threshold', '0.6', '--policy-gates', 'policy.yaml', '--output', 'other/result.json']);
  expect([0, 1]).toContain(other.code);
  const otherResult = JSON.parse(readFileSync(join(work, 'other', 'result.json'), 'utf8'));
  await page.getByTestId('file-input').setInputFiles(join(work, 'other', 'result.json'));
  await page.getByTestId('tab-compare').click();
  const row = page.locator('[data-compare="accuracy"]');
  await expect(row).toHaveAttribute('data-before', String(otherResult.performance.accuracy));
  await expect(row).toHaveAttribute('data-after', String(cliResult.performance.accuracy));
  await expect(page.locator('[data-compare="roc_auc"]')).toHaveAttribute('data-before', String(otherResult.performance.roc_auc));
  await expect(page.getByTestId('compare-gates')).toContainText('Minimum AUC');
  await page.evaluate(() => document.querySelector('[role=tablist]')!.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: 'test-results/tab-compare.png' });

  // The set-up changed after the config was dropped: the pack records the config that ran
  // (the set-up's, named apart), and the CLI on it gives the app's result; it recorded audit.yaml.
  await page.getByTestId('threshold').fill('0.6');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  const changedPack = verifyEvidencePack(new Uint8Array(await download(page, 'export-pack')));
  expect(changedPack.files).toContain('config-audit.setup.yaml');
  expect(changedPack.files).not.toContain('config-audit.yaml');
  const changedManifest = JSON.parse((await download(page, 'export-manifest')).toString('utf8'));
  expect(changedManifest.inputs.config.file).toBe('audit.setup.yaml');
  expect(JSON.parse((await download(page, 'export-json')).toString('utf8')).threshold).toBe(0.6);

  const origin = PLAIN.slice(0, -1);
  expect(urls.filter((url) => !url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:'))).toEqual([]);
});

test('a long audit shows each stage with its rate and time left, keeps the page responsive, and cancels', async ({ page }) => {
  // 1,000,000 rows: the COMPAS test rows repeated (about 50 MB).
  const [header, ...rows] = readFileSync(fixture('compas/test.csv'), 'utf8').trim().split('\n');
  const lines = [header];
  for (let i = 0; lines.length <= 1_000_000; i++) lines.push(rows[i % rows.length]);
  await page.goto(PLAIN);
  await page.getByTestId('file-input').setInputFiles([
    { name: 'rf.onnx', mimeType: 'application/octet-stream', buffer: readFileSync(fixture('compas/rf.onnx')) },
    { name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) },
  ]);
  // The file is read in the worker in chunks: bytes and rows so far are shown while it reads.
  await expect(page.getByTestId('load-progress')).toContainText(/Reading big\.csv: [\d.]+ MB of [\d.]+ MB · [\d,]+ rows/);
  await expect(page.getByTestId('data-card')).toContainText('1,000,000 rows', { timeout: 60_000 });
  await expect(page.getByTestId('load-progress')).toHaveCount(0);
  await page.getByTestId('target-select').selectOption('two_year_recid');
  for (const feature of rf.features!) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  await page.getByTestId('run-audit').click();
  await expect(page.locator('[data-testid="stages"] [data-stage="score"]')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('[data-testid="stages"] [data-stage="parse"]')).toContainText('done');
  // The page answers while the worker scores.
  const start = Date.now();
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
  expect(Date.now() - start).toBeLessThan(2000);
  await page.getByTestId('cancel-audit').click();
  await expect(page.getByTestId('error')).toContainText('Cancelled');
  await expect(page.getByTestId('result-summary')).toHaveCount(0);
  await expect(page.getByTestId('run-audit')).toBeEnabled();
});

test('reading a large data file can be cancelled, and the page says so', async ({ page }) => {
  const [header, ...rows] = readFileSync(fixture('compas/test.csv'), 'utf8').trim().split('\n');
  const lines = [header];
  for (let i = 0; lines.length <= 1_000_000; i++) lines.push(rows[i % rows.length]);
  await page.goto(PLAIN);
  await page.getByTestId('file-input').setInputFiles([{ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) }]);
  await page.getByTestId('load-cancel').click();
  await expect(page.getByTestId('error')).toContainText('Reading big.csv was cancelled.');
  await expect(page.getByTestId('load-progress')).toHaveCount(0);
  await expect(page.getByTestId('data-card')).toHaveCount(0);
});

test('a Parquet test set loads in the worker (parquet-wasm from the app’s own assets) and audits like the CLI', async ({ page }) => {
  const parquetPath = join(work, 'test.parquet');
  const { loadArrow, tableToArrow } = await import('../../src/core/data/arrow');
  await loadArrow();
  const { tableToIPC, tableFromIPC } = await import('apache-arrow');
  const { Table: WasmTable, writeParquet } = await import('parquet-wasm');
  const csv = readTable(readFileSync(fixture('compas/test.csv')), 'test.csv');
  writeFileSync(parquetPath, writeParquet(WasmTable.fromIPCStream(tableToIPC(tableFromIPC(tableToArrow(csv)), 'stream'))));
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(PLAIN);
  await page.getByTestId('file-input').setInputFiles([fixture('compas/rf.onnx'), parquetPath]);
  await expect(page.getByTestId('data-card')).toContainText(`Parquet · ${csv.rowCount.toLocaleString('en')} rows`);
  await page.getByTestId('target-select').selectOption('two_year_recid');
  for (const feature of rf.features!) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  // The Data tab lists every column with the type read from its values.
  await page.getByTestId('tab-data').click();
  const profile = page.getByTestId('column-profile');
  await expect(profile.locator('[data-column="age"]')).toHaveAttribute('data-type', 'integer');
  await expect(profile.locator('[data-column="sex"]')).toHaveAttribute('data-type', 'text');
  await expect(profile.locator('[data-column="two_year_recid"]')).toHaveAttribute('data-type', 'boolean');
  const app = JSON.parse((await download(page, 'export-json')).toString('utf8'));
  const protectedArgs = app.settings.protected_attributes.join(',');
  const cli = plumbline(['audit', '--model', fixture('compas/rf.onnx'), '--data', parquetPath, '--target', 'two_year_recid', '--protected', protectedArgs, '--features', rf.features!.join(','), '--output', 'parquet-result.json']);
  expect(cli.stderr).not.toMatch(/error/i);
  const fromCli = JSON.parse(readFileSync(join(work, 'parquet-result.json'), 'utf8'));
  expect(app.inputs.data.sha256).toBe(fromCli.inputs.data.sha256);
  expect(app.performance).toEqual(fromCli.performance);
  expect(app.fairness).toEqual(fromCli.fairness);
  expect(requests.every((url) => url.startsWith(PLAIN))).toBe(true);
  expect(requests.some((url) => /parquet_wasm_bg-[\w-]+\.wasm$/.test(url))).toBe(true);
});

/** A german_credit fixture's rows repeated to 60,000 (above the pools' threshold), written to the work folder. */
function german60k(source: string, name: string): string {
  const [header, ...rows] = readFileSync(fixture(source), 'utf8').trim().split('\n');
  const lines = [header];
  for (let i = 0; lines.length <= 60_000; i++) lines.push(rows[i % rows.length]);
  const path = join(work, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Drops a model and 60,000 german_credit rows, picks the target and protected attributes, turns robustness and recourse off. */
async function setUpGerman60k(page: Page, model: string, dataPath: string) {
  await page.getByTestId('file-input').setInputFiles([fixture(model), dataPath]);
  await expect(page.getByTestId('data-card')).toContainText('60,000 rows');
  await page.getByTestId('target-select').selectOption('good_credit');
  for (const name of ['gender', 'age_group']) {
    const box = page.getByTestId('protected-attributes').locator(`[data-column="${name}"]`);
    if (!(await box.isChecked())) await box.check();
  }
  await page.getByTestId('analyses').locator('[data-section="robustness"]').uncheck();
  await page.getByTestId('analyses').locator('[data-section="recourse"]').uncheck();
}

/** The app's exported result and the CLI's for the same model, data and protected attributes. */
async function appAndCli(page: Page, model: string, dataPath: string, output: string) {
  const app = JSON.parse((await download(page, 'export-json')).toString('utf8'));
  const cli = plumbline(['audit', '--model', fixture(model), '--data', dataPath, '--target', 'good_credit', '--protected', app.settings.protected_attributes.join(','), '--output', output]);
  expect(cli.code, cli.stderr).not.toBe(2);
  return { app, fromCli: JSON.parse(readFileSync(join(work, output), 'utf8')) };
}

test('a 60,000-row audit of an XGBoost JSON model scores over the worker pool and equals the CLI to the bit', async ({ page }) => {
  // german_credit test_missing rows (missing cells included).
  const dataPath = german60k('german_credit/test_missing.csv', 'german-60k.csv');
  await page.goto(PLAIN);
  await setUpGerman60k(page, 'german_credit/xgb_numeric.json', dataPath);
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 120_000 });
  // The result names the scorer: the project's evaluator, not onnxruntime.
  await expect(page.getByTestId('scorer')).toHaveText("scored with Plumbline's own tree evaluator (WebAssembly, float64 sums)");
  await expect(page.getByTestId('threads')).toHaveCount(0);
  const { app, fromCli } = await appAndCli(page, 'german_credit/xgb_numeric.json', dataPath, 'german-60k.json');
  expect(app.performance).toEqual(fromCli.performance);
  expect(app.fairness).toEqual(fromCli.fairness);
  expect(app.calibration).toEqual(fromCli.calibration);
  expect(app.explanations.values).toEqual(fromCli.explanations.values);
});

test('a 60,000-row audit of an ONNX pipeline scores over the pool of onnxruntime sessions (page not isolated) and equals the CLI to the bit', async ({ page }) => {
  // german_credit test rows: string and number inputs.
  const dataPath = german60k('german_credit/test.csv', 'german-onnx-60k.csv');
  await page.goto(PLAIN);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
  await setUpGerman60k(page, 'german_credit/xgb.onnx', dataPath);
  // The pool whatever this machine's speed (by default a model this light might stay in the one session).
  await page.evaluate(() => (globalThis as unknown as { plumbline: { worker(): { tune(s: object): Promise<void> } } }).plumbline.worker().tune({ onnxPoolWorthMs: 0 }));
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 120_000 });
  // Every pool worker opened its own session of the model (the audit worker's session did not score alone).
  const pool = page.workers().filter((worker) => /pool\.worker/.test(worker.url()));
  const sessions = await Promise.all(pool.map((worker) => worker.evaluate(() => (globalThis as unknown as { plumblineOnnxModels?: number }).plumblineOnnxModels ?? 0)));
  expect(sessions.length).toBeGreaterThanOrEqual(2);
  expect(sessions.every((n) => n === 1)).toBe(true);
  const { app, fromCli } = await appAndCli(page, 'german_credit/xgb.onnx', dataPath, 'german-onnx-60k.json');
  expect(app.performance).toEqual(fromCli.performance);
  expect(app.fairness).toEqual(fromCli.fairness);
  expect(app.calibration).toEqual(fromCli.calibration);
});

test('row explorer: a row’s score, SHAP waterfall and reasons; edit a value and re-score (what-if); search', async ({ page }) => {
  const want = rf as typeof rf & { predictions_p1: number[]; shap: { values: number[][] } };
  await page.goto(PLAIN);
  await page.getByTestId('run-demo').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('tab-rows').click();
  await page.getByTestId('row-number').fill('3');
  await page.getByTestId('row-show').click();
  const score = page.locator('[data-metric="row_score"]');
  await expect(score).toBeVisible();
  expect(Math.abs(Number(await score.getAttribute('data-value')) - want.predictions_p1[2])).toBeLessThan(1e-6);
  await expect(page.locator('[data-testid="row-shap"] g[data-column]')).toHaveCount(rf.features!.length);

  // What-if: more priors, younger; the new score is the model's score of that row written as a CSV.
  await page.locator('[data-edit="priors_count"]').fill('12');
  await page.locator('[data-edit="age"]').fill('23');
  await page.getByTestId('row-rescore').click();
  await expect(page.getByTestId('row-title')).toContainText('Row 3 (edited)');
  const lines = readFileSync(fixture('compas/test.csv'), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const cells = lines[3].split(',');
  cells[header.indexOf('priors_count')] = '12';
  cells[header.indexOf('age')] = '23';
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const { openModel } = await import('../../src/core/model/classifier');
  const model = await openModel(ort, new Uint8Array(readFileSync(fixture('compas/rf.onnx'))), 'rf.onnx');
  const [independent] = await model.score(readTable(new TextEncoder().encode(`${lines[0]}\n${cells.join(',')}\n`), 'one.csv'), { features: rf.features });
  await expect(score).toHaveAttribute('data-value', String(independent));
  await expect(page.getByTestId('row-decision')).toHaveText(independent >= rf.threshold ? 'positive' : 'negative');

  // A value that is not a number is refused in words; search finds rows by any cell.
  await page.locator('[data-edit="age"]').fill('old');
  await page.getByTestId('row-rescore').click();
  await expect(page.getByTestId('row-error')).toHaveText('compas-test.csv: column "age" holds numbers; "old" is not one. Enter a number, or leave it empty for a missing value where the model takes one.');
  await page.getByTestId('row-search').fill('Native American');
  await page.getByTestId('row-find').click();
  await expect(page.getByTestId('row-matches')).toContainText('Rows containing “Native American”');
  await page.evaluate(() => document.querySelector('[role=tablist]')!.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: 'test-results/tab-rows.png' });
});

test('the YAML views of the config and the policy validate live, apply to the set-up and gate the audit', async ({ page }) => {
  const { parseAuditConfig } = await import('../../src/core/config/audit-config');
  const { planAudit } = await import('../../src/core/config/plan');
  const { parsePolicy } = await import('../../src/core/config/policy');
  const messageOf = (parse: () => unknown) => {
    try {
      parse();
      return 'no error';
    } catch (error) {
      return (error as Error).message;
    }
  };
  await page.goto(PLAIN);
  await page.getByTestId('file-input').setInputFiles([fixture('compas/rf.onnx'), fixture('compas/test.csv')]);
  await page.getByTestId('target-select').selectOption('two_year_recid');
  for (const feature of rf.features!) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();

  await page.getByTestId('config-editor-toggle').click();
  const editor = page.getByTestId('config-editor');
  await expect(editor).toHaveValue(/test: test\.csv/);
  await expect(page.getByTestId('config-status')).toHaveText('Valid audit config.');
  const generated = await editor.inputValue();
  const broken = generated.replace('protected_attributes:', 'protected_attribute:');
  await editor.fill(broken);
  await expect(page.getByTestId('config-status')).toHaveText(messageOf(() => parseAuditConfig(broken, 'audit.yaml')));
  await expect(page.getByTestId('config-apply')).toBeDisabled();
  // A threshold policy missing its target is caught live too, with the fix named.
  const noTarget = generated.replace(/threshold: [\d.]+/, 'threshold:\n  policy: selection_rate');
  await editor.fill(noTarget);
  await expect(page.getByTestId('config-status')).toHaveText(messageOf(() => planAudit(parseAuditConfig(noTarget, 'audit.yaml'), 'audit.yaml')));
  await expect(page.getByTestId('config-apply')).toBeDisabled();
  const onlySex = generated.replace(/protected_attributes:\n(\s+- \w+\n)+/, 'protected_attributes:\n    - sex\n');
  // A positive label typed (or kept from a config dropped before) does not outlive a config
  // that leaves it unset: the CLI reads that config with the model's own positive class.
  await page.getByTestId('positive-label').fill('0');
  await editor.fill(onlySex);
  await expect(page.getByTestId('config-status')).toHaveText('Valid audit config.');
  await page.getByTestId('config-apply').click();
  await expect(page.getByTestId('positive-label')).toHaveValue('');
  await expect(page.getByTestId('protected-attributes').locator('[data-column="sex"]')).toBeChecked();
  await expect(page.getByTestId('protected-attributes').locator('[data-column="race"]')).not.toBeChecked();
  // The YAML follows the set-up while it is not edited (it kept the threshold of when it was first written, and Apply put it back).
  await expect(page.getByTestId('config-stale')).toHaveCount(0);
  await page.getByTestId('threshold').fill('0.35');
  await expect(editor).toHaveValue(/threshold: 0\.35/);
  await editor.fill(`# reviewed\n${await editor.inputValue()}`);
  await page.getByTestId('threshold').fill('0.4');
  await expect(editor).toHaveValue(/threshold: 0\.35/);
  await expect(page.getByTestId('config-stale')).toBeVisible();
  await page.getByTestId('config-regenerate').click();
  await expect(editor).toHaveValue(/threshold: 0\.4/);
  await expect(page.getByTestId('config-stale')).toHaveCount(0);
  // The editor runs the plan's checks, as validate-config and a run do (it said "Valid audit config." for configs the run refused).
  const regenerated = await editor.inputValue();
  const idle = `${regenerated}robustness:\n  enabled: false\n  shift: 0.3\n`;
  await editor.fill(idle);
  await expect(page.getByTestId('config-status')).toHaveText(messageOf(() => planAudit(parseAuditConfig(idle, 'audit.yaml'), 'audit.yaml')));
  await expect(page.getByTestId('config-status')).toContainText('robustness.shift is set, but robustness is not measured');
  await page.getByTestId('config-regenerate').click();
  await page.getByTestId('threshold').fill('0.5');

  await page.getByTestId('policy-editor-toggle').click();
  const policyEditor = page.getByTestId('policy-editor');
  await expect(policyEditor).toHaveValue(/metric: roc_auc/);
  await expect(page.getByTestId('policy-status')).toHaveText('Valid policy.');
  const starter = await policyEditor.inputValue();
  const wrong = starter.replace('metric: roc_auc', 'metric: roc_aucc');
  await policyEditor.fill(wrong);
  await expect(page.getByTestId('policy-status')).toHaveText(messageOf(() => parsePolicy(wrong, 'policy.yaml')));
  await policyEditor.fill(starter);
  await page.getByTestId('policy-use').click();
  await expect(page.getByTestId('policy-card')).toContainText('Model validation baseline');
  // A threshold policy and an analysis turned off, as the CLI would take them.
  await page.getByTestId('threshold-policy').selectOption('selection_rate');
  await page.getByTestId('policy-target').fill('0.3');
  await page.getByTestId('analyses').locator('[data-section="robustness"]').uncheck();
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('decision')).toHaveAttribute('data-value', /^(PASS|REVIEW|FAIL|NOT_APPLIED)$/);
  await expect(page.getByTestId('gates').locator('tbody tr')).toHaveCount(parsePolicy(starter, 'policy.yaml').gates.length);
  // The audit ran with the applied set-up: fairness for sex only, robustness off, the threshold chosen for a 30% selection rate.
  await expect(page.locator('[data-testid="group-table"][data-attribute="race"]')).toHaveCount(0);
  await expect(page.locator('#panel-robustness')).toContainText('Not run: turned off (robustness.enabled: false)');
  const appResult = JSON.parse((await download(page, 'export-json')).toString('utf8'));
  const cli = plumbline(['audit', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'sex', '--features', rf.features!.join(','), '--threshold-policy', 'selection_rate:0.3', '--output', 'policy/result.json']);
  expect(cli.code, cli.stderr).toBe(0);
  const cliResult = JSON.parse(readFileSync(join(work, 'policy', 'result.json'), 'utf8'));
  expect(appResult.threshold_selection).toEqual(cliResult.threshold_selection);
  expect(appResult.threshold).toBe(cliResult.threshold);
  // A setting changed after the audit: the results shown (and their exports) are said to be of the old set-up.
  await expect(page.getByTestId('setup-changed')).toHaveCount(0);
  await page.getByTestId('policy-target').fill('0.35');
  await expect(page.getByTestId('setup-changed')).toBeVisible();
  await page.getByTestId('policy-target').fill('0.3');
  await expect(page.getByTestId('setup-changed')).toHaveCount(0);
  // A policy used after the audit gates the next one: the shown decision is the run's, and the page says so (it claimed every result shown was gated by the new policy).
  await policyEditor.fill(starter.replace(/threshold: [\d.]+/, 'threshold: 0.01'));
  await page.getByTestId('policy-use').click();
  await expect(page.getByTestId('setup-changed')).toBeVisible();
  // A target the CLI refuses is refused here too, with its message (the app ran 1.5 and picked a threshold).
  await page.getByTestId('policy-target').fill('1.5');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('error')).toContainText('threshold.target: must be at most 1, got 1.5');
});

test('a config’s stage budgets hold in the browser: a stage past its time is left out with the reason, the rest completes', async ({ page }) => {
  const mlp = expected('compas/mlp.expected.json');
  // KernelSHAP of the MLP against 1,000 background rows takes far longer than 1 ms.
  const budget = `model:\n  path: mlp.onnx\n  features: [${mlp.features!.join(', ')}]\ndata:\n  test: test.csv\n  target: two_year_recid\n  protected_attributes: [race, sex]\nexplainer:\n  background_samples: 1000\nlimits:\n  stage_seconds: 0.001\n`;
  writeFileSync(join(work, 'budget.yaml'), budget);
  await page.goto(PLAIN);
  await dropFiles(page, [fixture('compas/mlp.onnx'), fixture('compas/test.csv'), join(work, 'budget.yaml')]);
  await expect(page.getByTestId('config-card')).toContainText('budget.yaml');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  const result = JSON.parse((await download(page, 'export-json')).toString('utf8'));
  expect(result.missing_sections.explainer).toBe('The explanations did not finish within 0.001 s (limits.stage_seconds): lower explainer.background_samples (1,000 now) or explain fewer rows (explainer.rows, 100 now), or raise limits.stage_seconds.');
  expect(result.settings.limits).toEqual({ stage_memory_mb: 2048, stage_seconds: 0.001 });
  expect(Math.abs(result.performance.roc_auc - mlp.performance.roc_auc)).toBeLessThan(2e-6);
});

test('a config naming a reference the page did not load is refused at Run, not audited without drift', async ({ page }) => {
  writeFileSync(join(work, 'with-train.yaml'), config.replace('  target:', '  train: train.csv\n  target:'));
  await page.goto(PLAIN);
  await dropFiles(page, [fixture('compas/rf.onnx'), fixture('compas/test.csv'), join(work, 'with-train.yaml')]);
  await expect(page.getByTestId('config-card')).toContainText('with-train.yaml');
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('error')).toContainText('with-train.yaml: data.train names the reference train.csv, which is not loaded here. Drop it with the other files, or remove data.train from the config to audit without drift.');
  await expect(page.getByTestId('result-summary')).toHaveCount(0);
});

test('unticking an analysis a dropped config sets turns it off without its settings (the run refused them as idle), and a registry password is never shown', async ({ page }) => {
  const withSettings = `${config}recourse:\n  max_rows: 10\nrobustness:\n  shift: 0.2\nregistry:\n  enabled: true\n  database: postgresql://ci:Sup3rSecret@db.internal/reg\n`;
  writeFileSync(join(work, 'sections.yaml'), withSettings);
  await page.goto(PLAIN);
  await dropFiles(page, [fixture('compas/rf.onnx'), fixture('compas/test.csv'), join(work, 'sections.yaml')]);
  await expect(page.getByTestId('config-card')).toContainText('sections.yaml');
  // The notice about the registry block names the database without its password.
  await expect(page.locator('body')).not.toContainText('Sup3rSecret');
  await page.getByTestId('analyses').locator('[data-section="robustness"]').uncheck();
  await page.getByTestId('analyses').locator('[data-section="recourse"]').uncheck();
  await page.getByTestId('config-editor-toggle').click();
  const yaml = await page.getByTestId('config-editor').inputValue();
  expect(yaml).toMatch(/robustness:\n\s+enabled: false\n/);
  expect(yaml).not.toContain('shift');
  expect(yaml).not.toContain('max_rows');
});

test('ticking an analysis the config\'s profile turned off writes it on, so the YAML the app ran is the one the CLI runs', async ({ page }) => {
  writeFileSync(join(work, 'quick.yaml'), `${config}audit_profile: quickstart\n`);
  await page.goto(PLAIN);
  await dropFiles(page, [fixture('compas/rf.onnx'), fixture('compas/test.csv'), join(work, 'quick.yaml')]);
  await expect(page.getByTestId('config-card')).toContainText('quick.yaml');
  await expect(page.getByTestId('analyses').locator('[data-section="recourse"]')).not.toBeChecked();
  await page.getByTestId('analyses').locator('[data-section="recourse"]').check();
  await page.getByTestId('config-editor-toggle').click();
  const yaml = await page.getByTestId('config-editor').inputValue();
  expect(yaml).toMatch(/recourse:\n\s+enabled: true\n/);
  // Read back (the profile applied again), it still searches recourse, and the editor takes it.
  const { parseAuditConfig } = await import('../../src/core/config/audit-config');
  const { planAudit } = await import('../../src/core/config/plan');
  expect(planAudit(parseAuditConfig(yaml, 'audit.yaml'), 'audit.yaml').missingSections.recourse).toBeUndefined();
  await expect(page.getByTestId('config-status')).toHaveText('Valid audit config.');
});

import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, projectRoot } from '../support/fixtures';

const APP = 'http://127.0.0.1:4173/';

test('the built app carries a CSP that allows only its own origin, and a fetch elsewhere is blocked', async ({ page }) => {
  const html = readFileSync(join(projectRoot, 'dist/index.html'), 'utf8');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).not.toMatch(/https?:|\*/);
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.goto(APP);
  const outcome = await page.evaluate(() => fetch('https://example.com/').then(() => 'reached', (error: Error) => `blocked: ${error.message}`));
  expect(outcome).toMatch(/^blocked/);
  expect(violations.join('\n')).toContain('example.com');
});

test('hostile strings from a data file are shown as inert text', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.goto(APP);
  // A protected attribute whose values are HTML and a right-to-left override.
  const rows = readFileSync(fixture('compas/test.csv'), 'utf8').trim().split('\n');
  const header = rows[0].split(',');
  const race = header.indexOf('race');
  const hostile = ['<img src=x onerror=alert(1)>', 'Evil\u202Egnp.exe', '<script>alert(2)</script>'];
  const csv = [rows[0], ...rows.slice(1).map((line, i) => {
    const cells = line.split(',');
    cells[race] = i % 10 === 0 ? `"${hostile[i % 3]}"` : cells[race];
    return cells.join(',');
  })].join('\n');
  // (Playwright cannot mix paths and buffers in one call.)
  await page.getByTestId('file-input').setInputFiles([{ name: 'rf.onnx', mimeType: 'application/octet-stream', buffer: readFileSync(fixture('compas/rf.onnx')) }, { name: 'hostile.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) }]);
  await page.getByTestId('target-select').selectOption('two_year_recid');
  for (const feature of ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count', 'juv_other_count']) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('[data-metric="n"][data-group="<img src=x onerror=alert(1)>"]')).toHaveCount(1);
  expect(await page.locator('img').count()).toBe(0);
  expect(await page.locator('main script').count()).toBe(0);
  expect(dialogs).toEqual([]);
});

test('the app checks a dropped evidence pack and says what changed', async ({ page }) => {
  const { buildEvidencePack } = await import('../../src/core/outputs/evidence');
  const { strToU8, unzipSync, zipSync } = await import('fflate');
  const pack = buildEvidencePack({ 'result.json': strToU8('{"a":1}'), 'report.pdf': strToU8('%PDF-1.3 …') }, 1700000000);
  await page.goto(APP);
  await page.getByTestId('file-input').setInputFiles([{ name: 'audit.evidence.zip', mimeType: 'application/zip', buffer: Buffer.from(pack) }]);
  await expect(page.getByTestId('pack-card')).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('pack-card')).toContainText('Intact: 3 files match SHA256SUMS.');
  const tampered = zipSync({ ...unzipSync(pack), 'result.json': strToU8('{"a":2}') });
  await page.getByTestId('file-input').setInputFiles([{ name: 'tampered.zip', mimeType: 'application/zip', buffer: Buffer.from(tampered) }]);
  await expect(page.getByTestId('pack-card')).toHaveAttribute('data-ok', 'false');
  await expect(page.getByTestId('pack-card')).toContainText('result.json was changed (its SHA-256 no longer matches SHA256SUMS)');
});

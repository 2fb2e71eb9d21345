// WebGPU in the app, on Chromium's software adapter (SwiftShader: no GPU needed, so this
// runs in CI; on a real GPU the same path runs faster). A neural network scores on
// WebGPU and matches the reference; a tree model asked for WebGPU falls back to WASM and
// the result says why.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { expected, fixture } from '../support/fixtures';

const APP = 'http://127.0.0.1:4173/';
/** Cross-origin isolated: onnxruntime's default build then runs with threads too. */
const ISOLATED = 'http://127.0.0.1:4174/';
const chromium = process.env.PLUMBLINE_CHROMIUM ?? '/usr/bin/chromium';

test.use({
  launchOptions: {
    executablePath: chromium,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps'],
  },
});

async function audit(page: Page, app: string, model: string, features?: string[]) {
  await page.goto(app);
  await page.getByTestId('file-input').setInputFiles([fixture(model), fixture('compas/test.csv')]);
  await expect(page.getByTestId('model-card')).toBeVisible();
  await page.getByTestId('target-select').selectOption('two_year_recid');
  for (const feature of features ?? []) await page.getByTestId('feature-columns').locator(`[data-column="${feature}"]`).check();
  for (const section of ['explainer', 'robustness', 'recourse']) await page.getByTestId('analyses').locator(`[data-section="${section}"]`).uncheck();
  await page.getByTestId('use-webgpu').check();
  await page.getByTestId('run-audit').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 120_000 });
}

for (const app of [APP, ISOLATED]) {
  test(`a neural network scores on WebGPU like the reference, and the result says so (${app === APP ? 'plain page' : 'cross-origin isolated'})`, async ({ page }) => {
    const want = expected('compas/mlp.expected.json');
    await audit(page, app, 'compas/mlp.onnx', want.features);
    await expect(page.getByTestId('execution')).toHaveText(/^webgpu/);
    const auc = Number(await page.locator('[data-metric="roc_auc"]:not([data-attribute])').first().getAttribute('data-value'));
    // float32 on the GPU as on the CPU: the same 2e-6 as the WASM fixture test gives this model's rank metrics.
    expect(Math.abs(auc - want.performance.roc_auc)).toBeLessThan(2e-6);
    for (const [group, metrics] of Object.entries(want.fairness.race.groups)) {
      const shown = Number(await page.locator(`[data-metric="selection_rate"][data-attribute="race"][data-group="${group}"]`).first().getAttribute('data-value'));
      expect(Math.abs(shown - (metrics.selection_rate as number)), group).toBeLessThan(1e-6);
    }
  });
}

test('a tree model asked for WebGPU is scored with WASM, and the result says why', async ({ page }) => {
  await page.goto(APP);
  await page.getByTestId('file-input').setInputFiles([fixture('compas/rf.onnx'), fixture('compas/test.csv')]);
  // The set-up offers WebGPU for neural networks only…
  await expect(page.getByTestId('use-webgpu')).toBeDisabled();
  // …and the worker, asked anyway, scores with WASM and records why.
  const files = { model: readFileSync(fixture('compas/rf.onnx')).toString('base64'), data: readFileSync(fixture('compas/test.csv')).toString('base64') };
  const features = expected('compas/rf.expected.json').features;
  const execution = await page.evaluate(
    async ({ files, features }) => {
      const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const worker = (globalThis as unknown as { plumbline: { worker(): any } }).plumbline.worker();
      const loaded = await worker.loadData('webgpu-test', new Blob([bytes(files.data)]), 'test.csv', -900);
      if (!loaded.ok) throw new Error(loaded.error.message);
      const outcome = await worker.audit(900, { model: { fileName: 'rf.onnx', bytes: bytes(files.model) }, data: { fileName: 'test.csv', dataId: 'webgpu-test' }, target: 'two_year_recid', protectedAttributes: ['race'], features, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' }, backend: 'webgpu' });
      if (!outcome.ok) throw new Error(outcome.error.message);
      return outcome.value.inputs.model.execution;
    },
    { files, features },
  );
  expect(execution).toBe('wasm (WebGPU was asked for: the model uses ai.onnx.ml operators (TreeEnsembleClassifier), which have no WebGPU kernels)');
});

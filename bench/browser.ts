/**
 * Benchmark entries in headless Chromium: the built app (dist/) served on localhost, the
 * audit and the PDF report run by the app's own worker (through its automation hook),
 * timed in the page. Returns rows for the same table as the Node entries.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, startApp } from './chromium';
import { fixturesPath } from './inputs';

/** One measured browser entry. */
export interface BrowserRow {
  entry: string;
  rows: number;
  times: number[];
  description: string;
  targetMs: number | null;
}

/** Runs in the page: the audit and the report through the app's worker, timed after a warm-up. */
const PAGE_SCRIPT = `async ({ files, runs, chosen }) => {
  const decode = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const input = (f) => ({ fileName: f.fileName, bytes: decode(f.base64) });
  const worker = globalThis.plumbline.worker();
  const request = { model: input(files.model), data: input(files.data), reference: input(files.reference), target: 'two_year_recid', protectedAttributes: ['race', 'sex'], features: ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count', 'juv_other_count'] };
  const measured = { 'audit-compas': [], report: [] };
  let result;
  for (let k = 0; k <= runs; k++) {
    const start = performance.now();
    const outcome = await worker.audit(k + 1, request);
    if (!outcome.ok) throw new Error(outcome.error.message);
    result = outcome.value;
    if (k > 0) measured['audit-compas'].push(performance.now() - start);
  }
  if (chosen.length === 0 || chosen.includes('report')) {
    for (let k = 0; k <= runs; k++) {
      const start = performance.now();
      const outcome = await worker.report(result, '2023-11-14T22:13:20.000Z');
      if (!outcome.ok) throw new Error(outcome.error.message);
      if (k > 0) measured.report.push(performance.now() - start);
    }
  }
  return measured;
}`;

/** Runs the browser entries, or explains why they cannot run here. */
export async function runBrowserEntries(root: string, runs: number, chosen: string[]): Promise<BrowserRow[] | string> {
  if (!existsSync(join(root, 'dist', 'index.html'))) return 'dist/ is missing: run npm run build first';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}`;
  const [model, data, reference] = ['compas/rf.onnx', 'compas/test.csv', 'compas/train.csv'].map(fixturesPath);
  if (!model || !data || !reference) return 'the shared fixtures are missing';
  const app = await startApp(root, 4189, false);
  try {
    const page = await app.browser.newPage();
    await page.goto(app.url);
    await page.waitForFunction(() => 'plumbline' in globalThis);
    const files = Object.fromEntries(
      [['model', model], ['data', data], ['reference', reference]].map(([k, path]) => [k, { fileName: path!.split('/').pop()!, base64: readFileSync(path!).toString('base64') }]),
    );
    // Passed as source text: tsx decorates functions with helpers (__name) the page lacks.
    const times = (await page.evaluate(`(${PAGE_SCRIPT})(${JSON.stringify({ files, runs, chosen })})`)) as Record<string, number[]>;
    const rows: BrowserRow[] = [
      { entry: 'audit-compas', rows: 1852, times: times['audit-compas'], description: 'the whole COMPAS audit in the app worker (score, metrics with 1,000 resamples, drift vs train, explanations, robustness, recourse)', targetMs: null },
    ];
    if (times.report.length) rows.push({ entry: 'report', rows: 1852, times: times.report, description: 'PDF report of that audit, made in the worker', targetMs: 2000 });
    return rows.filter((r) => chosen.length === 0 || chosen.includes(r.entry));
  } finally {
    await app.close();
  }
}

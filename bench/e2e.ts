/**
 * End-to-end audits in headless Chromium (issue 12's targets): seeded synthetic data with
 * 14 columns (12 numeric, race, sex) and a 300-tree depth-6 model written as ONNX by the
 * project's own writer, a reference of the same size (50,000 rows), everything the app
 * would do — fetch the files, parse, score, every metric with 1,000 resamples, TreeSHAP of
 * 1,000 rows against 100 background rows, drift, robustness, recourse for 200 rows — then
 * the PDF. Timed in the page, stage by stage (from the worker's progress events), with the
 * peak resident memory of Chromium's renderer processes (the tab and its workers).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, startApp } from './chromium';
import { toCsv } from '../src/core/data/csv-export';
import { toOnnx } from '../src/core/model/export';
import { syntheticAudit, syntheticEnsemble } from './synthetic';

/** One measured end-to-end entry. */
export interface EndToEndRow {
  entry: string;
  rows: number;
  ms: number;
  peakRssMb: number;
  stages: Record<string, number>;
  threads: number;
  targetMs: number;
  description: string;
}

/** The synthetic test set as CSV text (x0…x11 by default, race, sex, y). */
export function auditCsv(rows: number, seed: number, numeric = 12): string {
  const { table, labels } = syntheticAudit(rows, seed, numeric);
  const header = [...table.columns.map((c) => c.name), 'y'];
  const cells = (i: number) => [
    ...table.columns.map((c) => (c.kind === 'numeric' ? (Number.isNaN(c.values[i]) ? null : Number(c.values[i].toFixed(5))) : c.dictionary[c.codes[i]])),
    labels[i],
  ];
  return toCsv(header, Array.from({ length: rows }, (_, i) => cells(i)));
}

/** Sum of the resident memory of Chromium's renderer processes (Linux /proc), in MB. */
export function rendererRssMb(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('--type=renderer')) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) / 1024;
    } catch {
      // The process ended while being read.
    }
  }
  return total;
}

const PAGE_SCRIPT = `async ({ rows, features }) => {
  const fetchBlob = async (name) => (await fetch('/bench-data/' + name)).blob();
  const worker = globalThis.plumbline.worker();
  const runtime = await worker.runtime();
  const stages = {};
  let last = null;
  const t0 = performance.now();
  const mark = (name) => {
    const now = performance.now();
    if (last) stages[last.name] = (stages[last.name] ?? 0) + now - last.at;
    last = name ? { name, at: now } : null;
  };
  mark('fetch');
  const [model, data, reference] = await Promise.all(['model.onnx', 'data.csv', 'reference.csv'].map(fetchBlob));
  // The model is inspected as the app inspects a dropped model (which starts onnxruntime), and
  // the data files are read as the app reads them: the File (here a Blob) streamed in the worker.
  mark('load');
  const modelBytes = new Uint8Array(await model.arrayBuffer());
  const inspected = await worker.inspectModel(modelBytes, 'model.onnx');
  if (!inspected.ok) throw new Error(inspected.error.message);
  for (const [id, blob, runId] of [['data.csv', data, 101], ['reference.csv', reference, 102]]) {
    const loaded = await worker.loadData(id, blob, id, runId);
    if (!loaded.ok) throw new Error(loaded.error.message);
  }
  const request = {
    model: { fileName: 'model.onnx', bytes: modelBytes }, data: { fileName: 'data.csv', dataId: 'data.csv' }, reference: { fileName: 'reference.csv', dataId: 'reference.csv' },
    target: 'y', protectedAttributes: ['race', 'sex'], features,
    explainer: { rows: 1000, backgroundRows: 100 }, recourse: { maxRows: 200 },
  };
  const onProgress = globalThis.plumbline.proxy((p) => { if (!last || last.name !== p.stage) mark(p.stage); });
  const outcome = await worker.audit(1, request, onProgress);
  if (!outcome.ok) throw new Error(outcome.error.message);
  mark('report');
  const pdf = await worker.report(outcome.value, '2023-11-14T22:13:20.000Z');
  if (!pdf.ok) throw new Error(pdf.error.message);
  mark(null);
  return { ms: performance.now() - t0, stages, threads: runtime.threads, missing: outcome.value.missing_sections };
}`;

/** Runs the end-to-end entries (`e2e-50k`, `e2e-1m`) chosen, once each (they take minutes). */
export async function runEndToEnd(root: string, chosen: string[]): Promise<EndToEndRow[] | string> {
  if (!existsSync(join(root, 'dist', 'index.html'))) return 'dist/ is missing: run npm run build first';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}`;
  const sizes = [
    { entry: 'e2e-50k', rows: 50_000, targetMs: 3_000 },
    { entry: 'e2e-1m', rows: 1_000_000, targetMs: 12_000 },
  ].filter((s) => chosen.length === 0 || chosen.includes(s.entry));
  const dataDir = join(root, 'dist', 'bench-data');
  const ensemble = syntheticEnsemble(300, 6, 12, 7);
  const features = ensemble.featureNames;
  // Cross-origin isolated, so onnxruntime-web may use both cores, as an installed app would.
  const app = await startApp(root, 4190, true);
  const out: EndToEndRow[] = [];
  try {
    for (const size of sizes) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'model.onnx'), toOnnx(ensemble));
      writeFileSync(join(dataDir, 'data.csv'), auditCsv(size.rows, 21));
      writeFileSync(join(dataDir, 'reference.csv'), auditCsv(50_000, 22));
      const page = await app.browser.newPage();
      await page.goto(app.url);
      await page.waitForFunction(() => 'plumbline' in globalThis);
      let peak = rendererRssMb();
      const poll = setInterval(() => (peak = Math.max(peak, rendererRssMb())), 250);
      try {
        const measured = (await page.evaluate(`(${PAGE_SCRIPT})(${JSON.stringify({ rows: size.rows, features })})`)) as { ms: number; stages: Record<string, number>; threads: number; missing: Record<string, string> };
        out.push({
          entry: size.entry,
          rows: size.rows,
          ms: measured.ms,
          peakRssMb: peak,
          stages: measured.stages,
          threads: measured.threads,
          targetMs: size.targetMs,
          description: `${size.rows.toLocaleString('en')} rows × 14 columns, 300 trees depth 6 (ONNX), reference 50,000 rows: fetch, parse, score, metrics (1,000 resamples), TreeSHAP 1,000 rows × 100 background, drift, robustness, recourse 200 rows, PDF; target (issue 27) ${size.entry === 'e2e-1m' ? '< 12 s and < 1.5 GB peak' : '< 3 s'}; ${measured.threads} onnxruntime thread(s); stages ms: ${Object.entries(measured.stages).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}${Object.keys(measured.missing).length ? `; not run: ${Object.keys(measured.missing).join(', ')}` : ''}`,
        });
      } finally {
        clearInterval(poll);
        await page.close();
      }
    }
    return out;
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

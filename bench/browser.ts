/**
 * Benchmark entries in headless Chromium: the built app (dist/) served on localhost, the
 * audit and the PDF report run by the app's own worker (through its automation hook),
 * timed in the page. Returns rows for the same table as the Node entries.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { toOnnx, toXgboostJson } from '../src/core/model/export';
import { syntheticEnsemble } from './synthetic';
import { join } from 'node:path';
import { CHROMIUM, startApp } from './chromium';
import { auditCsv, rendererRssMb } from './e2e';
import { fixturesPath, syntheticCsvFile } from './inputs';
import { runJob, startPool } from './entries';
import type { Worker } from 'node:worker_threads';

/** Rows of the csv-load entry (its Node twin reads the same file). */
const CSV_ROWS = 1_000_000;
/** Rows of the Chromium pool-score entries. */
const SCORING_ROWS = 100_000;

/** One measured browser entry. */
export interface BrowserRow {
  entry: string;
  rows: number;
  times: number[];
  /** Peak resident memory of the renderer processes while the entry ran, when measured. */
  peakRssMb?: number;
  /** Bytes read, for MB/s. */
  bytes?: number;
  description: string;
  targetMs: number | null;
}

/** Runs in the page: the audit and the report through the app's worker, timed after a warm-up. */
const PAGE_SCRIPT = `async ({ files, runs, chosen, csv, scoring }) => {
  const decode = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const input = (f) => ({ fileName: f.fileName, bytes: decode(f.base64) });
  const worker = globalThis.plumbline.worker();
  const measured = { 'audit-compas': [], report: [], 'csv-load': [], 'pool-score-1': [], 'pool-score-2': [] };
  // A data file is read in the worker from its File (a Blob here), as the app does.
  const load = async (id, blob, runId) => {
    const outcome = await worker.loadData(id, blob, id, runId);
    if (!outcome.ok) throw new Error(outcome.error.message);
    return outcome.value;
  };
  if (csv) {
    const blob = await (await fetch(csv)).blob();
    // Tells the bench to take the renderers' memory now: the file is at hand, the load not begun.
    console.log('plumbline-bench: csv blob ready');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let k = 0; k <= runs; k++) {
      const start = performance.now();
      await load('csv-load.csv', blob, 900 + k);
      if (k > 0) measured['csv-load'].push(performance.now() - start);
    }
    await worker.releaseData([]);
  }
  if (scoring) {
    // Tree scoring in the app worker: alone (pool: false) and over the worker pool.
    const model = new Uint8Array(await (await fetch(scoring.model)).arrayBuffer());
    await load('scoring.csv', await (await fetch(scoring.data)).blob(), 950);
    // Scoring throughput: the time of scoring the table with the opened model, timed in the
    // worker (opening the model, the same in both, and the call itself are kept apart). The
    // two alternate, run by run, so a slow spell of the machine falls on both alike.
    measured.calls = { 'pool-score-1': [], 'pool-score-2': [] };
    measured.threads = [];
    for (let k = 0; k <= runs; k++) {
      for (const [entry, pool] of [['pool-score-1', false], ['pool-score-2', true]]) {
        const start = performance.now();
        const outcome = await worker.scoreTable(960 + k, { fileName: 'model.json', bytes: model }, { fileName: 'scoring.csv', dataId: 'scoring.csv' }, { pool });
        if (!outcome.ok) throw new Error(outcome.error.message);
        if (k > 0) {
          measured[entry].push(outcome.value.scoreMs);
          measured.calls[entry].push({ call: performance.now() - start, open: outcome.value.openMs });
        }
      }
      // The same kernel in two Node threads, right after (the machine's own two-core speed-up at this moment).
      const threads = await globalThis.plumblineThreads();
      if (k > 0) measured.threads.push(threads);
    }
    await worker.releaseData([]);
  }
  if (chosen.length > 0 && !chosen.includes('audit-compas') && !chosen.includes('report')) return measured;
  await load(files.data.fileName, new Blob([decode(files.data.base64)]), 801);
  await load(files.reference.fileName, new Blob([decode(files.reference.base64)]), 802);
  const ref = (f) => ({ fileName: f.fileName, dataId: f.fileName });
  const request = { model: input(files.model), data: ref(files.data), reference: ref(files.reference), target: 'two_year_recid', protectedAttributes: ['race', 'sex'], features: ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count', 'juv_other_count'] };
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
  let threads: Worker[] = [];
  const app = await startApp(root, 4189, false);
  try {
    const page = await app.browser.newPage();
    await page.goto(app.url);
    await page.waitForFunction(() => 'plumbline' in globalThis);
    const files = Object.fromEntries(
      [['model', model], ['data', data], ['reference', reference]].map(([k, path]) => [k, { fileName: path!.split('/').pop()!, base64: readFileSync(path!).toString('base64') }]),
    );
    // The csv-load file (the same seeded file as the Node entry) is served from dist/bench-data.
    const csvFile = chosen.length === 0 || chosen.includes('csv-load') ? syntheticCsvFile(CSV_ROWS, 30, 5) : null;
    if (csvFile) {
      mkdirSync(join(root, 'dist', 'bench-data'), { recursive: true });
      copyFileSync(csvFile.path, join(root, 'dist', 'bench-data', 'csv-load.csv'));
    }
    // The pool-score entries: the 300-tree model as XGBoost JSON (the project's evaluator) and 100,000 rows.
    const scoring = chosen.length === 0 || chosen.some((c) => c.startsWith('pool-score')) ? { model: '/bench-data/scoring-model.json', data: '/bench-data/scoring.csv' } : null;
    if (scoring) {
      mkdirSync(join(root, 'dist', 'bench-data'), { recursive: true });
      writeFileSync(join(root, 'dist', 'bench-data', 'scoring-model.json'), toXgboostJson(syntheticEnsemble(300, 6, 14)));
      writeFileSync(join(root, 'dist', 'bench-data', 'scoring.csv'), auditCsv(SCORING_ROWS, 2, 14));
    }
    // The machine's reference for the pool: the same kernel and rows in Node worker threads,
    // one alone then two with half the rows each, timed between the page's runs. A shared VM's
    // two cores do not always give two cores' speed (bench/NOTES.md); the pool is read against this.
    if (scoring) {
      threads = await startPool(2, SCORING_ROWS);
      await page.exposeFunction('plumblineThreads', async () => {
        let start = performance.now();
        await runJob(threads[0], { kind: 'score', start: 0, end: SCORING_ROWS });
        const one = performance.now() - start;
        start = performance.now();
        await Promise.all(threads.map((worker, w) => runJob(worker, { kind: 'score', start: (w * SCORING_ROWS) / 2, end: ((w + 1) * SCORING_ROWS) / 2 })));
        return [one, performance.now() - start];
      });
    }
    let peak = rendererRssMb();
    process.stderr.write(`chromium renderers before the entries: ${Math.round(peak)} MB\n`);
    let withBlob = 0;
    page.on('console', (message) => {
      if (message.text() !== 'plumbline-bench: csv blob ready') return;
      withBlob = rendererRssMb();
      process.stderr.write(`chromium renderers with the csv-load file fetched, before it is read: ${Math.round(withBlob)} MB\n`);
    });
    const poll = setInterval(() => (peak = Math.max(peak, rendererRssMb())), 100);
    // Passed as source text: tsx decorates functions with helpers (__name) the page lacks.
    const times = (await page
      .evaluate(`(${PAGE_SCRIPT})(${JSON.stringify({ files, runs, chosen, csv: csvFile ? '/bench-data/csv-load.csv' : null, scoring })})`)
      .finally(() => clearInterval(poll))) as Record<string, number[]>;
    // The pool-score entries time the scoring alone; each run's scoring and its whole call are printed too.
    const calls = (times as unknown as { calls?: Record<string, { call: number; open: number }[]> }).calls ?? {};
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    for (const [entry, list] of Object.entries(calls)) {
      if (!times[entry]?.length) continue;
      process.stderr.write(`${entry}: scoring per run ${times[entry].map(Math.round).join(', ')} ms; whole call (open the model + score) median ${Math.round(median(list.map((c) => c.call)))} ms, of which opening the model ${Math.round(median(list.map((c) => c.open)))} ms\n`);
    }
    let poolNote = '';
    if (times['pool-score-1']?.length && times['pool-score-2']?.length) {
      const ratios = times['pool-score-1'].map((one, k) => one / times['pool-score-2'][k]);
      process.stderr.write(`pool-score: speed-up of the pool, run by run ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}\n`);
      const reference = (times as unknown as { threads: [number, number][] }).threads.map(([one, two]) => one / two);
      process.stderr.write(`pool-score: the same kernel in two Node threads at the same moments (no pool: each thread holds its rows), speed-up run by run ${reference.map((r) => r.toFixed(2)).join(', ')}; median ${median(reference).toFixed(2)}; the pool's share of it, median ${median(ratios.map((r, k) => r / reference[k])).toFixed(2)}\n`);
      poolNote = `; speed-up over pool-score-1 in this run ${median(ratios).toFixed(2)}× (median of run-by-run ratios), where two Node threads scoring the same rows with the same kernel, timed between the page's runs, got ${median(reference).toFixed(2)}×`;
    }
    const rows: BrowserRow[] = [];
    if (times['audit-compas'].length) rows.push({ entry: 'audit-compas', rows: 1852, times: times['audit-compas'], description: 'the whole COMPAS audit in the app worker (score, metrics with 1,000 resamples, drift vs train, explanations, robustness, recourse)', targetMs: null });
    if (times.report.length) rows.push({ entry: 'report', rows: 1852, times: times.report, description: 'PDF report of that audit, made in the worker', targetMs: 2000 });
    if (csvFile && times['csv-load'].length) {
      rows.push({ entry: 'csv-load', rows: CSV_ROWS, bytes: csvFile.bytes, peakRssMb: peak, times: times['csv-load'], description: 'the same CSV as a Blob read by the app worker (loadData: Blob.stream chunks, the same core reader); peak = all renderer processes', targetMs: null });
    }
    for (const [entry, description] of [
      ['pool-score-1', 'native tree scoring (300 trees of depth 6, XGBoost JSON) of 100,000 rows in the app worker alone (scoring with the opened model, timed in the worker)'],
      ['pool-score-2', 'the same over the app worker’s pool of workers (one per core)'],
    ] as const) {
      if (times[entry]?.length) rows.push({ entry, rows: SCORING_ROWS, times: times[entry], description: entry === 'pool-score-2' ? description + poolNote : description, targetMs: null });
    }
    return rows.filter((r) => chosen.length === 0 || chosen.includes(r.entry));
  } finally {
    await Promise.all(threads.map((worker) => worker.terminate()));
    await app.close();
    rmSync(join(root, 'dist', 'bench-data', 'csv-load.csv'), { force: true });
    rmSync(join(root, 'dist', 'bench-data', 'scoring.csv'), { force: true });
  }
}

/** Runs in the page: ONNX scoring of a loaded table by the app worker's one session, then over its pool of sessions. */
const ONNX_PAGE_SCRIPT = `async ({ runs, cases }) => {
  const worker = globalThis.plumbline.worker();
  const measured = {};
  for (const { name, model, data, features } of cases) {
    const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
    const loaded = await worker.loadData(name, await (await fetch(data)).blob(), name + '.csv', 970);
    if (!loaded.ok) throw new Error(loaded.error.message);
    for (const [suffix, pool] of [['session', false], ['pool', true]]) {
      const entry = name + '-' + suffix;
      measured[entry] = [];
      const score = async (k) => {
        const start = performance.now();
        const outcome = await worker.scoreTable(980 + k, { fileName: 'model.onnx', bytes }, { fileName: name + '.csv', dataId: name }, { pool, features, onnxPoolWorthMs: 0 });
        if (!outcome.ok) throw new Error(outcome.error.message);
        return performance.now() - start;
      };
      // Warm-up for 3 s at least: V8 tiers onnxruntime's WebAssembly up in the background.
      const warming = performance.now();
      do await score(0);
      while (performance.now() - warming < 3000);
      for (let k = 1; k <= runs; k++) measured[entry].push(await score(k));
    }
    await worker.releaseData([]);
  }
  return measured;
}`;

/**
 * The ONNX scoring entries, on a cross-origin isolated server (so the one session may use
 * onnxruntime's threads): the 300-tree model written as ONNX scores 100,000 rows in the
 * app worker's session, then over the pool of single-threaded sessions.
 */
export async function runOnnxScoringEntries(root: string, runs: number): Promise<BrowserRow[] | string> {
  if (!existsSync(join(root, 'dist', 'index.html'))) return 'dist/ is missing: run npm run build first';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}`;
  const mlp = fixturesPath('compas/mlp.onnx');
  const compas = fixturesPath('compas/test.csv');
  const dir = join(root, 'dist', 'bench-data');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'scoring-model.onnx'), toOnnx(syntheticEnsemble(300, 6, 14)));
  writeFileSync(join(dir, 'onnx-scoring.csv'), auditCsv(SCORING_ROWS, 2, 14));
  const cases: { name: string; model: string; data: string; features: string[] }[] = [{ name: 'onnx-score', model: '/bench-data/scoring-model.onnx', data: '/bench-data/onnx-scoring.csv', features: syntheticEnsemble(300, 6, 14).featureNames }];
  if (mlp && compas) {
    // The COMPAS MLP on the COMPAS test rows repeated to 100,000.
    copyFileSync(mlp, join(dir, 'mlp.onnx'));
    const [header, ...lines] = readFileSync(compas, 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'mlp-scoring.csv'), `${[header, ...Array.from({ length: SCORING_ROWS }, (_, i) => lines[i % lines.length])].join('\n')}\n`);
    cases.push({ name: 'onnx-mlp', model: '/bench-data/mlp.onnx', data: '/bench-data/mlp-scoring.csv', features: ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count', 'juv_other_count'] });
  }
  const app = await startApp(root, 4190, true);
  try {
    const page = await app.browser.newPage();
    await page.goto(app.url);
    await page.waitForFunction(() => 'plumbline' in globalThis);
    const times = (await page.evaluate(`(${ONNX_PAGE_SCRIPT})(${JSON.stringify({ runs, cases })})`)) as Record<string, number[]>;
    const rows: BrowserRow[] = [
      { entry: 'onnx-score-session', rows: SCORING_ROWS, times: times['onnx-score-session'], description: 'the 300-tree model as ONNX (TreeEnsembleClassifier) scoring 100,000 rows in the app worker’s one onnxruntime session (threads: one per core, cross-origin isolated)', targetMs: null },
      { entry: 'onnx-score-pool', rows: SCORING_ROWS, times: times['onnx-score-pool'], description: 'the same over the app worker’s pool: one single-threaded onnxruntime session per worker, blocks of 16,384 rows (the first batch scored in the one session)', targetMs: null },
    ];
    if (times['onnx-mlp-session']) {
      rows.push(
        { entry: 'onnx-mlp-session', rows: SCORING_ROWS, times: times['onnx-mlp-session'], description: 'compas/mlp.onnx scoring 100,000 rows in the app worker’s one onnxruntime session (WASM, threads: one per core, cross-origin isolated)', targetMs: null },
        { entry: 'onnx-mlp-pool', rows: SCORING_ROWS, times: times['onnx-mlp-pool'], description: 'the same over the pool of single-threaded sessions (all blocks but the first batch, sent there whatever the first batch projects)', targetMs: null },
      );
    }
    return rows;
  } finally {
    await app.close();
    for (const file of ['onnx-scoring.csv', 'scoring-model.onnx', 'mlp.onnx', 'mlp-scoring.csv']) rmSync(join(dir, file), { force: true });
  }
}

/**
 * `npm run bench [-- <entry>…] [--scale 0.1] [--runs 5] [--no-browser]`: runs the benchmark
 * entries in Node (each in its own process) and in headless Chromium (the built app, and
 * end-to-end audits of 50,000 and 1,000,000 rows in bench/e2e.ts), and
 * prints one table (entry, environment, rows, median
 * time after a warm-up, throughput, peak memory, target). Writes bench/results.json and
 * bench/results.md with the machine's CPU count and the versions used; entries not run keep
 * their last row.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBrowserEntries, runOnnxScoringEntries } from './browser';
import { runEndToEnd } from './e2e';
import { ENTRIES } from './entries';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values, positionals } = parseArgs({ options: { scale: { type: 'string', default: '1' }, runs: { type: 'string', default: '5' }, 'no-browser': { type: 'boolean' } }, allowPositionals: true });
const scale = Number(values.scale);
const BROWSER_ENTRIES = ['audit-compas', 'report', 'csv-load', 'pool-score-1', 'pool-score-2'];
const ONNX_ENTRIES = ['onnx-score-session', 'onnx-score-pool', 'onnx-mlp-session', 'onnx-mlp-pool'];
const E2E_ENTRIES = ['e2e-50k', 'e2e-1m'];
const chosen = positionals.length ? ENTRIES.filter((e) => positionals.includes(e.name)) : ENTRIES;
const unknown = positionals.filter((p) => !ENTRIES.some((e) => e.name === p) && !BROWSER_ENTRIES.includes(p) && !ONNX_ENTRIES.includes(p) && !E2E_ENTRIES.includes(p));
if (unknown.length) {
  console.error(`unknown bench entries: ${unknown.join(', ')}. Entries: ${ENTRIES.map((e) => e.name).join(', ')}`);
  process.exit(2);
}

interface Row {
  entry: string;
  environment: string;
  rows: number;
  medianMs: number | null;
  rowsPerSecond: number | null;
  mbPerSecond: number | null;
  peakRssMb: number | null;
  targetMs: number | null;
  meetsTarget: boolean | null;
  description: string;
}

const rows: Row[] = [];
for (const entry of chosen) {
  process.stderr.write(`bench ${entry.name} (scale ${scale})…\n`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'child.ts'), entry.name, String(scale), values.runs!], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !line.startsWith('{')) {
    process.stderr.write(child.stderr);
    throw new Error(`bench entry ${entry.name} failed (exit ${child.status})`);
  }
  const result = JSON.parse(line) as { skipped?: boolean; medianMs: number; peakRssMb: number };
  const n = entry.rows(scale);
  const bytes = entry.bytes?.(scale);
  const target = entry.targetMs === null ? null : entry.targetMs * scale;
  rows.push({
    entry: entry.name,
    environment: `node ${process.version}`,
    rows: n,
    medianMs: result.skipped ? null : result.medianMs,
    rowsPerSecond: result.skipped ? null : (n / result.medianMs) * 1000,
    mbPerSecond: result.skipped || !bytes ? null : bytes / 1e6 / (result.medianMs / 1000),
    peakRssMb: result.skipped ? null : result.peakRssMb,
    targetMs: target,
    meetsTarget: result.skipped || target === null ? null : result.medianMs <= target,
    description: entry.description,
  });
}

// Targets relative to another entry of this run (at least `speedUp` × as fast as it).
for (const entry of chosen) {
  const row = rows.find((r) => r.entry === entry.name);
  const base = entry.relativeTo && rows.find((r) => r.entry === entry.relativeTo!.entry);
  if (!row || !base || base.medianMs === null || row.medianMs === null) continue;
  row.targetMs = base.medianMs / entry.relativeTo!.speedUp;
  row.meetsTarget = row.medianMs <= row.targetMs;
}

// Chromium: the built app, driven through Playwright.
const browserChosen = positionals.filter((p) => BROWSER_ENTRIES.includes(p));
if (!values['no-browser'] && (positionals.length === 0 || browserChosen.length > 0)) {
  process.stderr.write('bench chromium entries…\n');
  const browserRows = await runBrowserEntries(root, Number(values.runs), browserChosen);
  if (typeof browserRows === 'string') process.stderr.write(`chromium entries skipped: ${browserRows}\n`);
  else {
    for (const row of browserRows) {
      const sorted = [...row.times].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      rows.push({ entry: row.entry, environment: 'chromium (headless)', rows: row.rows, medianMs: median, rowsPerSecond: (row.rows / median) * 1000, mbPerSecond: row.bytes ? row.bytes / 1e6 / (median / 1000) : null, peakRssMb: row.peakRssMb ?? null, targetMs: row.targetMs, meetsTarget: row.targetMs === null ? null : median <= row.targetMs, description: row.description });
    }
  }
}

// ONNX scoring in Chromium on a cross-origin isolated page: one threaded session against the pool of sessions.
const onnxChosen = positionals.filter((p) => ONNX_ENTRIES.includes(p));
if (!values['no-browser'] && (positionals.length === 0 || onnxChosen.length > 0)) {
  process.stderr.write('bench chromium onnx scoring entries…\n');
  const onnxRows = await runOnnxScoringEntries(root, Number(values.runs));
  if (typeof onnxRows === 'string') process.stderr.write(`chromium onnx entries skipped: ${onnxRows}\n`);
  else {
    for (const row of onnxRows) {
      const sorted = [...row.times].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      rows.push({ entry: row.entry, environment: 'chromium (headless)', rows: row.rows, medianMs: median, rowsPerSecond: (row.rows / median) * 1000, mbPerSecond: null, peakRssMb: null, targetMs: null, meetsTarget: null, description: row.description });
    }
  }
}

// End-to-end audits in Chromium: one run each (they take minutes), with the tab's peak memory.
const e2eChosen = positionals.filter((p) => E2E_ENTRIES.includes(p));
if (!values['no-browser'] && (positionals.length === 0 || e2eChosen.length > 0)) {
  process.stderr.write('bench end-to-end entries in chromium…\n');
  const e2e = await runEndToEnd(root, e2eChosen);
  if (typeof e2e === 'string') process.stderr.write(`end-to-end entries skipped: ${e2e}\n`);
  else {
    for (const row of e2e) {
      rows.push({ entry: row.entry, environment: 'chromium (headless)', rows: row.rows, medianMs: row.ms, rowsPerSecond: (row.rows / row.ms) * 1000, mbPerSecond: null, peakRssMb: row.peakRssMb, targetMs: row.targetMs, meetsTarget: row.ms <= row.targetMs, description: row.description });
    }
  }
}

// Entries not run this time keep their last measurement (a partial run updates only its rows).
let previous: Row[] = [];
try {
  previous = (JSON.parse(readFileSync(join(here, 'results.json'), 'utf8')) as { rows: Row[] }).rows;
} catch {
  previous = [];
}
const key = (r: Row) => `${r.entry}\u0000${r.environment}`;
const fresh = new Map(rows.map((r) => [key(r), r]));
const merged = [...previous.map((r) => fresh.get(key(r)) ?? r), ...rows.filter((r) => !previous.some((p) => key(p) === key(r)))];
rows.splice(0, rows.length, ...merged);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = (name: string) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version as string;
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, plumbline: pkg.version, onnxruntimeWeb: version('onnxruntime-web'), papaparse: version('papaparse'), scale, runs: Number(values.runs) };
const fmt = (v: number | null, digits = 0) => (v === null ? '—' : v.toLocaleString('en', { maximumFractionDigits: digits }));
const table = [
  '| entry | environment | rows | median ms | rows/s | MB/s | peak RSS MB | target ms | met |',
  '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ...rows.map((r) => `| ${r.entry} | ${r.environment} | ${fmt(r.rows)} | ${fmt(r.medianMs)} | ${fmt(r.rowsPerSecond)} | ${fmt(r.mbPerSecond, 1)} | ${fmt(r.peakRssMb)} | ${fmt(r.targetMs)} | ${r.meetsTarget === null ? '—' : r.meetsTarget ? 'yes' : 'NO'} |`),
].join('\n');
console.log(table);
const markdown = `# Benchmark results\n\n${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, onnxruntime-web ${machine.onnxruntimeWeb}, scale ${scale}, median of ${machine.runs} runs after a warm-up (entries not in the latest run keep their last measurement).\n\n${table}\n\n${rows.map((r) => `- **${r.entry}**: ${r.description}`).join('\n')}\n`;
writeFileSync(join(here, 'results.md'), markdown);
writeFileSync(join(here, 'results.json'), `${JSON.stringify({ machine, rows }, null, 2)}\n`);

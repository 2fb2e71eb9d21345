/**
 * The entries of issue 27 (speed): ONNX trees through the project's kernel, the Node hosts'
 * thread pool against one thread (`--threads`), and xgboost's own path-dependent TreeSHAP
 * timed in the same invocation as ours. Their targets are relative where the issue's are
 * (run.ts: `relativeTo`): the two-thread entries at least 1.8× their one-thread entry, our
 * TreeSHAP at least 4× xgboost's.
 */
import * as ort from 'onnxruntime-web';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { poolRunners } from '../src/api/node-pool';
import { exactKernelShap } from '../src/core/analyses/explain/kernelshap';
import { recourse, RECOURSE_DEFAULTS, recourseCallRows, recourseOptions } from '../src/core/analyses/recourse';
import { consistency } from '../src/core/analyses/robustness/stability';
import { DEFAULT_LIMITS, recourseEstimate } from '../src/core/base/limits';
import { runTreeShapJob } from '../src/core/analyses/explain/treeshap/jobs';
import { openModel, treeClassifier } from '../src/core/model/classifier';
import { toOnnx, toXgboostJson } from '../src/core/model/export';
import type { BenchEntry } from './entries';
import { syntheticAudit, syntheticEnsemble } from './synthetic';

/** Rows of the thread entries: scoring a million rows, TreeSHAP of 1,000 rows against 100, KernelSHAP of 20 rows (512,000 model rows), recourse for 1,000 adverse rows (the audit's default). */
const THREAD_ROWS = { score: 1_000_000, treeshap: 1000, kernelshap: 20, recourse: 1000 };
const out = join(dirname(fileURLToPath(import.meta.url)), 'out');

/** The feature columns of a synthetic table, in the model's order. */
const columnsOf = (table: ReturnType<typeof syntheticAudit>['table'], names: string[]) => names.map((n) => (table.columns.find((c) => c.name === n) as { values: Float64Array }).values);

export const SPEED_ENTRIES: BenchEntry[] = [
  {
    name: 'score-trees-onnx',
    description: 'the 300 trees as ONNX, scored as the audit scores them: onnxruntime scores the first 8,192-row batch, the kernel (float32 sums, onnxruntime’s arithmetic) the same batch, and once they agree to the bit the kernel scores the rest; 1 thread (a new classifier each run; opening it not timed)',
    rows: (scale) => Math.round(100_000 * scale),
    targetMs: null,
    setup: async (scale) => {
      ort.env.wasm.numThreads = 1;
      const ensemble = syntheticEnsemble(300, 6, 14);
      const bytes = toOnnx(ensemble);
      const { table } = syntheticAudit(Math.round(100_000 * scale), 2, 14);
      // A new classifier per run: its check against onnxruntime is part of the time; opening
      // the session is not (score-trees-ort does not count it either).
      return async () => {
        const model = await openModel(ort, bytes, 'bench.onnx');
        const start = performance.now();
        await model.score(table, { features: ensemble.featureNames });
        const ms = performance.now() - start;
        await model.release();
        return { ms };
      };
    },
  },
  ...([1, 2] as const).flatMap((threads): BenchEntry[] => [
    {
      name: `threads-score-${threads}`,
      description: `the CLI’s scoring of 1,000,000 rows with the 300 trees (XGBoost JSON, the WebAssembly kernel) on --threads ${threads} (src/api/node-pool.ts over src/core/pool: blocks of rows, the same bytes for any count)${threads > 1 ? '; target: 1.8× threads-score-1 of the same run' : ''}`,
      rows: (scale) => Math.round(THREAD_ROWS.score * scale),
      targetMs: null,
      ...(threads > 1 ? { relativeTo: { entry: 'threads-score-1', speedUp: 1.8 } } : {}),
      setup: async (scale) => {
        const ensemble = syntheticEnsemble(300, 6, 14);
        const model = treeClassifier(ensemble, 'bench.json', poolRunners(threads).treeMargins);
        const { table } = syntheticAudit(Math.round(THREAD_ROWS.score * scale), 2, 14);
        return () => model.score(table);
      },
    },
    {
      name: `threads-treeshap-${threads}`,
      description: `the CLI’s interventional TreeSHAP of 1,000 rows against 100 background rows, 300 trees of depth 6, on --threads ${threads} (fixed slices of trees summed in order)${threads > 1 ? '; target: 1.8× threads-treeshap-1 of the same run' : ''}`,
      rows: (scale) => Math.max(10, Math.round(THREAD_ROWS.treeshap * scale)),
      targetMs: null,
      ...(threads > 1 ? { relativeTo: { entry: 'threads-treeshap-1', speedUp: 1.8 } } : {}),
      setup: async (scale) => {
        const ensemble = syntheticEnsemble(300, 6, 14);
        const rows = Math.max(10, Math.round(THREAD_ROWS.treeshap * scale));
        const { table } = syntheticAudit(rows + 100, 2, 14);
        const columns = columnsOf(table, ensemble.featureNames);
        const all = Array.from({ length: table.rowCount }, (_, i) => Float64Array.from(columns, (c) => c[i]));
        const job = { kind: 'interventional' as const, ensemble, rows: all.slice(100), background: all.slice(0, 100) };
        const runner = poolRunners(threads).treeShap ?? ((j: typeof job) => runTreeShapJob(j));
        return () => runner(job);
      },
    },
    {
      name: `threads-kernelshap-${threads}`,
      description: `the CLI’s exact KernelSHAP of 20 rows against 100 background rows (256 coalitions each: 512,000 model rows, 10 rows’ coalitions per model call), 300 trees of depth 6 on 8 features (XGBoost JSON, the WebAssembly kernel), on --threads ${threads}${threads > 1 ? '; target: 1.8× threads-kernelshap-1 of the same run' : ''}`,
      rows: (scale) => Math.max(1, Math.round(THREAD_ROWS.kernelshap * scale)),
      targetMs: null,
      ...(threads > 1 ? { relativeTo: { entry: 'threads-kernelshap-1', speedUp: 1.8 } } : {}),
      setup: async (scale) => {
        const ensemble = syntheticEnsemble(300, 6, 8);
        const model = treeClassifier(ensemble, 'bench.json', poolRunners(threads).treeMargins);
        const rows = Math.max(1, Math.round(THREAD_ROWS.kernelshap * scale));
        const { table } = syntheticAudit(rows + 100, 2, 8);
        const explained = Uint32Array.from({ length: rows }, (_, i) => 100 + i);
        const background = Uint32Array.from({ length: 100 }, (_, i) => i);
        return () => exactKernelShap(model, ensemble.featureNames, table, explained, table, background);
      },
    },
    {
      name: `threads-recourse-${threads}`,
      description: `the CLI’s recourse search for 1,000 adverse rows (the audit’s default; 12 actionable columns, 3 counterfactuals per row, up to 2,000 evaluations each) of 20,000, 300 trees of depth 6 on 12 features (XGBoost JSON, the WebAssembly kernel), on --threads ${threads}${threads > 1 ? ' (slices of the rows, each searched on a thread with the model opened there again); target: 1.8× threads-recourse-1 of the same run' : ''}`,
      rows: (scale) => Math.max(10, Math.round(THREAD_ROWS.recourse * scale)),
      targetMs: null,
      ...(threads > 1 ? { relativeTo: { entry: 'threads-recourse-1', speedUp: 1.8 } } : {}),
      setup: async (scale) => {
        const ensemble = syntheticEnsemble(300, 6, 12);
        // Opened from its file as the CLI opens it, so a pool's threads can open it again and
        // search slices of the rows (the recourse runner); on one thread, the search here.
        const runners = poolRunners(threads);
        const model = await openModel(ort, new TextEncoder().encode(toXgboostJson(ensemble)), 'bench.json', { treeMargins: runners.treeMargins });
        const { table } = syntheticAudit(20_000, 2, 12);
        const scores = await model.score(table);
        const maxRows = Math.max(10, Math.round(THREAD_ROWS.recourse * scale));
        // The call size an audit takes within the default stage budget (src/core/audit/sections.ts).
        const callRows = recourseCallRows((n) => recourseEstimate(maxRows, 12, n + RECOURSE_DEFAULTS.evaluations).bytes <= DEFAULT_LIMITS.memoryBytes);
        const options = recourseOptions({ maxRows }, { threshold: 0.5, protectedAttributes: ['race', 'sex'], proxies: [], confidence: 0.95, seed: 42, callRows, runner: runners.recourse });
        return () => recourse(model, table, scores, ensemble.featureNames, ['race', 'sex'], options);
      },
    },
    {
      name: `threads-consistency-${threads}`,
      description: `the CLI’s consistency check (robustness): 10 nearest neighbours of 2,000 sampled rows among a 20,000-row pool, 12 standardized columns (the e2e audits’ inputs), brute force in WebAssembly, 100,000 rows, on --threads ${threads} (slices of the queries)${threads > 1 ? '; target: 1.8× threads-consistency-1 of the same run' : ''}`,
      rows: (scale) => Math.round(100_000 * scale),
      targetMs: null,
      ...(threads > 1 ? { relativeTo: { entry: 'threads-consistency-1', speedUp: 1.8 } } : {}),
      setup: async (scale) => {
        const data = syntheticAudit(Math.round(100_000 * scale), 4, 12);
        const neighbours = poolRunners(threads).neighbours;
        const columns = Array.from({ length: 12 }, (_, j) => `x${j}`);
        return () => consistency(data.table, data.scores, columns, { seed: 1, neighbours });
      },
    },
  ]),
  {
    name: 'treeshap-path-xgboost',
    description: 'xgboost’s own path-dependent TreeSHAP (pred_contribs, nthread 1, Debian’s python3-xgboost) on the treeshap-path model and rows, timed inside Python in this same run (bench/xgboost_compare.py); skipped without it',
    rows: (scale) => Math.max(10, Math.round(1000 * scale)),
    targetMs: null,
    setup: async (scale) => {
      const ensemble = syntheticEnsemble(300, 6, 14);
      const { table } = syntheticAudit(Math.max(10, Math.round(1000 * scale)), 2, 14);
      const columns = columnsOf(table, ensemble.featureNames);
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'treeshap-model.json'), toXgboostJson(ensemble));
      writeFileSync(join(out, 'treeshap-rows.csv'), Array.from({ length: table.rowCount }, (_, i) => columns.map((c) => (Number.isNaN(c[i]) ? 'nan' : String(c[i]))).join(',')).join('\n'));
      const python = (times: number) => spawnSync('/usr/bin/python3', [join(dirname(fileURLToPath(import.meta.url)), 'xgboost_compare.py'), '--time', String(times)], { encoding: 'utf8' });
      if (python(1).status !== 0) return null;
      // Each run: one pred_contribs call in a Python process that has loaded the model and
      // the rows; the time is Python's own, around the call (as ours is around pathDependentTreeShap).
      return () => {
        const run = python(1);
        const ms = Number(/pred_contribs_ms=([\d.]+)/.exec(run.stdout)?.[1]);
        if (!(ms > 0)) throw new Error(`xgboost_compare.py: ${run.stderr || run.stdout}`);
        return { ms };
      };
    },
  },
];

/// <reference lib="webworker" />
/**
 * The audit worker: a thin host around the core. Its onnxruntime-web (the WASM build,
 * served from the app itself) runs on a worker of its own (ort-thread.ts); it exposes one
 * API object through Comlink. Its parts live beside it: settings (worker-settings), the
 * scoring backend (backend), the tables read (table-store), the row explorer (row-explorer)
 * and the data it exchanges (worker-types).
 */
import { checkDataTable, inspectModel, loadOutputsBundle, loadPdfWriter, looksLikeXgboostJson, ModelLoadError, modelKind, openModel, openRegressor, readResultFile, runAnyAudit, type AnyAuditResult, type AuditProgress, type AuditRequest, type AuditResult, type DataCheckOptions, type LoadProgress, type Manifest, type OutputContext, type PolicyDecision, type RowQuery, warmOnnxRuntime } from '../src/core';
import { expose, proxy, transfer } from 'comlink';
import { metricsPool, neighbourPool, onnxScorePool, recoursePool, sortPool, treeMarginPool, treeShapPool } from './pool';
import * as ort from 'onnxruntime-web/wasm';
import { wasmOrt } from './ort-thread';
import { outcome, type Outcome } from './outcome';
import { poolWorkers, runs, threads, tuning } from './worker-settings';
import { chooseBackend } from './backend';
import { loadedTable, readTable, releaseTables } from './table-store';
import { explainPreparedRow, prepareRows, searchPreparedRows } from './row-explorer';
import type { CsvReadOptions, DataRef, DataSummary, InputFile, WorkerAuditRequest } from './worker-types';

export type { Outcome } from './outcome';
export type { ColumnSummary, CsvReadOptions, DataRef, DataSummary, WorkerAuditRequest } from './worker-types';

declare const self: DedicatedWorkerGlobalScope;

const api = {
  /** The runtime the worker scores with, for the result and the manifest. */
  runtime() {
    return { backend: 'wasm' as const, threads, crossOriginIsolated: self.crossOriginIsolated, userAgent: self.navigator.userAgent, onnxruntimeWeb: ort.env.versions.web ?? 'unknown' };
  },

  /**
   * Reads a data file (CSV, Arrow or Parquet) from its File in chunks, reporting bytes and
   * rows as it goes; cancel it with {@link api.cancel}(runId). The table stays here under
   * `dataId` for audits and the row explorer.
   */
  loadData(dataId: string, blob: Blob, fileName: string, runId: number, onProgress?: (progress: LoadProgress) => void, csv: CsvReadOptions = {}): Promise<Outcome<DataSummary>> {
    const controller = new AbortController();
    runs.set(runId, controller);
    return outcome(() => readTable(dataId, blob, fileName, controller, onProgress, csv)).finally(() => runs.delete(runId));
  },

  /** Forgets tables the page no longer shows. */
  releaseData(keep: string[]): void {
    releaseTables(keep);
  },

  /**
   * Reads a model file's format and declared inputs (no session is created); an XGBoost
   * regressor gets its regression summary (no class count). An ONNX model starts
   * onnxruntime meanwhile, on its own worker (ort-thread.ts): its start runs beside the data
   * being read, not ahead of it nor of the audit.
   */
  inspectModel(bytes: Uint8Array, fileName: string) {
    return outcome(async () => {
      try {
        const summary = inspectModel(bytes, fileName);
        if (summary.format === 'onnx') void warmOnnxRuntime(wasmOrt);
        return summary;
      } catch (error) {
        // A regression objective's model is read as a regressor; a classifier's refusal stands as it is.
        if (!(error instanceof ModelLoadError) || !looksLikeXgboostJson(bytes) || modelKind(bytes, fileName) !== 'regressor') throw error;
        return (await openRegressor(wasmOrt, bytes, fileName)).summary;
      }
    });
  },

  /** Runs an audit; `onProgress` is a Comlink proxy. Cancel it with {@link api.cancel}. */
  audit(runId: number, request: WorkerAuditRequest, onProgress?: (progress: AuditProgress) => void): Promise<Outcome<AnyAuditResult>> {
    const controller = new AbortController();
    runs.set(runId, controller);
    // The PDF writer (jsPDF and its font, ~2 MB of modules) is fetched and compiled while the
    // audit runs, so the report asked for after it does not wait for them (a failure here is
    // the report's to give).
    loadPdfWriter().catch(() => undefined);
    return outcome(async () => {
      const { data, reference, backend, ...rest } = request;
      const resolved: AuditRequest = { ...rest, data: loadedTable(data), ...(reference ? { reference: loadedTable(reference) } : {}) };
      const chosen = backend === 'webgpu' && rest.model ? await chooseBackend(rest.model) : null;
      const result = await runAnyAudit(chosen?.runtime ?? wasmOrt, resolved, {
        signal: controller.signal,
        ...(chosen?.sessionOptions ? { sessionOptions: chosen.sessionOptions } : {}),
        onProgress: (p) => onProgress?.(p),
        treeShap: treeShapPool(poolWorkers),
        ...(poolWorkers > 1 ? { treeMargins: treeMarginPool(poolWorkers), neighbours: neighbourPool(poolWorkers), sorts: sortPool(poolWorkers), recourse: recoursePool(poolWorkers), metrics: metricsPool(poolWorkers) } : {}),
        // ONNX: the audit's session (on onnxruntime's worker) scores a first batch, timed; a
        // heavy model's large table then goes to the pool's single-threaded sessions (not on
        // WebGPU, whose session is this worker's own); see bench/NOTES.md.
        ...(poolWorkers > 1 && threads === 1 && !chosen?.sessionOptions ? { onnxScores: onnxScorePool(poolWorkers), onnxPoolWorthMs: tuning.onnxPoolWorthMs } : {}),
      });
      if (chosen && !('task' in result) && result.inputs.model.format !== 'score-column') result.inputs.model.execution = chosen.execution;
      return result;
    }).finally(() => runs.delete(runId));
  },

  /**
   * Scores a loaded table with a model, as the audit's score stage does (features in the
   * model's order or `features`); `pool: false` keeps the scoring in this worker (the
   * benchmark's comparison: the project's tree evaluator here, or onnxruntime's one session),
   * and `onnxPoolWorthMs: 0` sends an ONNX table to the pool whatever its first batch
   * projects. Cancel with {@link api.cancel}(runId).
   */
  scoreTable(runId: number, model: InputFile, data: DataRef, options: { features?: string[]; pool?: boolean; onnxPoolWorthMs?: number } = {}): Promise<Outcome<{ scores: Float64Array; openMs: number; scoreMs: number }>> {
    const controller = new AbortController();
    runs.set(runId, controller);
    return outcome(async () => {
      const { loaded } = loadedTable(data);
      const pooled = options.pool !== false && poolWorkers > 1;
      const opening = performance.now();
      const classifier = await openModel(wasmOrt, model.bytes, model.fileName, pooled ? { treeMargins: treeMarginPool(poolWorkers), onnxScores: onnxScorePool(poolWorkers), onnxPoolWorthMs: options.onnxPoolWorthMs } : {});
      try {
        // Timed apart for the benchmark: opening the model, and scoring the table with it.
        const scoring = performance.now();
        const scores = await classifier.score(loaded.table, { features: options.features, signal: controller.signal });
        return transfer({ scores, openMs: scoring - opening, scoreMs: performance.now() - scoring }, [scores.buffer]);
      } finally {
        await classifier.release();
      }
    }).finally(() => runs.delete(runId));
  },

  /** The PDF report of a result, made here so the page stays responsive. */
  report(result: AuditResult, createdAt: string, decision?: PolicyDecision | null, manifest?: Manifest | null): Promise<Outcome<Uint8Array>> {
    return outcome(async () => {
      // jsPDF and the embedded font load only when a report is asked for.
      const { renderPdf } = await loadPdfWriter();
      const bytes = renderPdf({ result, createdAt, ...(decision ? { decision } : {}), ...(manifest ? { manifest } : {}) });
      return transfer(bytes, [bytes.buffer]);
    });
  },

  /** Checks a loaded data file without a model (the data-check report; see core/data-check). */
  checkData(data: DataRef, options: Omit<DataCheckOptions, 'reference'>, reference?: DataRef) {
    return outcome(async () => {
      const { loaded } = loadedTable(data);
      return checkDataTable(loaded.table, loaded.sha256, { ...options, ...(reference ? { reference: loadedTable(reference).loaded.table } : {}) });
    });
  },

  /** The audit result inside a file: a result JSON, or a Plumbline PDF or HTML report. */
  readResult(bytes: Uint8Array, fileName: string) {
    return outcome(async () => readResultFile(bytes, fileName) as unknown as AuditResult);
  },


  /** Opens the model and data once for the row explorer (kept until other files come). */
  prepareRows(model: InputFile, data: DataRef, open: { positiveLabel?: string; classLabels?: string[]; features?: string[]; userMissingValues?: string[] } = {}) {
    return outcome(() => prepareRows(model, data, open));
  },

  /** Scores and explains one row of the prepared data, with any edits (what-if). */
  explainRow(query: RowQuery) {
    return outcome(() => explainPreparedRow(query));
  },

  /** Rows of the prepared data whose cells contain `text`. */
  searchRows(text: string) {
    return outcome(() => searchPreparedRows(text));
  },

  /**
   * Every output of an audit — the result with its decision, the manifest, the decision,
   * PDF, HTML, model card and evidence pack — from the core's one outputs bundle, the same
   * bytes the CLI writes for the same inputs.
   */
  outputs(result: AnyAuditResult, context: OutputContext) {
    return outcome(async () => {
      const made = (await loadOutputsBundle()).auditOutputs(result, context);
      return transfer(made, Object.values(made.files).map((bytes) => bytes.buffer as ArrayBuffer));
    });
  },

  /** Opens a registry (its bytes, or null for a new empty one) and returns what the portfolio shows. */
  registryOpen(bytes: Uint8Array | null, name: string) {
    return outcome(async () => (await import('./registry-host')).openRegistryBytes(bytes, name));
  },

  /** Appends an audit to the open registry. */
  registryAppend(result: AuditResult, manifest: Manifest, metadata: Record<string, string>) {
    return outcome(async () => (await import('./registry-host')).appendAudit(result, manifest, metadata));
  },

  /** The full result stored with a registry entry. */
  registryResult(seq: number) {
    return outcome(async () => (await import('./registry-host')).storedResult(seq));
  },

  /** The open registry as a file (SQLite bytes) or as CSV. */
  registryExport(format: 'sqlite' | 'csv') {
    return outcome(async () => {
      const host = await import('./registry-host');
      if (format === 'csv') return host.registryCsvText();
      const bytes = host.registryBytes();
      return transfer(bytes, [bytes.buffer]);
    });
  },

  /** The open registry's monthly summary for management (Markdown or PDF). */
  registrySummary(month: string, format: 'md' | 'pdf', createdAt: string) {
    return outcome(async () => (await import('./registry-host')).registrySummary(month, format, createdAt));
  },

  /** Stops a running audit (or data load) at its next batch or chunk. */
  /** For tests and the benchmark: `onnxPoolWorthMs: 0` sends every large ONNX table to the pool, whatever this machine's speed. */
  tune(settings: Partial<typeof tuning>): void {
    Object.assign(tuning, settings);
  },

  cancel(runId: number, message = 'The audit was cancelled.'): void {
    runs.get(runId)?.abort(new DOMException(message, 'AbortError'));
  },
};

/** The worker's API, as the app sees it through Comlink. */
export type AuditApi = typeof api;
export { proxy };

// onnxruntime-web starts its thread workers from this same chunk (named em-pthread*);
// exposing Comlink there would take over their onmessage and hang session creation.
if (!self.name?.startsWith('em-pthread')) expose(api);

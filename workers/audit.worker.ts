/// <reference lib="webworker" />
/**
 * The audit worker: a thin host around the core. It owns onnxruntime-web (the WASM build,
 * served from the app itself) and exposes one API object through Comlink.
 */
import type { DataCheckOptions } from '../src/core/data-check/check';
import { expose, proxy, transfer } from 'comlink';
import { createSHA256 } from 'hash-wasm';
import { blobSha256, chunksOf } from './blob';
import { onnxScorePool, sha256InPool, treeMarginPool, treeShapPool } from './pool';
import * as ort from 'onnxruntime-web/wasm';
import type { RowQuery } from '../src/core/explain/row';
import type { Classifier } from '../src/core/model/classifier';

type OrtSessionOptions = NonNullable<Parameters<typeof ort.InferenceSession.create>[1]>;
import { AuditConfigError, ModelLoadError, inspectModel, loadTableStream, looksLikeParquet, openModel, runAnyAudit, serializeError, type AuditProgress, type AuditRequest, type AuditResult, type AnyAuditResult, type LoadedTable, type LoadProgress, type Manifest, type PolicyDecision, type SerializedError } from '../src/core';
import type { OutputContext } from '../src/core/outputs';
import { browserMemory } from '../src/core/limits';
import { looksLikeXgboostJson } from '../src/core/model/trees';
import { openRegressor } from '../src/core/model/regressor';

declare const self: DedicatedWorkerGlobalScope;

/** Threads for onnxruntime-web: only with cross-origin isolation, never more than the cores. */
// One onnxruntime thread, cross-origin isolated or not: its multi-threaded kernels sum in an
// order that changes the last bits of a score, and the same files must give the same result
// digest in every host. Large tables are split over the pool of single-threaded sessions,
// which never changes a score (see bench/NOTES.md).
const threads = 1;
ort.env.wasm.numThreads = threads;

/** Pool workers (TreeSHAP, tree scoring): one per core (at most 4), started on first use. */
const poolWorkers = Math.max(1, Math.min(4, self.navigator.hardwareConcurrency || 1));

/** Settings tests and the benchmark may change (see {@link api.tune}). */
const tuning: { onnxPoolWorthMs?: number } = {};

/** Either a value or the error that prevented it, as plain data. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

async function outcome<T>(work: () => Promise<T> | T): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}

/** Column summary shown in the set-up step. */
export interface ColumnSummary {
  name: string;
  kind: 'numeric' | 'categorical';
  missing: number;
  /** Distinct values (categorical) or null (numeric). */
  distinct: number | null;
  /** A few values, for labels and hints. */
  sample: string[];
}

const runs = new Map<number, AbortController>();

/** The row explorer's model and table, opened once per pair of files. */
let rowState: { key: string; classifier: Classifier; dataId: string; model: InputFile } | null = null;

/** A file as the worker receives it. */
interface InputFile {
  fileName: string;
  bytes: Uint8Array;
}

/** A data file the page handed over as a File (never read on the page), read here once. */
export interface DataRef {
  fileName: string;
  dataId: string;
}

/** How a CSV is read (an audit config's data.delimiter, missing_values, dtypes and skip_bad_lines), as the CLI reads it. */
export type CsvReadOptions = NonNullable<AuditRequest['csv']>;

/** The audit request as the page sends it: data files by reference to what {@link api.loadData} read. */
export type WorkerAuditRequest = Omit<AuditRequest, 'data' | 'reference'> & {
  data: DataRef;
  reference?: DataRef;
  /** `webgpu`: score a neural network on the GPU when it can (WASM otherwise, with the reason in the result). */
  backend?: 'wasm' | 'webgpu';
};

/**
 * onnxruntime-web's default build (WebGPU through JSEP, with WASM kernels for the rest),
 * loaded only when an audit asks for WebGPU: its .wasm is 28 MB, the WASM build's 14 MB.
 */
let gpuRuntime: Promise<typeof import('onnxruntime-web')> | undefined;

/**
 * How a model will be scored when WebGPU is asked for: onnxruntime's default build with the
 * WebGPU execution provider, when the model is a neural network (no ai.onnx.ml operators,
 * which have no WebGPU kernels), the browser has a GPU adapter and a session opens on it;
 * else the WASM build, saying why. `execution` is recorded in the result.
 */
async function chooseBackend(model: InputFile): Promise<{ runtime: typeof ort; sessionOptions?: OrtSessionOptions; execution: string }> {
  const wasm = (why: string) => ({ runtime: ort, execution: `wasm (WebGPU was asked for: ${why})` });
  const summary = inspectModel(model.bytes, model.fileName);
  if (summary.format !== 'onnx') return wasm(`${summary.format} models are scored by Plumbline's own tree evaluator`);
  const ml = summary.operators.filter((op) => op.startsWith('ai.onnx.ml:'));
  if (ml.length) return wasm(`the model uses ai.onnx.ml operators (${ml.map((op) => op.slice('ai.onnx.ml:'.length)).join(', ')}), which have no WebGPU kernels`);
  const gpu = (self.navigator as WorkerNavigator & { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> } }).gpu;
  if (!gpu) return wasm('this browser has no WebGPU');
  const adapter = await gpu.requestAdapter();
  if (!adapter) return wasm('no GPU adapter is available');
  const runtime = await (gpuRuntime ??= import('onnxruntime-web').then((m) => {
    m.env.wasm.numThreads = threads;
    return m;
  }));
  const sessionOptions: OrtSessionOptions = { executionProviders: ['webgpu'] };
  try {
    // A session opened and released first: a model WebGPU cannot run falls back here, not mid-audit.
    const probe = await runtime.InferenceSession.create(model.bytes, sessionOptions);
    await probe.release();
  } catch (error) {
    return wasm(`onnxruntime could not open the model on WebGPU (${String((error as Error).message ?? error).slice(0, 200)})`);
  }
  const name = [adapter.info?.vendor, adapter.info?.architecture].filter(Boolean).join(' ');
  return { runtime: runtime as unknown as typeof ort, sessionOptions, execution: `webgpu${name ? ` (${name})` : ''}` };
}

/** What the set-up shows of a data file once read. */
export interface DataSummary {
  rows: number;
  columns: ColumnSummary[];
  format: LoadedTable['format'];
  bytes: number;
  sha256: string;
}

const tables = new Map<string, { fileName: string; loaded: LoadedTable }>();

function loadedTable(ref: DataRef): { fileName: string; loaded: LoadedTable } {
  const stored = tables.get(ref.dataId);
  if (!stored) throw new AuditConfigError(`${ref.fileName} is no longer loaded: choose the file again.`);
  return { fileName: ref.fileName, loaded: stored.loaded };
}

/**
 * The table may take half the device memory the browser reports (at most 8 GiB, which is
 * what it reports at most): beyond that the load is refused with the estimate, before the
 * tab runs out of memory. The page checks an audit's tables and stages against the same.
 */
const memoryLimit = browserMemory((self.navigator as WorkerNavigator & { deviceMemory?: number }).deviceMemory).bytes;

/**
 * Every this many milliseconds of reading, the load lets the worker's other messages in:
 * a Blob's stream can hand over chunk after chunk as microtasks, and without a task
 * boundary the page's Cancel (a message) would wait until the whole file was read.
 */
const LOAD_YIELD_MS = 25;

/** A task boundary (a message through a channel of its own: no timer clamping). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * The chunks of a Blob, read so that a Cancel is seen within one chunk: the signal is
 * checked before each chunk is handed on, and the worker takes its messages at least every
 * {@link LOAD_YIELD_MS} ms.
 */
async function* cancellableChunks(blob: Blob, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  let yielded = performance.now();
  for await (const chunk of chunksOf(blob)) {
    if (performance.now() - yielded >= LOAD_YIELD_MS) {
      await nextTask();
      yielded = performance.now();
    }
    signal.throwIfAborted();
    yield chunk;
  }
}

let parquetReady: Promise<void> | null = null;

/** parquet-wasm, loaded from the app's own assets the first time a Parquet file comes. */
function loadParquet(): Promise<void> {
  parquetReady ??= (async () => {
    const [{ default: init, readParquet }, { default: wasmUrl }, { useParquetDecoder }] = await Promise.all([
      import('parquet-wasm/esm'),
      import('parquet-wasm/esm/parquet_wasm_bg.wasm?url'),
      import('../src/core/data/parquet'),
    ]);
    await init({ module_or_path: wasmUrl });
    useParquetDecoder((bytes) => readParquet(bytes).intoIPCStream());
  })();
  return parquetReady;
}

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
    // A table loaded under this id before is let go first: two large files are never held at once.
    tables.delete(dataId);
    return outcome(async () => {
      if (looksLikeParquet(new Uint8Array(await blob.slice(0, 4).arrayBuffer()))) await loadParquet();
      let last = 0;
      // The SHA-256 (hash-wasm's) is computed by a pool worker reading the same Blob while
      // this one parses it; with one core, here.
      const digest = poolWorkers > 1 ? sha256InPool(blob, controller.signal) : null;
      digest?.catch(() => undefined); // a failed or cancelled load never awaits it
      const sha = digest ? null : await createSHA256();
      sha?.init();
      const loaded = await loadTableStream(fileName, cancellableChunks(blob, controller.signal), {
        ...csv,
        hash: sha ? () => ({ update: (bytes) => void sha.update(bytes), digestHex: () => sha.digest('hex') }) : null,
        totalBytes: blob.size,
        memoryLimit,
        signal: controller.signal,
        reopen: () => cancellableChunks(blob, controller.signal),
        onProgress: (progress) => {
          const now = performance.now();
          if (now - last < 100 && progress.bytes < progress.totalBytes) return;
          last = now;
          onProgress?.(progress);
        },
      });
      // Should the pool have been stopped meanwhile (a cancelled audit), the file is hashed here.
      // (A cancelled load's digest failed because of the Cancel: that file is not hashed again.)
      if (digest) loaded.sha256 = await digest.catch(() => (controller.signal.throwIfAborted(), blobSha256(blob)));
      // A Cancel that came while the file was hashed (or Parquet decoded) keeps no table.
      controller.signal.throwIfAborted();
      tables.set(dataId, { fileName, loaded });
      const { table } = loaded;
      return {
        rows: table.rowCount,
        format: loaded.format,
        bytes: loaded.bytes,
        sha256: loaded.sha256,
        columns: table.columns.map((column) => ({
          name: column.name,
          kind: column.kind,
          missing: column.missing,
          distinct: column.kind === 'categorical' ? column.dictionary.length : null,
          sample: column.kind === 'categorical' ? column.dictionary.slice(0, 12) : [],
        })),
      };
    }).finally(() => runs.delete(runId));
  },

  /** Forgets tables the page no longer shows. */
  releaseData(keep: string[]): void {
    for (const id of [...tables.keys()]) if (!keep.includes(id)) tables.delete(id);
  },

  /** Reads a model file's format and declared inputs (no session is created); an XGBoost regressor gets its regression summary (no class count). */
  inspectModel(bytes: Uint8Array, fileName: string) {
    return outcome(async () => {
      try {
        return inspectModel(bytes, fileName);
      } catch (error) {
        if (!(error instanceof ModelLoadError) || !looksLikeXgboostJson(bytes)) throw error;
        return (await openRegressor(ort, bytes, fileName)).summary;
      }
    });
  },

  /** Runs an audit; `onProgress` is a Comlink proxy. Cancel it with {@link api.cancel}. */
  audit(runId: number, request: WorkerAuditRequest, onProgress?: (progress: AuditProgress) => void): Promise<Outcome<AnyAuditResult>> {
    const controller = new AbortController();
    runs.set(runId, controller);
    return outcome(async () => {
      const { data, reference, backend, ...rest } = request;
      const resolved: AuditRequest = { ...rest, data: loadedTable(data), ...(reference ? { reference: loadedTable(reference) } : {}) };
      const chosen = backend === 'webgpu' && rest.model ? await chooseBackend(rest.model) : null;
      const result = await runAnyAudit(chosen?.runtime ?? ort, resolved, {
        signal: controller.signal,
        ...(chosen?.sessionOptions ? { sessionOptions: chosen.sessionOptions } : {}),
        onProgress: (p) => onProgress?.(p),
        treeShap: treeShapPool(poolWorkers),
        ...(poolWorkers > 1 ? { treeMargins: treeMarginPool(poolWorkers) } : {}),
        // ONNX: this worker's one session when it has onnxruntime's threads (cross-origin
        // isolated, where it was the faster); else a heavy model's large table goes to a pool
        // of single-threaded sessions (the classifier times a first batch); see bench/NOTES.md.
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
      const classifier = await openModel(ort, model.bytes, model.fileName, pooled ? { treeMargins: treeMarginPool(poolWorkers), onnxScores: onnxScorePool(poolWorkers), onnxPoolWorthMs: options.onnxPoolWorthMs } : {});
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
      const { renderPdf } = await import('../src/core/report/pdf');
      const bytes = renderPdf({ result, createdAt, ...(decision ? { decision } : {}), ...(manifest ? { manifest } : {}) });
      return transfer(bytes, [bytes.buffer]);
    });
  },

  /** Checks a loaded data file without a model (the data-check report; see core/data-check). */
  checkData(data: DataRef, options: Omit<DataCheckOptions, 'reference'>, reference?: DataRef) {
    return outcome(async () => {
      const { checkDataTable } = await import('../src/core/data-check/check');
      const { loaded } = loadedTable(data);
      return checkDataTable(loaded.table, loaded.sha256, { ...options, ...(reference ? { reference: loadedTable(reference).loaded.table } : {}) });
    });
  },

  /** The audit result inside a file: a result JSON, or a Plumbline PDF or HTML report. */
  readResult(bytes: Uint8Array, fileName: string) {
    return outcome(async () => (await import('../src/core/report/read-result')).readResultFile(bytes, fileName) as unknown as AuditResult);
  },


  /** Opens the model and data once for the row explorer (kept until other files come). */
  prepareRows(model: InputFile, data: DataRef, open: { positiveLabel?: string; userMissingValues?: string[] } = {}) {
    return outcome(async () => {
      const key = `${model.fileName}:${model.bytes.length}|${data.dataId}|${JSON.stringify(open)}`;
      const { loaded } = loadedTable(data);
      if (rowState?.key !== key) {
        await rowState?.classifier.release();
        rowState = null;
        rowState = { key, dataId: data.dataId, model, classifier: await openModel(ort, model.bytes, model.fileName, open) };
      }
      return { rows: loaded.table.rowCount };
    });
  },

  /** Scores and explains one row of the prepared data, with any edits (what-if). */
  explainRow(query: RowQuery) {
    return outcome(async () => {
      const table = rowState && tables.get(rowState.dataId)?.loaded.table;
      if (!rowState || !table) throw new AuditConfigError('Open the row explorer again: the model and data are no longer loaded.');
      const { explainRow } = await import('../src/core/explain/row');
      return explainRow(rowState.classifier, rowState.model, table, query);
    });
  },

  /** Rows of the prepared data whose cells contain `text`. */
  searchRows(text: string) {
    return outcome(async () => {
      const table = rowState && tables.get(rowState.dataId)?.loaded.table;
      if (!rowState || !table) throw new AuditConfigError('Open the row explorer again: the model and data are no longer loaded.');
      return (await import('../src/core/explain/row')).searchRows(table, text, 20);
    });
  },

  /**
   * Every output of an audit — the result with its decision, the manifest, the decision,
   * PDF, HTML, model card and evidence pack — from the core's one outputs bundle, the same
   * bytes the CLI writes for the same inputs.
   */
  outputs(result: AnyAuditResult, context: OutputContext) {
    return outcome(async () => {
      const made = (await import('../src/core/outputs')).auditOutputs(result, context);
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

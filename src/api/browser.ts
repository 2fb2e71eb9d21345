/**
 * Plumbline's API for the browser (and any host without a file system):
 * `import { audit, explain, checkData, renderPdf } from 'plumbline-audit/browser'`, with
 * Blobs (a File from an `<input type="file">` or a drop) or bytes instead of paths. The same
 * core functions as the Node API and the CLI: the same files and settings give the same
 * result, manifest and report bytes (the manifest has no git commit here). It runs on the
 * calling thread; the Plumbline app runs the same core in a Web Worker instead. CSV and
 * Arrow data are read; Parquet needs a decoder registered with `useParquetDecoder`.
 */
import { explainModel, loadOutputsBundle, loadReaderFor, loadTableBytes, parseAuditConfig, parsePolicy, planAudit, readResultFile, reportsOf, runAnyAudit, sha256Hex, type AnyAuditResult, type AuditConfig, type AuditProgress, type BaselineResult, type DataProfile, type ExplainRequest, type ExplainResult, type InputFile, type LoadOptions } from '../core/index.ts';

// The outputs bundle loads the PDF writer: a chunk of its own in the core, loaded once here.
const { auditOutputs } = await loadOutputsBundle();
import * as ort from 'onnxruntime-web';
import { apiUsageError, checkAuditInputs, mergeAuditConfig, profileData, reportPdf, type AuditOverrides, type AuditRun, type PdfInput } from './run.ts';

export type { AuditOverrides, AuditRun, PdfInput } from './run.ts';
export type { AuditConfig } from '../core/index.ts';
export type { AuditResult, AuditProgress } from '../core/index.ts';
export type { AnyAuditResult } from '../core/index.ts';
export type { TaskAuditResult, MulticlassAuditResult, RegressionAuditResult } from '../core/index.ts';
export { isTaskResult } from '../core/index.ts';
export type { PolicyDecision, GateResult } from '../core/index.ts';
export type { Manifest } from '../core/index.ts';
export type { ExplainResult, ExplainMethod } from '../core/index.ts';
export type { DataProfile, DataFinding } from '../core/index.ts';
export { isPlumblineError, PlumblineError } from '../core/index.ts';
export { useParquetDecoder } from '../core/index.ts';
export { TOOL_VERSION } from '../core/index.ts';

/** A file as a browser has it: a File (its name is used), a Blob, or bytes with a name. */
export type FileInput = Blob | { name: string; bytes: Uint8Array };

/** The file's name and bytes; a nameless Blob is called `fallback`. */
async function inputFile(file: FileInput, fallback: string): Promise<InputFile> {
  if (!(file instanceof Blob)) return { fileName: file.name, bytes: file.bytes };
  const blob = file;
  const name = (blob as Blob & { name?: string }).name;
  return { fileName: name || fallback, bytes: new Uint8Array(await blob.arrayBuffer()) };
}

/** A config or policy given as YAML text or as a file. */
async function textOf(file: string | FileInput, fallback: string): Promise<InputFile> {
  return typeof file === 'string' ? { fileName: fallback, bytes: new TextEncoder().encode(file) } : inputFile(file, fallback);
}

/** What {@link audit} audits: files as Blobs or bytes, a config, and options that win over its fields. */
export interface BrowserAuditOptions extends Omit<AuditOverrides, 'model' | 'data' | 'reference'> {
  /** The model file; omit for a score-only audit (`score`). */
  model?: FileInput;
  /** The test data (CSV or Arrow). */
  data: FileInput;
  /** Reference data (usually the training file) for drift. */
  reference?: FileInput;
  /** The audit config: YAML text, a YAML file, or its keys as an object. Its file paths are not read: the files above are audited. */
  config?: string | FileInput | AuditConfig;
  /** Policy gates: YAML text or file. */
  policy?: string | FileInput;
  /** Write p(positive) of every row into the result. */
  predictions?: boolean;
  /** The production model's result (JSON, PDF or HTML report) to compare with: the result's `comparison`, relative gates. */
  baseline?: FileInput;
  /** Apply the policy although it is not yet in effect or not for this model. */
  forcePolicy?: boolean;
  /** Refuse defaults for the seed and the positive label; unevaluated error gates fail. */
  strict?: boolean;
  /** Base name of the output files (`report` → report.json, report.pdf, …); default `report`, as the app's. */
  base?: string;
  /** The time written into the manifest and reports (seconds since 1970); default now. */
  epochSeconds?: number;
  /** Called as the audit goes: stage, done, total. */
  onProgress?: (progress: AuditProgress) => void;
}

/**
 * Audits a model (or a score column) on data given as Blobs or bytes: the same planning,
 * scoring, metrics, gates and outputs as `plumbline audit` and the Node API. Every output
 * file (result, manifest, decision, PDF and HTML reports, model card, evidence pack) comes
 * back as bytes in `files`; wrap one in a Blob to offer it for download.
 */
export async function audit(options: BrowserAuditOptions): Promise<AuditRun> {
  let config: AuditConfig = {};
  let configFile: InputFile | undefined;
  if (options.config && (typeof options.config === 'string' || options.config instanceof Blob || 'bytes' in options.config)) {
    configFile = await textOf(options.config as string | FileInput, 'audit.yaml');
    config = parseAuditConfig(new TextDecoder().decode(configFile.bytes), configFile.fileName);
  } else if (options.config) {
    config = parseAuditConfig(JSON.stringify(options.config), 'the config object');
  }
  const model = options.model ? await inputFile(options.model, 'model.onnx') : undefined;
  const data = await inputFile(options.data, 'data.csv');
  const reference = options.reference ? await inputFile(options.reference, 'reference.csv') : undefined;
  // The files given are the files audited: the config's paths only name them.
  const overrides: AuditOverrides = { ...options, model: model?.fileName, data: data.fileName, reference: reference?.fileName };
  const merged = mergeAuditConfig(config, overrides, (path) => path);
  checkAuditInputs(merged, overrides, 'api', options.config !== undefined, apiUsageError);
  const strict = options.strict ?? false;
  const plan = planAudit(merged, configFile?.fileName ?? 'the options', strict);
  const policyFile = options.policy ? await textOf(options.policy, 'policy.yaml') : undefined;
  const policy = policyFile ? parsePolicy(new TextDecoder().decode(policyFile.bytes), policyFile.fileName) : null;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const baselineFile = options.baseline ? await inputFile(options.baseline, 'baseline.json') : undefined;
  const baseline = baselineFile ? { result: readResultFile(baselineFile.bytes, baselineFile.fileName) as unknown as BaselineResult, file: baselineFile.fileName, sha256: sha256Hex(baselineFile.bytes) } : undefined;
  const audited = await runAnyAudit(
    ort,
    { ...plan.request, ...(model && !options.score ? { model } : {}), data, ...(reference ? { reference } : {}), includePredictions: options.predictions ?? false, missingSections: plan.missingSections, ...(baseline ? { baseline } : {}) },
    { ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
  );
  const files: Record<string, { file: string; sha256: string }> = { data: { file: data.fileName, sha256: audited.inputs.data.sha256 } };
  if (model && !options.score) files.model = { file: model.fileName, sha256: sha256Hex(model.bytes) };
  if (reference) files.reference = { file: reference.fileName, sha256: sha256Hex(reference.bytes) };
  if (configFile) files.config = { file: configFile.fileName, sha256: sha256Hex(configFile.bytes) };
  if (policyFile) files.policy = { file: policyFile.fileName, sha256: sha256Hex(policyFile.bytes) };
  if (audited.comparison) files.baseline = { file: audited.comparison.baseline.file, sha256: audited.comparison.baseline.sha256 };
  const outputs = auditOutputs(audited, {
    base: options.base ?? 'report',
    files,
    sources: { ...(configFile ? { config: configFile } : {}), ...(policyFile ? { policy: policyFile } : {}) },
    policy,
    forcePolicy: options.forcePolicy ?? false,
    seedExplicit: plan.seedExplicit,
    strict,
    gitCommit: null,
    epochSeconds: options.epochSeconds ?? Math.floor(Date.now() / 1000),
    fromSourceDateEpoch: options.epochSeconds !== undefined,
    backend: files.model ? 'wasm' : 'none (score column)',
    metadata: plan.metadata,
    ...(merged.report?.title ? { title: merged.report.title } : {}),
    reports: reportsOf(merged.report),
  });
  return { result: outputs.result, decision: outputs.decision, manifest: outputs.manifest, files: outputs.files, ...(merged.report?.title ? { title: merged.report.title } : {}) };
}

/** What {@link explain} explains: model and data as Blobs or bytes, and the explainer's settings. */
export interface BrowserExplainOptions extends Omit<ExplainRequest, 'model' | 'data' | 'background'> {
  model: FileInput;
  data: FileInput;
  background?: FileInput;
}

/** SHAP values (or permutation importance) of rows, as `plumbline explain` writes them. */
export async function explain(options: BrowserExplainOptions): Promise<ExplainResult> {
  const { model, data, background, ...settings } = options;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  return explainModel(ort, {
    ...settings,
    model: await inputFile(model, 'model.onnx'),
    data: await inputFile(data, 'data.csv'),
    ...(background ? { background: await inputFile(background, 'background.csv') } : {}),
  });
}

/** The data checks of an audit without a model (what `result.data` holds): profile, class balance, proxies, leakage, findings. */
export async function checkData(options: { data: FileInput; target: string; protected?: string[]; positiveLabel?: string; csv?: LoadOptions }): Promise<DataProfile> {
  const file = await inputFile(options.data, 'data.csv');
  await loadReaderFor(file.bytes);
  const { table } = loadTableBytes(file.bytes, file.fileName, options.csv ?? {});
  return profileData({ table, target: options.target, protectedAttributes: options.protected ?? [], ...(options.positiveLabel !== undefined ? { positiveLabel: options.positiveLabel } : {}) });
}

/** The PDF report of an audit run (or of a result with its manifest and decision), as bytes. */
export function renderPdf(input: PdfInput): Uint8Array {
  return reportPdf(input);
}

/** An audit result read back from a result JSON or a Plumbline PDF or HTML report. */
export async function readResult(file: FileInput): Promise<AnyAuditResult> {
  const input = await inputFile(file, 'result.json');
  return readResultFile(input.bytes, input.fileName) as unknown as AnyAuditResult;
}

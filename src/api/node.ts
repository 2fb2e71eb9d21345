/**
 * Plumbline's API for Node scripts and notebooks: `import { audit, explain, checkData,
 * renderPdf } from 'plumbline-audit'`. These are the functions the `plumbline` command
 * calls (the CLI only turns its flags into these options and prints): the same files give
 * the same result objects, manifest and report bytes.
 */
import { closeMatches, explainModel, quote, scoredByOf, loadOutputsBundle, looksLikeOnnx, warmOnnxRuntime, parseAuditConfig, parsePolicy, planAudit, readResultFile, registrySubmission, reportsOf, runAnyAudit, sha256Hex, type AnyAuditResult, type AuditConfig, type AuditPlan, type AuditProgress, type BaselineResult, type DataProfile, type ExplainRequest, type ExplainResult, type InputFile, type LoadOptions, type LoadProgress, type RegistrySubmission, type StoredDistribution, type StoredReference } from '../core/index.ts';

// The outputs bundle loads the PDF writer: a chunk of its own in the core, loaded once here.
const { auditOutputs } = await loadOutputsBundle();
import '../cli/parquet-node.ts';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { loadTableFile, readInput, registryModule, UsageError } from '../cli/shared.ts';
import { gitProvenance } from './git.ts';
import { defaultThreads, MAX_THREADS, poolRunners } from './node-pool.ts';
import { apiUsageError, checkAuditInputs, mergeAuditConfig, namingOption, profileData, reportPdf, type AuditOverrides, type AuditRun, type OptionStyle, type PdfInput } from './run.ts';

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
export type { ThresholdPolicy } from '../core/index.ts';
export { isPlumblineError, PlumblineError } from '../core/index.ts';
export { TOOL_VERSION } from '../core/index.ts';

/** What {@link audit} audits: a config file (or object), and options that win over its fields. */
export interface AuditOptions extends AuditOverrides {
  /**
   * The audit config: a YAML file's path (the paths in it are relative to it), or the
   * config's keys as an object (checked against the same schema; paths relative to the
   * working directory).
   */
  config?: string | AuditConfig;
  /** Policy gates (YAML file): the decision, attached to the result and in `decision`. */
  policy?: string;
  /** Write p(positive) of every row into the result (`predictions_p1`). */
  predictions?: boolean;
  /**
   * The production model's audit to compare with (champion vs challenger): a result JSON,
   * PDF or HTML report path, or a result already read (the CLI's registry entries). Fills
   * the result's `comparison` and lets relative gates (max_drop, max_increase) run.
   */
  baseline?: string | { result: BaselineResult; file: string; sha256: string };
  /** Apply the policy although it is not yet in effect or not for this model. */
  forcePolicy?: boolean;
  /** Refuse defaults for the seed and the positive label; unevaluated error gates fail. */
  strict?: boolean;
  /**
   * Where the outputs go, as the CLI's `--output`: `dir/report.pdf` makes the whole report
   * family (PDF, HTML, model card, evidence pack) beside the result, manifest and decision;
   * `dir/result.json` only those three. The files are written there (each written whole or
   * not at all) and returned in `files`; without `output` they are only returned, named
   * `result.*`.
   */
  output?: string;
  /** Leave the PDF out of a report family (the CLI's `--no-pdf`). */
  noPdf?: boolean;
  /**
   * Threads for TreeSHAP and for scoring large tables (the CLI's `--threads`; default: the
   * cores this process may use). The result is the same to the byte for any count.
   */
  threads?: number;
  /** Called as the audit goes: stage, done, total. */
  onProgress?: (progress: AuditProgress) => void;
}

/** An audit checked and planned, its files not read yet (the CLI checks its registry in between). */
export interface PreparedAudit {
  options: AuditOptions;
  merged: AuditConfig;
  plan: AuditPlan;
  configFile?: InputFile;
  /** The file whose repository gives the manifest's commit: the config, else the model, else the data. */
  provenanceAnchor: string;
  /** The registry append the config's `registry:` block asks for (variables expanded), or null. */
  submission: RegistrySubmission | null;
  /** The threads the audit runs on (`threads`, else PLUMBLINE_THREADS, else the cores), checked. */
  threads: number;
}

/** Every option audit() reads: a key it does not (a config's snake_case key, a typo) is refused, as the CLI refuses an unknown flag. */
const AUDIT_OPTION_KEYS: readonly (keyof AuditOptions)[] = [
  'model', 'score', 'data', 'reference', 'validation', 'referenceResult', 'target', 'noLabels', 'protected', 'features', 'positiveLabel', 'threshold', 'bootstrap', 'seed', 'task', 'classLabels', 'positiveWhen', 'delimiter', 'missingValues', 'dtypes', 'skipBadLines', 'encoding',
  'config', 'policy', 'predictions', 'baseline', 'forcePolicy', 'strict', 'output', 'noPdf', 'threads', 'onProgress',
];

/**
 * Reads and checks the config and options, and plans the audit; nothing else is read yet.
 * `style` says how messages name the options (the CLI's flags, or the API's names).
 */
export async function prepareAudit(options: AuditOptions, style: OptionStyle = 'api'): Promise<PreparedAudit> {
  const unknown = style === 'api' ? Object.keys(options).filter((key) => !(AUDIT_OPTION_KEYS as readonly string[]).includes(key)) : [];
  if (unknown.length) {
    const close = closeMatches(unknown[0], AUDIT_OPTION_KEYS as readonly string[]);
    throw apiUsageError(`unknown option ${quote(unknown[0])}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}: it would be ignored. The options: ${AUDIT_OPTION_KEYS.join(', ')}; a config's own keys go in config.`);
  }
  let config: AuditConfig = {};
  let configFile: InputFile | undefined;
  let configName = 'the options';
  if (typeof options.config === 'string') {
    configFile = await readInput(options.config, 'config');
    configName = configFile.fileName;
    config = parseAuditConfig(new TextDecoder().decode(configFile.bytes), configFile.fileName);
  } else if (options.config) {
    configName = 'the config object';
    // The same schema and profiles as a file: JSON is YAML.
    config = parseAuditConfig(JSON.stringify(options.config), configName);
  }
  const base = typeof options.config === 'string' ? dirname(resolve(options.config)) : process.cwd();
  const merged = mergeAuditConfig(config, options, (path) => resolve(base, path));
  const usage = style === 'cli' ? (message: string) => new UsageError(message) : apiUsageError;
  checkAuditInputs(merged, options, style, options.config !== undefined, usage);
  // A config that asks for no report beside an output that names one: the PDF, HTML, model card and pack were written (or some of them) all the same.
  const report = merged.report;
  if (options.output?.endsWith('.pdf') && (report?.enabled === false || report?.format === 'json')) {
    throw usage(`${report.enabled === false ? 'report.enabled: false' : 'report.format: json'} asks for no report, but ${style === 'cli' ? '--output' : 'the output option'} names one (${options.output}). Name the result alone (RESULT.json), or remove ${report.enabled === false ? 'report.enabled' : 'report.format'}.`);
  }
  // Options that only act with another: alone they changed nothing, without a word.
  const named = (cli: string, api: string) => (style === 'cli' ? cli : `the ${api} option`);
  if (options.noPdf && !options.output?.endsWith('.pdf')) throw usage(`${named('--no-pdf', 'noPdf')} leaves the PDF out of a report's files: it needs ${named('--output REPORT.pdf', 'output REPORT.pdf')} (a result.json output, or none, writes no PDF anyway).`);
  if (options.forcePolicy && !options.policy) throw usage(`${named('--force-policy', 'forcePolicy')} applies a policy outside its terms (its dates or models): give the policy (${named('--policy-gates FILE', 'policy')}).`);
  // Only these two name what to write (report.html wrote the result JSON alone, without a word).
  if (options.output !== undefined && !/\.(pdf|json)$/.test(options.output)) {
    throw usage(`${style === 'cli' ? '--output' : 'the output option'} ${options.output}: name the PDF report (REPORT.pdf, which writes the HTML report, model card and evidence pack beside it) or the result alone (RESULT.json).`);
  }
  const threads = threadCount(options.threads, style);
  const source = configFile?.fileName ?? (options.config ? configName : 'command line');
  let plan: AuditPlan;
  try {
    plan = planAudit(merged, source, options.strict ?? false);
  } catch (error) {
    throw namingOption(error, options, style, source);
  }
  const provenanceAnchor = typeof options.config === 'string' ? options.config : (plan.files.model ?? plan.files.data);
  const submission = registrySubmission(merged, process.env, configFile?.fileName ?? configName);
  // A registry file named in the config is relative to the config, as its other paths are.
  if (submission && !/^postgres(ql)?:\/\//i.test(submission.database)) submission.database = resolve(base, submission.database);
  return { options, merged, plan, ...(configFile ? { configFile } : {}), provenanceAnchor, submission, threads };
}

/**
 * The threads an audit or explanation uses: `threads` (the CLI's `--threads`), else the
 * environment's PLUMBLINE_THREADS (a CI runner whose CPU quota is below its core count), else
 * the cores this process may use. A count outside 1…64 is refused, naming where it came from.
 */
function threadCount(threads: number | undefined, style: OptionStyle): number {
  const refuse = (message: string) => (style === 'cli' ? new UsageError(message) : apiUsageError(message));
  if (threads !== undefined) {
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS)) throw refuse(`${style === 'cli' ? '--threads' : 'threads'} must be a whole number from 1 to ${MAX_THREADS}, got ${threads}.`);
    return threads;
  }
  const fromEnvironment = process.env.PLUMBLINE_THREADS;
  if (fromEnvironment === undefined || fromEnvironment === '') return defaultThreads();
  const n = Number(fromEnvironment);
  if (!(/^\d+$/.test(fromEnvironment.trim()) && n >= 1 && n <= MAX_THREADS)) throw refuse(`the environment variable PLUMBLINE_THREADS must be a whole number from 1 to ${MAX_THREADS}, got ${JSON.stringify(fromEnvironment)}. Set it so, or unset it to use every core.`);
  return n;
}

/** Scores with onnxruntime-web's WASM build on one thread, as the app's worker does: the same numbers on every host. */
function singleThreadedOrt(): typeof ort {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  return ort;
}

/** The column distributions stored in an earlier result (JSON) or report (PDF, HTML). */
function storedReferenceOf(file: { fileName: string; bytes: Uint8Array }, path: string): StoredReference {
  const result = readResultFile(file.bytes, path) as { data?: { distributions?: Record<string, StoredDistribution>; prediction_distribution?: StoredDistribution }; settings?: { target?: string }; inputs?: { model?: { sha256?: string; column?: string } } };
  const data = result.data;
  const scoredBy = scoredByOf(result.inputs?.model);
  if (!data?.distributions) throw new UsageError(`${path} holds no stored distributions (data.distributions): use a result or report made by this version of Plumbline.`);
  return {
    source: `stored distributions of ${file.fileName}`,
    distributions: data.distributions,
    ...(data.prediction_distribution ? { prediction: data.prediction_distribution } : {}),
    ...(result.settings?.target ? { target: result.settings.target } : {}),
    ...(scoredBy ? { scoredBy } : {}),
  };
}

/**
 * Writes a file under a temporary name, then renames it: a full disk or a crash leaves the
 * old file or none, never a partial one.
 */
export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw new UsageError(`the disk is full: ${path} was not written (nothing partial was left). Free some space and run the audit again.`);
    throw error;
  }
}

/** Reads the files of a prepared audit, runs it, makes its outputs and writes them where `output` says. */
export async function runPreparedAudit(prepared: PreparedAudit): Promise<AuditRun> {
  const { options, merged, plan, configFile } = prepared;
  const strict = options.strict ?? false;
  const policyFile = options.policy ? await readInput(options.policy, 'policy') : undefined;
  const policy = policyFile ? parsePolicy(new TextDecoder().decode(policyFile.bytes), policyFile.fileName) : undefined;
  const model = plan.files.model ? await readInput(plan.files.model, 'model') : undefined;
  const runtime = singleThreadedOrt();
  // Large CSV files are read in slices over the same threads.
  const { csvSlices, ...pool } = poolRunners(prepared.threads);
  const onProgress = options.onProgress ?? (() => undefined);
  const referenceDistributions = options.referenceResult ? storedReferenceOf(await readInput(options.referenceResult, 'reference result'), options.referenceResult) : undefined;
  // Data files are streamed from disk and hashed on the way with Node's native SHA-256.
  // An ONNX model's runtime starts (its WebAssembly compiled) while the data is read, once the
  // data file has begun to read: a file that cannot be opened fails at once, not after it.
  let warming = !(model && looksLikeOnnx(model.bytes));
  const parseProgress = (p: LoadProgress) => {
    if (!warming) {
      warming = true;
      void warmOnnxRuntime(runtime);
    }
    onProgress({ stage: 'parse', done: p.bytes, total: p.totalBytes });
  };
  const csv = { ...plan.request.csv, csvSlices };
  const loadedData = await loadTableFile(plan.files.data, 'data', csv, parseProgress);
  const loadedReference = plan.files.reference ? await loadTableFile(plan.files.reference, 'reference', csv) : undefined;
  const loadedValidation = plan.files.validation ? await loadTableFile(plan.files.validation, 'validation', csv) : undefined;
  const baseline = await loadBaseline(options.baseline);
  const audited = await runAnyAudit(
    runtime,
    { ...plan.request, model, data: loadedData, reference: loadedReference, validation: loadedValidation, referenceDistributions, includePredictions: options.predictions ?? false, missingSections: plan.missingSections, ...(baseline ? { baseline } : {}) },
    { onProgress, ...pool },
  );

  const files: Record<string, { file: string; sha256: string }> = { data: { file: loadedData.fileName, sha256: loadedData.loaded.sha256 } };
  if (model) files.model = { file: model.fileName, sha256: sha256Hex(model.bytes) };
  if (loadedReference) files.reference = { file: loadedReference.fileName, sha256: loadedReference.loaded.sha256 };
  if (loadedValidation) files.validation = { file: loadedValidation.fileName, sha256: loadedValidation.loaded.sha256 };
  if (configFile) files.config = { file: configFile.fileName, sha256: sha256Hex(configFile.bytes) };
  if (policyFile) files.policy = { file: policyFile.fileName, sha256: sha256Hex(policyFile.bytes) };
  if (audited.comparison) files.baseline = { file: audited.comparison.baseline.file, sha256: audited.comparison.baseline.sha256 };
  const inputPaths = [typeof options.config === 'string' ? options.config : undefined, options.policy, plan.files.model, plan.files.data, plan.files.reference, plan.files.validation].filter((path): path is string => path !== undefined);
  const git = gitProvenance(prepared.provenanceAnchor, inputPaths);
  const sourceDateEpoch = process.env.SOURCE_DATE_EPOCH;
  const epochSeconds = sourceDateEpoch && /^\d+$/.test(sourceDateEpoch) ? Number(sourceDateEpoch) : Math.floor(Date.now() / 1000);
  const output = options.output;
  // `output: report.pdf`: the whole report family; `output: result.json`: the result,
  // manifest and decision. Every file comes from the one outputs bundle the app uses too.
  const reports = output?.endsWith('.pdf') ? reportsOf(merged.report, options.noPdf ?? false) : { pdf: false, html: false, modelCard: false, pack: false };
  const outputs = auditOutputs(audited, {
    base: output ? basename(output).replace(/\.[^.]*$/, '') : 'result',
    files,
    sources: { ...(configFile ? { config: configFile } : {}), ...(policyFile ? { policy: policyFile } : {}) },
    policy: policy ?? null,
    forcePolicy: options.forcePolicy ?? false,
    seedExplicit: plan.seedExplicit,
    strict,
    gitCommit: git.commit,
    ...(git.dirty !== undefined ? { gitDirty: git.dirty } : {}),
    epochSeconds,
    fromSourceDateEpoch: Boolean(sourceDateEpoch),
    backend: model ? 'wasm' : 'none (score column)',
    manifestWritten: Boolean(output),
    metadata: plan.metadata,
    ...(merged.report?.title ? { title: merged.report.title } : {}),
    reports,
  });
  if (output) {
    const directory = dirname(resolve(output));
    await mkdir(directory, { recursive: true });
    for (const [name, bytes] of Object.entries(outputs.files)) await writeFileAtomically(join(directory, name), bytes);
  }
  return { result: outputs.result, decision: outputs.decision, manifest: outputs.manifest, files: outputs.files, ...(merged.report?.title ? { title: merged.report.title } : {}) };
}

/**
 * Audits a model (or a score column) on a data file, as `plumbline audit` does: the config
 * and options are checked and planned, the files read (data streamed and hashed), the
 * model scored, every metric, gate and report made. Resolves to the result, the policy
 * decision, the manifest and every output file's bytes; writes them when `output` is given.
 *
 * ```js
 * const run = await audit({ config: 'audit/audit.yaml', policy: 'audit/policy.yaml' });
 * run.decision?.decision; // 'PASS' | 'REVIEW' | 'FAIL' | 'NOT_APPLIED'
 * ```
 */
export async function audit(options: AuditOptions): Promise<AuditRun> {
  const prepared = await prepareAudit(options);
  const registry = prepared.submission ? await registryModule() : undefined;
  if (registry && prepared.submission) await registry.checkRegistryFile(prepared.submission.database);
  const run = await runPreparedAudit(prepared);
  // The config's registry block (auto_submit): appended as the CLI appends it.
  if (registry && prepared.submission) await registry.appendToRegistry(prepared.submission.database, { result: run.result, manifest: run.manifest, metadata: { ...prepared.plan.metadata, ...prepared.submission.metadata } });
  return run;
}

/** What {@link explain} explains: the model and data files, and the explainer's settings. */
export interface ExplainOptions extends Omit<ExplainRequest, 'model' | 'data' | 'background'> {
  /** The model file (ONNX, XGBoost JSON or LightGBM text). */
  model: string;
  /** The rows to explain (CSV, Parquet or Arrow). */
  data: string;
  /** Background rows (reference or training data); default the data itself. */
  background?: string;
  /** Threads for TreeSHAP and for scoring KernelSHAP's coalitions (default: the cores this process may use); the values are the same to the bit for any count. */
  threads?: number;
}

/**
 * SHAP values (or permutation importance) of rows of a data file, as `plumbline explain`
 * writes them: `{columns, expected_value, values, …}`, with reason codes when asked.
 */
export async function explain(options: ExplainOptions, style: OptionStyle = 'api'): Promise<ExplainResult> {
  const { model, data, background, threads, ...settings } = options;
  const pool = poolRunners(threadCount(threads, style));
  const request = {
    ...settings,
    model: await readInput(model, 'model'),
    data: await readInput(data, 'data'),
    ...(background ? { background: await readInput(background, 'background') } : {}),
  };
  return explainModel(singleThreadedOrt(), request, undefined, pool);
}

/** What {@link checkData} checks: a data file, its target and protected attributes. */
export interface CheckDataOptions {
  /** The data file (CSV, Parquet or Arrow). */
  data: string;
  /** The column holding the true outcome. */
  target: string;
  /** The protected attribute columns (proxies are looked for among the others). */
  protected?: string[];
  /** The positive outcome (default 1 for a 0/1 target). */
  positiveLabel?: string;
  /** How a CSV is read (delimiter, missing values, column types). */
  csv?: LoadOptions;
}

/**
 * The data checks of an audit, without a model: each column's profile, the class balance,
 * duplicate rows, proxies of the protected attributes, leakage, and the findings (what an
 * audit's `result.data` holds).
 */
export async function checkData(options: CheckDataOptions): Promise<DataProfile> {
  const { loaded } = await loadTableFile(options.data, 'data', options.csv ?? {});
  return profileData({ table: loaded.table, target: options.target, protectedAttributes: options.protected ?? [], ...(options.positiveLabel !== undefined ? { positiveLabel: options.positiveLabel } : {}) });
}

/**
 * The PDF report of an audit ({@link AuditRun}, or a result with its manifest and decision),
 * as bytes: for a run from {@link audit}, the same bytes the CLI writes as `report.pdf`.
 */
export function renderPdf(input: PdfInput): Uint8Array {
  return reportPdf(input);
}

/** The baseline of a champion-vs-challenger audit, read from its file (result JSON, PDF or HTML report). */
async function loadBaseline(baseline: AuditOptions['baseline']): Promise<{ result: BaselineResult; file: string; sha256: string } | undefined> {
  if (baseline === undefined || typeof baseline === 'object') return baseline;
  const file = await readInput(baseline, 'baseline result');
  return { result: readResultFile(file.bytes, baseline) as unknown as BaselineResult, file: file.fileName, sha256: sha256Hex(file.bytes) };
}

/** An audit result read back from a result JSON or a Plumbline PDF or HTML report. */
export async function readResult(path: string): Promise<AnyAuditResult> {
  return readResultFile((await readInput(path, 'result')).bytes, path) as unknown as AnyAuditResult;
}

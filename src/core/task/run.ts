/**
 * The audit of a multiclass classifier or a regression model: the binary audit's frame
 * (data profile, input fidelity, drift, explanations, findings) around the task's own
 * metrics, intervals, calibration and fairness (metrics/multiclass*, metrics/regression,
 * metrics/task-intervals). What the binary audit has and these do not yet — robustness,
 * recourse, intersections, slices, threshold policies, baselines, audits without labels —
 * is refused when asked for, or listed in `missing_sections` with the reason.
 */
import { auditScores, loadInput, NO_REFERENCE, validateColumns, type AuditRequest, type AuditSettings, type LoadedInput, type RunOptions } from '../audit';
import { profileTable, summarizeData, type DataProfile } from '../data/profile';
import { findColumn, type Table } from '../data/table';
import { categoricalDrift, driftFromStored, driftReport, numericDrift, withThresholds, type DriftReport } from '../drift/drift';
import { AuditConfigError, isPlumblineError, ModelLoadError, quote } from '../errors';
import { sha256Hex } from '../hash';
import { checkStageMemory, DEFAULT_STAGE_MEMORY_MB, driftEstimate, explainFix, withStageBudget, type StageLimits } from '../limits';
import { groupIndex } from '../metrics/groups';
import { wilsonInterval } from '../metrics/intervals';
import { MULTICLASS_CONVENTIONS, multiclassCalibration, multiclassPerformance, multiclassReliability, predictedClasses } from '../metrics/multiclass';
import { multiclassFairness } from '../metrics/multiclass-fairness';
import { decileEdges, REGRESSION_CONVENTIONS, regressionFairness, regressionPerformance, type DecileCalibration } from '../metrics/regression';
import { multiclassIntervals, regressionIntervals, TASK_INTERVAL_CONVENTIONS } from '../metrics/task-intervals';
import { inspectModel, openModel, type Classifier } from '../model/classifier';
import { fidelityFindings, inputFidelity, type InputFidelity } from '../model/fidelity';
import { decodeOnnx } from '../model/onnx-graph';
import type { OrtRuntime } from '../model/onnx-scorer';
import { onnxClassEnsemble } from '../model/onnx-trees';
import { openRegressor } from '../model/regressor';
import { readLightgbmText, readXgboostJson, type TreeEnsemble } from '../model/trees';
import { Random } from '../random';
import { TOOL_VERSION } from '../version';
import { classScoreOf, explainMulticlass, explainRegression } from './explain';
import { classNames, classTarget, regressionTarget, type TaskChoice } from './resolve';
import type { MulticlassAuditResult, MulticlassFairness, RegressionAuditResult, RegressionDecision, RegressionFairness, TaskAuditResult, TaskExplanations, TaskModelInput, TaskSettings } from './result';

/** Rows of the residual and predicted-vs-actual plots (a seeded sample of a larger file). */
export const RESIDUAL_PLOT_ROWS = 2000;

/** Shuffles of the distributional-parity permutation test. */
export const PERMUTATIONS = 1000;

/** How far a row's class probabilities may sum from 1 and still be read as probabilities (float32 rounding). */
const SUM_TOLERANCE = 1e-4;

/** Why a section of the binary audit is not part of these audits yet. */
const NOT_YET = (what: string, task: string) => `${what} is not part of ${task} audits yet (binary audits only)`;

/** Refuses what a multiclass or regression audit cannot honour, naming the key and the fix. */
function refuseUnsupported(request: AuditRequest, task: 'multiclass' | 'regression'): void {
  const refuse = (key: string, why: string) => {
    throw new AuditConfigError(`${key} is set, but ${why} in a ${task} audit. Remove ${key}, or audit a binary classifier (task: binary).`);
  };
  if (!request.target || request.unlabelled) throw new AuditConfigError(`A ${task} audit needs labels: name the target column (--target / data.target). Audits without labels are binary-only for now.`);
  if (request.thresholdPolicy && request.thresholdPolicy.policy !== 'fixed') refuse('threshold (a policy)', 'a threshold policy is not fitted');
  if (request.validation) refuse('data.validation', 'no threshold policy is fitted');
  if (request.baseline) refuse('the baseline (--baseline)', 'champion–challenger comparisons are not made yet');
  if (request.sampleSize !== undefined) refuse('data.sample_size', 'the test rows are not sampled');
  if (request.intersections) refuse('fairness.intersections', 'intersections are not audited yet');
  if (request.slices) refuse('fairness.slice_columns', 'slices are not evaluated yet');
  if (request.ll144) refuse('fairness.ll144', 'the NYC Local Law 144 tables (selection of a binary decision) are not made');
  if (request.referenceGroups && Object.keys(request.referenceGroups).length) refuse('fairness.reference_groups', 'the four-fifths rule (a binary decision’s) is not applied');
  if (task === 'multiclass' && request.threshold !== undefined) refuse('threshold', 'the predicted class is the most probable one; no threshold applies');
  if (task === 'multiclass' && request.positiveWhen) refuse('positive_when', 'there is no regression decision');
  if (task === 'regression' && request.classLabels) refuse('model.class_labels', 'a regression has no classes');
  if (task === 'regression' && request.threshold !== undefined && !request.positiveWhen) {
    throw new AuditConfigError(`threshold ${request.threshold} is set for a regression: say whether the decision is positive when the prediction is above or below it with positive_when: above|below (--positive-when).`);
  }
  if (task === 'regression' && request.positiveWhen && request.threshold === undefined) {
    throw new AuditConfigError(`positive_when: ${request.positiveWhen} is set without a threshold: set threshold to the prediction the decision turns on.`);
  }
}

/** The model as a multiclass audit reads it: every class's probability. */
async function openMulticlass(ort: OrtRuntime, request: AuditRequest, options: RunOptions): Promise<{ model: Classifier; modelLabels: (string | number)[] | null }> {
  const file = request.model!;
  const summary = inspectModel(file.bytes, file.fileName);
  const modelLabels = summary.classLabels;
  // Any class opens the file (the binary audit's class choice); the audit reads every class's probability.
  const model = await openModel(ort, file.bytes, file.fileName, {
    positiveLabel: modelLabels?.[0] ?? 0,
    userMissingValues: request.csv?.missingValues,
    sessionOptions: options.sessionOptions,
    treeMargins: options.treeMargins,
  });
  if (!model.probabilities) {
    await model.release();
    throw new ModelLoadError(`${file.fileName}: the class probabilities of this model cannot be read one per class. Audit one class against the rest with a positive label (task: binary).`);
  }
  return { model, modelLabels };
}

/** Refuses class probabilities that are not probabilities (NaN, outside [0, 1], rows not summing to 1). */
function checkProbabilities(values: Float64Array, width: number, modelFile: string, dataFile: string): void {
  const n = values.length / width;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < width; k++) {
      const p = values[i * width + k];
      if (!(p >= -1e-5 && p <= 1 + 1e-5)) throw new ModelLoadError(`${modelFile}: the model's output for row ${i + 1} of ${dataFile} is not a probability (class ${k}: ${p}). Check the row's inputs, or that the output read holds probabilities.`);
      values[i * width + k] = Math.min(1, Math.max(0, p));
      sum += p;
    }
    if (Math.abs(sum - 1) > SUM_TOLERANCE) throw new ModelLoadError(`${modelFile}: the class probabilities of row ${i + 1} of ${dataFile} sum to ${sum}, not 1: the output is not a probability per class (margins? one-vs-all scores?). Export the model with its probability output.`);
  }
}

/** The multiclass tree ensemble of a model file (for TreeSHAP per class), or null. */
function multiclassEnsemble(request: AuditRequest, model: Classifier): TreeEnsemble | null {
  const { bytes, fileName } = request.model!;
  try {
    if (model.summary.format === 'xgboost-json') return readXgboostJson(bytes, fileName);
    if (model.summary.format === 'lightgbm-text') return readLightgbmText(bytes, fileName);
    if (model.summary.featureCount) return onnxClassEnsemble(decodeOnnx(bytes, fileName), fileName, model.summary.featureCount);
  } catch (error) {
    if (!isPlumblineError(error)) throw error;
  }
  return null;
}

function modelInput(request: AuditRequest, model: Classifier, scoreOutput: string, classes?: string[]): TaskModelInput {
  const s = model.summary;
  return { file: request.model!.fileName, sha256: sha256Hex(request.model!.bytes), format: s.format, producer: s.producer, opsets: s.opsets, operators: s.operators, score_output: scoreOutput, ...(classes ? { classes } : {}) };
}

/** The data profile with the task's target counts; the leakage check reads a binary view of the target, said in its findings. */
function taskProfile(table: Table, request: AuditRequest, binaryView: Uint8Array, counts: Record<string, number>, view: string): DataProfile {
  const profile = profileTable(table, request.target, binaryView, request.protectedAttributes);
  const values = Object.values(counts).filter((c) => c > 0);
  const imbalance = values.length > 1 ? Math.max(...values) / Math.min(...values) : null;
  profile.findings = profile.findings
    .filter((f) => f.check !== 'class_imbalance')
    .map((f) => (f.check === 'leakage' ? { ...f, message: `${f.message} (the target read as ${view})` } : f));
  if (imbalance !== null && imbalance > 10 && Object.keys(counts).length <= 50) {
    profile.findings.push({ check: 'class_imbalance', severity: 'warning', column: request.target, message: `The classes are imbalanced ${imbalance.toFixed(1)} to 1 (more than 10×): the rare classes' metrics are uncertain.` });
  }
  return { ...profile, target: { counts, imbalance_ratio: imbalance } };
}

/** Runs a section; a Plumbline error leaves it out with the reason. */
async function section<T>(missing: Record<string, string>, key: string, body: () => Promise<T>): Promise<T | undefined> {
  try {
    return await body();
  } catch (error) {
    if (!isPlumblineError(error)) throw error;
    missing[key] = (error as Error).message;
    return undefined;
  }
}

/** Drift of the audited rows against the reference (or stored distributions), with the label's and the prediction's. */
async function taskDrift(request: AuditRequest, table: Table, reference: Table | null, predictionDrift: (reference: Table) => Promise<DriftReport['prediction']>, limits: StageLimits, missing: Record<string, string>, options: RunOptions): Promise<DriftReport | undefined> {
  let drift: DriftReport | undefined;
  if (reference && !missing.drift) {
    drift = await section(missing, 'drift', async () => {
      checkStageMemory('Drift', driftEstimate(reference.rowCount, table.rowCount, reference.columns.length), limits);
      return withStageBudget('Drift', limits, options.signal, 'use a smaller reference file', async () => {
        const report = driftReport(reference, table, { exclude: [request.target], bins: request.driftBins });
        const refTarget = findColumn(reference, request.target);
        const curTarget = findColumn(table, request.target)!;
        if (refTarget) report.label = refTarget.kind === 'numeric' && curTarget.kind === 'numeric' ? numericDrift(request.target, refTarget.values, curTarget.values, request.driftBins) : categoricalDrift(request.target, refTarget, curTarget);
        const prediction = await predictionDrift(reference);
        if (prediction) report.prediction = prediction;
        return report;
      });
    });
  } else if (request.referenceDistributions && !missing.drift) {
    drift = driftFromStored(request.referenceDistributions.distributions, table, request.referenceDistributions.source, [request.target]);
  } else if (!missing.drift) {
    missing.drift = NO_REFERENCE;
  }
  return drift && request.driftThresholds ? withThresholds(drift, request.driftThresholds) : drift;
}

/** The settings both tasks share. */
function baseSettings(request: AuditRequest, choice: TaskChoice, features: string[] | null, resamples: number): Omit<TaskSettings, 'task'> {
  return {
    task_source: choice.source,
    target: request.target,
    protected_attributes: [...request.protectedAttributes],
    features,
    seed: request.seed ?? 0,
    confidence: request.confidence ?? 0.95,
    bootstrap_resamples: resamples,
    calibration_bins: request.calibrationBins ?? 10,
    min_group_size: request.minGroupSize ?? 30,
  };
}

function smallGroups(groups: Record<string, { n: number }>, min: number): string[] {
  return Object.entries(groups).filter(([, g]) => g.n < min).map(([name]) => name);
}

/** Findings every task shares: small groups, skipped rows, replaced characters, the input fidelity's. */
function commonFindings(data: DataProfile, fairness: Record<string, { groups: Record<string, { n: number }> }>, request: AuditRequest, table: Table, read: TaskRead, min: number): void {
  for (const [attribute, f] of Object.entries(fairness)) {
    for (const [group, g] of Object.entries(f.groups)) {
      if (g.n < min) data.findings.push({ check: 'small_group', severity: 'warning', column: attribute, message: `${attribute} = ${group} has ${g.n} rows (fewer than ${min}): its metrics are too uncertain to judge.` });
    }
  }
  if (table.skipped) data.findings.push({ check: 'skipped_rows', severity: 'warning', message: `${request.data.fileName}: ${table.skipped.rows} row${table.skipped.rows === 1 ? '' : 's'} with the wrong number of fields skipped (data.skip_bad_lines): ${table.skipped.examples.join('; ')}.` });
  if (read.replaced > 0) data.findings.push({ check: 'encoding', severity: 'warning', message: `${request.data.fileName}: ${read.replaced} character${read.replaced === 1 ? ' was' : 's were'} not valid UTF-8 and shown as U+FFFD (the file may be Latin-1): re-export it as UTF-8 so category names match.` });
}

/** The data as read once by the dispatcher. */
export interface TaskRead {
  table: Table;
  sha256: string;
  replaced: number;
}

function fidelityOf(model: Classifier, table: Table, features: string[], request: AuditRequest, data: DataProfile): InputFidelity {
  const fidelity = inputFidelity(model.summary, table, features, new Set(request.csv?.missingValues ?? []));
  const limit = request.maxUnknownCategoryShare;
  const worst = fidelity.inputs.filter((e) => e.unseen && limit !== undefined && e.unseen.share > limit).sort((a, b) => b.unseen!.share - a.unseen!.share)[0];
  if (worst) {
    throw new AuditConfigError(`${table.source}, column ${quote(worst.column)}: ${(worst.unseen!.share * 100).toFixed(1)}% of rows hold values ${request.model!.fileName} never saw for input ${quote(worst.input)}, more than the ${(limit! * 100).toFixed(1)}% allowed (model.max_unknown_category_share). Check that the data is coded as the model was trained, or raise the limit.`);
  }
  data.findings.push(...fidelityFindings(fidelity, request.model!.fileName, request.data.fileName));
  return fidelity;
}

/**
 * Audits a multiclass classifier or a regression model (`choice.task`); the data was read
 * by the dispatcher (core/run.ts), which also chose the task.
 */
export async function runTaskAudit(ort: OrtRuntime, request: AuditRequest & { data: LoadedInput }, options: RunOptions, choice: TaskChoice & { task: 'multiclass' | 'regression' }, read: TaskRead): Promise<TaskAuditResult> {
  refuseUnsupported(request, choice.task);
  if (!request.model) throw new AuditConfigError(`A ${choice.task} audit needs the model file (--model / model.path).`);
  const resamples = request.bootstrapResamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 0 || resamples > 100_000) throw new AuditConfigError(`Bootstrap resamples must be a whole number from 0 to 100000, got ${request.bootstrapResamples}.`);
  validateColumns(read.table, { ...request, intersections: [] });
  return choice.task === 'multiclass' ? multiclassAudit(ort, request, options, choice, read, resamples) : regressionAudit(ort, request, options, choice, read, resamples);
}

function limitsOf(request: AuditRequest): StageLimits {
  return { memoryBytes: (request.limits?.stageMemoryMb ?? DEFAULT_STAGE_MEMORY_MB) * 2 ** 20, seconds: request.limits?.stageSeconds ?? null };
}

function referenceOf(request: AuditRequest): { table: Table; sha256: string } | null {
  if (!request.reference) return null;
  const loaded = loadInput(request.reference, request.csv);
  return { table: loaded.table, sha256: loaded.sha256 };
}

async function multiclassAudit(ort: OrtRuntime, request: AuditRequest, options: RunOptions, choice: TaskChoice, read: TaskRead, resamples: number): Promise<MulticlassAuditResult> {
  const { table } = read;
  const { onProgress, signal } = options;
  const { model, modelLabels } = await openMulticlass(ort, request, options);
  try {
    const features = model.features(table, request.features);
    onProgress?.({ stage: 'score', done: 0, total: table.rowCount });
    const { width, values } = await model.probabilities!(table, { features: request.features, signal });
    onProgress?.({ stage: 'score', done: table.rowCount, total: table.rowCount });
    if (width < 3) throw new AuditConfigError(`task: multiclass, but ${request.model!.fileName} gives ${width} probabilities per row. Audit it as a binary classifier (task: binary).`);
    checkProbabilities(values, width, request.model!.fileName, request.data.fileName);
    const { classes, source } = classNames(request.model!.fileName, modelLabels, width, request.classLabels);
    const labels = classTarget(table, request.target, classes, source);
    const settings: TaskSettings = { task: 'multiclass', ...baseSettings(request, choice, features, resamples), classes, classes_source: source };
    const missing: Record<string, string> = { ...(request.missingSections ?? {}) };
    const limits = limitsOf(request);
    onProgress?.({ stage: 'metrics', done: 0, total: 1 });
    const stream = (name: string) => ({ confidence: settings.confidence, resamples, seed: settings.seed, stream: name });
    const performance = { ...multiclassPerformance(labels, values, classes), intervals: multiclassIntervals(labels, values, classes, stream('multiclass/performance')) };
    const reliability = multiclassReliability(labels, values, classes, { bins: settings.calibration_bins, confidence: settings.confidence });
    const calibration = { ...multiclassCalibration(labels, values, classes, settings.calibration_bins), ...reliability };
    const fairness: Record<string, MulticlassFairness> = {};
    for (const attribute of settings.protected_attributes) {
      const measured = multiclassFairness(labels, values, classes, groupIndex(table, attribute));
      const groups = Object.fromEntries(
        Object.entries(measured.groups).map(([name, g]) => {
          const correct = g.accuracy === null ? 0 : Math.round(g.accuracy * g.n);
          return [name, { ...g, insufficient_samples: g.n < settings.min_group_size, accuracy_interval: g.n ? wilsonInterval(correct, g.n, settings.confidence) : null }];
        }),
      );
      fairness[attribute] = { ...measured, groups, min_group_size: Math.min(...Object.values(groups).map((g) => g.n)), small_groups: smallGroups(groups, settings.min_group_size) };
    }
    onProgress?.({ stage: 'metrics', done: 1, total: 1 });
    const predicted = predictedClasses(values, width);
    const counts = Object.fromEntries(classes.map((c) => [c, 0]));
    for (const k of labels) counts[classes[k]]++;
    const majority = classes.reduce((best, c) => (counts[c] > counts[best] ? c : best), classes[0]);
    const majorityIndex = classes.indexOf(majority);
    const data = taskProfile(table, request, Uint8Array.from(labels, (k) => (k === majorityIndex ? 1 : 0)), counts, `${majority} (the most frequent class) against the rest`);
    const fidelity = fidelityOf(model, table, features, request, data);
    commonFindings(data, fairness, request, table, read, settings.min_group_size);
    const referenceLoaded = referenceOf(request);
    const reference = referenceLoaded?.table ?? null;
    onProgress?.({ stage: 'drift', done: 0, total: 1 });
    const drift = await taskDrift(request, table, reference, async (ref) => {
      const scored = await model.probabilities!(ref, { features: request.features, signal });
      const top = predictedClasses(scored.values, scored.width);
      return numericDrift('p(predicted class)', Float64Array.from(top, (k, i) => scored.values[i * scored.width + k]), Float64Array.from(predicted, (k, i) => values[i * width + k]), request.driftBins);
    }, limits, missing, options);
    onProgress?.({ stage: 'drift', done: 1, total: 1 });
    const explanations = await taskExplanations(request, missing, limits, options, table, reference, features, (input) =>
      explainMulticlass({ classes, ensemble: multiclassEnsemble(request, model), predicted, labels, classScore: (k) => classScoreOf(model, k), base: model }, input),
    );
    missing.robustness ??= NOT_YET('Robustness (demographic shift, perturbation, counterfactual flips)', 'multiclass');
    missing.recourse ??= NOT_YET('Recourse (counterfactuals for an adverse decision)', 'multiclass');
    return {
      task: 'multiclass',
      task_notice: `MULTICLASS AUDIT of ${classes.length} classes (${classes.join(', ')}; ${source}). The predicted class is the most probable one (ties to the first). Averages are macro (classes equal), weighted (by support) and micro (rows equal); ROC AUC is one-vs-rest per class; fairness compares each class's selection rate and one-vs-rest TPR/FPR between groups, worst class first. Task ${choice.source}.`,
      tool: { name: 'plumbline', version: TOOL_VERSION },
      inputs: { model: modelInput(request, model, `every class's probability (${classes.length} per row, ${source})`, classes), data: { file: request.data.fileName, sha256: read.sha256, rows: table.rowCount, columns: table.columns.length } },
      settings,
      n: table.rowCount,
      data,
      input_fidelity: fidelity,
      ...(referenceLoaded && request.reference ? { reference_data: summarizeData(referenceLoaded.table, request.reference.fileName, referenceLoaded.sha256, request.target) } : {}),
      ...(drift ? { drift } : {}),
      ...(explanations ? { explanations } : {}),
      missing_sections: missing,
      conventions: { ...MULTICLASS_CONVENTIONS, ...TASK_INTERVAL_CONVENTIONS, fairness_small_groups: `groups under ${settings.min_group_size} rows (fairness.min_group_size) are flagged insufficient_samples and listed in small_groups; their rates are too uncertain to judge on their own` },
      performance,
      calibration,
      fairness,
      ...(request.includePredictions ? { predictions: Array.from({ length: table.rowCount }, (_, i) => Array.from(values.subarray(i * width, (i + 1) * width))) } : {}),
    };
  } finally {
    await model.release();
  }
}

/** The explanations stage of both tasks: explainer settings, budget, and the reason when it cannot run. */
async function taskExplanations(request: AuditRequest, missing: Record<string, string>, limits: StageLimits, options: RunOptions, table: Table, reference: Table | null, features: string[], explain: (input: Parameters<typeof explainRegression>[2]) => Promise<TaskExplanations>): Promise<TaskExplanations | undefined> {
  if (missing.explainer) return undefined;
  const rows = request.explainer?.rows ?? 100;
  const backgroundRows = request.explainer?.backgroundRows ?? 100;
  if (request.explainer?.method && request.explainer.method !== 'auto') {
    throw new AuditConfigError(`explainer.type: ${request.explainer.method} is not available in multiclass and regression audits: they use TreeSHAP (interventional) on tree ensembles and KernelSHAP otherwise. Set explainer.type: auto.`);
  }
  options.onProgress?.({ stage: 'explain', done: 0, total: 1 });
  const result = await section(missing, 'explainer', () =>
    withStageBudget('The explanations', limits, options.signal, explainFix(rows, backgroundRows), (stageSignal) =>
      explain({ table, background: reference ?? table, columns: features, rows, backgroundRows, seed: request.seed ?? 0, features: request.features, signal: stageSignal, treeShap: options.treeShap }),
    ),
  );
  options.onProgress?.({ stage: 'explain', done: 1, total: 1 });
  return result;
}

/** Mean outcome by decile of the prediction over all rows. */
function overallDeciles(y: Float64Array, predicted: Float64Array): { deciles: DecileCalibration[]; decile_edges: number[] } {
  const all = new Uint32Array(y.length).map((_, i) => i);
  const single = { attribute: '(all rows)', groups: ['all'], rows: [all], groupOf: new Int32Array(y.length) };
  const measured = regressionFairness(y, predicted, single, { seed: 0, permutations: 0 });
  return { deciles: measured.groups.all.calibration, decile_edges: decileEdges(predicted) };
}

async function regressionAudit(ort: OrtRuntime, request: AuditRequest, options: RunOptions, choice: TaskChoice, read: TaskRead, resamples: number): Promise<RegressionAuditResult> {
  const { table } = read;
  const { onProgress, signal } = options;
  const regressor = await openRegressor(ort, request.model!.bytes, request.model!.fileName, { userMissingValues: request.csv?.missingValues, treeMargins: options.treeMargins });
  try {
    const features = regressor.features(table, request.features);
    onProgress?.({ stage: 'score', done: 0, total: table.rowCount });
    const predicted = await regressor.predict(table, { features: request.features, signal });
    onProgress?.({ stage: 'score', done: table.rowCount, total: table.rowCount });
    const bad = predicted.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new ModelLoadError(`${request.model!.fileName}: the prediction for row ${bad + 1} of ${request.data.fileName} is ${predicted[bad]}. Check the row's inputs (missing values the model cannot take?).`);
    const y = regressionTarget(table, request.target);
    const decision: RegressionDecision | null = request.threshold !== undefined && request.positiveWhen ? { threshold: request.threshold, positive_when: request.positiveWhen } : null;
    if (decision && !Number.isFinite(decision.threshold)) throw new AuditConfigError(`threshold must be a number for a regression decision, got ${request.threshold}.`);
    const settings: TaskSettings = { task: 'regression', ...baseSettings(request, choice, features, resamples), permutations: PERMUTATIONS, decision };
    const missing: Record<string, string> = { ...(request.missingSections ?? {}) };
    const limits = limitsOf(request);
    onProgress?.({ stage: 'metrics', done: 0, total: 1 });
    const performance = { ...regressionPerformance(y, predicted), intervals: regressionIntervals(y, predicted, { confidence: settings.confidence, resamples, seed: settings.seed, stream: 'regression/performance' }) };
    const fairness: Record<string, RegressionFairness> = {};
    for (const attribute of settings.protected_attributes) {
      const { ks_statistic, wasserstein_distance, groups: measuredGroups, ...rest } = regressionFairness(y, predicted, groupIndex(table, attribute), { seed: settings.seed, permutations: PERMUTATIONS });
      const groups = Object.fromEntries(Object.entries(measuredGroups).map(([name, g]) => [name, { ...g, insufficient_samples: g.n < settings.min_group_size }]));
      fairness[attribute] = { ...rest, groups, ks_statistic: ks_statistic.value, wasserstein_distance: wasserstein_distance.value, distribution: { ks_statistic, wasserstein_distance }, min_group_size: Math.min(...Object.values(groups).map((g) => g.n)), small_groups: smallGroups(groups, settings.min_group_size) };
    }
    // A regression that feeds a decision: the binary audit of that decision on top (score = the prediction, or its negation for "below").
    let decisionAudit: RegressionAuditResult['decision_audit'];
    if (decision) {
      const sign = decision.positive_when === 'above' ? 1 : -1;
      const labels = Uint8Array.from(y, (v) => (sign * v >= sign * decision.threshold ? 1 : 0));
      const scores = Float64Array.from(predicted, (v) => sign * v);
      const binary: AuditSettings = {
        target: request.target,
        positive_label: `${decision.positive_when === 'above' ? '≥' : '≤'} ${decision.threshold}`,
        positive_label_convention: `outcome ${decision.positive_when === 'above' ? '≥' : '≤'} ${decision.threshold} is the positive class; predicted positive when the prediction is ${decision.positive_when === 'above' ? 'at or above' : 'at or below'} it`,
        protected_attributes: settings.protected_attributes,
        features,
        threshold_policy: { policy: 'fixed', threshold: sign * decision.threshold },
        scores_are_probabilities: false,
        seed: settings.seed,
        confidence: settings.confidence,
        bootstrap_resamples: resamples,
        calibration_bins: settings.calibration_bins,
        calibration_binning: 'equal-width',
        min_group_size: settings.min_group_size,
        power_difference: request.powerDifference ?? 0.05,
        intersections: [],
        slices: [],
        reference_groups: {},
      };
      decisionAudit = auditScores(table, labels, scores, binary);
    }
    onProgress?.({ stage: 'metrics', done: 1, total: 1 });
    const above = Float64Array.from(y);
    const median = [...above].sort((a, b) => a - b)[Math.floor(above.length / 2)] ?? 0;
    const data = taskProfile(table, request, Uint8Array.from(y, (v) => (v > median ? 1 : 0)), {}, `above its median (${median}) or not`);
    data.target = { counts: {}, imbalance_ratio: null };
    const model: Classifier = regressorAsClassifier(regressor);
    const fidelity = fidelityOf(model, table, features, request, data);
    commonFindings(data, fairness, request, table, read, settings.min_group_size);
    const referenceLoaded = referenceOf(request);
    const reference = referenceLoaded?.table ?? null;
    onProgress?.({ stage: 'drift', done: 0, total: 1 });
    const drift = await taskDrift(request, table, reference, async (ref) => numericDrift('prediction', await regressor.predict(ref, { features: request.features, signal }), predicted, request.driftBins), limits, missing, options);
    onProgress?.({ stage: 'drift', done: 1, total: 1 });
    const explanations = await taskExplanations(request, missing, limits, options, table, reference, features, (input) => explainRegression(model, regressor.ensemble, input));
    missing.robustness ??= NOT_YET('Robustness (demographic shift, perturbation, counterfactual flips)', 'regression');
    missing.recourse ??= NOT_YET('Recourse (counterfactuals for an adverse decision)', 'regression');
    const plotted = residualSample(y, predicted, settings.seed);
    return {
      task: 'regression',
      task_notice: `REGRESSION AUDIT of ${quote(request.target)}: errors in the target's units (MAE, RMSE, median absolute error), R² against the mean, MAPE only when every outcome is positive; fairness compares groups' mean predictions and outcomes, their errors, and the distributions of their predictions (KS, Wasserstein, permutation p-values).${decision ? ` The prediction feeds a decision (positive when ${decision.positive_when} ${decision.threshold}): its binary audit is included.` : ''} Task ${choice.source}.`,
      tool: { name: 'plumbline', version: TOOL_VERSION },
      inputs: { model: modelInput(request, model, regressor.convention), data: { file: request.data.fileName, sha256: read.sha256, rows: table.rowCount, columns: table.columns.length } },
      settings,
      n: table.rowCount,
      data,
      input_fidelity: fidelity,
      ...(referenceLoaded && request.reference ? { reference_data: summarizeData(referenceLoaded.table, request.reference.fileName, referenceLoaded.sha256, request.target) } : {}),
      ...(drift ? { drift } : {}),
      ...(explanations ? { explanations } : {}),
      missing_sections: missing,
      conventions: { ...REGRESSION_CONVENTIONS, ...TASK_INTERVAL_CONVENTIONS, residuals: `predicted and actual of ${plotted.shown === plotted.rows ? 'every row' : `a seeded sample of ${plotted.shown} of ${plotted.rows} rows`}` },
      performance,
      calibration: overallDeciles(y, predicted),
      fairness,
      residuals: plotted,
      ...(decisionAudit ? { decision_audit: decisionAudit } : {}),
      ...(request.includePredictions ? { predictions: Array.from(predicted) } : {}),
    };
  } finally {
    await regressor.release();
  }
}

/** Predicted and actual of every row, or of a seeded sample of {@link RESIDUAL_PLOT_ROWS} rows (in row order). */
function residualSample(y: Float64Array, predicted: Float64Array, seed: number): RegressionAuditResult['residuals'] {
  const n = y.length;
  let rows = Array.from({ length: n }, (_, i) => i);
  if (n > RESIDUAL_PLOT_ROWS) {
    const random = new Random(seed, 'regression/residual-plot');
    for (let k = 0; k < RESIDUAL_PLOT_ROWS; k++) {
      const j = k + random.int(n - k);
      [rows[k], rows[j]] = [rows[j], rows[k]];
    }
    rows = rows.slice(0, RESIDUAL_PLOT_ROWS).sort((a, b) => a - b);
  }
  return { rows: n, shown: rows.length, predicted: rows.map((i) => predicted[i]), actual: rows.map((i) => y[i]) };
}

/** A regressor in the classifier's shape, so KernelSHAP and the input-fidelity check read it (its score is the prediction). */
function regressorAsClassifier(regressor: Awaited<ReturnType<typeof openRegressor>>): Classifier {
  return {
    summary: regressor.summary,
    ensemble: null,
    classChoice: async () => {
      throw new Error('a regressor has no classes');
    },
    features: (table, requested) => regressor.features(table, requested),
    score: (table, options) => regressor.predict(table, options),
    release: () => regressor.release(),
  };
}

/**
 * The audit of a multiclass classifier: every class's probability read from the model and
 * checked, scikit-learn-named metrics with intervals, calibration, per-group fairness with
 * the small-group rule, drift, TreeSHAP per class (KernelSHAP otherwise) and robustness.
 */
import { codeInputsOf, textInputsOf } from '../analyses/robustness/stability';
import type { AuditRequest, RunOptions } from '../audit';
import { checkFeatureList } from '../audit/scoring';
import { summarizeData } from '../analyses/profile/profile';
import { numericValues, sortAhead } from '../data/sorted';
import { categoricalDrift, driftFindings } from '../analyses/drift/drift';
import type { Column } from '../data/table';
import type { DataFinding } from '../data/finding';
import { markPersonalFromReference } from '../data/pii';
import { refusePersonalGroupsOf } from '../audit/inputs';
import { AuditConfigError, isPlumblineError, ModelLoadError, quote } from '../base/errors';
import { groupIndex } from '../metrics/groups';
import { wilsonInterval, type Interval } from '../metrics/intervals';
import { MULTICLASS_CONVENTIONS, multiclassCalibration, multiclassEceConvention, multiclassPerformance, multiclassReliability, predictedClasses } from '../metrics/multiclass';
import { multiclassFairness } from '../metrics/multiclass-fairness';
import { multiclassIntervals, TASK_INTERVAL_CONVENTIONS } from '../metrics/task-intervals';
import { inspectModel, openModel, type Classifier } from '../model/classifier';
import { decodeOnnx } from '../model/onnx-graph';
import type { OrtRuntime } from '../model/onnx-scorer';
import { onnxClassEnsemble } from '../model/onnx-trees';
import { hasLinearLeaves, readLightgbmText, readXgboostJson, type TreeEnsemble } from '../model/tree';
import { TOOL_VERSION } from '../base/version';
import { classScoreOf, explainMulticlass } from './explain';
import { classNames, classTarget, type TaskChoice } from './resolve';
import type { MulticlassAuditResult, MulticlassFairness, TaskSettings } from './result';
import { taskDrift, limitsOf, referenceOf, taskExplanations, robustnessSection } from './stages';
import { modelInput, taskProfile, baseSettings, smallGroups, commonFindings, type TaskRead, fidelityOf } from './frame';
import { flags } from '../base/rows';

/** How far a row's class probabilities may sum from 1 and still be read as probabilities (float32 rounding). */
const SUM_TOLERANCE = 1e-4;

/** The model as a multiclass audit reads it: every class's probability. */
async function openMulticlass(ort: OrtRuntime, request: AuditRequest, options: RunOptions): Promise<{ model: Classifier; modelLabels: (string | number)[] | null }> {
  const file = request.model!;
  const summary = inspectModel(file.bytes, file.fileName);
  const modelLabels = summary.classLabels;
  // Any class opens the file (the binary audit's class choice); the audit reads every class's probability.
  const model = await openModel(ort, file.bytes, file.fileName, {
    positiveLabel: modelLabels?.[0] ?? 0,
    features: request.features,
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

/**
 * Classes whose probability ranks their own rows below the others beyond chance (one-vs-rest
 * ROC AUC under 0.5 with its whole interval): class names given in another order than the
 * model's output are the usual cause, as a binary audit's inverted scores are.
 */
function invertedClasses(performance: { per_class: Record<string, { roc_auc: number | null }>; intervals?: Record<string, { low: number; high: number } | null> }, classes: readonly string[]): DataFinding[] {
  const inverted = classes.filter((label) => {
    const auc = performance.per_class[label]?.roc_auc;
    const interval = performance.intervals?.[`per_class.${label}.roc_auc`];
    return auc !== null && auc !== undefined && auc < 0.5 && (interval ? interval.high < 0.5 : auc < 0.4);
  });
  if (!inverted.length) return [];
  const shown = inverted.map((label) => {
    const interval = performance.intervals?.[`per_class.${label}.roc_auc`];
    return `${quote(label)} ${performance.per_class[label].roc_auc!.toFixed(3)}${interval ? ` (interval ${interval.low.toFixed(3)}–${interval.high.toFixed(3)})` : ''}`;
  });
  return [{ check: 'inverted_scores', severity: 'error', message: `The one-vs-rest ROC AUC of ${inverted.length === 1 ? 'class' : 'classes'} ${shown.join(', ')} ${inverted.length === 1 ? 'is' : 'are'} below 0.5: the model's probability of ${inverted.length === 1 ? 'that class ranks its' : 'each ranks their'} rows below the others. Check that the class names (model.class_labels) are in the model's output order: names given in another order swap the classes.` }];
}

/** The multiclass tree ensemble of a model file (for TreeSHAP per class), or null. */
function multiclassEnsemble(request: AuditRequest, model: Classifier): TreeEnsemble | null {
  const { bytes, fileName } = request.model!;
  let ensemble: TreeEnsemble | null = null;
  try {
    if (model.summary.format === 'xgboost-json') ensemble = readXgboostJson(bytes, fileName, 'classifier', request.features);
    else if (model.summary.format === 'lightgbm-text') ensemble = readLightgbmText(bytes, fileName, request.features);
    else if (model.summary.featureCount) ensemble = onnxClassEnsemble(decodeOnnx(bytes, fileName), fileName, model.summary.featureCount);
  } catch (error) {
    if (!isPlumblineError(error)) throw error;
  }
  // TreeSHAP explains plain leaves: linear leaves (LightGBM linear_tree) are explained by KernelSHAP, as a binary model's are.
  return ensemble && !hasLinearLeaves(ensemble) ? ensemble : null;
}

export async function multiclassAudit(ort: OrtRuntime, request: AuditRequest, options: RunOptions, choice: TaskChoice, read: TaskRead, resamples: number): Promise<MulticlassAuditResult> {
  const { table } = read;
  const { onProgress, signal } = options;
  const { model, modelLabels } = await openMulticlass(ort, request, options);
  try {
    const features = model.features(table, request.features);
    checkFeatureList(request.features, features, request.model!.fileName);
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
    // The profile and the drift read every large numeric column in order: sorted on the host's threads first.
    await sortAhead(numericValues(table), options.sorts, signal);
    onProgress?.({ stage: 'metrics', done: 0, total: 1 });
    const stream = (name: string) => ({ confidence: settings.confidence, resamples, seed: settings.seed, stream: name });
    const performance = { ...multiclassPerformance(labels, values, classes), intervals: multiclassIntervals(labels, values, classes, stream('multiclass/performance')) };
    const reliability = multiclassReliability(labels, values, classes, { bins: settings.calibration_bins, confidence: settings.confidence });
    const calibration = { ...multiclassCalibration(labels, values, classes, settings.calibration_bins), ...reliability };
    const predicted = predictedClasses(values, width);
    const fairness: Record<string, MulticlassFairness> = {};
    for (const attribute of settings.protected_attributes) {
      const index = groupIndex(table, attribute);
      const measured = multiclassFairness(labels, values, classes, index);
      const groups = Object.fromEntries(
        index.groups.map((name, g) => {
          const measuredGroup = measured.groups[name];
          return [name, { ...measuredGroup, insufficient_samples: measuredGroup.n < settings.min_group_size, ...groupIntervals(index.rows[g], labels, predicted, classes, settings.confidence) }];
        }),
      );
      fairness[attribute] = { ...measured, groups, min_group_size: Math.min(...Object.values(groups).map((g) => g.n)), small_groups: smallGroups(groups, settings.min_group_size) };
    }
    onProgress?.({ stage: 'metrics', done: 1, total: 1 });
    const counts = Object.fromEntries(classes.map((c) => [c, 0]));
    for (const k of labels) counts[classes[k]]++;
    const majority = classes.reduce((best, c) => (counts[c] > counts[best] ? c : best), classes[0]);
    const majorityIndex = classes.indexOf(majority);
    // Read before the profile: a column the reference shows to be personal data is left out of this file's outputs too.
    const referenceLoaded = await referenceOf(request, read.modelMissing);
    markPersonalFromReference(table, referenceLoaded?.table);
    refusePersonalGroupsOf(table, request);
    const data = taskProfile(table, request, flags(labels.length, (i) => labels[i] === majorityIndex), counts, `${majority} (the most frequent class) against the rest`);
    const fidelity = fidelityOf(model, table, features, request, data);
    commonFindings(data, fairness, request, table, read, settings.min_group_size);
    data.findings.push(...invertedClasses(performance, classes));
    const reference = referenceLoaded?.table ?? null;
    onProgress?.({ stage: 'drift', done: 0, total: 1 });
    const drift = await taskDrift(request, table, reference, async (ref) => {
      const scored = await model.probabilities!(ref, { features: request.features, signal });
      const top = predictedClasses(scored.values, scored.width);
      // The mix of predicted classes (a batch predicted all "high" where the reference was all "low" read 'stable' as p(predicted class)).
      const asColumn = (codes: Int32Array): Column => ({ kind: 'categorical', name: 'predicted class', codes, dictionary: classes.map(String), missing: 0 });
      return categoricalDrift('predicted class', asColumn(Int32Array.from(top)), asColumn(Int32Array.from(predicted)));
    }, limits, missing, options);
    onProgress?.({ stage: 'drift', done: 1, total: 1 });
    data.findings.push(...driftFindings(drift, request.data.fileName));
    const explanations = await taskExplanations(request, missing, limits, options, table, reference, features, (input) =>
      explainMulticlass({ classes, ensemble: multiclassEnsemble(request, model), predicted, labels, classScore: (k) => classScoreOf(model, k), base: model }, input),
    );
    const robustness = await robustnessSection(request, missing, limits, options, table, features, Float64Array.from(labels), { kind: 'multiclass', width, score: async (t) => (await model.probabilities!(t, { features: request.features, signal })).values, base: values, textInputs: textInputsOf(model.summary), codeInputs: codeInputsOf(model.summary) });
    missing.recourse ??= 'recourse searches counterfactuals that change a decision, and a multiclass audit has no single adverse decision (audit one class against the rest with a positive label for its recourse)';
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
      ...(robustness ? { robustness } : {}),
      missing_sections: missing,
      conventions: { ...MULTICLASS_CONVENTIONS, ece: multiclassEceConvention(settings.calibration_bins), ...TASK_INTERVAL_CONVENTIONS, fairness_small_groups: `groups under ${settings.min_group_size} rows (fairness.min_group_size) are flagged insufficient_samples and listed in small_groups; their rates are too uncertain to judge on their own` },
      performance,
      calibration,
      fairness,
      ...(request.includePredictions ? { predictions: Array.from({ length: table.rowCount }, (_, i) => Array.from(values.subarray(i * width, (i + 1) * width))) } : {}),
    };
  } finally {
    await model.release();
  }
}

/**
 * Wilson intervals of a group's accuracy and, per class, of its selection rate (rows
 * predicted the class), one-vs-rest TPR (of rows labelled the class) and FPR (of the rest),
 * from the counts; null where the denominator is 0.
 */
function groupIntervals(rows: Uint32Array, labels: Int32Array, predicted: Int32Array, classes: readonly string[], confidence: number): { accuracy_interval: Interval | null; intervals: { selection_rate: Record<string, Interval | null>; tpr: Record<string, Interval | null>; fpr: Record<string, Interval | null> } } {
  const C = classes.length;
  const chosen = new Array<number>(C).fill(0);
  const labelled = new Array<number>(C).fill(0);
  const hit = new Array<number>(C).fill(0);
  let correct = 0;
  for (const row of rows) {
    chosen[predicted[row]]++;
    labelled[labels[row]]++;
    if (predicted[row] === labels[row]) {
      hit[labels[row]]++;
      correct++;
    }
  }
  const n = rows.length;
  const perClass = (f: (k: number) => Interval | null) => Object.fromEntries(classes.map((c, k) => [c, f(k)]));
  return {
    accuracy_interval: n ? wilsonInterval(correct, n, confidence) : null,
    intervals: {
      selection_rate: perClass((k) => (n ? wilsonInterval(chosen[k], n, confidence) : null)),
      tpr: perClass((k) => (labelled[k] ? wilsonInterval(hit[k], labelled[k], confidence) : null)),
      fpr: perClass((k) => (n - labelled[k] ? wilsonInterval(chosen[k] - hit[k], n - labelled[k], confidence) : null)),
    },
  };
}

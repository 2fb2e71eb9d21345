/**
 * The binary audit from end to end, the pipeline the worker and the CLI share: read and
 * check the data, open the model, score, run the optional sections, compute the metrics
 * and findings, and put the result together (with the baseline comparison when asked).
 */
import { compareWithBaseline } from '../comparison/baseline';
import { profileTable, summarizeData } from '../analyses/profile/profile';
import { driftFindings } from '../analyses/drift/drift';
import { scoredByOf, storedDistribution } from '../analyses/drift/stored';
import { stratifiedSample } from '../data/sample';
import { findColumn, takeRows, type Table } from '../data/table';
import { inheritPersonal, markPersonalFromReference } from '../data/pii';
import { refuseIdleRecourse, refuseIdleRobustness } from './idle-settings';
import { numericValues, sortAhead } from '../data/sorted';
import { AuditConfigError, ConfigError, isPlumblineError, quote } from '../base/errors';
import { groupIndex } from '../metrics/groups';
import { binaryTarget, classOptions, type BinaryTarget } from '../metrics/labels';
import type { OrtRuntime } from '../model/onnx-scorer';
import type { ClassChoice } from '../model/classes';
import { modelFormatOf, openModel, type Classifier } from '../model/classifier';
import { untilAborted } from '../base/abort';
import { TOOL_VERSION } from '../base/version';
import { checkUnlabelledRequest, estimatedPerformance, labelsAbsence, labelsNotice, placeholderTarget, scoreDistribution, unlabelledSections, withoutLabelData, withoutLabels, type CalibrationReference, type EstimatedPerformance } from './unlabelled';
import { DEFAULT_STAGE_MEMORY_MB, type StageLimits } from '../base/limits';
import { defaultIntersections, loadInput, modelMissingOf, refusePersonalGroupsOf, validateColumns, withModelMissing, type ModelMissing } from './inputs';
import { auditScores } from './metrics';
import { scoreTable } from './scoring';
import { thresholdFit } from './threshold-fit';
import { consistencyAhead, driftSection, explanationsSection, NO_REFERENCE, recourseSection, robustnessSection, withReasonCodes, type SectionContext } from './sections';
import { addFindings } from './findings';
import type { AuditRequest, RunOptions } from './request';
import { definedSettings, readOptionsOf, recourseKeysOf, recourseSettingsOf, type AuditResult, type AuditSettings } from './result';

/** Reads, scores and audits: the whole pipeline the worker and the CLI share. */
export async function runAudit(ort: OrtRuntime, request: AuditRequest, options: RunOptions = {}): Promise<AuditResult> {
  const { onProgress, signal } = options;
  if (!request.model === !request.scoreColumn) {
    throw new AuditConfigError(request.model ? 'Give either a model or a score column, not both.' : 'No model and no score column: choose a model file, or name the column that holds the scores (--score / data.score_column).');
  }
  const threshold = request.threshold ?? 0.5;
  if (!Number.isFinite(threshold) || (request.model && !(threshold >= 0 && threshold <= 1))) {
    throw new AuditConfigError(`The threshold must be a number between 0 and 1, got ${request.threshold}.`);
  }
  const resamples = request.bootstrapResamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 0 || resamples > 100_000) {
    throw new AuditConfigError(`Bootstrap resamples must be a whole number from 0 to 100000, got ${request.bootstrapResamples}.`);
  }
  // A baseline of another kind (a regression's decision, a multiclass audit) measures other things under the same names: refused, as diff refuses the pair.
  const baselineTask = (request.baseline?.result as { task?: string } | undefined)?.task ?? 'binary';
  if (request.baseline && baselineTask !== 'binary') {
    throw new AuditConfigError(`${request.baseline.file} is a ${baselineTask} audit, and this is a binary audit: their metrics cannot be compared. Give the baseline result of a binary audit (the production model's, audited on the same rows with --predictions).`);
  }
  const totalBytes = 'loaded' in request.data ? request.data.loaded.bytes : request.data.bytes.length;
  onProgress?.({ stage: 'parse', done: 0, total: totalBytes });
  const data = await loadInput(request.data, request.csv);
  let table = data.table;
  onProgress?.({ stage: 'parse', done: totalBytes, total: totalBytes });
  const rowsRead = table.rowCount;
  checkModelType(request);
  refuseIdleRecourse(request);
  refuseIdleRobustness(request);
  const model = request.model
    ? await openModel(ort, request.model.bytes, request.model.fileName, {
        positiveLabel: request.positiveLabel,
        classLabels: request.classLabels,
        features: request.features,
        userMissingValues: request.csv?.missingValues,
        sessionOptions: options.sessionOptions,
        treeMargins: options.treeMargins,
        onnxScores: options.onnxScores,
        onnxPoolWorthMs: options.onnxPoolWorthMs,
        checkLater: true,
      })
    : null;
  // A tree model's own missing value (XGBoost missing=-999): its input cells are missing for the whole audit (the reference's too).
  const missing = modelMissingOf(model?.ensemble);
  table = withModelMissing(table, missing, request);
  try {
    // The model says which of its classes is positive (by label); the target follows it.
    const choice = model ? await model.classChoice(table, request.features) : null;
    const positiveLabel = request.positiveLabel ?? (choice ? String(choice.positive) : undefined);
    const targetOptions = {
      // Every target value is a class of the model (a 1/2 target was read against classes 0/1).
      ...classOptions(choice, request.model?.fileName),
      // A label the audit took from the model (its class 1), not one the config set.
      ...(request.positiveLabel === undefined && choice ? { positiveFrom: "the model's positive class; no positive label configured" } : {}),
    };
    // No labels (no target, or a target column absent or empty): the label-free audit (unlabelled.ts).
    const noLabels = labelsAbsence(table, request.target, request.unlabelled ?? false);
    if (noLabels) checkUnlabelledRequest(noLabels, request.data.fileName, request.thresholdPolicy, request.validation?.fileName, request.target);
    const targetOf = (rows: Table) => (noLabels ? placeholderTarget(rows.rowCount, positiveLabel, noLabels) : binaryTarget(rows, request.target, positiveLabel, targetOptions));
    let target = targetOf(table);
    if (request.sampleSize !== undefined && request.sampleSize < table.rowCount) {
      const sample = stratifiedSample(target.labels, request.sampleSize, request.seed ?? 0);
      // Messages about a sampled row name the file's row.
      const whole = table;
      table = { ...takeRows(table, sample), rowsOf: sample };
      // A column of personal data in the file stays one in its sample (29 e-mails in 60 rows were kept as top values).
      inheritPersonal(table, whole);
      target = targetOf(table);
    }
    validateColumns(table, request);
    signal?.throwIfAborted();
    const opened: OpenedAudit = { model, choice, table, target, rowsRead, request, options, threshold, resamples, read: { sha256: data.sha256, noLabels, missing } };
    // The model was opened with checkLater: no result (and no error that scores could have
    // caused) leaves before its scores stand; where they do not, the audit runs again.
    const settled = () => untilAborted(model?.settled?.() ?? Promise.resolve(true), signal);
    let audited: AuditResult;
    try {
      audited = await auditWithModel(opened);
    } catch (error) {
      // A cancelled audit gives nothing, so it need not wait for onnxruntime (which may still be starting).
      if (signal?.aborted || (await settled())) throw error;
      return await auditWithModel(opened);
    }
    return (await settled()) ? audited : await auditWithModel(opened);
  } finally {
    await model?.release();
  }
}

/** What the pipeline holds once the data is read, sampled and checked and the model open. */
interface OpenedAudit {
  model: Classifier | null;
  choice: ClassChoice | null;
  table: Table;
  target: BinaryTarget;
  /** Rows of the data file before any sampling. */
  rowsRead: number;
  request: AuditRequest;
  options: RunOptions;
  threshold: number;
  resamples: number;
  read: { sha256: string; noLabels: string | null; missing: ModelMissing | null };
}

/** Scores, drift, explanations and metrics once the data is read and the model open. */
async function auditWithModel(opened: OpenedAudit): Promise<AuditResult> {
  const { model, choice, table, target, rowsRead, request, options, threshold, resamples, read } = opened;
  const { onProgress, signal } = options;
  const { scores, scoreFindings, fidelity, probabilities, features, modelInputs } = await scoreTable(model, choice, table, request, options);

  const { noLabels } = read;
  const missingSections = { ...(noLabels ? unlabelledSections(noLabels) : {}), ...(request.missingSections ?? {}) };
  const referenceLoaded = request.reference ? await loadInput(request.reference, request.csv) : null;
  const reference = referenceLoaded ? withModelMissing(referenceLoaded.table, read.missing, request) : null;
  // A column the reference shows to be personal data is left out of this file's outputs too.
  markPersonalFromReference(table, reference);
  refusePersonalGroupsOf(table, request);
  const referenceData = referenceLoaded && request.reference ? summarizeData(referenceLoaded.table, request.reference.fileName, referenceLoaded.sha256, request.target) : null;
  const limits: StageLimits = { memoryBytes: (request.limits?.stageMemoryMb ?? DEFAULT_STAGE_MEMORY_MB) * 2 ** 20, seconds: request.limits?.stageSeconds ?? null };
  const context: SectionContext = { model, request, options, table, scores, reference, noLabels, limits, missingSections, scoredBy: scoredByOf(modelInputs) };
  // The drift and the profile read every large numeric column in order: sorted on the host's threads first.
  await sortAhead(numericValues(table), options.sorts, signal);
  const { fit, validationInput } = await thresholdFit(model, choice, target, request, threshold, signal);
  const settings: AuditSettings = {
    target: request.target,
    positive_label: target.positiveLabel,
    positive_label_convention: target.convention,
    protected_attributes: [...request.protectedAttributes],
    features,
    threshold_policy: request.thresholdPolicy ?? { policy: 'fixed', threshold },
    scores_are_probabilities: probabilities,
    seed: request.seed ?? 0,
    test_sample_size: request.sampleSize !== undefined && request.sampleSize < rowsRead ? request.sampleSize : null,
    confidence: request.confidence ?? 0.95,
    bootstrap_resamples: resamples,
    calibration_bins: request.calibrationBins ?? 10,
    calibration_binning: request.calibrationBinning ?? 'equal-width',
    min_group_size: request.minGroupSize ?? 30,
    power_difference: request.powerDifference ?? 0.05,
    intersections: request.intersections ?? defaultIntersections(request.protectedAttributes),
    slices: request.slices ?? [...request.protectedAttributes],
    reference_groups: request.referenceGroups ?? {},
    ll144: request.ll144 ?? null,
    limits: { stage_memory_mb: limits.memoryBytes / 2 ** 20, stage_seconds: limits.seconds },
    task_source: request.taskSource ?? (request.model ? 'inferred: a classifier of two classes' : 'a score column is audited as a binary classifier'),
    // Recourse settings where recourse is searched (a model's audit): a score column's change nothing.
    ...definedSettings({ read_options: readOptionsOf(request.csv), recourse_settings: recourseSettingsOf(request.recourse as Record<string, unknown> | undefined), model_id: request.modelId }),
  };
  // The metrics of a large table, on a thread of the host's pool while the drift, the
  // explanations and the data profile are computed here (those stages' pool jobs go to the other threads meanwhile).
  const measuring = options.metrics?.({ table, labels: target.labels, scores, settings, ...(fit ? { fit } : {}) }, signal) ?? null;
  measuring?.catch(() => {});
  const drifted = await driftSection(context);
  const drift = drifted.drift;
  let referenceScores = drifted.referenceScores;
  let explanations = await explanationsSection(context);
  // The robustness section's neighbour search, on the host's threads while the profile (and metrics) are computed here.
  const neighbours = consistencyAhead(context, features);

  onProgress?.({ stage: 'metrics', done: 0, total: 1 });
  const profiled = profileTable(table, request.target, target.labels, settings.protected_attributes, request.scoreColumn);
  // The scores' distribution, kept so that a later batch's prediction drift can be measured without these rows (--reference-result).
  profiled.prediction_distribution = storedDistribution({ kind: 'numeric', name: request.scoreColumn ?? 'p(positive)', values: scores, missing: 0 });
  const measured = measuring ? await measuring : auditScores(table, target.labels, scores, settings, fit);
  const metrics = noLabels ? withoutLabels(measured, noLabels) : measured;
  const data = noLabels ? withoutLabelData(profiled) : profiled;
  let unlabelled: Pick<AuditResult, 'labels' | 'labels_notice' | 'estimated_performance' | 'score_distribution'> = {};
  if (noLabels) {
    const indexes = settings.protected_attributes.map((a) => groupIndex(table, a));
    let estimated: EstimatedPerformance | undefined;
    if (!probabilities) missingSections.estimated_performance = `not computed: CBPE reads the scores as probabilities, and column ${request.scoreColumn} holds raw scores outside [0, 1]`;
    else {
      if (reference && !referenceScores) referenceScores = model ? await model.score(reference, { features: request.features, signal }) : request.scoreColumn && findColumn(reference, request.scoreColumn)?.kind === 'numeric' ? (findColumn(reference, request.scoreColumn) as { values: Float64Array }).values : undefined;
      estimated = estimatedPerformance(scores, metrics.threshold, indexes, settings.min_group_size, calibrationReference(reference, request, referenceScores, target.positiveLabel, choice, settings));
    }
    unlabelled = { labels: 'absent', labels_notice: labelsNotice(noLabels), ...(estimated ? { estimated_performance: estimated } : {}), score_distribution: scoreDistribution(scores, indexes, probabilities) };
  }
  addFindings(data, scoreFindings, metrics, settings, table, request);
  data.findings.push(...driftFindings(drift, request.data.fileName));
  signal?.throwIfAborted();
  const robustness = await robustnessSection(context, features, settings, target, metrics, neighbours);
  signal?.throwIfAborted();
  explanations = await withReasonCodes(context, explanations, settings, metrics);
  const recourseReport = await recourseSection(context, features, settings, data, metrics);
  onProgress?.({ stage: 'metrics', done: 1, total: 1 });
  const audited: AuditResult = {
    ...unlabelled,
    tool: { name: 'plumbline', version: TOOL_VERSION },
    inputs: {
      model: modelInputs,
      data: { file: request.data.fileName, sha256: read.sha256, rows: rowsRead, columns: table.columns.length },
      ...(validationInput ? { validation: validationInput } : {}),
    },
    settings,
    data,
    missing_sections: missingSections,
    ...metrics,
    ...(referenceData ? { reference_data: referenceData } : {}),
    ...(fidelity ? { input_fidelity: fidelity } : {}),
    ...(drift ? { drift } : {}),
    ...(explanations ? { explanations } : {}),
    ...(robustness ? { robustness } : {}),
    ...(recourseReport ? { recourse: recourseReport } : {}),
    ...(request.includePredictions ? { predictions_p1: Array.from(scores) } : {}),
  };
  if (!request.baseline) return audited;
  // Paired tests need this audit's labels, scores and groups; an unlabelled audit has no labels to pair.
  const rows = noLabels ? null : { labels: target.labels, scores, threshold: metrics.threshold, groups: settings.protected_attributes.map((a) => groupIndex(table, a)) };
  const comparison = compareWithBaseline(audited, request.baseline.result, request.baseline, { rows, seed: settings.seed, resamples, confidence: settings.confidence });
  return { ...audited, comparison };
}

/** The labelled reference the CBPE calibration check reads, or why there is none. */
function calibrationReference(reference: Table | null, request: AuditRequest, scores: Float64Array | undefined, positiveLabel: string, choice: ClassChoice | null, settings: AuditSettings): CalibrationReference | string {
  // Stored distributions (--reference-result) hold no rows: no labels and scores to check the calibration on.
  if (!reference && request.referenceDistributions) return `the reference is the distributions stored in ${request.referenceDistributions.source}, which hold no labelled rows to check the calibration on (give the labelled reference file: data.reference, --reference)`;
  if (!reference) return NO_REFERENCE;
  if (!request.target) return `no target column is configured to read the reference ${reference.source}'s labels from`;
  if (!findColumn(reference, request.target)) return `the reference ${reference.source} has no target column ${quote(request.target)}`;
  if (!scores) return `the reference ${reference.source} has no scores (column ${request.scoreColumn ?? ''} is not in it)`;
  try {
    const labels = binaryTarget(reference, request.target, positiveLabel, classOptions(choice ?? null, request.model?.fileName)).labels;
    return { source: reference.source, labels, scores, bins: settings.calibration_bins, binning: settings.calibration_binning };
  } catch (error) {
    if (!isPlumblineError(error)) throw error;
    return `the reference's labels could not be read: ${(error as Error).message}`;
  }
}

/** Refuses a model file of another format than model.type names (every task: a multiclass or regression audit ignored it). */
export function checkModelType(request: Pick<AuditRequest, 'model' | 'modelType'>): void {
  if (!request.model || !request.modelType) return;
  const format = modelFormatOf(request.model.bytes, request.model.fileName).id;
  const named = { onnx: 'onnx', xgboost: 'xgboost-json', lightgbm: 'lightgbm-text' }[request.modelType];
  if (format !== named) throw new ConfigError(`model.type: ${request.modelType}, but ${request.model.fileName} is a${format === 'onnx' ? 'n ONNX model' : format === 'xgboost-json' ? 'n XGBoost JSON model' : ' LightGBM text model'}. Set model.type to ${format === 'onnx' ? 'onnx' : format === 'xgboost-json' ? 'xgboost' : 'lightgbm'} or auto, or choose the model file the config means.`);
}

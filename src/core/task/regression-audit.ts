/**
 * The audit of a regression model: MAE, RMSE, R², median absolute error and MAPE with
 * intervals, per-group fairness (means, error disparities, bounded group loss, distribution
 * gaps with permutation p-values), decile calibration, the residual plot's points, and the
 * binary audit of the decision the prediction feeds when one is configured.
 */
import { codeInputsOf, textInputsOf } from '../analyses/robustness/stability';
import { checkFeatureList } from '../audit/scoring';
import { auditScores, type AuditMetrics, type AuditRequest, type AuditSettings, type RunOptions } from '../audit';
import { summarizeData } from '../analyses/profile/profile';
import { driftFindings, numericDrift } from '../analyses/drift/drift';
import { AuditConfigError, ModelLoadError, quote } from '../base/errors';
import { flags, scaled } from '../base/rows';
import { groupIndex } from '../metrics/groups';
import { decileEdges, REGRESSION_CONVENTIONS, regressionFairness, regressionPerformance, type DecileCalibration } from '../metrics/regression';
import { regressionIntervals, REGRESSION_INTERVAL_CONVENTIONS } from '../metrics/task-intervals';
import type { Classifier } from '../model/classifier';
import type { OrtRuntime } from '../model/onnx-scorer';
import { openRegressor } from '../model/regressor';
import { Random } from '../base/random';
import { TOOL_VERSION } from '../base/version';
import { explainRegression } from './explain';
import { regressionTarget, type TaskChoice } from './resolve';
import type { RegressionAuditResult, RegressionDecision, RegressionFairness, TaskExplanations, TaskSettings } from './result';
import { taskDrift, limitsOf, referenceOf, taskExplanations, robustnessSection, regressionRecourse, regressorAsClassifier } from './stages';
import { reasonCodes, type ReasonCodes } from '../analyses/explain/outputs';
import { recourseProxies } from '../analyses/recourse';
import type { DataProfile } from '../analyses/profile/profile';
import type { Table } from '../data/table';
import { markPersonalFromReference } from '../data/pii';
import { refusePersonalGroupsOf } from '../audit/inputs';
import { numericValues, sortAhead } from '../data/sorted';
import { modelInput, taskProfile, baseSettings, smallGroups, commonFindings, type TaskRead, fidelityOf } from './frame';

/** Rows of the residual and predicted-vs-actual plots (a seeded sample of a larger file). */
export const RESIDUAL_PLOT_ROWS = 2000;

/** Shuffles of the distributional-parity permutation test. */
export const PERMUTATIONS = 1000;

/** Mean outcome by decile of the prediction over all rows. */
function overallDeciles(y: Float64Array, predicted: Float64Array): { deciles: DecileCalibration[]; decile_edges: number[] } {
  const all = new Uint32Array(y.length).map((_, i) => i);
  const single = { attribute: '(all rows)', groups: ['all'], rows: [all], groupOf: new Int32Array(y.length) };
  const measured = regressionFairness(y, predicted, single, { seed: 0, permutations: 0 });
  return { deciles: measured.groups.all.calibration, decile_edges: decileEdges(predicted) };
}

export async function regressionAudit(ort: OrtRuntime, request: AuditRequest, options: RunOptions, choice: TaskChoice, read: TaskRead, resamples: number): Promise<RegressionAuditResult> {
  const { table } = read;
  const { onProgress, signal } = options;
  const regressor = await openRegressor(ort, request.model!.bytes, request.model!.fileName, { userMissingValues: request.csv?.missingValues, treeMargins: options.treeMargins, features: request.features });
  try {
    const features = regressor.features(table, request.features);
    checkFeatureList(request.features, features, request.model!.fileName);
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
    // The profile and the drift read every large numeric column in order: sorted on the host's threads first.
    await sortAhead(numericValues(table), options.sorts, signal);
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
      const labels = flags(y.length, (i) => sign * y[i] >= sign * decision.threshold);
      const scores = scaled(predicted, sign);
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
      decisionAudit = inPredictions(auditScores(table, labels, scores, binary), sign);
    }
    onProgress?.({ stage: 'metrics', done: 1, total: 1 });
    const above = Float64Array.from(y);
    const median = [...above].sort((a, b) => a - b)[Math.floor(above.length / 2)] ?? 0;
    // Read before the profile: a column the reference shows to be personal data is left out of this file's outputs too.
    const referenceLoaded = await referenceOf(request, read.modelMissing);
    markPersonalFromReference(table, referenceLoaded?.table);
    refusePersonalGroupsOf(table, request);
    const data = taskProfile(table, request, flags(y.length, (i) => y[i] > median), {}, `above its median (${median}) or not`);
    data.target = { counts: {}, imbalance_ratio: null };
    const model: Classifier = regressorAsClassifier(regressor);
    const fidelity = fidelityOf(model, table, features, request, data);
    commonFindings(data, fairness, request, table, read, settings.min_group_size);
    const reference = referenceLoaded?.table ?? null;
    onProgress?.({ stage: 'drift', done: 0, total: 1 });
    const drift = await taskDrift(request, table, reference, async (ref) => numericDrift('prediction', await regressor.predict(ref, { features: request.features, signal }), predicted, request.driftBins), limits, missing, options);
    onProgress?.({ stage: 'drift', done: 1, total: 1 });
    data.findings.push(...driftFindings(drift, request.data.fileName));
    const explained = await taskExplanations(request, missing, limits, options, table, reference, features, (input) => explainRegression(model, regressor.ensemble, input));
    const explanations = explained && decision ? { ...explained, reason_codes: decisionReasons(table, explained, predicted, decision, request, data) } : explained;
    const robustness = await robustnessSection(request, missing, limits, options, table, features, y, { kind: 'regression', width: 1, score: (t) => regressor.predict(t, { features: request.features, signal }), base: predicted, decision, textInputs: textInputsOf(regressor.summary), codeInputs: codeInputsOf(regressor.summary) });
    const recourseReport = await regressionRecourse(request, missing, limits, options, table, features, regressor, predicted, decision, data);
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
      ...(robustness ? { robustness } : {}),
      ...(recourseReport ? { recourse: recourseReport } : {}),
      missing_sections: missing,
      conventions: { ...REGRESSION_CONVENTIONS, ...REGRESSION_INTERVAL_CONVENTIONS, residuals: `predicted and actual of ${plotted.shown === plotted.rows ? 'every row' : `a seeded sample of ${plotted.shown} of ${plotted.rows} rows`}` },
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

/**
 * Adverse-action reason codes of the decision a regression feeds: for each explained row on
 * the adverse side, the (at most four) columns pushing its prediction that way, strongest
 * first — never a protected attribute or a proxy of one (declared, or flagged at error level).
 * Chosen on sign·prediction (sign −1 when positive is "below"), as the recourse search is;
 * scores and SHAP values are reported as the prediction's.
 */
function decisionReasons(table: Table, explained: TaskExplanations, predicted: Float64Array, decision: RegressionDecision, request: AuditRequest, data: DataProfile): ReasonCodes[] {
  const sign = decision.positive_when === 'above' ? 1 : -1;
  const excluded = [...new Set([...request.protectedAttributes, ...recourseProxies(request.robustness?.proxies, data).map((p) => p.column)])];
  const scores = Float64Array.from(explained.rows, (row) => sign * predicted[row - 1]);
  const values = explained.values.map((row) => row.map((v) => sign * v));
  const codes = reasonCodes(table, explained.rows, explained.columns, values, scores, { adverse: request.recourse?.adverse ?? 'negative', threshold: sign * decision.threshold, excluded });
  // Reported in the prediction's own units and direction.
  return codes.map((c) => ({ ...c, score: sign * c.score, reasons: c.reasons.map((r) => ({ ...r, shap: sign * r.shap })) }));
}

/**
 * A "below" decision's binary audit is computed on −prediction against −threshold; its
 * thresholds (the decision's, the curve's, the sweep's) are given back as predictions, so
 * that the result and the reports say 40, not −40 (positive at or below each).
 */
function inPredictions(audit: AuditMetrics, sign: number): AuditMetrics {
  if (sign === 1) return audit;
  const threshold = -audit.threshold;
  const policy = audit.threshold_selection.policy.policy === 'fixed' ? { ...audit.threshold_selection.policy, threshold } : audit.threshold_selection.policy;
  return {
    ...audit,
    threshold,
    threshold_selection: { ...audit.threshold_selection, threshold, policy },
    performance: { ...audit.performance, curve: audit.performance.curve.map((point) => ({ ...point, threshold: -point.threshold })) },
    threshold_sweep: { ...audit.threshold_sweep, thresholds: audit.threshold_sweep.thresholds.map((t) => -t) },
  };
}

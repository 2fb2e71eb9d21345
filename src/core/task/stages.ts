/**
 * The optional stages of a multiclass or regression audit — drift, explanations, robustness,
 * recourse — each under the audit's budgets; a Plumbline error leaves a stage out with the
 * reason in `missing_sections`, as in the binary audit.
 */
import { loadInput, NO_REFERENCE, type AuditRequest, type RunOptions } from '../audit';
import { withModelMissing, type ModelMissing } from '../audit/inputs';
import type { DataProfile } from '../analyses/profile/profile';
import { personalNote, personalValueColumns } from '../data/pii';
import { findColumn, type Table } from '../data/table';
import { categoricalDrift, driftReport, numericDrift, withThresholds, type DriftReport } from '../analyses/drift/drift';
import { driftFromReference } from '../analyses/drift/stored';
import { AuditConfigError, isPlumblineError } from '../base/errors';
import { scaled } from '../base/rows';
import { checkStageMemory, DEFAULT_STAGE_MEMORY_MB, driftEstimate, explainFix, recourseEstimate, robustnessEstimate, withStageBudget, type StageLimits } from '../base/limits';
import { groupIndex } from '../metrics/groups';
import type { Classifier } from '../model/classifier';
import type { Regressor } from '../model/regressor';
import { explainRegression } from './explain';
import { PERTURBATION_ROWS, taskRobustness, type TaskOutputs, type TaskRobustness } from './robustness';
import { checkRecourseInputs, columnRules, recourse, RECOURSE_DEFAULTS, recourseCallRows, recourseOptions, recourseProxies, type RecourseReport } from '../analyses/recourse';
import { codeInputsOf } from '../analyses/robustness/stability';
import type { RegressionDecision, TaskExplanations } from './result';

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
export async function taskDrift(request: AuditRequest, table: Table, reference: Table | null, predictionDrift: (reference: Table) => Promise<DriftReport['prediction']>, limits: StageLimits, missing: Record<string, string>, options: RunOptions): Promise<DriftReport | undefined> {
  let drift: DriftReport | undefined;
  if (reference && !missing.drift) {
    drift = await section(missing, 'drift', async () => {
      checkStageMemory('Drift', driftEstimate(reference.rowCount, table.rowCount, reference.columns.length), limits);
      return withStageBudget('Drift', limits, options.signal, 'use a smaller reference file', async () => {
        // A column of personal data is not compared: its drift would keep its values (see audit/sections.ts).
        const personal = personalValueColumns([table, reference]);
        const report = driftReport(reference, table, { exclude: [request.target, ...personal], bins: request.driftBins });
        report.conventions += personalNote(personal);
        const refTarget = findColumn(reference, request.target);
        const curTarget = findColumn(table, request.target)!;
        if (refTarget) report.label = refTarget.kind === 'numeric' && curTarget.kind === 'numeric' ? numericDrift(request.target, refTarget.values, curTarget.values, request.driftBins) : categoricalDrift(request.target, refTarget, curTarget);
        const prediction = await predictionDrift(reference);
        if (prediction) report.prediction = prediction;
        return report;
      });
    });
  } else if (request.referenceDistributions && !missing.drift) {
    const personal = personalValueColumns([table]);
    drift = driftFromReference(request.referenceDistributions, table, [request.target, ...personal]);
    drift.conventions += personalNote(personal);
    // A stored result keeps no multiclass or regression score distribution: said, as a finding, not left out silently.
    drift.prediction_not_measured = `the reference (${request.referenceDistributions.source}) stores no distribution of a multiclass or regression model's predictions: give the reference file (--reference) to measure prediction drift`;
  } else if (!missing.drift) {
    missing.drift = NO_REFERENCE;
  }
  return drift && request.driftThresholds ? withThresholds(drift, request.driftThresholds) : drift;
}

export function limitsOf(request: AuditRequest): StageLimits {
  return { memoryBytes: (request.limits?.stageMemoryMb ?? DEFAULT_STAGE_MEMORY_MB) * 2 ** 20, seconds: request.limits?.stageSeconds ?? null };
}

/** The reference, its cells of the model's own missing value (XGBoost missing=-999) missing, as the audited table's. */
export async function referenceOf(request: AuditRequest, modelMissing: ModelMissing | null | undefined): Promise<{ table: Table; sha256: string } | null> {
  if (!request.reference) return null;
  const loaded = await loadInput(request.reference, request.csv);
  return { table: withModelMissing(loaded.table, modelMissing ?? null, request), sha256: loaded.sha256 };
}

/** The explanations stage of both tasks: explainer settings, budget, and the reason when it cannot run. */
export async function taskExplanations(request: AuditRequest, missing: Record<string, string>, limits: StageLimits, options: RunOptions, table: Table, reference: Table | null, features: string[], explain: (input: Parameters<typeof explainRegression>[2]) => Promise<TaskExplanations>): Promise<TaskExplanations | undefined> {
  if (missing.explainer) return undefined;
  const rows = request.explainer?.rows ?? 100;
  const backgroundRows = request.explainer?.backgroundRows ?? 100;
  if (request.explainer?.method && request.explainer.method !== 'auto') {
    throw new AuditConfigError(`explainer.type: ${request.explainer.method} is not available in multiclass and regression audits: they use TreeSHAP (interventional) on tree ensembles and KernelSHAP otherwise. Set explainer.type: auto.`);
  }
  options.onProgress?.({ stage: 'explain', done: 0, total: 1 });
  const result = await section(missing, 'explainer', () =>
    withStageBudget('The explanations', limits, options.signal, explainFix(rows, backgroundRows), (stageSignal) =>
      explain({ table, background: reference ?? table, columns: features, rows, backgroundRows, seed: request.seed ?? 0, features: request.features, signal: stageSignal, treeShap: options.treeShap, memoryBytes: limits.memoryBytes }),
    ),
  );
  options.onProgress?.({ stage: 'explain', done: 1, total: 1 });
  return result;
}

/** The robustness stage of both tasks (robustness.enabled: false leaves it out). */
export async function robustnessSection(request: AuditRequest, missing: Record<string, string>, limits: StageLimits, options: RunOptions, table: Table, features: string[], truth: Float64Array, outputs: TaskOutputs): Promise<TaskRobustness | undefined> {
  if (missing.robustness) return undefined;
  options.onProgress?.({ stage: 'robustness', done: 0, total: 1 });
  const protectedAttributes = request.protectedAttributes;
  const result = await section(missing, 'robustness', () => {
    // As a binary audit's robustness stage (no neighbour pool here).
    checkStageMemory('Robustness', robustnessEstimate(table.rowCount, features.length, PERTURBATION_ROWS, 0), limits);
    return withStageBudget('Robustness', limits, options.signal, 'disable robustness (robustness.enabled: false) or audit fewer rows', (stageSignal) =>
      taskRobustness(outputs, table, truth, protectedAttributes.map((a) => groupIndex(table, a)), features, {
        inputs: features.filter((c) => !protectedAttributes.includes(c)),
        epsilons: request.robustness?.noise ?? [0.01, 0.05, 0.1],
        delta: request.robustness?.shift ?? 0.1,
        seed: request.seed ?? 0,
        confidence: request.confidence ?? 0.95,
        minGroupSize: request.minGroupSize ?? 30,
        proxies: request.robustness?.proxies,
        signal: stageSignal,
      }),
    );
  });
  options.onProgress?.({ stage: 'robustness', done: 1, total: 1 });
  return result;
}

/**
 * Recourse for a regression's decision: the binary audit's counterfactual search on the
 * score sign·prediction against sign·threshold (sign −1 when positive is "below"), so
 * "favourable" is the decision's positive side unless recourse.adverse says otherwise.
 */
export async function regressionRecourse(request: AuditRequest, missing: Record<string, string>, limits: StageLimits, options: RunOptions, table: Table, features: string[], regressor: Regressor, predicted: Float64Array, decision: RegressionDecision | null, data: DataProfile): Promise<RecourseReport | undefined> {
  if (missing.recourse) return undefined;
  if (!decision) {
    missing.recourse = 'recourse searches counterfactuals that change a decision, and this regression feeds none: set threshold and positive_when (above|below) for the decision it feeds';
    return undefined;
  }
  const sign = decision.positive_when === 'above' ? 1 : -1;
  const scorer: Classifier = { ...regressorAsClassifier(regressor), score: async (t, o) => Float64Array.from(await regressor.predict(t, o), (v) => sign * v) };
  const settings = request.recourse ?? {};
  checkRecourseInputs(settings, features);
  const maxRows = settings.maxRows ?? RECOURSE_DEFAULTS.maxRows;
  const proxies = recourseProxies(request.robustness?.proxies, data);
  // The rules' refusals are the config's mistakes: exit 2, not a section left out (see audit/sections.ts).
  columnRules(table, features, recourseOptions(settings, { threshold: sign * decision.threshold, protectedAttributes: request.protectedAttributes, proxies, confidence: request.confidence ?? 0.95, seed: request.seed ?? 0 }), codeInputsOf(scorer.summary));
  options.onProgress?.({ stage: 'recourse', done: 0, total: 1 });
  const result = await section(missing, 'recourse', async () => {
    checkStageMemory('Recourse', recourseEstimate(maxRows, features.length, RECOURSE_DEFAULTS.callRows + RECOURSE_DEFAULTS.evaluations), limits);
    const callRows = recourseCallRows((n) => recourseEstimate(maxRows, features.length, n + RECOURSE_DEFAULTS.evaluations).bytes <= limits.memoryBytes);
    return withStageBudget('Recourse', limits, options.signal, 'lower recourse.max_rows', (stageSignal) =>
      recourse(scorer, table, scaled(predicted, sign), features, request.protectedAttributes, recourseOptions(settings, {
        threshold: sign * decision.threshold,
        adverseText: adverseSide(decision, settings.adverse ?? 'negative'),
        protectedAttributes: request.protectedAttributes,
        proxies,
        confidence: request.confidence ?? 0.95,
        seed: request.seed ?? 0,
        features: request.features,
        signal: stageSignal,
        callRows,
      })),
    );
  });
  options.onProgress?.({ stage: 'recourse', done: 1, total: 1 });
  // The search ran on sign·prediction: its scores are given back as predictions (a "below" decision showed −43.76).
  return result && sign === -1 ? { ...result, rows: result.rows.map((row) => ({ ...row, score: -row.score, counterfactuals: row.counterfactuals.map((c) => ({ ...c, score: -c.score })) })) } : result;
}

/** A regression decision's adverse side in the prediction's own terms ("prediction > 40" for a decision positive at or below 40). */
function adverseSide(decision: RegressionDecision, adverse: 'negative' | 'positive'): string {
  const t = decision.threshold;
  if (decision.positive_when === 'above') return adverse === 'negative' ? `prediction < ${t}` : `prediction ≥ ${t}`;
  return adverse === 'negative' ? `prediction > ${t}` : `prediction ≤ ${t}`;
}

/** A regressor in the classifier's shape, so KernelSHAP and the input-fidelity check read it (its score is the prediction). */
export function regressorAsClassifier(regressor: Regressor): Classifier {
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

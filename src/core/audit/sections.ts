/**
 * The optional sections of a binary audit — drift, explanations, adverse-action reason
 * codes, robustness and recourse — and the runner they share: each checked against its
 * stage budget (limits.ts), with progress around it, and left out with the reason when a
 * Plumbline error stops it, so the rest of the audit goes on.
 */
import type { DataProfile } from '../analyses/profile/profile';
import { categoricalDrift, driftReport, numericDrift, withThresholds, type DriftReport } from '../analyses/drift/drift';
import { driftFromReference, storedNumericDrift } from '../analyses/drift/stored';
import { personalNote, personalValueColumns } from '../data/pii';
import { demographicShift } from '../analyses/robustness/shift';
import { checkRecourseInputs, columnRules, recourse, RECOURSE_DEFAULTS, recourseCallRows, recourseOptions, recourseProxies, type RecourseReport } from '../analyses/recourse';
import { codeInputsOf, consistency, counterfactualFlips, numbersReadAsText, perturbationStability, textInputsOf, textNoiseNote, type ConsistencyResult } from '../analyses/robustness/stability';
import { findColumn, takeRows, type Table } from '../data/table';
import { isPlumblineError } from '../base/errors';
import { groupIndex } from '../metrics/groups';
import type { BinaryTarget } from '../metrics/labels';
import type { Classifier } from '../model/classifier';
import { explainTable, type ExplainResult } from '../analyses/explain/explain';
import { adverseActionReasons, globalImportance, REASON_STABILITY_ROWS } from '../analyses/explain/outputs';
import { Random } from '../base/random';
import { NO_LABELS } from './unlabelled';
import { checkStageMemory, driftEstimate, explainFix, recourseEstimate, robustnessEstimate, withStageBudget, type StageEstimate, type StageLimits } from '../base/limits';
import type { AuditProgress, AuditRequest, RunOptions } from './request';
import { type AuditExplanations, type AuditMetrics, type AuditSettings, type RobustnessReport } from './result';

/** Rows of the perturbation test's seeded sample and of the consistency test's neighbour pool. */
const PERTURBATION_ROWS = 100_000;
const CONSISTENCY_POOL = 20_000;

/** The config keys that get a section that failed to run going, added to its reason when the reason names none. */
const SECTION_FIXES: Record<string, string> = {
  explainer: 'In the audit config, set explainer.type: kernel (KernelSHAP works for every model the audit scores), or explainer.enabled: false to leave explanations out.',
};

/** Why drift is missing when no reference file was given. */
export const NO_REFERENCE = 'no reference data was given (data.train, data.reference, --reference or --reference-result)';

/** Why a section is missing when nobody asked for it (left out, or not possible for a score column), as opposed to one that failed to run. */
const NOT_ASKED = [NO_REFERENCE, 'turned off', 'a score-column audit has no model', NO_LABELS];

/** Whether a missing section's reason says it failed to run (a host shows those where people look: the CLI's stderr). */
export function sectionFailed(why: string): boolean {
  return !NOT_ASKED.some((reason) => why.startsWith(reason));
}

/** What every optional section reads, and where one that does not run is recorded. */
export interface SectionContext {
  /** The model (null in a score-column audit). */
  model: Classifier | null;
  request: AuditRequest;
  options: RunOptions;
  /** The audited rows and their scores. */
  table: Table;
  scores: Float64Array;
  /** The reference table (usually the training file), when one was given. */
  reference: Table | null;
  /** Why the audit has no labels, or null when it has. */
  noLabels: string | null;
  limits: StageLimits;
  /** Sections that did not run, with the reason: a section that fails adds itself. */
  missingSections: Record<string, string>;
  /** What scored the rows (the model file's SHA-256, or `column NAME`): a stored reference's prediction drift is only the same model's. */
  scoredBy?: string;
}

/**
 * Runs an optional section: its memory estimate checked before it starts (the explainer
 * checks its own, once it knows its method), its time budget, progress around it; a
 * Plumbline error leaves the section out with the reason and the audit goes on.
 */
async function optionalSection<T>(context: SectionContext, stage: AuditProgress['stage'], name: string, key: string, budget: StageEstimate | { fix: string }, body: (stageSignal: AbortSignal | undefined) => Promise<T>): Promise<T | undefined> {
  const { limits, missingSections } = context;
  const { onProgress, signal } = context.options;
  onProgress?.({ stage, done: 0, total: 1 });
  let value: T | undefined;
  try {
    if ('bytes' in budget) checkStageMemory(name, budget, limits);
    value = await withStageBudget(name, limits, signal, budget.fix, body);
  } catch (error) {
    if (!isPlumblineError(error)) throw error;
    missingSections[key] = `${(error as Error).message}${SECTION_FIXES[key] && !(error as Error).message.includes(`${key}.`) ? ` ${SECTION_FIXES[key]}` : ''}`;
  }
  onProgress?.({ stage, done: 1, total: 1 });
  return value;
}

/**
 * Drift of the audited rows against the reference file (or the distributions stored in an
 * earlier result), with the reference's scores when the model scored it for prediction drift.
 */
export async function driftSection(context: SectionContext): Promise<{ drift: DriftReport | undefined; referenceScores: Float64Array | undefined }> {
  const { model, request, table, scores, reference, noLabels, missingSections } = context;
  let drift: DriftReport | undefined;
  let referenceScores: Float64Array | undefined;
  // The target is the label's drift, and a score column the prediction's: neither is a feature whose drift the share counts.
  // Nor a column of personal data: its drift would keep its values (categories, bins), which the profile keeps none of.
  const personal = personalValueColumns([table, reference]);
  const notFeatures = [request.target, ...(request.scoreColumn ? [request.scoreColumn] : []), ...personal];
  if (reference && !missingSections.drift) {
    drift = await optionalSection(context, 'drift', 'Drift', 'drift', driftEstimate(reference.rowCount, table.rowCount, reference.columns.length), async (stageSignal) => {
      const report = driftReport(reference, table, { exclude: notFeatures, bins: request.driftBins });
      report.conventions += personalNote(personal);
      if (!noLabels && findColumn(reference, request.target)) report.label = categoricalDrift(request.target, findColumn(reference, request.target)!, findColumn(table, request.target)!);
      if (model) {
        // Prediction drift: the same model scores the reference. A reference the model cannot
        // score (a model column missing or holding text) still has its columns' drift.
        try {
          referenceScores = await model.score(reference, { features: request.features, signal: stageSignal });
          report.prediction = numericDrift('p(positive)', referenceScores, scores, request.driftBins);
        } catch (error) {
          if (!isPlumblineError(error)) throw error;
          report.prediction_not_measured = (error as Error).message;
        }
      } else if (request.scoreColumn && findColumn(reference, request.scoreColumn)?.kind === 'numeric') {
        report.prediction = numericDrift(request.scoreColumn, (findColumn(reference, request.scoreColumn) as { values: Float64Array }).values, scores, request.driftBins);
      }
      return report;
    });
  } else if (request.referenceDistributions && !missingSections.drift) {
    const stored = request.referenceDistributions;
    drift = driftFromReference(stored, table, notFeatures);
    drift.conventions += personalNote(personal);
    // Prediction drift against the stored scores' distribution (a result made before it was stored has none: said so), only of the same model's scores.
    const scoredBy = context.scoredBy;
    if (stored.prediction && stored.scoredBy !== undefined && scoredBy !== undefined && stored.scoredBy !== scoredBy) {
      const name = (s: string) => (s.startsWith('column ') ? `the score ${s}` : `the model with SHA-256 ${s.slice(0, 12)}…`);
      drift.prediction_not_measured = `the reference (${stored.source}) holds the scores of ${name(stored.scoredBy)}, this audit those of ${name(scoredBy)}: prediction drift compares one model's scores over time. Audit the reference with this model to store its scores.`;
    } else if (stored.prediction) drift.prediction = storedNumericDrift(request.scoreColumn ?? 'p(positive)', stored.prediction, scores, stored.source);
    else drift.conventions += ` Prediction drift: ${stored.source} holds no stored score distribution (a result of an earlier version of Plumbline); audit the reference again to store one.`;
  } else if (!missingSections.drift) {
    missingSections.drift = NO_REFERENCE;
  }

  if (drift && request.driftThresholds) drift = withThresholds(drift, request.driftThresholds);
  return { drift, referenceScores };
}

/** SHAP explanations of the first rows, with global importance (a model audit only). */
export async function explanationsSection(context: SectionContext): Promise<AuditExplanations | undefined> {
  const { model, request, table, reference, limits, missingSections, options } = context;
  let explanations: AuditExplanations | undefined;
  if (!missingSections.explainer) {
    if (!model || !request.model) missingSections.explainer = 'a score-column audit has no model to explain';
    else {
      const rows = request.explainer?.rows ?? 100;
      const backgroundRows = request.explainer?.backgroundRows ?? 100;
      const explained = await optionalSection(context, 'explain', 'The explanations', 'explainer', { fix: explainFix(rows, backgroundRows) }, (stageSignal) =>
        explainTable(model, request.model!, table, reference ?? table, {
          rows,
          backgroundRows,
          method: request.explainer?.method ?? 'auto',
          features: request.features,
          seed: request.seed ?? 0,
          memoryLimit: limits.memoryBytes,
          textMissing: new Set(request.csv?.missingValues ?? []),
        }, stageSignal, options.treeShap),
      );
      if (explained) explanations = { ...explained, global_importance: globalImportance(explained.columns, explained.values) };
    }
  }
  return explanations;
}

/** Demographic shift, perturbation stability, consistency and counterfactual flips of the protected attributes. */
export async function robustnessSection(context: SectionContext, features: string[] | null, settings: AuditSettings, target: BinaryTarget, metrics: AuditMetrics, ahead?: Promise<ConsistencyResult>): Promise<RobustnessReport | undefined> {
  const { model, request, table, scores, missingSections } = context;
  let robustness: RobustnessReport | undefined;
  if (!missingSections.robustness) {
    const modelColumns = features ?? [];
    robustness = await optionalSection(context, 'robustness', 'Robustness', 'robustness', robustnessBudget(context, features), async (stageSignal) => {
      const indexes = settings.protected_attributes.map((a) => groupIndex(table, a));
      const shift = demographicShift(target.labels, scores, metrics.threshold, indexes, request.robustness?.shift ?? 0.1, settings.calibration_bins, settings.calibration_binning, settings.scores_are_probabilities, settings.min_group_size);
      const inputs = robustnessInputs(context, features);
      // Numeric columns the model takes as text (postal zones written "04"): perturbed as their texts.
      const textInputs = model ? textInputsOf(model.summary) : undefined;
      const codeInputs = model ? codeInputsOf(model.summary) : undefined;
      const perturbation = model ? await perturbationStability(model, table, scores, metrics.threshold, inputs, { epsilons: request.robustness?.noise ?? [0.01, 0.05, 0.1], seed: settings.seed, confidence: settings.confidence, features: request.features, signal: stageSignal, maxRows: PERTURBATION_ROWS, textInputs, codeInputs }) : null;
      stageSignal?.throwIfAborted();
      const flips: RobustnessReport['counterfactual_flips'] = [];
      if (model) {
        for (const a of settings.protected_attributes) {
          stageSignal?.throwIfAborted();
          flips.push(await counterfactualFlips(model, table, scores, metrics.threshold, a, modelColumns, { features: request.features, proxy: request.robustness?.proxies?.[a] }));
        }
      }
      return {
        demographic_shift: shift,
        max_shift_degradation: shift.max_shift_degradation,
        perturbation,
        consistency: model ? await (ahead ?? consistencySearch(context, features, stageSignal)) : null,
        counterfactual_flips: flips,
        conventions: `${shift.conventions} Perturbation: seeded noise ε·sd·N(0,1) on numeric non-protected model inputs (whole-number columns rounded), categories swapped with probability ε${textNoiseNote(numbersReadAsText(table, inputs, textInputs))}${codeNote(inputs, codeInputs)}. Consistency: 1 − mean |Δp| to the 10 nearest neighbours (exact search over numeric non-protected inputs standardized by the searched rows' mean and sd, missing at the mean, category codes left out; squared distances summed in float64 over the standardized values, at equal computed distances the earlier row of the searched rows); above 20,000 rows the neighbours are searched among a seeded sample of 20,000 rows, and above 2,000 rows a seeded sample of 2,000 rows is averaged, with its standard error.`,
      };
    });
  }
  return robustness;
}

/** The model's inputs the robustness section perturbs and searches neighbours in: all but the protected attributes. */
function robustnessInputs(context: SectionContext, features: string[] | null): string[] {
  return (features ?? []).filter((c) => !context.request.protectedAttributes.includes(c));
}

/** The inputs neighbours are searched in: those of {@link robustnessInputs} but a tree model's category codes (a distance between codes means nothing). */
function distanceInputs(context: SectionContext, features: string[] | null): string[] {
  const codes = context.model ? codeInputsOf(context.model.summary) : new Set<string>();
  return robustnessInputs(context, features).filter((c) => !codes.has(c));
}

/** What the conventions say of category codes perturbed ('' for none). */
function codeNote(inputs: string[], codes: ReadonlySet<string> | undefined): string {
  const coded = inputs.filter((name) => codes?.has(name));
  return coded.length ? ` (${coded.join(', ')}: the model's category codes, swapped for another observed code with probability ε)` : '';
}

/** The robustness section's memory estimate, checked before it starts. */
function robustnessBudget(context: SectionContext, features: string[] | null): StageEstimate {
  return robustnessEstimate(context.table.rowCount, (features ?? []).length, PERTURBATION_ROWS, CONSISTENCY_POOL);
}

/** The consistency check as the robustness section runs it: on the model's inputs but the protected attributes, the audit's seed, the host's threads. */
function consistencySearch(context: SectionContext, features: string[] | null, signal: AbortSignal | undefined): Promise<ConsistencyResult> {
  return consistency(context.table, context.scores, distanceInputs(context, features), { seed: context.request.seed ?? 0, maxPool: CONSISTENCY_POOL, neighbours: context.options.neighbours, signal });
}

/**
 * The consistency check's neighbour search started ahead of the robustness section, on the
 * host's threads while this thread computes the metrics and the data profile (the threads
 * are idle then); it needs only the scores, and gives what the section would have found.
 * Undefined, for the section to search itself, where that would change what the audit
 * promises: without threads (nothing to overlap), with a stage time budget (the search would
 * run outside the robustness stage's), for a section that will not run, or one that its
 * memory check will refuse.
 */
export function consistencyAhead(context: SectionContext, features: string[] | null): Promise<ConsistencyResult> | undefined {
  const { model, missingSections, limits, options } = context;
  if (!model || !options.neighbours || missingSections.robustness || limits.seconds !== null) return undefined;
  try {
    checkStageMemory('Robustness', robustnessBudget(context, features), limits);
  } catch {
    return undefined;
  }
  const search = consistencySearch(context, features, options.signal);
  // Awaited by the robustness section; a section that ends before it never awaits a failure.
  search.catch(() => undefined);
  return search;
}

/**
 * The explanations with adverse-action reason codes added (a model audit with explanations
 * only). They need the decision threshold, known only once the metrics are in.
 */
export async function withReasonCodes(context: SectionContext, explanations: AuditExplanations | undefined, settings: AuditSettings, metrics: AuditMetrics): Promise<AuditExplanations | undefined> {
  const { model, request, table, scores, reference, limits, options } = context;
  const { signal } = options;
  // Adverse-action reasons need the decision threshold, known only once the metrics are in;
  // their stability is a second explanation of (at most 50 of) the adverse rows with another seed.
  if (explanations && model && request.model) {
    const adverse = request.recourse?.adverse ?? 'negative';
    const again = explanations.rows.filter((row) => (adverse === 'negative' ? scores[row - 1] < metrics.threshold : scores[row - 1] >= metrics.threshold)).slice(0, REASON_STABILITY_ROWS);
    const backgroundRows = request.explainer?.backgroundRows ?? 100;
    let rerun: (ExplainResult & { rows: number[] }) | string = 'no explained row has an adverse decision';
    if (again.length) try {
      const subset = takeRows(table, Uint32Array.from(again, (row) => row - 1));
      const second = await withStageBudget('The reason-stability check', limits, signal, explainFix(again.length, backgroundRows), (stageSignal) =>
        explainTable(model, request.model!, subset, reference ?? table, { rows: subset.rowCount, backgroundRows, method: request.explainer?.method ?? 'auto', features: request.features, seed: Random.streamSeed(settings.seed, 'explain/reason-stability'), memoryLimit: limits.memoryBytes, textMissing: new Set(request.csv?.missingValues ?? []) }, stageSignal, options.treeShap),
      );
      rerun = { ...second, rows: again };
    } catch (error) {
      if (!isPlumblineError(error)) throw error;
      rerun = (error as Error).message;
    }
    const excluded = [...new Set([...settings.protected_attributes, ...Object.values(request.robustness?.proxies ?? {})])];
    const explainedScores = Float64Array.from(explanations.rows, (row) => scores[row - 1]);
    explanations = { ...explanations, ...adverseActionReasons(table, explanations, rerun, explainedScores, { adverse, threshold: metrics.threshold, excluded, confidence: settings.confidence }) };
  }
  return explanations;
}

/** Counterfactual recourse for adverse decisions (a model audit only), leaving protected attributes and proxies alone. */
export async function recourseSection(context: SectionContext, features: string[] | null, settings: AuditSettings, data: DataProfile, metrics: AuditMetrics): Promise<RecourseReport | undefined> {
  const { model, request, table, scores, missingSections } = context;
  let recourseReport: RecourseReport | undefined;
  if (!missingSections.recourse) {
    if (!model) missingSections.recourse = 'a score-column audit has no model to search counterfactuals with';
    else {
      const settingsRecourse = request.recourse ?? {};
      // Columns the model does not read: the config's mistake, refused (outside the section, which would leave recourse out and go on).
      checkRecourseInputs(settingsRecourse, features ?? []);
      const maxRows = settingsRecourse.maxRows ?? RECOURSE_DEFAULTS.maxRows;
      const modelColumns = (features ?? []).length;
      const estimate = recourseEstimate(maxRows, modelColumns, RECOURSE_DEFAULTS.callRows + RECOURSE_DEFAULTS.evaluations);
      // Larger model calls where the stage's memory allows them (the same counterfactuals).
      const callRows = recourseCallRows((n) => recourseEstimate(maxRows, modelColumns, n + RECOURSE_DEFAULTS.evaluations).bytes <= context.limits.memoryBytes);
      // Proxies are not changed by default: those declared for the flip test and those the data profile flags at error level.
      const proxies = recourseProxies(request.robustness?.proxies, data);
      // The rules' refusals (a category named as a number, a cost on a column never changed) are the config's mistakes: exit 2, not a section left out.
      columnRules(table, features ?? [], recourseOptions(settingsRecourse, { threshold: metrics.threshold, protectedAttributes: settings.protected_attributes, proxies, confidence: settings.confidence, seed: settings.seed }), codeInputsOf(model.summary));
      recourseReport = await optionalSection(context, 'recourse', 'Recourse', 'recourse', estimate, (stageSignal) =>
        recourse(model, table, scores, features ?? [], settings.protected_attributes, recourseOptions(settingsRecourse, {
          threshold: metrics.threshold,
          protectedAttributes: settings.protected_attributes,
          proxies,
          confidence: settings.confidence,
          seed: settings.seed,
          features: request.features,
          signal: stageSignal,
          callRows,
          runner: context.options.recourse,
        })),
      );
    }
  }
  return recourseReport;
}

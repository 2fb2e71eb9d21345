/**
 * What multiclass and regression audits share around their metrics: the refusals of what
 * they cannot honour, the settings, the data profile and the findings, the model as the
 * result names it.
 */
import type { AuditRequest } from '../audit';
import type { ModelMissing } from '../audit/inputs';
import { refuseIdleRobustness } from '../audit/idle-settings';
import { definedSettings, readOptionsOf, recourseKeysOf, recourseSettingsOf } from '../audit/result';
import { limitsOf } from './stages';
import { profileTable, type DataProfile } from '../analyses/profile/profile';
import type { Table } from '../data/table';
import { AuditConfigError, quote } from '../base/errors';
import { sha256Hex } from '../base/hash';
import type { Classifier } from '../model/classifier';
import { fidelityFindings, inputFidelity, type InputFidelity } from '../model/fidelity';
import type { TaskChoice } from './resolve';
import type { TaskModelInput, TaskSettings } from './result';

/** Refuses what a multiclass or regression audit cannot honour, naming the key and the fix. */
export function refuseUnsupported(request: AuditRequest, task: 'multiclass' | 'regression'): void {
  const refuse = (key: string, why: string) => {
    throw new AuditConfigError(`${key} ${key.includes(', ') ? 'are' : 'is'} set, but ${why} in a ${task} audit. Remove ${key}, or audit a binary classifier (task: binary).`);
  };
  if (!request.target || request.unlabelled) throw new AuditConfigError(`A ${task} audit needs labels: name the target column (--target / data.target). Audits without labels are binary-only for now.`);
  if (request.thresholdPolicy && request.thresholdPolicy.policy !== 'fixed') refuse('threshold (a policy)', 'a threshold policy is not fitted');
  if (request.validation) refuse('data.validation', 'no threshold policy is fitted');
  if (request.baseline) refuse('the baseline (--baseline)', 'champion–challenger comparisons are not made yet');
  if (request.sampleSize !== undefined) refuse('data.test_sample_size', 'the test rows are not sampled');
  if (request.intersections) refuse('fairness.intersections', 'intersections are not audited yet');
  if (request.slices) refuse('fairness.slice_columns', 'slices are not evaluated yet');
  if (request.ll144) refuse('fairness.ll144', 'the NYC Local Law 144 tables (selection of a binary decision) are not made');
  if (request.referenceGroups && Object.keys(request.referenceGroups).length) refuse('fairness.reference_groups', 'the four-fifths rule (a binary decision’s) is not applied');
  if (task === 'multiclass' && request.threshold !== undefined) refuse('threshold', 'the predicted class is the most probable one; no threshold applies');
  if (task === 'multiclass' && request.positiveWhen) refuse('positive_when', 'there is no regression decision');
  // task: multiclass with a positive label: every class is audited, that label was read nowhere (task: binary, or no task, audits it against the rest).
  if (task === 'multiclass' && request.positiveLabel !== undefined) refuse('data.positive_label', 'every class is audited, none against the rest,');
  refuseIdleRobustness(request);
  const recourseKeys = recourseKeysOf(request.recourse);
  const off = request.missingSections?.recourse?.startsWith('turned off') ? request.missingSections.recourse : null;
  if (recourseKeys.length && (task === 'multiclass' || !request.positiveWhen || off)) {
    refuse(recourseKeys.join(', '), task === 'multiclass' ? 'no recourse is searched (a multiclass audit has no single adverse decision)' : off ? `no recourse is searched (${off})` : 'no recourse is searched without a decision (threshold and positive_when)');
  }
  if (task === 'regression' && request.classLabels) refuse('model.class_labels', 'a regression has no classes');
  // Settings these audits would record and not read (each was accepted and ignored).
  if (task === 'regression' && request.positiveLabel !== undefined) refuse('data.positive_label', 'a regression has no positive class (a decision says its positive side with positive_when)');
  if (task === 'regression' && request.calibrationBins !== undefined) refuse('calibration.bins', 'the calibration table is by deciles of the prediction');
  if (request.calibrationBinning === 'equal-frequency') refuse('calibration.binning: equal-frequency', task === 'regression' ? 'the calibration table is by deciles of the prediction' : 'the calibration tables bin each class\'s probability in equal-width bins');
  if (request.powerDifference !== undefined && !(task === 'regression' && request.positiveWhen)) refuse('fairness.power_difference', 'the power of a parity test (of a binary decision) is not computed');
  if (task === 'regression' && request.threshold !== undefined && !request.positiveWhen) {
    throw new AuditConfigError(`threshold ${request.threshold} is set for a regression: say whether the decision is positive when the prediction is above or below it with positive_when: above|below (--positive-when).`);
  }
  if (task === 'regression' && request.positiveWhen && request.threshold === undefined) {
    throw new AuditConfigError(`positive_when: ${request.positiveWhen} is set without a threshold: set threshold to the prediction the decision turns on.`);
  }
}

export function modelInput(request: AuditRequest, model: Classifier, scoreOutput: string, classes?: string[]): TaskModelInput {
  const s = model.summary;
  return { file: request.model!.fileName, sha256: sha256Hex(request.model!.bytes), format: s.format, producer: s.producer, opsets: s.opsets, operators: s.operators, score_output: scoreOutput, ...(classes ? { classes } : {}) };
}

/** The data profile with the task's target counts; the leakage check reads a binary view of the target, said in its findings. */
export function taskProfile(table: Table, request: AuditRequest, binaryView: Uint8Array, counts: Record<string, number>, view: string): DataProfile {
  const profile = profileTable(table, request.target, binaryView, request.protectedAttributes, request.scoreColumn);
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

/** The settings both tasks share. */
export function baseSettings(request: AuditRequest, choice: TaskChoice, features: string[] | null, resamples: number): Omit<TaskSettings, 'task'> {
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
    limits: { stage_memory_mb: limitsOf(request).memoryBytes / 2 ** 20, stage_seconds: limitsOf(request).seconds },
    ...definedSettings({ read_options: readOptionsOf(request.csv), recourse_settings: recourseSettingsOf(request.recourse as Record<string, unknown> | undefined), model_id: request.modelId }),
  };
}

export function smallGroups(groups: Record<string, { n: number }>, min: number): string[] {
  return Object.entries(groups).filter(([, g]) => g.n < min).map(([name]) => name);
}

/** Findings every task shares: small groups, skipped rows, the input fidelity's. (A file whose bytes do not read in its encoding is refused at load.) */
export function commonFindings(data: DataProfile, fairness: Record<string, { groups: Record<string, { n: number }> }>, request: AuditRequest, table: Table, read: TaskRead, min: number): void {
  for (const [attribute, f] of Object.entries(fairness)) {
    for (const [group, g] of Object.entries(f.groups)) {
      if (g.n < min) data.findings.push({ check: 'small_group', severity: 'warning', column: attribute, message: `${attribute} = ${group} has ${g.n} rows (fewer than ${min}): its metrics are too uncertain to judge.` });
    }
  }
  if (table.skipped) data.findings.push({ check: 'skipped_rows', severity: 'warning', message: `${request.data.fileName}: ${table.skipped.rows} row${table.skipped.rows === 1 ? '' : 's'} with the wrong number of fields skipped (data.skip_bad_lines): ${table.skipped.examples.join('; ')}.` });
}

/** The data as read once by the dispatcher. */
export interface TaskRead {
  table: Table;
  sha256: string;
  /** The model's own missing value (XGBoost missing=-999), read as missing in the reference too. */
  modelMissing?: ModelMissing | null;
}

export function fidelityOf(model: Classifier, table: Table, features: string[], request: AuditRequest, data: DataProfile): InputFidelity {
  const fidelity = inputFidelity(model.summary, table, features, new Set(request.csv?.missingValues ?? []));
  const limit = request.maxUnknownCategoryShare;
  const worst = fidelity.inputs.filter((e) => e.unseen && limit !== undefined && e.unseen.share > limit).sort((a, b) => b.unseen!.share - a.unseen!.share)[0];
  if (worst) {
    throw new AuditConfigError(`${table.source}, column ${quote(worst.column)}: ${(worst.unseen!.share * 100).toFixed(1)}% of rows hold values ${request.model!.fileName} never saw for input ${quote(worst.input)}, more than the ${(limit! * 100).toFixed(1)}% allowed (model.max_unknown_category_share). Check that the data is coded as the model was trained, or raise the limit.`);
  }
  data.findings.push(...fidelityFindings(fidelity, request.model!.fileName, request.data.fileName));
  return fidelity;
}

/**
 * The audit of a multiclass classifier or a regression model: the binary audit's frame
 * (data profile, input fidelity, drift, explanations, findings) around the task's own
 * metrics, intervals, calibration and fairness (metrics/multiclass*, metrics/regression,
 * metrics/task-intervals), robustness, and recourse on a regression's decision. What the
 * binary audit has and these do not yet — intersections, slices, threshold policies,
 * baselines, audits without labels — is refused when asked for by its key.
 */
import { validateColumns, type AuditRequest, type LoadedInput, type RunOptions } from '../audit';
import { modelMissingOf, withModelMissing, type ModelMissing } from '../audit/inputs';
import { looksLikeXgboostJson, readXgboostJson } from '../model/tree';
import { AuditConfigError } from '../base/errors';
import type { OrtRuntime } from '../model/onnx-scorer';
import type { TaskChoice } from './resolve';
import type { TaskAuditResult } from './result';
import { refuseUnsupported, type TaskRead } from './frame';
import { multiclassAudit } from './multiclass-audit';
import { regressionAudit } from './regression-audit';

/** An XGBoost JSON file's own missing value and its inputs (null for another file, or none; a file the reader refuses is refused where the model opens). */
function xgboostMissing(bytes: Uint8Array, fileName: string, task: 'multiclass' | 'regression', features?: readonly string[]): ModelMissing | null {
  if (!looksLikeXgboostJson(bytes)) return null;
  try {
    return modelMissingOf(readXgboostJson(bytes, fileName, task === 'regression' ? 'regression' : 'classifier', features));
  } catch {
    return null;
  }
}

/**
 * Audits a multiclass classifier or a regression model (`choice.task`); the data was read
 * by the dispatcher (core/audit/run.ts), which also chose the task.
 */
export async function runTaskAudit(ort: OrtRuntime, request: AuditRequest & { data: LoadedInput }, options: RunOptions, choice: TaskChoice & { task: 'multiclass' | 'regression' }, read: TaskRead): Promise<TaskAuditResult> {
  refuseUnsupported(request, choice.task);
  if (!request.model) throw new AuditConfigError(`A ${choice.task} audit needs the model file (--model / model.path).`);
  const resamples = request.bootstrapResamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 0 || resamples > 100_000) throw new AuditConfigError(`Bootstrap resamples must be a whole number from 0 to 100000, got ${request.bootstrapResamples}.`);
  validateColumns(read.table, { ...request, intersections: [] });
  // An XGBoost model's own missing value (missing=-999): its input cells are missing for the whole audit, as in a binary one.
  const missing = xgboostMissing(request.model.bytes, request.model.fileName, choice.task, request.features);
  const opened = { ...read, table: withModelMissing(read.table, missing, request), modelMissing: missing };
  return choice.task === 'multiclass' ? multiclassAudit(ort, request, options, choice, opened, resamples) : regressionAudit(ort, request, options, choice, opened, resamples);
}

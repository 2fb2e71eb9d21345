/**
 * The audit entry point every host calls: reads the data once, chooses the task (binary,
 * multiclass or regression; configured or inferred, see task/resolve) and runs that
 * audit — the binary pipeline (audit.ts) or the multiclass/regression one (task/run.ts).
 */
import { loadInput, runAudit, type AuditRequest, type AuditResult, type RunOptions } from './index';
import { checkModelType } from './pipeline';
import { AuditConfigError, quote } from '../base/errors';
import type { OrtRuntime } from '../model/onnx-scorer';
import { chooseTask } from '../task/resolve';
import type { TaskAuditResult } from '../task/result';
import { runTaskAudit } from '../task/run';

/** The result of any audit: a binary one (no `task` key) or a multiclass or regression one. */
export type AnyAuditResult = AuditResult | TaskAuditResult;

/** Audits a model of any task, or a score column (binary). */
export async function runAnyAudit(ort: OrtRuntime, request: AuditRequest, options: RunOptions = {}): Promise<AnyAuditResult> {
  refuseDriftWithoutReference(request);
  if (!request.model && request.task === undefined && !request.classLabels && !request.positiveWhen) return runAudit(ort, request, options);
  const total = 'loaded' in request.data ? request.data.loaded.bytes : request.data.bytes.length;
  options.onProgress?.({ stage: 'parse', done: 0, total });
  const loaded = await loadInput(request.data, request.csv);
  options.onProgress?.({ stage: 'parse', done: total, total });
  const read = { ...request, data: { fileName: request.data.fileName, loaded } };
  checkModelType(request);
  const choice = chooseTask(request, loaded.table);
  if (choice.task === 'binary') {
    if (request.positiveWhen) throw new AuditConfigError(`positive_when is set, but this is a binary audit (${choice.source}): it turns a regression's prediction into a decision. Remove positive_when, or set task: regression.`);
    const chosen = { ...read, taskSource: choice.source };
    if (!choice.regressionHint) return runAudit(ort, chosen, options);
    try {
      return await runAudit(ort, chosen, options);
    } catch (error) {
      // A refusal of the target (no positive label among its values, say) of a model that may be a regressor says how to audit it as one.
      if (error instanceof AuditConfigError && error.message.includes(`column ${quote(request.target)}`)) throw new AuditConfigError(`${error.message} Note: ${choice.regressionHint}`);
      throw error;
    }
  }
  return runTaskAudit(ort, read, options, { ...choice, task: choice.task }, { table: loaded.table, sha256: loaded.sha256 });
}

/** Drift settings with nothing to measure drift against were read nowhere: refused, naming them and the fix. */
function refuseDriftWithoutReference(request: AuditRequest): void {
  if (request.reference || request.referenceDistributions || request.missingSections?.drift) return;
  const keys = [...(request.driftBins !== undefined ? ['drift.psi_bins'] : []), ...(request.driftThresholds ? ['drift.psi_minor / psi_major'] : [])];
  if (keys.length === 0) return;
  throw new AuditConfigError(`${keys.join(' and ')} ${keys.length > 1 ? 'are' : 'is'} set, but no reference is given, so no drift is measured. Give the reference the data drifts from (data.reference / --reference FILE, or --reference-result RESULT), or remove ${keys.length > 1 ? 'them' : 'it'}.`);
}

/**
 * A threshold policy fitted on held-out data: the validation file read, its labels taken as
 * the audited target's are, and scored by the same model (or read from the same score
 * column). A fixed threshold has nothing to fit, so a validation file with one is refused.
 */
import { AuditConfigError } from '../base/errors';
import { binaryTarget, classOptions, type BinaryTarget } from '../metrics/labels';
import type { ClassChoice } from '../model/classes';
import type { Classifier } from '../model/classifier';
import { loadInput } from './inputs';
import { columnScores } from './scoring';
import type { AuditRequest } from './request';
import type { ThresholdFit } from './result';

/** The held-out file a threshold policy was fitted on, as the result's inputs record it. */
export interface ValidationInput {
  file: string;
  sha256: string;
  rows: number;
}

/** The fit of the request's threshold policy on data.validation, and that file's record; neither without one. */
export async function thresholdFit(
  model: Classifier | null,
  choice: ClassChoice | null,
  target: BinaryTarget,
  request: AuditRequest,
  threshold: number,
  signal: AbortSignal | undefined,
): Promise<{ fit: ThresholdFit | undefined; validationInput: ValidationInput | undefined }> {
  let fit: ThresholdFit | undefined;
  let validationInput: ValidationInput | undefined;
  if (request.validation) {
    const policy = request.thresholdPolicy ?? { policy: 'fixed', threshold };
    if (policy.policy === 'fixed') {
      throw new AuditConfigError(
        `data.validation (${request.validation.fileName}) is only used to fit a threshold policy, and the threshold is fixed at ${policy.threshold}. Set threshold to a policy ({policy: youden}, {policy: selection_rate, target: R} or {policy: cost, cost_fp: A, cost_fn: B}), or remove data.validation.`,
      );
    }
    const loaded = await loadInput(request.validation, request.csv);
    const validationTarget = binaryTarget(loaded.table, request.target, target.positiveLabel, classOptions(choice ?? null, request.model?.fileName));
    const validationScores = model ? await model.score(loaded.table, { features: request.features, signal }) : columnScores(loaded.table, request.scoreColumn!).scores;
    fit = { labels: validationTarget.labels, scores: validationScores, source: request.validation.fileName };
    validationInput = { file: request.validation.fileName, sha256: loaded.sha256, rows: loaded.table.rowCount };
  }
  return { fit, validationInput };
}

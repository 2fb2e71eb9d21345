/**
 * The findings an audit adds to the data profile once its metrics are in: about the scores
 * and the model's inputs, a threshold fitted on the audited file, skipped rows, bytes that
 * were not UTF-8, groups too small to judge and slices where the model does markedly worse.
 */
import type { DataProfile } from '../analyses/profile/profile';
import type { Table } from '../data/table';
import type { AuditRequest } from './request';
import type { AuditMetrics, AuditSettings } from './result';

/** Adds the audit's findings, in the order the result lists them, to `data.findings`. */
export function addFindings(data: DataProfile, scoreFindings: DataProfile['findings'], metrics: AuditMetrics, settings: AuditSettings, table: Table, request: AuditRequest): void {
  data.findings.push(...scoreFindings);
  // Scores that rank the positive label below the others, beyond chance: a swapped class order is the usual cause, not a model.
  const auc = metrics.performance.roc_auc;
  const interval = metrics.performance.intervals?.roc_auc;
  if (auc !== null && auc < 0.5 && (interval ? interval.high < 0.5 : auc < 0.4)) {
    data.findings.push({
      check: 'inverted_scores',
      severity: 'error',
      message: `ROC AUC ${auc.toFixed(3)}${interval ? ` (interval ${interval.low.toFixed(3)}–${interval.high.toFixed(3)})` : ''} is below 0.5: the scores rank the positive label (${settings.positive_label}) below the other rows. Check that the class names (model.class_labels, in output order) and the positive label are not swapped; a score column where lower means positive must be turned round (1 − score) first.`,
    });
  }
  if (!metrics.threshold_selection.held_out && metrics.threshold_selection.policy.policy !== 'fixed') {
    data.findings.push({
      check: 'threshold_fitted_on_test',
      severity: 'warning',
      message: `The threshold ${metrics.threshold} was chosen by a policy on ${table.source}, the audited file itself: every metric at it is optimistic. Fit it on held-out data with data.validation (--validation FILE).`,
    });
  }
  if (request.sampleSize !== undefined && settings.test_sample_size === null) {
    data.findings.push({ check: 'sample_not_drawn', severity: 'warning', message: `data.test_sample_size is ${request.sampleSize.toLocaleString('en-US')}, but ${request.data.fileName} has ${table.rowCount.toLocaleString('en-US')} rows: every row is audited, no sample drawn.` });
  }
  if (table.skipped) data.findings.push({ check: 'skipped_rows', severity: 'warning', message: `${request.data.fileName}: ${table.skipped.rows} row${table.skipped.rows === 1 ? '' : 's'} with the wrong number of fields skipped (data.skip_bad_lines): ${table.skipped.examples.join('; ')}.` });
  for (const [attribute, fairness] of Object.entries(metrics.fairness)) {
    for (const [group, values] of Object.entries(fairness.groups)) {
      if (values.insufficient_samples) {
        data.findings.push({ check: 'small_group', severity: 'warning', column: attribute, message: `${attribute} = ${group} has ${values.n} rows (fewer than ${settings.min_group_size}): its rates are too uncertain to judge.` });
      }
    }
  }
  for (const slice of metrics.slice_summary.underperforming) {
    data.findings.push({ check: 'underperforming_slice', severity: 'warning', column: slice.column, message: `${slice.column} = ${slice.slice} (${slice.n} rows): ROC AUC ${slice.roc_auc.toFixed(3)}, ${slice.auc_gap.toFixed(3)} below the overall ${(slice.roc_auc + slice.auc_gap).toFixed(3)}: the model does markedly worse on this slice.` });
  }
}

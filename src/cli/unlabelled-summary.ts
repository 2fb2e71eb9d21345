/** What `plumbline audit` says on stderr about an audit without labels (core/audit/unlabelled.ts). */
import { formatNumber, type AnyAuditResult } from '../core/index.ts';

/**
 * The notice and a one-line summary, for a CI log: the estimated figures said to be
 * estimated, and the measured ones; empty for a labelled audit.
 */
export function unlabelledSummary(result: AnyAuditResult): string {
  if ('task' in result || result.labels !== 'absent') return '';
  const e = result.estimated_performance;
  const measured = `measured: selection rate ${formatNumber(result.performance.selection_rate)}; demographic parity difference ${Object.entries(result.fairness).map(([a, f]) => `${a} ${formatNumber(f.demographic_parity_difference)}`).join(', ')}`;
  const estimated = e
    ? `ESTIMATED (CBPE, calibration ${e.calibration_check.status === 'checked' ? `checked: ECE ${formatNumber(e.calibration_check.expected_calibration_error)} on ${e.calibration_check.reference}` : 'unchecked'}): accuracy ${formatNumber(e.accuracy)}, precision ${formatNumber(e.precision)}, recall ${formatNumber(e.recall)}, F1 ${formatNumber(e.f1)}, ROC AUC ${formatNumber(e.roc_auc)}`
    : `not estimated: ${result.missing_sections.estimated_performance ?? 'no estimate'}`;
  return `plumbline: ${result.labels_notice}\nplumbline: ${estimated}; ${measured}.\n`;
}

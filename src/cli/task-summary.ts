/** What `plumbline audit` says on stderr about a multiclass or regression audit (core/task). */
import { formatNumber, type AnyAuditResult } from '../core/index.ts';

/**
 * The task notice (what kind of audit, how the task was chosen, the conventions) and a line
 * of key figures, for a CI log; empty for a binary audit.
 */
export function taskSummary(result: AnyAuditResult): string {
  if (!('task' in result) || result.task === undefined) return '';
  const fairness = (id: string) => Object.entries(result.fairness).map(([a, f]) => `${a} ${formatNumber((f as unknown as Record<string, number | null>)[id])}`).join(', ');
  let figures: string;
  if (result.task === 'multiclass') {
    const p = result.performance;
    figures = `accuracy ${formatNumber(p.accuracy)}, balanced accuracy ${formatNumber(p.balanced_accuracy)}, macro ROC AUC (one-vs-rest) ${formatNumber(p.roc_auc_ovr)}, macro F1 ${formatNumber(p.f1_macro)}, log loss ${formatNumber(p.log_loss)}, top-label ECE ${formatNumber(result.calibration.top_label_ece)}; worst-class selection-rate difference ${fairness('max_class_selection_rate_difference')}`;
  } else {
    const p = result.performance;
    figures = `MAE ${formatNumber(p.mae)}, RMSE ${formatNumber(p.rmse)}, R² ${formatNumber(p.r2)}, median absolute error ${formatNumber(p.median_absolute_error)}, MAPE ${formatNumber(p.mape)}; mean prediction difference ${fairness('mean_prediction_difference')}; bounded group loss ${fairness('bounded_group_loss')}`;
  }
  return `plumbline: ${result.task_notice}\nplumbline: ${figures}.\n`;
}

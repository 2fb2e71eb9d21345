/**
 * The regression report's own sections: key figures, performance with intervals and the
 * predicted-vs-actual and residual plots, mean outcome by decile of prediction, fairness
 * per protected attribute (group means and errors, their differences and ratios, bounded
 * group loss, distributional parity), and the binary audit of the decision the prediction
 * feeds when one is configured.
 */
import { metricLabel as label } from '../metrics/catalog';
import type { RegressionAuditResult } from '../task/result';
import { intervalMethod, rowsText, sentences, type ReportBlock } from './blocks';
import { formatInterval as interval, formatNumber as fmt } from '../base/format';
import { decileCalibrationChart, predictedActualChart, residualChart } from './task-charts';

/** Overall regression metrics in report order (their names: metricLabel). */
export const REGRESSION_METRICS = ['mae', 'rmse', 'mse', 'r2', 'median_absolute_error', 'mape'] as const;

/** "A vs B, p 0.03" of a worst pair. */
function pairText(pair: { groups: [string, string] | null; p_value: number | null }): string {
  return pair.groups ? `${pair.groups[0]} vs ${pair.groups[1]}, permutation p ${fmt(pair.p_value, 4)}` : 'fewer than two groups';
}

/** The executive summary's key figures of a regression audit: [figure, value, interval, convention]. */
export function regressionKeyFigures(result: RegressionAuditResult): string[][] {
  const p = result.performance;
  const units = `in ${result.settings.target}'s units`;
  const row = (id: 'mae' | 'rmse' | 'r2' | 'median_absolute_error' | 'mape', convention: string) => [label(id), fmt(p[id]), interval(p.intervals[id]), `${convention}; ${intervalMethod(p.intervals[id])}`];
  return [
    row('mae', units),
    row('rmse', units),
    row('r2', '1 − SS_res/SS_tot'),
    row('median_absolute_error', units),
    row('mape', p.mape === null ? (p.null_reasons.mape ?? 'not computed') : 'mean |y − ŷ|/y, a share'),
    ...Object.entries(result.fairness).flatMap(([attribute, f]) => {
      const small = f.small_groups.length ? `; small groups: ${f.small_groups.join(', ')}` : '';
      return [
        [`${label('mean_prediction_difference')} (${attribute})`, fmt(f.mean_prediction_difference), interval(null), `max − min of group means${small}`],
        [`${label('mae_difference')} (${attribute})`, fmt(f.mae_difference), interval(null), `max − min of group MAEs${small}`],
        [`${label('bounded_group_loss')} (${attribute})`, fmt(f.bounded_group_loss), interval(null), boundedLossNote(f)],
        [`${label('ks_statistic')} (${attribute})`, fmt(f.ks_statistic), interval(null), `largest between two groups' predictions: ${pairText(f.distribution.ks_statistic)}`],
      ];
    }),
  ];
}

/** Performance, calibration, fairness and the decision's audit of a regression. */
export function regressionSectionBlocks(result: RegressionAuditResult, level: string): ReportBlock[] {
  const p = result.performance;
  const target = result.settings.target;
  const out: ReportBlock[] = [];
  const heading = (text: string, lvl: 1 | 2 = 1) => out.push({ type: 'heading', text, level: lvl });
  const paragraph = (text: string, size?: number) => out.push({ type: 'paragraph', text, size });
  const table = (headers: string[], rows: string[][], widths?: number[]) => out.push({ type: 'table', headers, rows, widths });
  const chart = (spec: ReturnType<typeof residualChart>) => {
    if (spec) out.push({ type: 'chart', spec });
  };

  heading('Performance');
  paragraph(sentences(`${p.n} rows; the prediction of ${target} against its value in the data`, result.conventions.metrics, result.conventions.mape));
  table(['Metric', 'Key', 'Value', `${level} interval`, 'Method'], REGRESSION_METRICS.map((id) => [label(id), id, fmt(p[id]), interval(p.intervals[id]), intervalMethod(p.intervals[id])]), [125, 105, 75, 125, 69]);
  const reasons = Object.entries(p.null_reasons);
  if (reasons.length) paragraph(`No value: ${reasons.map(([k, why]) => `${k}: ${why}`).join('; ')}.`);
  chart(predictedActualChart(result));
  chart(residualChart(result));

  heading('Calibration');
  paragraph(sentences('Mean outcome against mean prediction in each decile of the prediction (all rows)', result.conventions.calibration));
  chart(decileCalibrationChart(result.calibration.deciles, target));
  const edges = result.calibration.decile_edges;
  table(
    ['Decile', 'Predictions from', 'to', 'n', 'Mean prediction', 'Mean outcome', 'Outcome − prediction'],
    result.calibration.deciles.map((d) => [String(d.bin + 1), d.bin === 0 ? 'lowest' : fmt(edges[d.bin - 1], 2), d.bin >= edges.length ? 'highest' : fmt(edges[d.bin], 2), String(d.n), fmt(d.mean_prediction, 2), fmt(d.mean_outcome, 2), d.mean_prediction === null || d.mean_outcome === null ? fmt(null) : fmt(d.mean_outcome - d.mean_prediction, 2)]),
    [45, 75, 75, 40, 85, 85, 94],
  );

  heading('Fairness');
  paragraph(sentences("Per protected attribute: each group's mean prediction and mean outcome, its errors, and how far apart the groups' prediction distributions are", result.conventions.groups, result.conventions.distribution));
  for (const [attribute, f] of Object.entries(result.fairness)) {
    heading(attribute, 2);
    const min = result.settings.min_group_size;
    table(
      ['Group', 'n', 'Mean prediction', 'Mean outcome', 'MAE', 'RMSE', 'R²', 'Note'],
      Object.entries(f.groups).map(([group, g]) => [group, String(g.n), fmt(g.mean_prediction, 2), fmt(g.mean_outcome, 2), fmt(g.mae, 2), fmt(g.rmse, 2), fmt(g.r2), g.insufficient_samples ? `small: fewer than ${min} rows` : Object.keys(g.null_reasons).length ? `no value: ${Object.keys(g.null_reasons).join(', ')}` : '']),
      [80, 35, 70, 70, 55, 55, 45, 89],
    );
    table(
      ['Disparity', 'Value', 'Groups behind it'],
      [
        ['mean_prediction_difference', fmt(f.mean_prediction_difference), 'max − min of group mean predictions'],
        ['mean_prediction_ratio', fmt(f.mean_prediction_ratio), 'min / max (null unless every mean is > 0)'],
        ['mean_outcome_difference', fmt(f.mean_outcome_difference), 'max − min of group mean outcomes'],
        ['mean_outcome_ratio', fmt(f.mean_outcome_ratio), 'min / max (null unless every mean is > 0)'],
        ['mae_difference', fmt(f.mae_difference), 'max − min of group MAEs'],
        ['rmse_difference', fmt(f.rmse_difference), 'max − min of group RMSEs'],
        ['bounded_group_loss', fmt(f.bounded_group_loss), boundedLossNote(f)],
        ['ks_statistic', fmt(f.ks_statistic), pairText(f.distribution.ks_statistic)],
        ['wasserstein_distance', fmt(f.wasserstein_distance), pairText(f.distribution.wasserstein_distance)],
      ],
      [150, 90, 259],
    );
    if (f.pairs.length > 1) table(['Pair of groups', 'KS statistic', 'Wasserstein distance'], f.pairs.map((pair) => [`${pair.groups[0]} vs ${pair.groups[1]}`, fmt(pair.ks_statistic), fmt(pair.wasserstein_distance, 2)]), [200, 140, 159]);
    const nullReasons = Object.entries(f.null_reasons);
    if (nullReasons.length) paragraph(`No value: ${nullReasons.map(([k, why]) => `${k}: ${why}`).join('; ')}.`, 8.5);
    if (f.small_groups.length) paragraph(`Small groups: ${f.small_groups.map((g) => `${g} (${rowsText(f.groups[g]?.n ?? 0)})`).join(', ')} ${f.small_groups.length === 1 ? 'has' : 'have'} fewer than ${min} rows (fairness.min_group_size). Their means and errors, and any disparity they drive, are too uncertain to judge on their own.`);
  }
  out.push(...decisionAuditBlocks(result, level));
  return out;
}

/** The binary audit of the decision the prediction feeds (settings.decision), or nothing when none is configured. */
function decisionAuditBlocks(result: RegressionAuditResult, level: string): ReportBlock[] {
  const audit = result.decision_audit;
  const decision = result.settings.decision;
  if (!audit || !decision) return [];
  const p = audit.performance;
  const c = p.confusion_matrix;
  const out: ReportBlock[] = [
    { type: 'heading', text: 'Decision audit', level: 1 },
    { type: 'paragraph', text: `The prediction feeds a decision: positive when the prediction is at or ${decision.positive_when} ${decision.threshold}; the label is positive when ${result.settings.target} is at or ${decision.positive_when} ${decision.threshold}. The binary audit of that decision over ${audit.n} rows (ROC AUC ranks the rows by the prediction):` },
    {
      type: 'table',
      headers: ['Metric', 'Value', `${level} interval`],
      rows: [
        [label('accuracy'), fmt(p.accuracy), interval(p.intervals.accuracy)],
        [label('balanced_accuracy'), fmt(p.balanced_accuracy), interval(null)],
        [label('precision'), fmt(p.precision), interval(p.intervals.precision)],
        [`${label('recall')} (${label('tpr')})`, fmt(p.recall), interval(p.intervals.recall)],
        [`${label('specificity')} (${label('tnr')})`, fmt(p.specificity), interval(p.intervals.specificity)],
        [label('f1'), fmt(p.f1), interval(null)],
        [label('roc_auc'), fmt(p.roc_auc), interval(p.intervals.roc_auc)],
        [label('selection_rate'), fmt(p.selection_rate), interval(p.intervals.selection_rate)],
        [label('base_rate'), fmt(p.base_rate), interval(p.intervals.base_rate)],
        ['Confusion matrix', `TP ${c.tp}  FP ${c.fp}  TN ${c.tn}  FN ${c.fn}`, ''],
      ],
      widths: [170, 170, 159],
    },
  ];
  for (const [attribute, f] of Object.entries(audit.fairness)) {
    out.push(
      { type: 'heading', text: `Decision by ${attribute}`, level: 2 },
      {
        type: 'table',
        headers: ['Group', 'n', `${label('selection_rate')} (${level})`, label('tpr'), label('fpr'), label('accuracy'), 'Note'],
        rows: Object.entries(f.groups).map(([group, m]) => [group, String(m.n), `${fmt(m.selection_rate)} (${interval(m.intervals.selection_rate, 2)})`, fmt(m.tpr), fmt(m.fpr), fmt(m.accuracy), m.insufficient_samples ? `fewer than ${result.settings.min_group_size} rows` : '']),
        widths: [90, 35, 110, 50, 50, 60, 104],
      },
      {
        type: 'table',
        headers: ['Disparity', 'Value', `${level} interval`],
        rows: (['demographic_parity_difference', 'demographic_parity_ratio', 'equal_opportunity_difference', 'equalized_odds_difference', 'accuracy_difference'] as const).map((id) => [id, fmt(f[id]), interval(f.intervals[id])]),
        widths: [200, 120, 179],
      },
    );
  }
  return out;
}

/** The bounded group loss's note in the tables: the group with the largest MSE, or why there is none. */
function boundedLossNote(f: { bounded_group_loss_group: string | null; null_reasons: Record<string, string> }): string {
  return f.bounded_group_loss_group ? `largest group MSE: ${f.bounded_group_loss_group}` : (f.null_reasons.bounded_group_loss ?? 'no value');
}

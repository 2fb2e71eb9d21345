/**
 * The multiclass report's own sections: key figures, performance (averages, per class,
 * confusion matrix), top-label and classwise calibration, and fairness per protected
 * attribute (per-group accuracy, macro F1 and selection rate of each class; per-class
 * disparities), every number with its interval where the result has one.
 */
import { metricLabel as label } from '../metrics/catalog';
import type { MulticlassAuditResult } from '../task/result';
import { intervalMethod, rowsText, sentences, type ReportBlock } from './blocks';
import { formatInterval as interval, formatNumber as fmt } from '../base/format';
import { topLabelReliabilityChart } from './task-charts';

/** Overall multiclass metrics in report order (their names: metricLabel). */
export const MULTICLASS_METRICS = ['accuracy', 'balanced_accuracy', 'roc_auc_ovr', 'roc_auc_ovr_weighted', 'f1_macro', 'f1_weighted', 'f1_micro', 'precision_macro', 'precision_weighted', 'precision_micro', 'recall_macro', 'recall_weighted', 'recall_micro', 'log_loss', 'brier_score'] as const;

/** A group name with its small-group mark. */
function groupName(group: string, small: boolean, minGroupSize: number): string {
  return small ? `${group} (small: under ${minGroupSize} rows)` : group;
}

/** The executive summary's key figures of a multiclass audit: [figure, value, interval, convention]. */
export function multiclassKeyFigures(result: MulticlassAuditResult): string[][] {
  const p = result.performance;
  const c = result.calibration;
  const row = (id: 'accuracy' | 'balanced_accuracy' | 'roc_auc_ovr' | 'f1_macro' | 'log_loss', convention: string) => [label(id), fmt(p[id]), interval(p.intervals[id]), `${convention}; ${intervalMethod(p.intervals[id])}`];
  return [
    row('accuracy', 'share of rows whose most probable class is the label'),
    row('balanced_accuracy', 'mean recall over the classes'),
    row('roc_auc_ovr', 'mean of the classes’ one-vs-rest AUCs'),
    row('f1_macro', 'mean F1 over the classes'),
    row('log_loss', 'mean −ln p(true class)'),
    [label('top_label_ece'), fmt(c.top_label_ece), interval(null), `${c.bins} equal-width bins of the highest probability`],
    [label('max_classwise_ece'), fmt(c.max_classwise_ece), interval(null), `worst class${worstKey(c.classwise_ece_per_class)}`],
    ...Object.entries(result.fairness).flatMap(([attribute, f]) => [
      [`${label('max_class_selection_rate_difference')} (${attribute})`, fmt(f.max_class_selection_rate_difference), interval(null), `max − min over groups, worst class${f.max_class_selection_rate_difference_class ? `: ${f.max_class_selection_rate_difference_class}` : ''}${smallNote(f.small_groups)}`],
      [`${label('equalized_odds_difference')} (${attribute})`, fmt(f.equalized_odds_difference), interval(null), `max(ΔTPR, ΔFPR) one-vs-rest, worst class${f.equalized_odds_difference_class ? `: ${f.equalized_odds_difference_class}` : ''}${smallNote(f.small_groups)}`],
    ]),
  ];
}

/** "; small groups: A, B" when the attribute has small groups. */
function smallNote(small: string[]): string {
  return small.length ? `; small groups: ${small.join(', ')}` : '';
}

/** ": <class>" of the largest value of a per-class record. */
function worstKey(values: Record<string, number | null>): string {
  let worst: [string, number] | null = null;
  for (const [k, v] of Object.entries(values)) if (v !== null && (worst === null || v > worst[1])) worst = [k, v];
  return worst ? `: ${worst[0]}` : '';
}

/** Performance, calibration and fairness of a multiclass audit. */
export function multiclassSectionBlocks(result: MulticlassAuditResult, level: string): ReportBlock[] {
  const p = result.performance;
  const classes = result.settings.classes ?? Object.keys(p.per_class);
  const out: ReportBlock[] = [];
  const heading = (text: string, lvl: 1 | 2 = 1) => out.push({ type: 'heading', text, level: lvl });
  const paragraph = (text: string, size?: number) => out.push({ type: 'paragraph', text, size });
  const table = (headers: string[], rows: string[][], widths?: number[]) => out.push({ type: 'table', headers, rows, widths });

  heading('Performance');
  paragraph(`${p.n} rows, ${classes.length} classes (${classes.join(', ')}; ${result.settings.classes_source ?? 'in the model’s output order'}). Predicted class: ${result.conventions.predicted_class ?? 'the most probable class'}.`);
  table(['Metric', 'Key', 'Value', `${level} interval`, 'Method'], MULTICLASS_METRICS.map((id) => [label(id), id, fmt(p[id]), interval(p.intervals[id]), intervalMethod(p.intervals[id])]), [130, 120, 55, 90, 104]);
  if (result.conventions.averages) paragraph(sentences(`Averages: ${result.conventions.averages}`), 7.5);
  heading('Per class', 2);
  const classInterval = (label: string, id: string) => `(${interval(p.intervals[`per_class.${label}.${id}`], 2)})`;
  table(
    ['Class', 'Support', `${label('roc_auc')} (one-vs-rest)`, label('precision'), label('recall'), label('f1')],
    classes.map((label) => {
      const m = p.per_class[label];
      return m ? [label, String(m.support), `${fmt(m.roc_auc)} ${classInterval(label, 'roc_auc')}`, `${fmt(m.precision)} ${classInterval(label, 'precision')}`, `${fmt(m.recall)} ${classInterval(label, 'recall')}`, fmt(m.f1)] : [label, '0', fmt(null), fmt(null), fmt(null), fmt(null)];
    }),
    [90, 50, 110, 95, 95, 59],
  );
  const reasons = Object.entries(p.null_reasons);
  if (reasons.length) paragraph(`No value: ${reasons.map(([k, why]) => `${k}: ${why}`).join('; ')}.`);
  heading('Confusion matrix', 2);
  paragraph('Rows: the label; columns: the predicted class (scikit-learn’s layout).', 8.5);
  table(
    ['Label \\ predicted', ...classes, 'Rows'],
    p.confusion_matrix.map((row, i) => [classes[i] ?? String(i), ...row.map(String), String(row.reduce((a, b) => a + b, 0))]),
  );

  heading('Calibration');
  const c = result.calibration;
  paragraph(sentences(`Top-label ECE ${fmt(c.top_label_ece)} (MCE ${fmt(c.top_label.maximum_calibration_error)}), classwise ECE ${fmt(c.classwise_ece)} (mean over classes), max classwise ECE ${fmt(c.max_classwise_ece)}`, result.conventions.ece ?? `${c.bins} equal-width bins`));
  out.push({ type: 'chart', spec: topLabelReliabilityChart(c.top_label) });
  table(
    ['Bin', 'Range', 'n', 'Mean top-label confidence', 'Share correct', `${level} (Wilson)`],
    c.top_label.table.map((b) => [String(b.bin), `${fmt(b.lower, 2)}-${fmt(b.upper, 2)}`, String(b.n), fmt(b.mean_predicted), fmt(b.fraction_positive), interval(b.fraction_positive_interval)]),
    [40, 80, 50, 110, 90, 129],
  );
  table(['Class', 'Classwise ECE', 'Classwise MCE', 'Rows of the class'], classes.map((label) => [label, fmt(c.classwise_ece_per_class[label]), fmt(c.classwise[label]?.maximum_calibration_error), String(p.per_class[label]?.support ?? 0)]), [130, 120, 120, 129]);

  heading('Fairness');
  paragraph(sentences(`Per protected attribute: each group's accuracy (${level} Wilson interval) and macro F1, and the share of its rows predicted as each class (selection rate); per class, the spread (max − min over groups) of the selection rate and of one-vs-rest TPR and FPR`, result.conventions.groups));
  for (const [attribute, f] of Object.entries(result.fairness)) {
    heading(attribute, 2);
    const min = result.settings.min_group_size;
    table(
      ['Group', 'n', `${label('accuracy')} (${level})`, label('f1_macro'), ...classes.map((k) => `Selection ${k}`)],
      Object.entries(f.groups).map(([group, g]) => [groupName(group, g.insufficient_samples, min), String(g.n), `${fmt(g.accuracy)} (${interval(g.accuracy_interval, 2)})`, fmt(g.f1_macro), ...classes.map((k) => fmt(g.selection_rate[k]))]),
      [110, 35, 95, 50, ...classes.map(() => 209 / Math.max(1, classes.length))],
    );
    table(
      ['Group', 'Class', `${label('selection_rate')} (${level})`, `${label('tpr')} (${level})`, `${label('fpr')} (${level})`],
      Object.entries(f.groups).flatMap(([group, g]) => classes.map((k) => [groupName(group, g.insufficient_samples, min), k, `${fmt(g.selection_rate[k])} (${interval(g.intervals.selection_rate[k], 2)})`, `${fmt(g.tpr[k])} (${interval(g.intervals.tpr[k], 2)})`, `${fmt(g.fpr[k])} (${interval(g.intervals.fpr[k], 2)})`])),
      [110, 70, 106, 106, 107],
    );
    table(
      ['Class', 'Selection-rate difference', 'TPR difference', 'FPR difference', 'Equalized odds difference'],
      classes.map((k) => {
        const d = f.by_class[k];
        return [k, fmt(d?.selection_rate_difference), fmt(d?.tpr_difference), fmt(d?.fpr_difference), fmt(d?.equalized_odds_difference)];
      }),
      [110, 100, 90, 90, 109],
    );
    table(
      ['Disparity', 'Value', 'Worst class'],
      [
        ['max_class_selection_rate_difference', fmt(f.max_class_selection_rate_difference), f.max_class_selection_rate_difference_class ?? fmt(null)],
        ['equalized_odds_difference', fmt(f.equalized_odds_difference), f.equalized_odds_difference_class ?? fmt(null)],
        ['accuracy_difference', fmt(f.accuracy_difference), 'all classes'],
        ['f1_macro_difference', fmt(f.f1_macro_difference), 'all classes'],
      ],
      [200, 100, 199],
    );
    const groupReasons = Object.entries(f.groups).flatMap(([group, g]) => Object.entries(g.null_reasons).map(([k, why]) => `${group} ${k}: ${why}`));
    if (groupReasons.length) paragraph(`No value: ${groupReasons.join('; ')}.`, 8.5);
    if (f.small_groups.length) paragraph(`Small groups: ${f.small_groups.map((g) => `${g} (${rowsText(f.groups[g]?.n ?? 0)})`).join(', ')} ${f.small_groups.length === 1 ? 'has' : 'have'} fewer than ${min} rows (fairness.min_group_size). Their rates and any disparity they drive are too uncertain to judge on their own: read their accuracy intervals, which are as wide as the data allow.`);
  }
  return out;
}

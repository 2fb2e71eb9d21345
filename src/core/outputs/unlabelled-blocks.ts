/**
 * The report sections of an audit without labels (see core/audit/unlabelled.ts): the notice, the
 * estimated performance with the assumption it rests on, and fairness as far as it needs
 * no outcome. The PDF and HTML reports (pdf.ts `reportBlocks`) put these in place of the
 * labelled performance, calibration and fairness sections.
 */
import type { AuditResult } from '../audit';
import type { PolicyDecision } from '../config/policy';
import { metricLabel } from '../metrics/catalog';
import { ESTIMATED_METRICS } from '../metrics/cbpe';
import { confidenceLabel } from '../metrics/intervals';
import { thresholdText } from '../metrics/curves';
import { selectionRateChart } from './charts';
import { formatInterval as interval, formatNumber as fmt } from '../base/format';
import type { ReportBlock } from './blocks';

/** Names of the estimated metrics, as reports print them. */
export const ESTIMATED_LABELS: Record<(typeof ESTIMATED_METRICS)[number], string> = {
  get accuracy() { return metricLabel('accuracy'); },
  get precision() { return metricLabel('precision'); },
  get recall() { return metricLabel('recall'); },
  get f1() { return metricLabel('f1'); },
  get roc_auc() { return metricLabel('roc_auc'); },
};

/** Whether a result is of an audit without labels. */
export function isUnlabelled(result: Pick<AuditResult, 'labels'>): boolean {
  return result.labels === 'absent';
}

/** The executive summary's key figures of an unlabelled audit: what is measured, and what is estimated, said as such. */
export function unlabelledSummaryBlocks(result: AuditResult): ReportBlock[] {
  const level = confidenceLabel(result.settings.confidence);
  const e = result.estimated_performance;
  const rows: string[][] = [
    [`${metricLabel('selection_rate')} (measured)`, fmt(result.performance.selection_rate), interval(result.performance.intervals.selection_rate), `predicted positive when ${result.settings.scores_are_probabilities ? 'p' : 'the score'} >= ${result.threshold}; Wilson`],
    ...Object.entries(result.fairness).map(([attribute, f]) => [`${metricLabel('demographic_parity_difference')} (${attribute}) (measured)`, fmt(f.demographic_parity_difference), interval(f.intervals.demographic_parity_difference), 'max − min selection rate']),
    ...(e ? [[`${metricLabel('roc_auc')} (ESTIMATED)`, fmt(e.roc_auc), 'no interval', 'CBPE: expected TPR/FPR from p'], [`${metricLabel('accuracy')} (ESTIMATED)`, fmt(e.accuracy), 'no interval', 'CBPE: (E[TP] + E[TN]) / n']] : [['Performance', 'not estimated', '', result.missing_sections.estimated_performance ?? '']]),
  ];
  return [
    { type: 'paragraph', text: result.labels_notice ?? 'NO LABELS.' },
    { type: 'table', headers: ['Key figure', 'Value', `${level} interval`, 'Convention'], rows, widths: [170, 60, 90, 179] },
    ...(e ? [{ type: 'paragraph' as const, text: `Assumption of the estimates: ${e.assumption}` }] : []),
  ];
}

/** "Performance (ESTIMATED)", the calibration section's reason, and "Fairness (without labels)" of an unlabelled audit. */
export function unlabelledSectionBlocks(result: AuditResult, decision?: PolicyDecision): ReportBlock[] {
  const out: ReportBlock[] = [];
  const heading = (text: string, level: 1 | 2 = 1) => out.push({ type: 'heading', text, level });
  const paragraph = (text: string, size?: number) => out.push({ type: 'paragraph', text, size });
  const table = (headers: string[], rows: string[][], widths?: number[]) => out.push({ type: 'table', headers, rows, widths });
  const e = result.estimated_performance;
  heading('Performance (ESTIMATED: no labels)');
  paragraph(result.labels_notice ?? 'NO LABELS.');
  if (!e) paragraph(`Not estimated: ${result.missing_sections.estimated_performance ?? 'no estimate was made'}. Measured: selection rate ${fmt(result.performance.selection_rate)}.`);
  else {
    const c = e.expected_confusion_matrix;
    table(
      ['Metric', 'Estimated value', 'How'],
      [
        ...ESTIMATED_METRICS.map((id) => [`${ESTIMATED_LABELS[id]} (estimated)`, fmt(e[id]), e.null_reasons[id] ?? 'CBPE']),
        [`${metricLabel('selection_rate')} (measured)`, fmt(result.performance.selection_rate), 'share with p >= threshold'],
        ['Expected confusion matrix', `E[TP] ${fmt(c.tp, 1)}  E[FP] ${fmt(c.fp, 1)}  E[TN] ${fmt(c.tn, 1)}  E[FN] ${fmt(c.fn, 1)}`, 'sums of p and 1 − p'],
      ],
      [170, 170, 159],
    );
    paragraph(`Threshold ${thresholdText(result.threshold_selection)}. ${e.method}.`);
    paragraph(`Assumption: ${e.assumption}`);
    const check = e.calibration_check;
    if (check.on_reference) {
      table(
        ['On the labelled reference', 'Measured', 'CBPE estimate', 'Estimate − measured'],
        ESTIMATED_METRICS.map((id) => {
          const measured = check.on_reference!.measured[id];
          const estimated = check.on_reference!.estimated[id];
          return [ESTIMATED_LABELS[id], fmt(measured), fmt(estimated), measured !== null && estimated !== null ? fmt(estimated - measured) : fmt(null)];
        }),
        [150, 110, 110, 129],
      );
    }
    for (const [attribute, groups] of Object.entries(e.groups)) {
      heading(`Estimated performance by ${attribute}`, 2);
      table(
        ['Group', 'n', ...ESTIMATED_METRICS.map((id) => `${ESTIMATED_LABELS[id]} (est.)`), 'Note'],
        Object.entries(groups).map(([group, g]) => [group, String(g.n), ...ESTIMATED_METRICS.map((id) => fmt(g[id])), g.insufficient_samples ? `fewer than ${result.settings.min_group_size} rows` : Object.keys(g.null_reasons).length ? `no estimate: ${Object.keys(g.null_reasons).join(', ')}` : '']),
        [90, 40, 55, 55, 55, 45, 55, 104],
      );
    }
    paragraph(e.conventions, 7.5);
  }
  heading('Calibration');
  paragraph(`Not computed: ${(result.missing_sections.calibration ?? result.calibration.binning).replace(/^not computed:? /, '')}.${e ? ` The estimates' calibration check: ${e.calibration_check.status === 'checked' ? `ECE ${fmt(e.calibration_check.expected_calibration_error)} on ${e.calibration_check.reference}` : `unchecked (${e.calibration_check.reason})`}.` : ''}`);

  heading('Fairness (without labels: selection rates and demographic parity)');
  const distribution = result.score_distribution;
  for (const [attribute, f] of Object.entries(result.fairness)) {
    heading(attribute, 2);
    table(
      ['Group', 'n', metricLabel('selection_rate'), 'Median score', 'Quartiles', 'Note'],
      Object.entries(f.groups).map(([group, m]) => {
        const s = distribution?.groups[attribute]?.[group];
        return [group, String(m.n), `${fmt(m.selection_rate)} (${interval(m.intervals.selection_rate, 2)})`, fmt(s?.median), `${fmt(s?.q1)}–${fmt(s?.q3)}`, m.insufficient_samples ? `fewer than ${result.settings.min_group_size} rows` : ''];
      }),
      [110, 40, 100, 70, 90, 89],
    );
    out.push({ type: 'chart', spec: selectionRateChart(result, attribute, decision), height: 150 });
    table(
      ['Disparity', 'Value', `${confidenceLabel(result.settings.confidence)} interval`],
      ['demographic_parity_difference', 'demographic_parity_ratio', 'demographic_parity_difference_to_overall'].map((id) => [id, fmt(f[id]), interval(f.intervals[id] ?? null)]),
      [200, 100, 199],
    );
    const notComputed = Object.keys((f as { not_computed?: Record<string, string> }).not_computed ?? {});
    if (notComputed.length) paragraph(`Not computed without labels: ${notComputed.join(', ')}.`);
    paragraph(`Four-fifths rule against ${f.four_fifths_rule.reference_group}${f.four_fifths_rule.basis ? `, ${f.four_fifths_rule.basis}` : ''}: ${f.four_fifths_rule.violations.length ? `violated by ${f.four_fifths_rule.violations.join(', ')}` : 'met'}. Statistical power to detect a ${result.settings.power_difference} difference in selection rate: ${fmt(f.statistical_power)}.`);
  }
  if (distribution) paragraph(`Scores overall: n ${distribution.overall.n}, mean ${fmt(distribution.overall.mean)}, quartiles ${fmt(distribution.overall.q1)}, ${fmt(distribution.overall.median)}, ${fmt(distribution.overall.q3)}. ${distribution.conventions}`, 7.5);
  return out;
}

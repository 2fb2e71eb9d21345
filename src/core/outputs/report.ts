/**
 * The audit report's content: the blocks (headings, paragraphs, tables, charts) every
 * report format is made from, and its title. The PDF (pdf.ts) and the HTML report
 * (html.ts) render the same blocks; neither this file nor the HTML loads jsPDF.
 */
import { comparisonBlocks, decisionBlocks } from './decision-blocks';
import type { AuditResult } from '../audit';
import type { AnyAuditResult } from '../audit/run';
import { isTaskResult } from '../task/result';
import { taskReportBlocks, taskReportTitle } from './task-blocks';
import type { PolicyDecision } from '../config/policy';
import { METRIC_CATALOG, metricLabel as label } from '../metrics/catalog';
import { confidenceLabel } from '../metrics/intervals';
import { thresholdText } from '../metrics/curves';
import { resultDigest, type Manifest } from './manifest';
import { binaryClassCounts } from './context';
import { TOOL_VERSION } from '../base/version';
import { Blocks, dataColumnsTable, driftBlocks, inputFidelityBlocks, manifestRows, proxyBlocks, type ReportBlock } from './blocks';
import { recourseBlocks } from './recourse-blocks';
import { REASON_STABILITY_ROWS } from '../analyses/explain/outputs';
import { importanceChart, reliabilityChart, rocChart, selectionRateChart } from './charts';
import { formatInterval, formatNumber, settingRows } from '../base/format';
import { isUnlabelled, unlabelledSectionBlocks, unlabelledSummaryBlocks } from './unlabelled-blocks';

export type { ReportBlock } from './blocks';

/** What a report is made from: a binary, multiclass or regression audit's result. */
export interface ReportInput {
  result: AnyAuditResult;
  manifest?: Manifest;
  decision?: PolicyDecision;
  title?: string;
  /** ISO date printed on the cover and used as the PDF's creation date (from SOURCE_DATE_EPOCH when set). */
  createdAt: string;
  /**
   * The result's digest ({@link resultDigest}) where the caller has just computed it from this
   * result (the outputs bundle, from the manifest it built; the PDF, for its own blocks), so a
   * 1.5 MB result is not serialized and hashed once per report; computed when absent.
   */
  digest?: string;
}

const fmt = formatNumber;
const interval = (i: { low: number; high: number } | null | undefined, digits = 3) => formatInterval(i, digits);

/** How an interval was made, in words ("no value" / "no interval" where there is none). */
function methodOf(interval: { method?: string } | null | undefined, value: unknown): string {
  if (interval) return interval.method ?? 'no method recorded';
  return value === null || value === undefined ? 'no value' : 'no interval: too few groups or rows';
}

/** ", driven by A (n) vs B (n, small)": which groups give a worst-case disparity, and whether either is small. */
function drivenBy(f: AuditResult['fairness'][string], id: string, minGroupSize: number): string {
  const driver = f.drivers?.[id];
  if (!driver) return '';
  const name = (g: string) => (f.groups[g] ? `${g} (${f.groups[g].n} rows${driver.small_groups.includes(g) ? `, small: under ${minGroupSize}` : ''})` : g);
  return `; ${driver.rate}: ${name(driver.high_group)} vs ${name(driver.low_group)}`;
}


/** Performance, calibration and fairness per attribute of a labelled audit. */
function labelledSections(b: Blocks, result: AuditResult, decision: PolicyDecision | undefined, level: string): void {
  const p = result.performance;
  b.heading('Performance');
  const c = p.confusion_matrix;
  b.table(
    ['Metric', 'Value', `${level} interval`],
    [
      [label('accuracy'), fmt(p.accuracy), interval(p.intervals.accuracy)],
      [label('balanced_accuracy'), fmt(p.balanced_accuracy), '-'],
      [label('precision'), fmt(p.precision), interval(p.intervals.precision)],
      [`${label('recall')} (${label('tpr')})`, fmt(p.recall), interval(p.intervals.recall)],
      [`${label('specificity')} (${label('tnr')})`, fmt(p.specificity), interval(p.intervals.specificity)],
      [label('f1'), fmt(p.f1), '-'],
      [label('roc_auc'), fmt(p.roc_auc), interval(p.intervals.roc_auc)],
      [label('average_precision'), fmt(p.average_precision), '-'],
      [label('log_loss'), fmt(p.log_loss), '-'],
      [label('brier_score'), fmt(p.brier_score), '-'],
      [label('selection_rate'), fmt(p.selection_rate), interval(p.intervals.selection_rate)],
      ['Confusion matrix', `TP ${c.tp}  FP ${c.fp}  TN ${c.tn}  FN ${c.fn}`, ''],
    ],
    [170, 170, 159],
  );
  b.paragraph(`Threshold ${thresholdText(result.threshold_selection)}.`);
  b.chart(rocChart(result));

  // 5. Calibration.
  b.heading('Calibration');
  if (result.calibration.expected_calibration_error === null) b.paragraph(`Not computed: ${result.calibration.binning.replace(/^not computed:? /, '')}.`);
  else {
    b.paragraph(`ECE ${fmt(result.calibration.expected_calibration_error)} (${level} interval ${interval(result.calibration.intervals.expected_calibration_error)}, ${methodOf(result.calibration.intervals.expected_calibration_error, result.calibration.expected_calibration_error)}${result.calibration.intervals.expected_calibration_error?.note ? `: ${result.calibration.intervals.expected_calibration_error.note}` : ''}), MCE ${fmt(result.calibration.maximum_calibration_error)}, Brier ${fmt(p.brier_score)}. Binning: ${result.calibration.binning}; positive-class calibration.`);
    b.chart(reliabilityChart(result));
    b.table(['Bin', 'Range', 'n', 'Mean predicted', 'Observed', `Observed ${level} (Wilson)`], result.calibration.table.map((b) => [String(b.bin), `${fmt(b.lower, 2)}-${fmt(b.upper, 2)}`, String(b.n), fmt(b.mean_predicted), fmt(b.fraction_positive), interval(b.fraction_positive_interval)]), [40, 80, 50, 100, 100, 129]);
  }

  // 6. Fairness.
  b.heading('Fairness');
  for (const [attribute, f] of Object.entries(result.fairness)) {
    b.heading(attribute, 2);
    b.table(
      ['Group', 'n', label('selection_rate'), label('tpr'), label('fpr'), label('precision'), label('accuracy'), 'Note'],
      Object.entries(f.groups).map(([group, m]) => [
        group,
        String(m.n),
        `${fmt(m.selection_rate)} (${interval(m.intervals.selection_rate, 2)})`,
        fmt(m.tpr),
        fmt(m.fpr),
        fmt(m.precision),
        fmt(m.accuracy),
        m.insufficient_samples ? `fewer than ${result.settings.min_group_size} rows` : Object.keys(m.null_reasons).length ? `no value: ${Object.keys(m.null_reasons).join(', ')}` : '',
      ]),
      [90, 35, 90, 45, 45, 55, 55, 84],
    );
    b.chart(selectionRateChart(result, attribute, decision), 150);
    b.table(
      ['Disparity', 'Value', `${level} interval`, 'Method; groups behind it'],
      ['demographic_parity_difference', 'demographic_parity_ratio', 'equal_opportunity_difference', 'equalized_odds_difference', 'equalized_odds_ratio', 'predictive_parity_difference', 'fpr_difference', 'fnr_difference', 'accuracy_difference'].map((id) => [id, fmt(f[id]), interval(f.intervals[id]), `${methodOf(f.intervals[id], f[id])}${drivenBy(f, id, result.settings.min_group_size)}`]),
      [150, 50, 80, 219],
    );
    const small = Object.entries(f.groups).filter(([, m]) => m.insufficient_samples);
    if (small.length) b.paragraph(`Small groups: ${small.map(([g, m]) => `${g} (${m.n} rows)`).join(', ')} ${small.length === 1 ? 'has' : 'have'} fewer than ${result.settings.min_group_size} rows (fairness.min_group_size). Their rates and any disparity they drive are too uncertain to judge on their own: read the intervals, which are as wide as the data allow.`);
    const reference = f.groups[f.four_fifths_rule.reference_group];
    const referenceSmall = reference?.insufficient_samples ? ` (${reference.n} rows, under ${result.settings.min_group_size}: a small group's rate is uncertain, read the comparison with care)` : '';
    b.paragraph(`Four-fifths rule against ${f.four_fifths_rule.reference_group}${referenceSmall}${f.four_fifths_rule.basis ? `, ${f.four_fifths_rule.basis}` : ''}: ${f.four_fifths_rule.violations.length ? `violated by ${f.four_fifths_rule.violations.join(', ')}` : 'met'}. ${powerSentence(f, result.settings.power_difference, attribute in result.settings.reference_groups)}`);
  }
}

/** The report title. */
export function reportTitle(input: ReportInput): string {
  if (isTaskResult(input.result)) return taskReportTitle({ ...input, result: input.result });
  const model = input.result.inputs.model;
  return input.title ?? `Model audit: ${'file' in model ? model.file : `score column ${model.column}`}`;
}

/**
 * The report's content as blocks, from the result alone: cover, executive summary, data,
 * performance, calibration, fairness, explanations, robustness, drift, recourse,
 * reproducibility, appendix. A section whose analysis did not run says why.
 */
export function reportBlocks(input: ReportInput): ReportBlock[] {
  const result = input.result;
  if (isTaskResult(result)) return taskReportBlocks({ ...input, result });
  return binaryReportBlocks({ ...input, result });
}

/** The binary audit's report blocks. */
function binaryReportBlocks(input: ReportInput & { result: AuditResult }): ReportBlock[] {
  const level = confidenceLabel(input.result.settings.confidence);
  const { result, manifest, decision } = input;
  const digest = input.digest ?? resultDigest(result);
  const b = new Blocks();
  const model = result.inputs.model;
  b.list.push({
    type: 'cover',
    title: reportTitle(input),
    verdict: decision?.decision ?? 'NO POLICY',
    lines: [
      ...(result.labels_notice ? [result.labels_notice] : []),
      'file' in model ? `Model: ${model.file} (${model.format}) sha256 ${model.sha256}` : `Scores: column ${model.column} of the data (no model file)`,
      `Data: ${result.inputs.data.file}, ${auditedRows(result)}, sha256 ${result.inputs.data.sha256}`,
      `Date: ${input.createdAt}    Tool: Plumbline ${TOOL_VERSION}`,
      `Result digest (sha256 of the canonical result JSON): ${digest}`,
      decision ? `Policy: ${decision.policy_name}${decision.policy_version ? ` v${decision.policy_version}` : ''} (sha256 ${decision.policy_sha256})` : 'No policy gates were evaluated.',
      ...(decision?.notices ?? []),
      ...(result.comparison ? [`Baseline: ${result.comparison.baseline.file} (${result.comparison.paired ? 'paired on the same rows' : 'not paired'})`] : []),
    ],
  });
  // 2. Executive summary.
  b.newPage();
  b.heading('Executive summary');
  const p = result.performance;
  const unlabelled = isUnlabelled(result);
  if (unlabelled) b.list.push(...unlabelledSummaryBlocks(result));
  else b.table(
    ['Key figure', 'Value', `${level} interval`, 'Convention'],
    [
      [label('roc_auc'), fmt(p.roc_auc), interval(p.intervals.roc_auc), 'ties count half; DeLong interval'],
      [label('accuracy'), fmt(p.accuracy), interval(p.intervals.accuracy), `predicted positive when ${result.settings.scores_are_probabilities ? 'p' : 'the score'} >= ${result.threshold}; Wilson`],
      [label('expected_calibration_error'), fmt(result.calibration.expected_calibration_error), interval(result.calibration.intervals.expected_calibration_error), `${result.calibration.binning}${result.calibration.intervals.expected_calibration_error?.note ? '; the interval lies below the estimate: the binned ECE is biased upward (see Calibration)' : ''}`],
      ...Object.entries(result.fairness).map(([attribute, f]) => [`${label('demographic_parity_difference')} (${attribute})`, fmt(f.demographic_parity_difference), interval(f.intervals.demographic_parity_difference), `max − min selection rate; ${methodOf(f.intervals.demographic_parity_difference, f.demographic_parity_difference)}${drivenBy(f, 'demographic_parity_difference', result.settings.min_group_size)}`]),
      ...Object.entries(result.fairness).map(([attribute, f]) => [`${label('equalized_odds_difference')} (${attribute})`, fmt(f.equalized_odds_difference), interval(f.intervals.equalized_odds_difference), `max(ΔTPR, ΔFPR); ${methodOf(f.intervals.equalized_odds_difference, f.equalized_odds_difference)}${drivenBy(f, 'equalized_odds_difference', result.settings.min_group_size)}`]),
    ],
    [170, 60, 90, 179],
  );
  if (decision) b.list.push(...decisionBlocks(decision));
  const serious = [
    ...result.data.findings.filter((f) => f.severity === 'error').map((f) => f.message),
    ...Object.entries(result.fairness).flatMap(([a, f]) => (f.four_fifths_rule.violations.length ? [`Four-fifths rule on ${a}: ${f.four_fifths_rule.violations.join(', ')} below 80% of ${f.four_fifths_rule.reference_group}'s selection rate.`] : [])),
    ...result.data.findings.filter((f) => f.severity === 'warning').map((f) => f.message),
  ].slice(0, 12);
  b.heading('Most serious findings', 2);
  if (serious.length === 0) b.paragraph('No data, proxy or fairness finding was raised.');
  for (const finding of serious) b.paragraph(`• ${finding}`);
  const notRun = Object.entries(result.missing_sections);
  if (notRun.length) {
    b.heading('Not run', 2);
    for (const [section, why] of notRun) b.paragraph(`${section}: ${why}`);
  }

  if (result.comparison) b.list.push(...comparisonBlocks(result.comparison, result.settings.confidence));

  // 3. Data.
  b.heading('Data');
  b.paragraph(`${result.data.rows} rows audited${result.settings.test_sample_size ? ` (a seeded, target-stratified sample of ${result.inputs.data.rows})` : ''}; target ${result.settings.target}, ${result.settings.positive_label_convention}; rows ${binaryClassCounts(result)}; ${result.data.duplicate_rows} duplicate rows.`);
  b.list.push(dataColumnsTable(result.data));
  if (result.input_fidelity) b.list.push(...inputFidelityBlocks(result.input_fidelity, result.inputs.model.format === 'score-column' ? 'the model' : result.inputs.model.file));
  b.list.push(...proxyBlocks(result.data));

  // 4-6. Performance, calibration, fairness: without labels, what can be measured and the estimates.
  if (unlabelled) b.list.push(...unlabelledSectionBlocks(result, decision));
  else labelledSections(b, result, decision, level);
  for (const [name, intersection] of Object.entries(result.intersections)) {
    b.heading(`Intersection ${name}`, 2);
    b.table(['Group', 'n', label('selection_rate'), label('tpr'), label('fpr'), 'Note'], Object.entries(intersection.groups).map(([g, m]) => [g, String(m.n), fmt(m.selection_rate), fmt(m.tpr), fmt(m.fpr), m.insufficient_samples ? `small: fewer than ${result.settings.min_group_size} rows` : '']), [150, 50, 70, 60, 60, 109]);
    if (intersection.empty_cells.length) b.paragraph(`Empty cells: ${intersection.empty_cells.join(', ')}.`);
    if (intersection.small_cells.length) b.paragraph(`Cells under ${result.settings.min_group_size} rows: ${intersection.small_cells.join(', ')}.`);
  }

  const slices = unlabelled ? null : result.slice_summary;
  if (slices) {
    b.heading('Underperforming slices', 2);
    b.paragraph(`${slices.rule} ${slices.underperforming_slice_count ? `${slices.underperforming_slice_count} slice${slices.underperforming_slice_count === 1 ? '' : 's'} underperform${slices.underperforming_slice_count === 1 ? 's' : ''}.` : 'None underperforms.'} Largest gap among slices large enough to judge: ${fmt(slices.max_slice_auc_gap)}.${slices.too_small ? ` ${slices.too_small} slice${slices.too_small === 1 ? ' is' : 's are'} too small to judge and left out.` : ''}`);
    if (slices.underperforming.length) b.table(['Column', 'Slice', 'n', label('roc_auc'), 'Below overall by'], slices.underperforming.map((x) => [x.column, x.slice, String(x.n), fmt(x.roc_auc), fmt(x.auc_gap)]), [110, 140, 60, 90, 99]);
  }

  if (result.ll144) {
    const l = result.ll144;
    b.heading('NYC Local Law 144 bias audit', 2);
    b.paragraph(`${l.rate === 'selection' ? 'Selection' : 'Scoring'} rates and impact ratios over ${l.rows.toLocaleString('en')} rows; ${l.definition}. Impact ratio: a category's rate over the highest rate among the categories not excludable (an excludable category's ratio may exceed 1). ${l.excludable_rule}`);
    for (const [title, c] of [['Sex', l.sex], ['Race/ethnicity', l.race_ethnicity], ['Intersectional (sex × race/ethnicity)', l.intersectional]] as const) {
      if (!c) continue;
      b.table(
        [`${title} (${c.column})`, 'Rows', l.rate === 'selection' ? 'Selected' : 'Above median', 'Rate', 'Impact ratio', 'Note'],
        c.categories.map((x) => [x.category, x.n.toLocaleString('en'), x.selected.toLocaleString('en'), fmt(x.rate), fmt(x.impact_ratio), `${x.category === c.reference_category ? 'highest rate (reference)' : ''}${x.excludable ? `${x.category === c.reference_category ? '; ' : ''}under 2% of rows: excludable` : ''}`]),
        [170, 50, 70, 50, 70, 89],
      );
      b.paragraph(`${c.unknown.toLocaleString('en')} row${c.unknown === 1 ? '' : 's'} of unknown category (missing ${c.column}), not in any category above.`);
    }
  }

  // 7. Explanations.
  b.heading('Explanations');
  if (!result.explanations) b.paragraph(`Not run: ${result.missing_sections.explainer ?? 'no explanation requested'}.`);
  else {
    const e = result.explanations;
    b.paragraph(`${e.method} SHAP values of ${e.rows.length} rows in ${e.output}; background: ${e.background}; expected value ${fmt(e.expected_value, 5)}; local accuracy error ${e.local_accuracy_error.toExponential(2)}.`);
    const chart = importanceChart(result);
    if (chart) b.chart(chart, Math.min(220, 18 * chart.series[0].points.length + 10));
    const reasons = e.adverse_action;
    if (reasons) {
      b.paragraph(
        `Reason codes: ${reasons.adverse_rows} of the ${e.rows.length} explained rows have an adverse decision; each gets at most ${reasons.count} principal reasons, never ${reasons.excluded.join(', ')}${reasons.rows_with_excluded_factor ? ` (in ${reasons.rows_with_excluded_factor} of them one of these was among the top pushes; the next input is given instead)` : ''}.${reasons.first_reasons.length ? ` Most frequent first reason: ${reasons.first_reasons.slice(0, 3).map((f) => `${f.column} (${f.rows})`).join(', ')}.` : ''}`,
      );
      const stability = reasons.stability;
      b.paragraph(
        stability
          ? `Stability: explained again with another seed (${stability.rerun}), ${stability.stable} of ${stability.rows} adverse rows${stability.rows < reasons.adverse_rows ? ` (the first ${stability.rows} of the ${reasons.adverse_rows}: the second run explains at most ${REASON_STABILITY_ROWS})` : ''} keep the same set of reasons (${fmt(stability.share, 3)}; ${Math.round(stability.confidence * 100)}% interval ${interval(stability.interval)}).`
          : `Stability not measured: ${reasons.stability_unavailable ?? 'no second run'}.`,
      );
      if (e.reason_codes?.length) b.table(['Row', 'Score', 'Principal reasons (value)'], e.reason_codes.slice(0, 10).map((r) => [String(r.row), fmt(r.score), r.reasons.map((x) => `${x.column} (${x.value})`).join('; ')]), [50, 60, 389]);
      b.paragraph(reasons.convention, 7.5);
    }
  }

  // 8-10. Robustness, drift, recourse.
  b.heading('Robustness and individual fairness');
  const robustness = result.robustness;
  if (!robustness) b.paragraph(`Not run: ${result.missing_sections.robustness ?? 'not requested'}.`);
  else {
    const shift = robustness.demographic_shift;
    b.paragraph(`Demographic shift (shares moved by ±${shift.delta}): worst degradation ${fmt(shift.max_shift_degradation, 4)}${shift.worst ? ` (${shift.worst.metric} when ${shift.worst.attribute} = ${shift.worst.group} goes to a ${fmt(shift.worst.to, 2)} share)` : ''}.${shift.not_shifted?.length ? ` Not reweighted, under fairness.min_group_size rows: ${shift.not_shifted.join(', ')}.` : ''}`);
    if (robustness.perturbation) b.table(['Noise ε', 'Rows', `Decisions flipped (${level} CI)`, 'Mean |Δp|', 'Max |Δp|'], robustness.perturbation.map((r) => [String(r.epsilon), (r.rows ?? 0).toLocaleString('en'), `${fmt(r.flip_rate, 4)} (${interval(r.flip_rate_interval, 4)})`, fmt(r.mean_abs_change, 4), fmt(r.max_abs_change, 4)]), [70, 80, 149, 100, 100]);
    if (robustness.consistency) b.paragraph(`Consistency (k = ${robustness.consistency.k} nearest neighbours on ${robustness.consistency.columns.join(', ')}): ${fmt(robustness.consistency.consistency, 4)}${robustness.consistency.standard_error !== null && robustness.consistency.standard_error !== undefined ? ` ± ${fmt(robustness.consistency.standard_error, 4)} (standard error)` : ''} over ${robustness.consistency.rows_queried} rows, neighbours among ${robustness.consistency.pool_rows ?? robustness.consistency.rows_queried} rows.`);
    for (const flip of robustness.counterfactual_flips) {
      b.paragraph(flip.applicable ? `Counterfactual flips of ${flip.attribute}: ${Object.entries(flip.flip_rate).map(([g, r]) => `${g} ${fmt(r, 3)}`).join(', ')}.` : `Counterfactual flips of ${flip.attribute}: not applicable: ${flip.reason}.`);
    }
    b.paragraph(robustness.conventions, 7.5);
  }
  b.heading('Drift');
  b.list.push(...driftBlocks(result.drift, result.missing_sections.drift));
  b.heading('Recourse');
  b.list.push(...recourseBlocks(result.recourse, result.missing_sections.recourse, result.settings.min_group_size));

  // 11. Reproducibility.
  b.heading('Reproducibility');
  const settings = result.settings;
  b.table(
    ['Item', 'Value'],
    [
      ['Random seed', String(settings.seed)],
      ['ECE interval draws (bootstrap.resamples)', String(settings.bootstrap_resamples)],
      ['Result sha256', digest],
      ...manifestRows(manifest),
    ],
    [160, 339],
  );

  // 12. Where the report answers the EU AI Act's technical documentation (Annex IV).
  b.newPage();
  b.heading('EU AI Act Annex IV mapping');
  b.paragraph('Regulation (EU) 2024/1689, Annex IV (technical documentation of a high-risk AI system): the points this report answers, and where. Plumbline documents a model audit; the provider remains responsible for the rest of the documentation.');
  const groupsText = Object.keys(result.fairness).join(', ') || 'no protected attribute';
  b.table(
    ['Annex IV point', 'What it asks', 'Where this report answers'],
    [
      ['2(g)', 'Validation and testing data used and their main characteristics', `Data: ${result.inputs.data.file} (${auditedRows(result)}, sha256 ${result.inputs.data.sha256.slice(0, 16)}…), class counts, column profiles, data findings, model inputs as fed.`],
      ['2(g)', 'Metrics used to measure accuracy, robustness and other requirements', `Performance (with ${level} intervals), Calibration, Robustness and individual fairness${result.robustness ? '' : ' (not run in this audit)'}, Drift${result.drift ? '' : ' (not run in this audit)'}.`],
      ['2(g)', 'Potentially discriminatory impacts', `Fairness: group rates and disparities with intervals for ${groupsText}; four-fifths rule; intersections; underperforming slices${result.ll144 ? '; NYC Local Law 144 tables' : ''}; proxies (Data).`],
      ['2(g)', 'Test logs and test reports, dated and signed', `Reproducibility: date ${input.createdAt}, result digest, input hashes, seeds; the evidence pack holds this report, the result, the manifest and SHA256SUMS. Signing is the responsible person's act: sign SHA256SUMS (Plumbline does not sign).`],
      ['3', 'Capabilities and limitations in performance, degrees of accuracy for specific persons or groups, overall expected accuracy', `Performance (overall), Fairness (accuracy, TPR, FPR per group of ${groupsText}), Underperforming slices; limitations: Most serious findings, small groups, Not run${result.threshold_selection.policy.policy === 'fixed' ? '' : ', how the threshold was chosen (Performance)'}.`],
      ['3', 'Foreseeable unintended outcomes and sources of risk of discrimination', `Possible proxies (Data), Robustness (demographic shift, counterfactual flips), Recourse${result.recourse ? '' : ' (not run in this audit)'}, reason codes (Explanations${result.explanations ? '' : ', not run in this audit'}).`],
      ['4', 'Appropriateness of the performance metrics', `Appendix: each metric's definition. The metrics are those of a binary decision at threshold ${result.threshold}: ranking (ROC AUC), decisions (accuracy, precision, recall, selection rate), probability quality (calibration, Brier, log loss), and group disparities in the same rates.${input.decision ? ` The policy ${input.decision.policy_name} states which of them gate the model.` : ' No policy was given: the deploying organisation states which metrics gate the model.'}`],
    ],
    [60, 170, 269],
  );

  // 13. Appendix.
  b.heading('Appendix: settings and definitions');
  b.paragraph('Settings as used (the result JSON holds the same under `settings`):', 8.5);
  b.table(['Setting', 'Value'], settingRows(settings), [170, 329]);
  b.table(['Metric id', 'Definition'], [...METRIC_CATALOG.values()].filter((m) => (m.tasks ?? ['binary']).includes('binary')).map((m) => [m.id, m.definition]), [170, 329]);

  return b.list;
}

/** The rows audited, as the cover and the Annex IV table say it: a sample's size beside the file's rows. */
function auditedRows(result: AuditResult): string {
  return result.settings.test_sample_size ? `${result.data.rows} rows audited, a seeded sample of its ${result.inputs.data.rows}` : `${result.inputs.data.rows} rows`;
}

/** The power sentence, naming the group each comparison is with (the four-fifths rule's reference is the highest rate; power's is the configured group, else the largest). */
function powerSentence(f: AuditResult['fairness'][string], difference: number, configured: boolean): string {
  const against = f.power?.[0]?.groups[1];
  const whose = against === undefined ? 'the reference group' : `${against}${configured ? ', the configured reference group' : ', the largest group'}`;
  return `Statistical power to detect a ${difference} difference in selection rate (the weakest comparison of a group with ${whose}; a two-proportion z-test at α = 0.05): ${fmt(f.statistical_power)}.`;
}

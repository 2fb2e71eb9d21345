/**
 * The report of a multiclass or regression audit as blocks (the PDF and HTML renderers
 * draw them as they draw the binary report's): cover with the kind of audit and its
 * conventions, executive summary, policy decision, findings, what did not run, data,
 * the task's own performance, calibration and fairness sections, explanations, drift,
 * reproducibility, and an appendix with the settings and every convention.
 */
import { METRIC_CATALOG } from '../metrics/catalog';
import { confidenceLabel } from '../metrics/intervals';
import { resultDigest } from './manifest';
import type { TaskAuditResult } from '../task/result';
import { TOOL_VERSION } from '../base/version';
import { Blocks, dataColumnsTable, driftBlocks, inputFidelityBlocks, manifestRows, proxyBlocks, rowsText, type ReportBlock } from './blocks';
import { decisionBlocks } from './decision-blocks';
import { recourseBlocks } from './recourse-blocks';
import { taskRobustnessBlocks } from './task-robustness-blocks';
import { formatNumber as fmt, settingRows } from '../base/format';
import { multiclassKeyFigures, multiclassSectionBlocks } from './multiclass-blocks';
import type { ReportInput } from './report';
import { regressionKeyFigures, regressionSectionBlocks } from './regression-blocks';
import { taskImportanceChart } from './task-charts';

/** What a multiclass or regression report is made from. */
export type TaskReportInput = Omit<ReportInput, 'result'> & { result: TaskAuditResult };

/** "Multiclass" or "Regression": the kind of audit, as a title says it. */
export function taskKindName(result: TaskAuditResult): string {
  return result.task === 'multiclass' ? 'Multiclass' : 'Regression';
}

/** The report title of a multiclass or regression audit. */
export function taskReportTitle(input: TaskReportInput): string {
  return input.title ?? `${taskKindName(input.result)} model audit: ${input.result.inputs.model.file}`;
}

/** The findings a reader should see first: data errors, small groups, data warnings (at most 12). */
export function taskFindings(result: TaskAuditResult): string[] {
  const min = result.settings.min_group_size;
  const fairness: Record<string, { small_groups: string[]; groups: Record<string, { n: number }> }> = result.fairness;
  const small = Object.entries(fairness).flatMap(([attribute, f]) =>
    f.small_groups.length ? [`Small groups of ${attribute}: ${f.small_groups.map((g) => `${g} (${rowsText(f.groups[g]?.n ?? 0)})`).join(', ')} have fewer than ${min} rows; their numbers are too uncertain to judge on their own.`] : [],
  );
  return [...result.data.findings.filter((f) => f.severity === 'error').map((f) => f.message), ...small, ...result.data.findings.filter((f) => f.severity === 'warning').map((f) => f.message)].slice(0, 12);
}

/**
 * The report of a multiclass or regression audit as blocks, from the result alone. A
 * section whose analysis did not run says why; every number goes through formatNumber.
 */
export function taskReportBlocks(input: TaskReportInput): ReportBlock[] {
  const { result, manifest, decision } = input;
  const level = confidenceLabel(result.settings.confidence);
  const digest = input.digest ?? resultDigest(result);
  const model = result.inputs.model;
  const classes = result.settings.classes ?? [];
  const b = new Blocks();
  b.list.push({
    type: 'cover',
    title: taskReportTitle(input),
    verdict: decision?.decision ?? 'NO POLICY',
    lines: [
      result.task_notice,
      `Model: ${model.file} (${model.format}${model.producer ? `, ${model.producer}` : ''}) sha256 ${model.sha256}`,
      `Prediction read as: ${model.score_output}`,
      ...(result.task === 'multiclass' ? [`Classes: ${classes.join(', ')} (${result.settings.classes_source ?? 'in the model’s output order'})`] : [`Target: ${result.settings.target}${result.settings.decision ? `; decision: positive when the prediction is at or ${result.settings.decision.positive_when} ${result.settings.decision.threshold}` : ''}`]),
      `Data: ${result.inputs.data.file}, ${result.inputs.data.rows} rows, sha256 ${result.inputs.data.sha256}`,
      `Date: ${input.createdAt}    Tool: Plumbline ${TOOL_VERSION}`,
      `Result digest (sha256 of the canonical result JSON): ${digest}`,
      decision ? `Policy: ${decision.policy_name}${decision.policy_version ? ` v${decision.policy_version}` : ''} (sha256 ${decision.policy_sha256})` : 'No policy gates were evaluated.',
      ...(decision?.notices ?? []),
    ],
  });

  b.newPage();
  b.heading('Executive summary');
  b.paragraph(`Kind of audit: ${result.task} (${result.settings.task_source}).`);
  b.paragraph(result.task_notice);
  b.table(['Key figure', 'Value', `${level} interval`, 'Convention'], result.task === 'multiclass' ? multiclassKeyFigures(result) : regressionKeyFigures(result), [170, 60, 90, 179]);
  if (decision) b.list.push(...decisionBlocks(decision));
  b.heading('Most serious findings', 2);
  const findings = taskFindings(result);
  if (findings.length === 0) b.paragraph('No data, proxy or small-group finding was raised.');
  for (const finding of findings) b.paragraph(`• ${finding}`);
  const notRun = Object.entries(result.missing_sections);
  if (notRun.length) {
    b.heading('Not run', 2);
    for (const [section, why] of notRun) b.paragraph(`${section}: ${why}`);
  }

  b.heading('Data');
  const outcome = result.task === 'multiclass' ? `class counts ${Object.entries(result.data.target.counts).map(([k, v]) => `${k}: ${v}`).join(', ')}` : targetSummary(result);
  b.paragraph(`${result.data.rows} rows audited; target ${result.settings.target}, ${outcome}; ${result.data.duplicate_rows} duplicate rows.`);
  b.list.push(dataColumnsTable(result.data));
  if (result.input_fidelity) b.list.push(...inputFidelityBlocks(result.input_fidelity, model.file));
  b.list.push(...proxyBlocks(result.data));

  b.list.push(...(result.task === 'multiclass' ? multiclassSectionBlocks(result, level) : regressionSectionBlocks(result, level)));

  b.heading('Explanations');
  const e = result.explanations;
  if (!e) b.paragraph(`Not run: ${result.missing_sections.explainer ?? result.missing_sections.explanations ?? 'no explanation requested'}.`);
  else {
    const error = Number.isFinite(e.local_accuracy_error) ? e.local_accuracy_error.toExponential(2) : fmt(null);
    b.paragraph(`${e.method} SHAP values of ${e.rows.length} rows, explaining ${e.output}; background: ${e.background}; local accuracy error ${error}.`);
    const chart = taskImportanceChart(e);
    if (chart) b.chart(chart, Math.min(220, 18 * chart.series[0].points.length + 10));
    b.table(['Column', 'Mean |SHAP|'], e.global_importance.slice(0, 12).map((g) => [g.column, fmt(g.mean_abs_shap, 4)]), [250, 249]);
    if (e.class_importance) {
      const perClass = e.class_importance;
      const labels = Object.keys(perClass);
      b.heading('Importance per class', 2);
      b.paragraph('Mean |SHAP| of each column in each class’s margin, over every explained row.', 8.5);
      b.table(['Column', ...labels], e.global_importance.map((g) => [g.column, ...labels.map((k) => fmt(perClass[k].find((x) => x.column === g.column)?.mean_abs_shap, 4))]));
    }
    if (e.reason_codes?.length) {
      b.heading('Reasons for adverse decisions', 2);
      b.paragraph(`The principal reasons (at most four, never a protected attribute or a proxy of one) of each explained row whose decision is adverse, strongest first; SHAP values in the prediction's units.`, 8.5);
      b.table(['Row', 'Prediction', 'Principal reasons (value, SHAP)'], e.reason_codes.slice(0, 15).map((r) => [String(r.row), fmt(r.score), r.reasons.map((x) => `${x.column} (${x.value}, ${fmt(x.shap, 2)})`).join('; ')]), [50, 80, 369]);
    }
    if (e.denied?.length) b.paragraph(`${e.denied.length} explained row${e.denied.length === 1 ? '' : 's'} whose label is another class than the predicted one ${e.denied.length === 1 ? 'is' : 'are'} also explained for the labelled class (why it was not chosen); the values are in the result JSON.`);
  }

  b.heading('Robustness and individual fairness');
  b.list.push(...taskRobustnessBlocks(result.robustness, result.missing_sections.robustness, result.task, confidenceLabel(result.settings.confidence)));

  b.heading('Drift');
  b.list.push(...driftBlocks(result.drift, result.missing_sections.drift));
  if (result.drift?.label) b.paragraph(`Label drift (${result.settings.target}): PSI ${fmt(result.drift.label.psi, 4)} (${result.drift.label.level}).`);

  b.heading('Recourse');
  b.list.push(...recourseBlocks(result.task === 'regression' ? result.recourse : undefined, result.missing_sections.recourse, result.settings.min_group_size));

  b.heading('Reproducibility');
  b.table(
    ['Item', 'Value'],
    [
      ['Random seed', String(result.settings.seed)],
      ['Bootstrap resamples (bootstrap.resamples)', String(result.settings.bootstrap_resamples)],
      ...(result.settings.permutations !== undefined ? [['Permutations of the distribution test', String(result.settings.permutations)]] : []),
      ['Result sha256', digest],
      ...manifestRows(manifest),
    ],
    [160, 339],
  );

  b.heading('Appendix: settings and conventions');
  b.paragraph('Settings as used (the result JSON holds the same under `settings`); task_source says how the kind of audit was chosen.', 8.5);
  b.table(['Setting', 'Value'], settingRows(result.settings), [170, 329]);
  b.paragraph('The conventions every number of this report follows (the result JSON holds the same under `conventions`):', 8.5);
  b.table(['Convention', 'Definition'], Object.entries(result.conventions).map(([k, v]) => [k, v]), [130, 369]);
  b.paragraph(`The metric ids a policy can gate a ${result.task} audit on:`, 8.5);
  b.table(['Metric id', 'Definition'], [...METRIC_CATALOG.values()].filter((m) => m.tasks?.includes(result.task)).map((m) => [m.id, m.definition]), [170, 329]);
  return b.list;
}

/** A regression target's range from the data profile ("values from a to b, mean m"). */
function targetSummary(result: TaskAuditResult): string {
  const column = result.data.columns.find((c) => c.name === result.settings.target);
  const s = column?.summary;
  return s ? `values from ${fmt(s.min, 2)} to ${fmt(s.max, 2)}, median ${fmt(s.median, 2)}, mean ${fmt(s.mean, 2)}` : 'a numeric outcome';
}

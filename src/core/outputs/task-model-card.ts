/**
 * The model card (Markdown) of a multiclass or regression audit: the kind of model and
 * its classes, metrics overall and by group with intervals, limitations the audit found
 * (what did not run, small groups, data findings) and the conventions every number follows.
 */
import type { PolicyDecision } from '../config/policy';
import { metricLabel as label } from '../metrics/catalog';
import { confidenceLabel } from '../metrics/intervals';
import type { MulticlassAuditResult, RegressionAuditResult, TaskAuditResult } from '../task/result';
import { intervalMethod } from './blocks';
import { formatInterval as span, formatNumber as fmt } from '../base/format';
import { MULTICLASS_METRICS } from './multiclass-blocks';
import { REGRESSION_METRICS } from './regression-blocks';
import { taskFindings } from './task-blocks';
import { gateNumber } from './decision-blocks';

/** Markdown-safe text: table pipes and line breaks from data escaped. */
const md = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ').replace(/\|/g, '\\|').replace(/([*_`#<>[\]])/g, '\\$1');

/** A model card of a multiclass or regression audit; intended use and other metadata come from the config. */
export function taskModelCard(result: TaskAuditResult, options: { metadata?: Record<string, string | number | boolean>; decision?: PolicyDecision } = {}): string {
  const model = result.inputs.model;
  const meta = options.metadata ?? {};
  const level = confidenceLabel(result.settings.confidence);
  const kind = result.task === 'multiclass' ? `Multiclass classifier of ${result.settings.classes?.length ?? 0} classes` : `Regression model of \`${md(result.settings.target)}\``;
  const intended = meta.intended_use !== undefined && String(meta.intended_use).trim() !== '' ? md(String(meta.intended_use)) : '_Not stated: add `metadata.intended_use` to the audit config._';
  const lines: string[] = [
    `# Model card: ${md(model.file)}`,
    '',
    `> **${md(result.task_notice)}**`,
    '',
    '## Model details',
    `- Kind: ${kind} (${md(result.settings.task_source)})`,
    ...(result.task === 'multiclass' ? [`- Classes: ${(result.settings.classes ?? []).map(md).join(', ')} (${md(result.settings.classes_source ?? 'in the model’s output order')})`] : []),
    ...(result.task === 'regression' && result.settings.decision ? [`- Decision: positive when the prediction is at or ${result.settings.decision.positive_when} ${result.settings.decision.threshold}`] : []),
    `- Format: ${md(model.format)}, SHA-256 \`${model.sha256}\``,
    `- Prediction: ${md(model.score_output)}`,
    ...Object.entries(meta).map(([k, v]) => `- ${md(k)}: ${md(String(v))}`),
    '',
    '## Intended use',
    intended,
    '',
    '## Evaluation data',
    `\`${md(result.inputs.data.file)}\`: ${result.data.rows} rows audited (SHA-256 \`${result.inputs.data.sha256}\`), target \`${md(result.settings.target)}\`${result.task === 'multiclass' ? `; class counts ${Object.entries(result.data.target.counts).map(([k, v]) => `${md(k)}: ${v}`).join(', ')}` : ''}.`,
    '',
    '## Metrics',
    '',
    `| Metric | Key | Value | ${level} interval | Method |`,
    '|---|---|---|---|---|',
    ...(result.task === 'multiclass' ? multiclassMetricRows(result) : regressionMetricRows(result)),
    '',
    '### By group',
    '',
    `Groups of fewer than ${result.settings.min_group_size} rows are marked small: their numbers are too uncertain to judge on their own.`,
    ...(result.task === 'multiclass' ? multiclassGroupLines(result, level) : regressionGroupLines(result)),
    '',
    '## Limitations and caveats',
  ];
  const caveats = [
    ...(meta.limitations !== undefined ? [String(meta.limitations)] : []),
    ...Object.entries(result.missing_sections).map(([section, why]) => `The ${section} analysis did not run: ${why}.`),
    ...taskFindings(result),
  ];
  lines.push(...(caveats.length ? caveats.map((c) => `- ${md(c)}`) : ['- None found by the audit.']));
  lines.push('', '## Ethical considerations', `- Protected attributes audited: ${result.settings.protected_attributes.map(md).join(', ') || 'none'}.`);
  const proxies = result.data.proxies.filter((x) => x.flag !== 'none');
  lines.push(proxies.length ? `- Possible proxies: ${proxies.map((x) => `${md(x.feature)} for ${md(x.attribute)} (${fmt(x.value, 2)})`).join(', ')}.` : '- No column is associated with a protected attribute at 0.3 or above.');
  const robustness = result.robustness;
  if (robustness) {
    const noisiest = robustness.perturbation[robustness.perturbation.length - 1];
    lines.push(`- Robustness: worst degradation under a ±${robustness.demographic_shift.delta} demographic shift ${fmt(robustness.max_shift_degradation, 4)} (${result.task === 'multiclass' ? 'accuracy lost, as a share of rows' : 'relative rise of the error'})${noisiest ? `; under noise ε = ${noisiest.epsilon}, ${noisiest.change_rate === null ? '' : `${fmt(noisiest.change_rate, 3)} of ${result.task === 'multiclass' ? 'classes' : 'decisions'} changed, `}mean change ${fmt(noisiest.mean_abs_change, 4)}` : ''}.`);
  }
  if (result.task === 'regression' && result.recourse) lines.push(`- Recourse on the decision: ${fmt(result.recourse.recourse_feasible_share, 3)} of ${result.recourse.rows_searched} adverse decisions searched have a feasible counterfactual the search found (a lower bound: it stops at its budget of model evaluations per row).`);
  if (options.decision) lines.push(`- Policy "${md(options.decision.policy_name)}": ${options.decision.decision}.`, ...options.decision.gates.filter((g) => g.outcome !== 'PASS').map((g) => `- Gate "${md(g.name)}": ${g.outcome}; ${md(g.metric)}${g.attribute ? ` (${md(g.attribute)})` : ''} ${g.value === null ? 'not evaluated' : gateNumber({ ...g, value: g.value })}.`));
  lines.push('', '## Conventions', '', '| Convention | Definition |', '|---|---|', ...Object.entries(result.conventions).map(([k, v]) => `| ${md(k)} | ${md(v)} |`));
  lines.push('', `_Generated by Plumbline from the audit result (digest in the manifest)._`, '');
  return lines.join('\n');
}

function multiclassMetricRows(result: MulticlassAuditResult): string[] {
  const p = result.performance;
  const c = result.calibration;
  return [
    ...MULTICLASS_METRICS.map((id) => `| ${md(label(id))} | ${id} | ${fmt(p[id])} | ${span(p.intervals[id])} | ${intervalMethod(p.intervals[id])} |`),
    `| ${md(label('top_label_ece'))} | top_label_ece | ${fmt(c.top_label_ece)} | ${span(null)} | no interval |`,
    `| ${md(label('max_classwise_ece'))} | max_classwise_ece | ${fmt(c.max_classwise_ece)} | ${span(null)} | no interval |`,
    '',
    `| Class | Support | ${md(label('roc_auc'))} (one-vs-rest) | ${md(label('precision'))} | ${md(label('recall'))} | ${md(label('f1'))} |`,
    '|---|---|---|---|---|---|',
    ...(result.settings.classes ?? Object.keys(p.per_class)).map((k) => {
      const m = p.per_class[k];
      const cell = (id: string) => `${fmt(m?.[id as 'roc_auc'])} (${span(p.intervals[`per_class.${k}.${id}`])})`;
      return `| ${md(k)} | ${m?.support ?? 0} | ${cell('roc_auc')} | ${cell('precision')} | ${cell('recall')} | ${fmt(m?.f1)} |`;
    }),
  ];
}

function regressionMetricRows(result: RegressionAuditResult): string[] {
  const p = result.performance;
  return REGRESSION_METRICS.map((id) => `| ${md(label(id))} | ${id} | ${fmt(p[id])} | ${span(p.intervals[id])} | ${intervalMethod(p.intervals[id])} |`);
}

function multiclassGroupLines(result: MulticlassAuditResult, level: string): string[] {
  const classes = result.settings.classes ?? [];
  const lines: string[] = [];
  for (const [attribute, f] of Object.entries(result.fairness)) {
    lines.push('', `**${md(attribute)}**`, '', `| Group | n | ${md(label('accuracy'))} (${level} Wilson) | ${md(label('f1_macro'))} | ${classes.map((k) => `Selection ${md(k)}`).join(' | ')} |`, `|---|---|---|---|${classes.map(() => '---|').join('')}`);
    for (const [group, g] of Object.entries(f.groups)) lines.push(`| ${md(group)}${g.insufficient_samples ? ' (small)' : ''} | ${g.n} | ${fmt(g.accuracy)} (${span(g.accuracy_interval)}) | ${fmt(g.f1_macro)} | ${classes.map((k) => fmt(g.selection_rate[k])).join(' | ')} |`);
    lines.push(
      '',
      `Worst-class selection-rate difference ${fmt(f.max_class_selection_rate_difference)}${f.max_class_selection_rate_difference_class ? ` (${md(f.max_class_selection_rate_difference_class)})` : ''}; equalized odds difference ${fmt(f.equalized_odds_difference)}${f.equalized_odds_difference_class ? ` (${md(f.equalized_odds_difference_class)})` : ''}; accuracy difference ${fmt(f.accuracy_difference)}; macro-F1 difference ${fmt(f.f1_macro_difference)}.`,
    );
  }
  return lines;
}

function regressionGroupLines(result: RegressionAuditResult): string[] {
  const lines: string[] = [];
  for (const [attribute, f] of Object.entries(result.fairness)) {
    lines.push('', `**${md(attribute)}**`, '', '| Group | n | Mean prediction | Mean outcome | MAE | RMSE | R² |', '|---|---|---|---|---|---|---|');
    for (const [group, g] of Object.entries(f.groups)) lines.push(`| ${md(group)}${g.insufficient_samples ? ' (small)' : ''} | ${g.n} | ${fmt(g.mean_prediction, 2)} | ${fmt(g.mean_outcome, 2)} | ${fmt(g.mae, 2)} | ${fmt(g.rmse, 2)} | ${fmt(g.r2)} |`);
    const ks = f.distribution.ks_statistic;
    lines.push(
      '',
      `Mean prediction difference ${fmt(f.mean_prediction_difference)} (ratio ${fmt(f.mean_prediction_ratio)}); mean outcome difference ${fmt(f.mean_outcome_difference)}; MAE difference ${fmt(f.mae_difference)}; RMSE difference ${fmt(f.rmse_difference)}; bounded group loss ${fmt(f.bounded_group_loss)}${f.bounded_group_loss_group ? ` (${md(f.bounded_group_loss_group)})` : ` (${md(f.null_reasons.bounded_group_loss ?? 'no value')})`}; KS statistic ${fmt(f.ks_statistic)}${ks.groups ? ` (${md(ks.groups.join(' vs '))}, permutation p ${fmt(ks.p_value, 4)})` : ''}; Wasserstein distance ${fmt(f.wasserstein_distance)}.`,
    );
  }
  return lines;
}

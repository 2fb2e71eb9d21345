import type { AuditResult } from '../audit';
import type { AnyAuditResult } from '../audit/run';
import { isTaskResult } from '../task/result';
import { taskModelCard } from './task-model-card';
import { comparisonRows, comparisonSummary, gateCondition, gateOutcome, gateValue, termsLine } from './decision-blocks';
import type { PolicyDecision } from '../config/policy';
import { METRIC_CATALOG, metricLabel as label } from '../metrics/catalog';
import { confidenceLabel } from '../metrics/intervals';
import { thresholdText } from '../metrics/curves';
import { formatInterval, formatNumber, MISSING } from '../base/format';
import { binaryClassCounts } from './context';

const fmt = formatNumber;
const span = (i: { low: number; high: number } | null | undefined) => formatInterval(i);
/** A metadata value given under any of these keys (the first present). */
const metaText = (meta: Record<string, string | number | boolean>, ...keys: string[]) => {
  for (const key of keys) if (meta[key] !== undefined && String(meta[key]).trim() !== '') return String(meta[key]);
  return null;
};
/** Markdown-safe text: table pipes and line breaks from data escaped. */
const md = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ').replace(/\|/g, '\\|').replace(/([*_`#<>[\]])/g, '\\$1');

/**
 * A model card (Markdown) filled from the audit: model and intended use, evaluation data,
 * metrics overall and by group with intervals, limitations and caveats the audit found,
 * and ethical considerations. Intended use comes from the config's metadata when given.
 * A multiclass or regression result gets its own card (task-model-card.ts).
 */
export function modelCard(result: AnyAuditResult, options: { metadata?: Record<string, string | number | boolean>; decision?: PolicyDecision } = {}): string {
  if (isTaskResult(result)) return taskModelCard(result, options);
  const model = result.inputs.model;
  const meta = options.metadata ?? {};
  const p = result.performance;
  const lines: string[] = [
    `# Model card: ${md('file' in model ? model.file : `score column ${model.column}`)}`,
    '',
    ...(result.labels_notice ? [`> **${md(result.labels_notice)}**`, ''] : []),
    '## Model details',
    `- Format: ${md(model.format)}${'sha256' in model ? `, SHA-256 \`${model.sha256}\`` : ''}`,
    `- Score: ${md(model.score_output)}`,
    ...Object.entries(meta).map(([k, v]) => `- ${md(k)}: ${md(String(v))}`),
    '',
    '## Intended use',
    metaText(meta, 'intended_use') ? md(metaText(meta, 'intended_use')!) : '_Not stated: add `metadata.intended_use` to the audit config._',
    ...(metaText(meta, 'out_of_scope', 'out_of_scope_use') ? ['', `Out of scope: ${md(metaText(meta, 'out_of_scope', 'out_of_scope_use')!)}`] : []),
    '',
    '## Training data',
    ...trainingData(result, meta),
    '',
    '## Evaluation data',
    `\`${md(result.inputs.data.file)}\`: ${result.data.rows} rows audited${result.settings.test_sample_size ? ` (a seeded, target-stratified sample of the file's ${result.inputs.data.rows})` : ''} (SHA-256 \`${result.inputs.data.sha256}\`), target \`${md(result.settings.target)}\`, ${md(result.settings.positive_label_convention)}; rows ${md(binaryClassCounts(result))}.`,
    '',
    ...(result.input_fidelity
      ? [
          '### Inputs as the model received them',
          '',
          '| Input | Column | Unseen values | Missing cells, fed as |',
          '|---|---|---|---|',
          ...result.input_fidelity.inputs.map(
            (e) =>
              `| ${md(e.input)} | ${md(e.column)} | ${e.unseen ? `${e.unseen.count} (${(e.unseen.share * 100).toFixed(1)}%)${e.unseen.top.length ? `: ${e.unseen.top.map((t) => md(`${t.value} ×${t.count}`)).join(', ')}` : ''}` : 'any value'} | ${e.missing.count} (${(e.missing.share * 100).toFixed(1)}%)${e.missing.count ? `: ${md(e.missing.fed_as)}` : ''} |`,
          ),
          '',
        ]
      : []),
    '## Metrics',
    `Threshold ${result.threshold} (predicted positive when p ≥ threshold).`,
    '',
    `| Metric | Value | ${confidenceLabel(result.settings.confidence)} interval | Method |`,
    '|---|---|---|---|',
    `| ${md(label('roc_auc'))} | ${fmt(p.roc_auc)} | ${span(p.intervals.roc_auc)} | ${(p.intervals.roc_auc as { method?: string } | null)?.method ?? 'DeLong'} |`,
    ...(['accuracy', 'precision', 'recall', 'specificity', 'selection_rate'] as const).map((id) => `| ${md(label(id))} | ${fmt(p[id])} | ${span(p.intervals[id])} | Wilson |`),
    `| ${md(label('f1'))} | ${fmt(p.f1)} | ${MISSING} | no interval computed |`,
    `| ${md(label('expected_calibration_error'))} | ${fmt(result.calibration.expected_calibration_error)} | ${span(result.calibration.intervals.expected_calibration_error)} | ${result.calibration.intervals.expected_calibration_error?.method ?? 'no interval'}${result.calibration.intervals.expected_calibration_error?.note ? ` (${result.calibration.intervals.expected_calibration_error.note})` : ''} |`,
    '',
    ...estimatedMetrics(result),
    '### By group',
    '',
    `Group rates with ${confidenceLabel(result.settings.confidence)} Wilson intervals; groups of fewer than ${result.settings.min_group_size} rows are marked small: their numbers are too uncertain to judge on their own.`,
  ];
  for (const [attribute, fairness] of Object.entries(result.fairness)) {
    lines.push('', `**${md(attribute)}**`, '', `| Group | n | ${(['selection_rate', 'tpr', 'fpr', 'accuracy'] as const).map((id) => md(label(id))).join(' | ')} |`, '|---|---|---|---|---|---|');
    for (const [group, m] of Object.entries(fairness.groups)) {
      const cell = (id: 'selection_rate' | 'tpr' | 'fpr' | 'accuracy') => `${fmt(m[id])} (${span(m.intervals[id])})`;
      lines.push(`| ${md(group)}${m.insufficient_samples ? ' (small)' : ''} | ${m.n} | ${cell('selection_rate')} | ${cell('tpr')} | ${cell('fpr')} | ${cell('accuracy')} |`);
    }
    lines.push('', `| Disparity | Key | Value | ${confidenceLabel(result.settings.confidence)} interval | Method |`, '|---|---|---|---|---|');
    for (const [id, value] of Object.entries(fairness)) {
      if (!(id in fairness.intervals)) continue;
      const i = fairness.intervals[id];
      lines.push(`| ${md(METRIC_CATALOG.get(id)?.label ?? id)} | ${md(id)} | ${fmt(value)} | ${span(i)} | ${md(i?.method ?? (value === null ? 'no value' : 'no interval'))} |`);
    }
  }
  if (result.ll144) {
    const l = result.ll144;
    lines.push('', '**NYC Local Law 144 bias audit**', '', `${l.rate === 'selection' ? 'Selection' : 'Scoring'} rates and impact ratios; ${md(l.definition)}. ${md(l.excludable_rule)}`);
    for (const c of [l.sex, l.race_ethnicity, l.intersectional]) {
      if (!c) continue;
      lines.push('', `| ${md(c.column)} | Rows | Rate | Impact ratio | Note |`, '|---|---|---|---|---|');
      for (const x of c.categories) lines.push(`| ${md(x.category)} | ${x.n} | ${fmt(x.rate)} | ${fmt(x.impact_ratio)} | ${x.category === c.reference_category ? 'reference' : ''}${x.excludable ? ' excludable (under 2%)' : ''} |`);
      lines.push('', `Unknown category (missing ${md(c.column)}): ${c.unknown} rows.`);
    }
  }
  lines.push('', '## Limitations and caveats');
  const caveats = [
    ...(metaText(meta, 'limitations') ? [metaText(meta, 'limitations')!] : []),
    ...result.data.findings.map((f) => f.message),
    ...Object.entries(result.fairness).flatMap(([a, f]) => (f.four_fifths_rule.violations.length ? [`Selection rates of ${f.four_fifths_rule.violations.join(', ')} (${a}) are under 80% of ${f.four_fifths_rule.reference_group}'s.`] : [])),
    ...Object.entries(result.missing_sections).map(([section, why]) => `The ${section} analysis did not run: ${why}.`),
    ...(result.threshold_selection.policy.policy !== 'fixed' ? [`The threshold ${thresholdText(result.threshold_selection)}.`] : []),
  ];
  lines.push(...(caveats.length ? caveats.map((c) => `- ${md(c)}`) : ['- None found by the audit.']));
  lines.push('', '## Ethical considerations');
  lines.push(`- Protected attributes audited: ${result.settings.protected_attributes.map(md).join(', ')}.`);
  const proxies = result.data.proxies.filter((x) => x.flag !== 'none');
  lines.push(proxies.length ? `- Possible proxies: ${proxies.map((x) => `${md(x.feature)} for ${md(x.attribute)} (${fmt(x.value, 2)})`).join(', ')}.` : '- No column is associated with a protected attribute at 0.3 or above.');
  if (options.decision) lines.push(...decisionLines(options.decision));
  if (result.comparison) lines.push(...comparisonLines(result));
  lines.push('', `_Generated by Plumbline from the audit result (digest in the manifest)._`, '');
  return lines.join('\n');
}

/** The policy decision: the decision, its terms and notices, each gate that did not pass, and every waiver. */
function decisionLines(decision: PolicyDecision): string[] {
  const out = [`- Policy "${md(decision.policy_name)}": ${decision.decision}.`];
  const terms = termsLine(decision);
  if (terms) out.push(`- ${md(terms)}`);
  out.push(...(decision.notices ?? []).map((n) => `- ${md(n)}`));
  out.push(...decision.gates.filter((g) => g.outcome !== 'PASS' && !g.waiver).map((g) => `- Gate "${md(g.name)}": ${gateOutcome(g)}; ${md(g.metric)}${g.attribute ? ` (${md(g.attribute)})` : ''} ${md(gateValue(g))}, needs ${md(gateCondition(g))}.`));
  for (const w of decision.waivers ?? []) out.push(`- Waiver of "${md(w.gate)}" for ${md(w.model)}: approved by ${md(w.approved_by)}, expires ${w.expires}, ${w.status.replace('_', ' ')}: ${md(w.reason)}.`);
  return out;
}

/** The comparison with the baseline: how it was made and each metric that changed. */
function comparisonLines(result: AuditResult): string[] {
  const comparison = result.comparison!;
  const rows = comparisonRows({ ...comparison, metrics: comparison.metrics.filter((m) => m.change !== null && m.change !== 0) });
  return ['', '## Compared with the baseline', '', md(comparisonSummary(comparison)), '', '| Metric | Baseline | This audit | Change | Interval | p | Method |', '|---|---|---|---|---|---|---|', ...rows.map((r) => `| ${r.map(md).join(' | ')} |`)];
}

/** The CBPE estimates of an audit without labels, marked as estimates, with their assumption (nothing for a labelled audit). */
function estimatedMetrics(result: AuditResult): string[] {
  const e = result.estimated_performance;
  if (result.labels !== 'absent') return [];
  if (!e) return [`Performance not estimated: ${md(result.missing_sections.estimated_performance ?? 'no estimate')}.`, ''];
  const rows = (['accuracy', 'precision', 'recall', 'f1', 'roc_auc'] as const).map((id) => `| ${md(label(id))} (ESTIMATED) | ${fmt(e[id])} | CBPE, no labels |`);
  return ['### Estimated performance (no labels)', '', '| Metric | Estimated value | Method |', '|---|---|---|', ...rows, '', `Assumption: ${md(e.assumption)}`, ''];
}

/** The training-data paragraph: the reference file's summary when the audit had one, and what metadata says of its source. */
function trainingData(result: AuditResult, meta: Record<string, string | number | boolean>): string[] {
  const out: string[] = [];
  const source = metaText(meta, 'training_data', 'training_data_source', 'data_source');
  if (source) out.push(`Source: ${md(source)}.`);
  const r = result.reference_data;
  if (r) {
    const counts = r.class_counts ? Object.entries(r.class_counts) : [];
    const total = counts.reduce((sum, [, n]) => sum + n, 0);
    out.push(
      `File \`${md(r.file)}\` (SHA-256 \`${r.sha256}\`): ${r.rows} rows, ${r.columns} columns.`,
      counts.length ? `Class balance of \`${md(result.settings.target)}\`: ${counts.map(([k, n]) => `${md(k)} ${n} (${((n / total) * 100).toFixed(1)}%)`).join(', ')}.` : `The file has no \`${md(result.settings.target)}\` column: its class balance is unknown.`,
      r.periods.length ? `Period: ${r.periods.map((p) => `${md(p.column)} from ${p.min} to ${p.max}`).join('; ')}.` : 'No column of the file holds dates: its period is not known from the data.',
    );
    if (result.drift) out.push(`Compared with the evaluation data: largest PSI ${fmt(result.drift.max_psi, 4)}.`);
  } else if (result.drift) out.push(`Reference distributions from \`${md(result.drift.reference)}\` (largest PSI against the evaluation data ${fmt(result.drift.max_psi, 4)}); the file itself was not given, so its size and class balance are not known.`);
  else if (!source) out.push('_Not known: give the training file as the reference (`data.train` or `--reference`) and its source as `metadata.training_data`._');
  else out.push('_The training file was not given to the audit (`data.train` or `--reference`): its size and class balance are not shown._');
  return out;
}


import type { AuditResult } from '../audit';
import type { PolicyDecision } from '../config/policy';
import { confidenceLabel } from '../metrics/intervals';
import { thresholdText } from '../metrics/curves';

const fmt = (v: unknown, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : 'undefined');
/** Markdown-safe text: table pipes and line breaks from data escaped. */
const md = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ').replace(/\|/g, '\\|').replace(/([*_`#<>[\]])/g, '\\$1');

/**
 * A model card (Markdown) filled from the audit: model and intended use, evaluation data,
 * metrics overall and by group with intervals, limitations and caveats the audit found,
 * and ethical considerations. Intended use comes from the config's metadata when given.
 */
export function modelCard(result: AuditResult, options: { metadata?: Record<string, string | number | boolean>; decision?: PolicyDecision } = {}): string {
  const model = result.inputs.model;
  const meta = options.metadata ?? {};
  const p = result.performance;
  const lines: string[] = [
    `# Model card: ${md('file' in model ? model.file : `score column ${model.column}`)}`,
    '',
    '## Model details',
    `- Format: ${md(model.format)}${'sha256' in model ? `, SHA-256 \`${model.sha256}\`` : ''}`,
    `- Score: ${md(model.score_output)}`,
    ...Object.entries(meta).map(([k, v]) => `- ${md(k)}: ${md(String(v))}`),
    '',
    '## Intended use',
    meta.intended_use ? md(String(meta.intended_use)) : '_Not stated: add `metadata.intended_use` to the audit config._',
    '',
    '## Training data',
    result.drift ? `Reference data \`${md(result.drift.reference)}\` (compared with the evaluation data: largest PSI ${fmt(result.drift.max_psi, 4)}).` : '_No reference/training data was given to the audit._',
    '',
    '## Evaluation data',
    `\`${md(result.inputs.data.file)}\`: ${result.data.rows} rows audited (SHA-256 \`${result.inputs.data.sha256}\`), target \`${md(result.settings.target)}\`, ${md(result.settings.positive_label_convention)}.`,
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
    `| Metric | Value | ${confidenceLabel(result.settings.confidence)} interval |`,
    '|---|---|---|',
    `| ROC AUC | ${fmt(p.roc_auc)} | ${p.intervals.roc_auc ? `${fmt(p.intervals.roc_auc.low)}–${fmt(p.intervals.roc_auc.high)}` : '—'} |`,
    `| Accuracy | ${fmt(p.accuracy)} | ${p.intervals.accuracy ? `${fmt(p.intervals.accuracy.low)}–${fmt(p.intervals.accuracy.high)}` : '—'} |`,
    `| Precision | ${fmt(p.precision)} | — |`,
    `| Recall | ${fmt(p.recall)} | — |`,
    `| Expected calibration error | ${fmt(result.calibration.expected_calibration_error)} | — |`,
    '',
    '### By group',
  ];
  for (const [attribute, fairness] of Object.entries(result.fairness)) {
    lines.push('', `**${md(attribute)}** — demographic parity difference ${fmt(fairness.demographic_parity_difference)}, equalized odds difference ${fmt(fairness.equalized_odds_difference)}`, '', '| Group | n | Selection rate | TPR | FPR | Accuracy |', '|---|---|---|---|---|---|');
    for (const [group, m] of Object.entries(fairness.groups)) lines.push(`| ${md(group)}${m.insufficient_samples ? ' (small)' : ''} | ${m.n} | ${fmt(m.selection_rate)} | ${fmt(m.tpr)} | ${fmt(m.fpr)} | ${fmt(m.accuracy)} |`);
  }
  lines.push('', '## Limitations and caveats');
  const caveats = [
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
  if (options.decision) lines.push(`- Policy "${md(options.decision.policy_name)}": ${options.decision.decision}.`);
  lines.push('', `_Generated by Plumbline from the audit result (digest in the manifest)._`, '');
  return lines.join('\n');
}

/**
 * The audit config behind the app's set-up: a dropped config applied to the set-up, the
 * config the set-up stands for (what the core plans the audit from, as the CLI does), its
 * threshold, and how its CSV options read the data files.
 */
import { auditSettingsOf, ConfigError, parseAuditConfig, thresholdPolicyOf, withoutPassword, type AuditConfig } from '../core';
import type { AuditSession } from './audit-session.svelte';
import { memoryBudgetFromUrl } from './page-params';

/** The threshold a binary audit uses when none is configured (the CLI's without --threshold). */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * Applies an audit config's text to the set-up's settings (checked; a bad one throws a
 * ConfigError). The session then reads its tables again as the config says.
 */
export function applyConfigTo(session: AuditSession, name: string, text: string): void {
  let config = parseAuditConfig(text, name);
  const data = config.data ?? {};
  if (data.validation !== undefined) {
    // Not silently dropped: the app would fit the threshold on the test file instead.
    throw new ConfigError(
      `${name}: data.validation (${data.validation}) asks for the threshold policy to be fitted on a held-out file, which the app does not load yet. Run this config with the command line (plumbline audit --config ${name}), which fits it there, or remove data.validation to fit the policy on the test file (reported as a limitation).`,
    );
  }
  if (data.target) session.target = data.target;
  // What the config leaves unset is its default, as the CLI reads the config: a positive
  // label, a score column or a feature order kept from the config dropped before would audit
  // another set-up than this config names (a second config without positive_label ran with
  // the first one's 0).
  session.positiveLabel = data.positive_label !== undefined ? String(data.positive_label) : '';
  session.scoreColumn = data.score_column ?? '';
  if (data.protected_attributes) session.protectedAttributes = [...data.protected_attributes];
  const model = session.model?.info;
  session.features = config.model?.features ? [...config.model.features] : model && !model.needsFeatureOrder ? model.inputs.map((i) => i.name) : [];
  session.task = config.task ?? '';
  session.classLabels = config.model?.class_labels?.join(',') ?? '';
  session.positiveWhen = config.positive_when ?? '';
  // With positive_when the threshold is a regression's decision, on the prediction's scale.
  if (config.positive_when) {
    session.decisionThreshold = typeof config.threshold === 'number' ? config.threshold : null;
    const { threshold: _decision, ...rest } = config;
    config = rest;
  }
  const policy = thresholdPolicyOf(config, name);
  if (policy.policy === 'fixed') session.threshold = policy.threshold;
  session.thresholdPolicy = policy.policy === 'fixed' ? { policy: 'fixed', threshold: policy.threshold } : policy;
  for (const section of ['explainer', 'robustness', 'drift', 'recourse'] as const) session.analyses[section] = config[section]?.enabled !== false;
  const base = (path: string | undefined) => path?.replace(/^.*[\\/]/, '');
  // The config's other settings (seed, intervals, explainer, robustness, recourse, budgets…)
  // go with every audit, so the same config gives the app the CLI's numbers.
  session.config = { name, text, metadata: Object.fromEntries(Object.entries(config.metadata ?? {}).map(([k, v]) => [k, String(v)])), files: { test: base(data.test), reference: base(data.reference ?? data.train) }, settings: auditSettingsOf(config), source: config };
  // The registry block is the command line's (the browser has no environment to fill its variables from): said, not dropped silently.
  const block = config.registry;
  if (block && block.enabled !== false && block.auto_submit !== false) {
    session.notice = `${name}: the registry block appends audits run by the command line (plumbline audit --config ${name}) to ${block.database === undefined ? 'registry.database' : withoutPassword(block.database)}; the app does not write there: add this audit to a portfolio on the Portfolio page.`;
  }
}

/**
 * The audit config the set-up stands for: a dropped config with the set-up's choices over
 * it (file names stand for the files loaded here). The one request the app sends is made
 * from it by the core's planner, as the CLI makes its own from its flags and config; the
 * YAML editor shows and downloads it. `source` and `thresholdPolicy` are snapshots of the
 * dropped config's source and the set-up's threshold policy.
 */
export function auditConfigOf(session: AuditSession, source: AuditConfig, thresholdPolicy: AuditConfig['threshold']): AuditConfig {
  const data = source.data ?? {};
  const reference = session.reference ? (data.train !== undefined && data.reference === undefined ? { train: session.reference.name } : { reference: session.reference.name }) : {};
  const { train: _train, reference: _reference, score_column: _score, ...dataRest } = data;
  const config: AuditConfig = {
    ...source,
    data: {
      ...dataRest,
      ...(session.data ? { test: session.data.name } : {}),
      ...reference,
      ...(session.target ? { target: session.target } : {}),
      ...(session.positiveLabel.trim() !== '' ? { positive_label: session.positiveLabel.trim() } : {}),
      protected_attributes: [...session.protectedAttributes],
      ...(!session.model && session.scoreColumn ? { score_column: session.scoreColumn } : {}),
    },
  };
  const threshold = thresholdOf(session, source, thresholdPolicy);
  if (threshold !== undefined) config.threshold = threshold;
  else delete config.threshold;
  // The set-up's threshold is the config's fairness.threshold read into the slider: written once, as threshold.
  if (config.threshold !== undefined && config.fairness?.threshold !== undefined) {
    const { threshold: _asThreshold, ...fairness } = config.fairness;
    config.fairness = fairness;
  }
  if (session.task) config.task = session.task;
  else delete config.task;
  if (decides(session)) config.positive_when = session.positiveWhen;
  else delete config.positive_when;
  const classLabels = session.classLabelList ?? [];
  if (session.model) {
    const { class_labels: _labels, ...model } = source.model ?? {};
    config.model = { ...model, path: session.model.name, ...(session.needsFeatureOrder ? { features: [...session.features] } : {}), ...(classLabels.length ? { class_labels: classLabels } : {}) };
  } else delete config.model;
  // The page's ?memory_budget_mb= is the audit's stage budget: written into the config it ran, so the pack's config reproduces it (sections it left out came back in the CLI).
  const budget = pageBudget();
  if (budget !== null) config.limits = { ...config.limits, stage_memory_mb: budget };
  for (const [section, on] of Object.entries(session.analyses) as [keyof AuditSession['analyses'], boolean][]) {
    const { enabled, ...rest } = (source[section] ?? {}) as { enabled?: boolean; proxies?: unknown };
    // A section the set-up turns off (a box unticked) leaves its settings behind (the run refused them as idle), save
    // robustness.proxies, which recourse reads too; a config that itself turns one off with settings is refused as the CLI refuses it.
    const unticked = enabled !== false;
    if (!on) config[section] = (unticked ? { enabled: false, ...(section === 'robustness' && rest.proxies ? { proxies: rest.proxies } : {}) } : { ...rest, enabled: false }) as never;
    // Ticked where the config (or its profile) turned it off: written on, or the profile's enabled: false comes back when the YAML is read.
    else if (enabled === false) config[section] = { ...rest, enabled: true } as never;
    else if (source[section]) config[section] = rest as never;
  }
  return config;
}

/**
 * Whether the set-up holds a regression's decision: positive_when with the task regression,
 * or left to the model (a dropped config need not say task: regression, as the CLI infers it;
 * the decision was dropped and the threshold written as a probability's).
 */
function decides(session: AuditSession): session is AuditSession & { positiveWhen: 'above' | 'below' } {
  return session.positiveWhen !== '' && (session.task === 'regression' || session.task === '');
}

/**
 * The config's `threshold`: a regression's decision threshold (with positive_when); else the
 * set-up's threshold or policy — left out, as the CLI leaves it out without --threshold, when
 * it is the default 0.5 that no config set and the model is not a two-class classifier (a
 * multiclass or regression audit refuses any threshold; a binary one reads 0.5 the same), or
 * the audit reads a score column (a raw score without a threshold is refused).
 */
export function thresholdOf(session: AuditSession, source: AuditConfig, thresholdPolicy: AuditConfig['threshold']): AuditConfig['threshold'] {
  if (decides(session)) return session.decisionThreshold ?? undefined;
  if (session.task === 'multiclass' || session.task === 'regression') return source.threshold;
  if (session.thresholdPolicy.policy !== 'fixed') return thresholdPolicy;
  const isDefault = session.threshold === DEFAULT_THRESHOLD && source.threshold === undefined;
  if (isDefault && session.model && session.task !== 'binary' && session.model.info.classCount !== 2) return undefined;
  // A score column at the untouched default: left out, as the CLI leaves it, so a raw score is refused there and here alike (it ran at 0.5).
  if (isDefault && !session.model) return undefined;
  return session.threshold;
}

/** How the config (when one was dropped) says CSV files are read: the CLI's options, so both read the same table. */
export function csvOptionsOf(source: AuditConfig | undefined) {
  const data = source?.data ?? {};
  return {
    ...(data.delimiter ? { delimiter: data.delimiter } : {}),
    ...(data.missing_values ? { missingValues: [...data.missing_values] } : {}),
    ...(data.dtypes ? { dtypes: { ...data.dtypes } } : {}),
    ...(data.skip_bad_lines !== undefined ? { skipBadRows: data.skip_bad_lines } : {}),
    ...(data.encoding ? { encoding: data.encoding } : {}),
  };
}

/** The page's ?memory_budget_mb=, or null when absent or not a number of MiB (a run refuses it then, naming it: see run-plan.ts). */
function pageBudget(): number | null {
  try {
    return memoryBudgetFromUrl();
  } catch {
    return null;
  }
}

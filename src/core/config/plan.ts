import type { AuditRequest } from '../audit';
import type { ExplainMethod } from '../analyses/explain/explain';
import { AuditConfigError, ConfigError, quote } from '../base/errors';
import { refuseIdleRecourse, refuseIdleRobustness } from '../audit/idle-settings';
import { encodingName, TEXT_ENCODINGS } from '../data/csv/options';
import { AUDIT_CONFIG_SPEC, thresholdPolicyOf, type AuditConfig } from './audit-config';
import { check } from './schema';
import { checkRegistryBlock, refuseWrittenPassword } from './registry-block';


/** A config turned into what to read and how to audit it. */
export interface AuditPlan {
  /** Paths as written in the config (relative to it). */
  files: { model?: string; data: string; reference?: string; validation?: string };
  request: Omit<AuditRequest, 'model' | 'data'>;
  seedExplicit: boolean;
  /** Why a section of the audit did not run, by catalog section. */
  missingSections: Record<string, string>;
  metadata: Record<string, string | number | boolean>;
}

/**
 * Keys the schema reads (configs written for the tool our users come from carry them) but
 * whose asked-for behaviour Plumbline does not have: refused with the path and the fix, never
 * accepted and ignored.
 */
function refuseUnhonoured(config: AuditConfig, fileName: string): void {
  const refusals: string[] = [];
  if (config.explainer?.cache === true) refusals.push('explainer.cache: true — Plumbline keeps no explanation cache (every audit computes its explanations from the files given); remove the key');
  if (config.fairness?.metrics !== undefined) refusals.push('fairness.metrics — every fairness metric is computed and reported; choose the ones that decide with policy gates (plumbline list metrics) and remove the key');
  if (config.fairness?.enabled === false) refusals.push('fairness.enabled: false — fairness across the protected attributes is what every audit measures; remove the key');
  if (config.explainer?.type === 'permutation') refusals.push('explainer.type: permutation — an audit explains rows with SHAP values; permutation importance is plumbline explain --method permutation. Use auto, treeshap, tree-path or kernelshap');
  if (config.calibration?.enabled === false) refusals.push('calibration.enabled: false — calibration is part of every audit (it takes milliseconds); remove the key');
  if (refusals.length) throw new ConfigError(`${fileName}: ${refusals.length === 1 ? 'a setting' : `${refusals.length} settings`} Plumbline cannot honour: ${refusals.join('; ')}.`);
  const encoding = config.data?.encoding;
  if (encoding !== undefined && !encodingName(encoding)) {
    throw new ConfigError(`${fileName}: data.encoding ${quote(encoding)} is not an encoding a CSV file can be read in here. Use utf-8 or a single-byte encoding (${TEXT_ENCODINGS.filter((e) => e !== 'utf-8').join(', ')}; latin1 and cp1252 name windows-1252), or save the file as UTF-8.`);
  }
  // The policy (applies_to, waivers), the reports and the registry name the model by one id.
  const registryId = config.registry?.metadata?.model_id;
  if (registryId !== undefined && String(registryId) !== String(config.metadata?.model_id ?? '')) {
    throw new ConfigError(
      `${fileName}: registry.metadata.model_id ${quote(String(registryId))} differs from metadata.model_id${config.metadata?.model_id === undefined ? ' (not set: the model file\'s name)' : ` ${quote(String(config.metadata.model_id))}`}, so the registry would file the audit under one id and the policy judge another. Set the model's id once, in metadata.model_id, and remove registry.metadata.model_id.`,
    );
  }
}

/** Refuses recourse settings that would let a protected attribute change (it never does: the setting could not be honoured). */
/**
 * Refuses settings that say one thing twice or two things at once, where the audit would
 * silently take one: a column listed twice (race × race intersections, duplicated findings),
 * a model block beside a score column, PSI thresholds out of order, too few resamples. (A
 * file naming the reference or the threshold twice is refused when it is read: parseAuditConfig.)
 */
function refuseConflicts(config: AuditConfig, fileName: string): void {
  const data = config.data ?? {};
  const lists: [string, readonly string[] | undefined][] = [
    ['data.protected_attributes', data.protected_attributes],
    ['model.features', config.model?.features],
    ['fairness.slice_columns', config.fairness?.slice_columns],
    ...(config.fairness?.intersections ?? []).map((list, i): [string, string[]] => [`fairness.intersections[${i}]`, list]),
  ];
  for (const [key, list] of lists) {
    const twice = (list ?? []).filter((name, i, all) => all.indexOf(name) !== i);
    if (twice.length) throw new ConfigError(`${fileName}: ${key} lists ${[...new Set(twice)].join(', ')} more than once. List each column once.`);
  }
  if (data.score_column && config.model?.path) throw new ConfigError(`${fileName}: model.path (${config.model.path}) and data.score_column (${data.score_column}) both give the scores. Use one: remove data.score_column to audit the model, or the model block for a score-only audit.`);
  if (data.score_column && !config.model?.path && config.model) {
    const keys = Object.keys(config.model);
    if (keys.length) throw new ConfigError(`${fileName}: model.${keys.join(', model.')} ${keys.length === 1 ? 'applies' : 'apply'} to a model file, and this audit reads its scores from data.score_column (${data.score_column}). Remove the model block.`);
  }
  const resamples = config.bootstrap?.resamples;
  if (resamples !== undefined && resamples > 0 && resamples < 20) {
    throw new ConfigError(`${fileName}: bootstrap.resamples: ${resamples} draws cannot place an interval's tails (the ECE interval needs 20 at least, and was left out without a word). Use 0 to leave the bootstrap intervals out, or 20 or more (1000 by default).`);
  }
  const minor = config.drift?.psi_minor ?? 0.1;
  const major = config.drift?.psi_major ?? 0.2;
  if (config.drift && (config.drift.psi_minor !== undefined || config.drift.psi_major !== undefined) && !(minor < major)) {
    throw new ConfigError(`${fileName}: drift.psi_minor (${minor}) must be below drift.psi_major (${major}): a PSI is minor drift from psi_minor and major from psi_major. Set psi_minor below psi_major${config.drift.psi_minor === undefined ? ' (psi_minor defaults to 0.1)' : config.drift.psi_major === undefined ? ' (psi_major defaults to 0.2)' : ''}.`);
  }
  const ll144 = config.fairness?.ll144;
  if (ll144?.sex !== undefined && ll144.sex === ll144.race_ethnicity) throw new ConfigError(`${fileName}: fairness.ll144 names ${ll144.sex} as both sex and race_ethnicity. Name the column of each.`);
}

function refuseProtectedRecourse(config: AuditConfig, fileName: string): void {
  const attributes = config.data?.protected_attributes ?? [];
  const categorical = config.recourse?.categorical_changes ?? [];
  for (const [key, names] of [['recourse.actionable', config.recourse?.actionable ?? []], ['recourse.categorical_changes', Array.isArray(categorical) ? categorical : Object.keys(categorical)]] as const) {
    const named = names.filter((name) => attributes.includes(name));
    if (named.length) throw new ConfigError(`${fileName}: ${key}: ${named.join(', ')} ${named.length === 1 ? 'is a protected attribute' : 'are protected attributes'} (data.protected_attributes), which recourse never changes; remove ${named.length === 1 ? 'it' : 'them'} from the list.`);
  }
}

/** The share of rows with unseen categories --strict allows when the config sets none. */
export const STRICT_UNKNOWN_CATEGORY_SHARE = 0.01;

/** The explainer method a config's `explainer.type` names (GlassAlpha's names accepted). */
function explainerMethod(type: string | undefined): ExplainMethod | undefined {
  switch (type) {
    case 'treeshap':
    case 'tree':
      return 'tree';
    case 'tree-path':
      return 'tree-path';
    case 'kernelshap':
    case 'kernel':
      return 'kernel';
    case 'auto':
    case undefined:
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Checks that a config names everything an audit needs and maps it to a request. Without
 * `data.target` the audit runs without labels.
 * `strict` refuses to run without an explicit seed, target, protected attributes and
 * positive label.
 */
export function planAudit(config: AuditConfig, fileName: string, strict = false): AuditPlan {
  // A config a host built (the app's set-up, flags merged into a file's config) gets the
  // checks a config file gets: a cleared threshold (null) or a selection rate of 1.5 is
  // refused, not run at a default. As JSON: unset fields (undefined) are absent.
  check(JSON.parse(JSON.stringify(config)), AUDIT_CONFIG_SPEC, fileName);
  const data = config.data ?? {};
  const missing: string[] = [];
  if (!data.test) missing.push('data.test');
  if (!data.protected_attributes?.length) missing.push('data.protected_attributes');
  if (!config.model?.path && !data.score_column) missing.push('model.path (or data.score_column)');
  if (missing.length) throw new ConfigError(`${fileName}: missing ${missing.join(', ')}. An audit needs a test file, protected attributes and a model or score column (and a target, unless it audits without labels).`);
  if (strict) {
    const absent = [
      config.random_seed === undefined ? 'random_seed (--seed)' : null,
      data.positive_label === undefined ? 'data.positive_label (--positive-label)' : null,
    ].filter(Boolean);
    if (absent.length) throw new ConfigError(`${fileName}: --strict needs an explicit ${absent.join(' and ')}, so the audit cannot depend on defaults.`);
  }
  refuseUnhonoured(config, fileName);
  refuseWrittenPassword(config, fileName);
  checkRegistryBlock(config, fileName);
  refuseConflicts(config, fileName);
  refuseProtectedRecourse(config, fileName);
  const policy = thresholdPolicyOf(config, fileName);
  // A regression's decision threshold is on the prediction's scale (positive_when says it is one).
  if (config.model?.path && !config.positive_when && policy.policy === 'fixed' && !(policy.threshold >= 0 && policy.threshold <= 1)) {
    throw new ConfigError(`${fileName}: threshold: ${policy.threshold} is outside 0 to 1, but a model's score is a probability. Set a threshold from 0 to 1 (a score column on its own scale, data.score_column, may take any number; a regression's decision on the prediction's scale takes positive_when: above|below).`);
  }
  if (data.validation !== undefined && policy.policy === 'fixed') {
    throw new ConfigError(`${fileName}: data.validation (${data.validation}) is only used to fit a threshold policy, and the threshold is fixed at ${policy.threshold}. Set threshold to a policy ({policy: youden}, {policy: selection_rate, target: R} or {policy: cost, cost_fp: A, cost_fn: B}), or remove data.validation.`);
  }
  const missingSections: Record<string, string> = {};
  for (const section of ['explainer', 'robustness', 'drift', 'recourse'] as const) {
    // Under a profile the enabled: false may be the profile's (a built-in one, or the config's own), not a line of the config's.
    if (config[section]?.enabled === false) missingSections[section] = `turned off (${section}.enabled: false${config.audit_profile !== undefined ? `, by the config or its audit_profile ${config.audit_profile}` : ''})`;
  }
  // Settings of a section turned off are refused here too, so validate-config says what the audit would.
  const settings = auditSettingsOf(config);
  try {
    refuseIdleRecourse({ recourse: settings.recourse, missingSections });
    refuseIdleRobustness({ robustness: settings.robustness, missingSections });
  } catch (error) {
    if (error instanceof AuditConfigError) throw new ConfigError(`${fileName}: ${error.message}`);
    throw error;
  }
  return {
    files: { model: config.model?.path, data: data.test!, reference: data.reference ?? data.train, ...(data.validation !== undefined ? { validation: data.validation } : {}) },
    request: {
      scoreColumn: data.score_column,
      // No target: the audit runs without labels (core/audit/unlabelled.ts) and says so in every output.
      target: data.target ?? '',
      ...(data.unlabelled ? { unlabelled: true } : {}),
      protectedAttributes: data.protected_attributes!,
      features: config.model?.features,
      ...(config.model?.max_unknown_category_share !== undefined
        ? { maxUnknownCategoryShare: config.model.max_unknown_category_share }
        : strict
          ? { maxUnknownCategoryShare: STRICT_UNKNOWN_CATEGORY_SHARE, maxUnknownCategoryShareFromStrict: true }
          : {}),
      positiveLabel: data.positive_label === undefined ? undefined : String(data.positive_label),
      thresholdPolicy: policy,
      ...(config.model?.type && config.model.type !== 'auto' ? { modelType: config.model.type as 'onnx' | 'xgboost' | 'lightgbm' } : {}),
      // fairness.threshold is the same threshold (a multiclass audit refuses it as it refuses threshold).
      // A threshold the config writes (a number, or {policy: fixed, value}) is the request's, so an explicit 0.5 is not taken for the default.
      threshold: config.threshold !== undefined ? (typeof config.threshold === 'number' ? config.threshold : config.threshold.policy === 'fixed' ? (config.threshold.value ?? 0.5) : undefined) : config.fairness?.threshold,
      ...(config.task ? { task: config.task } : {}),
      ...(config.model?.class_labels ? { classLabels: config.model.class_labels } : {}),
      ...(config.positive_when ? { positiveWhen: config.positive_when } : {}),
      ...auditSettingsOf(config),
      ...(config.metadata?.model_id !== undefined ? { modelId: String(config.metadata.model_id) } : {}),
      csv: { delimiter: data.delimiter, missingValues: data.missing_values, dtypes: data.dtypes, skipBadRows: data.skip_bad_lines, ...(data.encoding ? { encoding: data.encoding } : {}) },
    },
    seedExplicit: config.random_seed !== undefined,
    missingSections,
    metadata: config.metadata ?? {},
  };
}

/** What {@link auditSettingsOf} reads from a config. */
export type ConfigSettings = Partial<Pick<AuditRequest, 'driftBins' | 'seed' | 'confidence' | 'bootstrapResamples' | 'calibrationBins' | 'calibrationBinning' | 'minGroupSize' | 'intersections' | 'slices' | 'powerDifference' | 'referenceGroups' | 'll144' | 'sampleSize' | 'driftThresholds' | 'recourse' | 'robustness' | 'explainer' | 'limits'>>;

/**
 * The settings of an audit a config holds beyond its files, columns and threshold: seed,
 * intervals, calibration, fairness options, sampling, drift levels, robustness, recourse,
 * explainer and stage budgets. The CLI and the app take them from here, so the same config
 * gives the same numbers in both.
 */
export function auditSettingsOf(config: AuditConfig): ConfigSettings {
  const data = config.data ?? {};
  const fairness = config.fairness ?? {};
  return {
    seed: config.random_seed ?? 0,
    confidence: config.bootstrap?.confidence,
    bootstrapResamples: config.bootstrap?.resamples,
    calibrationBins: config.calibration?.bins,
    calibrationBinning: config.calibration?.binning,
    minGroupSize: fairness.min_group_size,
    intersections: fairness.intersections,
    slices: fairness.slice_columns,
    powerDifference: fairness.power_difference,
    referenceGroups: fairness.reference_groups,
    ll144: fairness.ll144 ? { sex: fairness.ll144.sex ?? null, race_ethnicity: fairness.ll144.race_ethnicity ?? null, rate: fairness.ll144.rate ?? 'selection' } : undefined,
    sampleSize: data.test_sample_size,
    ...(config.drift?.psi_bins !== undefined ? { driftBins: config.drift.psi_bins } : {}),
    driftThresholds: config.drift?.psi_minor !== undefined || config.drift?.psi_major !== undefined ? { minor: config.drift?.psi_minor ?? 0.1, major: config.drift?.psi_major ?? 0.2 } : undefined,
    recourse: { adverse: config.recourse?.adverse, immutable: config.recourse?.immutable, monotone: config.recourse?.monotone, costs: config.recourse?.costs, maxRows: config.recourse?.max_rows, perRow: config.recourse?.max_counterfactuals, actionable: config.recourse?.actionable, categoricalChanges: config.recourse?.categorical_changes },
    robustness: { shift: config.robustness?.shift, noise: config.robustness?.noise, proxies: config.robustness?.proxies },
    explainer: { backgroundRows: config.explainer?.background_samples, rows: config.explainer?.rows, method: explainerMethod(config.explainer?.type) },
    limits: config.limits ? { stageMemoryMb: config.limits.stage_memory_mb, stageSeconds: config.limits.stage_seconds } : undefined,
  };
}

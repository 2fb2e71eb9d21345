import { ConfigError, quote } from '../base/errors';
import type { ThresholdPolicy } from '../metrics/curves';
import type { DeclaredType } from '../data/table';
import { TEXT_ENCODINGS } from '../data/csv/options';
import { check, type Spec } from './schema';
import { parseYaml } from './yaml';

const enabled: Spec = { type: 'boolean', description: 'Run this analysis.' };
const section = (description: string, properties: Record<string, Spec> = {}): Spec => ({ type: 'object', description, properties: { enabled, ...properties } });
/** `enabled` of a section every audit runs: true is accepted, false refused (see plan.ts). */
const always = (why: string): Spec => ({ type: 'boolean', description: `Always true: ${why} (false is refused).` });
const names: Spec = { type: 'array', items: { type: 'string' } };
const labelValue: Spec = { type: 'oneOf', options: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };

const thresholdSpec: Spec = {
  type: 'oneOf',
  description: 'A fixed threshold on p(positive) (0 to 1; on its own scale for a score column), or a threshold policy chosen on the test data.',
  options: [
    { type: 'number' },
    {
      type: 'object',
      properties: {
        policy: { type: 'string', enum: ['fixed', 'youden', 'selection_rate', 'cost'] },
        value: { type: 'number', description: 'fixed: the threshold (0 to 1 for a model; any number for a score column on its own scale)' },
        target: { type: 'number', minimum: 0, maximum: 1, description: 'selection_rate: the share to select' },
        cost_fp: { type: 'number', minimum: 0, description: 'cost: cost of a false positive' },
        cost_fn: { type: 'number', minimum: 0, description: 'cost: cost of a false negative' },
      },
      required: ['policy'],
    },
  ],
};

/** Everything an audit config may hold, after a profile is applied (all sections optional). */
const configProperties: Record<string, Spec> = {
  model: {
    type: 'object',
    description: 'The model file. Omit for a score-only audit (data.score_column).',
    properties: {
      path: { type: 'string', description: 'Path relative to this config file.' },
      type: { type: 'string', enum: ['auto', 'onnx', 'xgboost', 'lightgbm'], description: 'File format; recognised from its bytes when auto.' },
      features: { ...names, description: 'Column order of a single [N, F] model input.' },
      max_unknown_category_share: { type: 'number', minimum: 0, maximum: 1, description: 'Refuse the audit when more than this share of rows holds a category the model never saw, in any input (default: report only; 0.01 with --strict).' },
      class_labels: { ...names, description: 'The model\'s class names in its output order (class 0 first), for a file that names none (XGBoost JSON, LightGBM) and a target of words: e.g. [bad, good], or [low, medium, high].' },
    },
  },
  data: {
    type: 'object',
    properties: {
      test: { type: 'string', description: 'The audited CSV, relative to this config file.' },
      train: { type: 'string', description: 'Training/reference CSV (drift, explainer background).' },
      reference: { type: 'string', description: 'The reference file, as data.train names it (give one of the two): drift is measured against it, and the explainer draws its background from it.' },
      validation: { type: 'string', description: 'Held-out labelled CSV a threshold policy is fitted on (refused with a fixed threshold).' },
      target: { type: 'string', description: 'The column holding the true outcome. Without it (or when the column is empty on every row) the audit runs without labels: selection rates, demographic parity, drift and data quality measured, performance estimated (CBPE). A target absent from the file is refused (a typo?) unless unlabelled is true.' },
      unlabelled: { type: 'boolean', description: 'The audited file is a batch without outcomes: audit it without labels even though target names the outcome column (still read from the reference, to check the calibration CBPE assumes).' },
      positive_label: labelValue,
      protected_attributes: names,
      score_column: { type: 'string', description: 'A column holding the score (no model).' },
      test_sample_size: { type: 'number', integer: true, minimum: 1, description: 'Seeded sample of the test rows, stratified by target.' },
      dtypes: { type: 'object', properties: {}, values: { type: 'string', enum: ['numeric', 'categorical', 'boolean', 'date'] } },
      missing_values: { ...names, description: 'Cell texts read as missing, in place of the default tokens (NA, N/A, NaN, nan, null, NULL); an empty cell is always missing.' },
      delimiter: { type: 'string', enum: [',', ';', '\t', '|'] },
      encoding: { type: 'string', description: `The CSV files' text encoding (default utf-8): windows-1252 (latin1, cp1252) for Excel's "CSV (Comma delimited)" on Windows; any WHATWG label of ${TEXT_ENCODINGS.join(', ')}. A file whose bytes do not read in it is refused, naming the cell.` },
      skip_bad_lines: { type: 'boolean', description: 'Skip rows with the wrong number of fields (counted and reported) instead of failing.' },
    },
  },
  threshold: thresholdSpec,
  task: { type: 'string', enum: ['binary', 'multiclass', 'regression'], description: 'The kind of model audited; inferred from the model and the target when absent (a regressor, or more than two classes without a positive label), and stated in the result.' },
  positive_when: { type: 'string', enum: ['above', 'below'], description: 'A regression that feeds a decision: positive when the prediction is above (at or above) or below (at or below) the threshold; adds the binary audit of that decision.' },
  random_seed: { type: 'number', integer: true, minimum: 0, maximum: 4294967295 },
  audit_profile: { type: 'string', description: 'quickstart, full, or a name under profiles.' },
  profiles: { type: 'object', description: 'User-defined profiles: partial configs (checked when used).', properties: {}, values: { type: 'object', properties: {}, open: true } },
  metadata: { type: 'object', description: 'Free-form labels (model_id, model_version, team, owner, intended_use…).', properties: {}, values: labelValue },
  bootstrap: { type: 'object', properties: { resamples: { type: 'number', integer: true, minimum: 0, maximum: 100000 }, confidence: { type: 'number', minimum: 0.5, maximum: 0.999 } } },
  explainer: section('Explanations (SHAP).', {
    type: { type: 'string', enum: ['auto', 'treeshap', 'tree', 'tree-path', 'kernelshap', 'kernel', 'permutation'] },
    background_samples: { type: 'number', integer: true, minimum: 1 },
    rows: { type: 'number', integer: true, minimum: 1, description: 'Rows explained: the first N of the audited data (default 100).' },
    cache: { type: 'boolean' },
  }),
  fairness: section('Fairness across protected groups.', {
    enabled: always('fairness across the protected attributes is what every audit measures'),
    metrics: names,
    threshold: { type: 'number', description: 'Decision threshold, as a top-level fixed threshold (0 to 1 for a model; any number for a score column on its own scale).' },
    min_group_size: { type: 'number', integer: true, minimum: 1 },
    intersections: { type: 'array', items: { type: 'array', items: { type: 'string' }, minItems: 2 } },
    reference_groups: { type: 'object', properties: {}, values: { type: 'string' } },
    power_difference: { type: 'number', minimum: 0.001, maximum: 1 },
    slice_columns: names,
    ll144: {
      type: 'object',
      description: 'NYC Local Law 144 bias-audit tables: selection (or scoring) rates and impact ratios by sex, race/ethnicity and their intersections.',
      properties: {
        sex: { type: 'string', description: 'Column holding sex.' },
        race_ethnicity: { type: 'string', description: 'Column holding race/ethnicity.' },
        rate: { type: 'string', enum: ['selection', 'scoring'], description: 'selection (default): predicted positive; scoring: above the median score.' },
      },
    },
  }),
  calibration: section('Calibration.', { enabled: always('calibration is part of every audit'), bins: { type: 'number', integer: true, minimum: 2, maximum: 1000 }, binning: { type: 'string', enum: ['equal-width', 'equal-frequency'] } }),
  robustness: section('Demographic shift, perturbation stability, individual fairness.', {
    shift: { type: 'number', minimum: 0, maximum: 0.5 },
    noise: { type: 'array', items: { type: 'number', minimum: 0 } },
    proxies: { type: 'object', description: 'Protected attribute → the model input that stands for it, for the counterfactual flip test.', properties: {}, values: { type: 'string' } },
  }),
  drift: section('Drift against reference data.', { psi_bins: { type: 'number', integer: true, minimum: 2 }, psi_minor: { type: 'number', minimum: 0 }, psi_major: { type: 'number', minimum: 0 } }),
  recourse: section('Counterfactual recourse.', {
    immutable: names,
    monotone: { type: 'object', properties: {}, values: { type: 'string', enum: ['increase_only', 'decrease_only'] } },
    costs: { type: 'object', description: "Weight of a column's change (default 1): multiplies how far a number moves the row's percentile, or the 1 a category change costs.", properties: {}, values: { type: 'number', minimum: 0 } },
    actionable: { ...names, description: 'The only model inputs recourse may change. Default: numeric inputs that are not protected, a proxy (robustness.proxies or an error-level proxy in the data profile) or age-like.' },
    categorical_changes: {
      type: 'oneOf',
      description: 'Categorical inputs recourse may change: a list (to any observed category), or column → the categories a person may move to. Default: none.',
      options: [names, { type: 'object', properties: {}, values: names }],
    },
    adverse: { type: 'string', enum: ['negative', 'positive'], description: 'The decision people want to leave: negative (p < threshold, e.g. a denied loan) or positive.' },
    max_counterfactuals: { type: 'number', integer: true, minimum: 1 },
    max_rows: { type: 'number', integer: true, minimum: 1, description: 'Adverse rows searched (default 1,000); more are sampled with the seed, and the feasible share has a Wilson interval.' },
  }),
  registry: {
    type: 'object',
    description: 'Append every audit to a shared registry (the MLOps guides\' block). {{ NAME }} and ${NAME} come from the environment.',
    properties: {
      enabled: { type: 'boolean' },
      database: { type: 'string', description: 'A registry file or a postgresql:// URL.' },
      auto_submit: { type: 'boolean', description: 'Append every audit run with this config (default true when the block is enabled).' },
      metadata: { type: 'object', description: 'The entry\'s labels, over the config\'s metadata: model_id, model_version, team, owner (the columns an entry keeps; another key is refused).', properties: {}, values: labelValue },
    },
  },
  report: section('The report.', { format: { type: 'string', enum: ['pdf', 'html', 'json'] }, title: { type: 'string' } }),
  limits: {
    type: 'object',
    description: 'Budgets of the drift, explanation, robustness and recourse stages: a stage over budget is left out of the result with the reason and what to change; the rest of the audit completes.',
    properties: {
      stage_memory_mb: { type: 'number', integer: true, minimum: 1, maximum: 1048576, description: 'Working memory a stage may use, checked against its estimate before it starts (default 2048).' },
      stage_seconds: { type: 'number', minimum: 0.001, description: 'Seconds a stage may run (default: no limit). With it, whether a section is present depends on the machine.' },
    },
  },
};

/** The audit config schema. */
export const AUDIT_CONFIG_SPEC: Spec = { type: 'object', description: 'Plumbline audit config.', properties: configProperties };

/** A validated audit config (after the profile is merged in). */
export interface AuditConfig {
  model?: { path?: string; type?: string; features?: string[]; max_unknown_category_share?: number; class_labels?: string[] };
  /** binary, multiclass or regression; inferred when absent. */
  task?: 'binary' | 'multiclass' | 'regression';
  /** A regression's decision: positive when the prediction is above or below the threshold. */
  positive_when?: 'above' | 'below';
  data?: {
    test?: string;
    train?: string;
    reference?: string;
    validation?: string;
    target?: string;
    /** A batch without outcomes: audited without labels although `target` is set. */
    unlabelled?: boolean;
    positive_label?: string | number | boolean;
    protected_attributes?: string[];
    score_column?: string;
    test_sample_size?: number;
    dtypes?: Record<string, DeclaredType>;
    missing_values?: string[];
    delimiter?: string;
    encoding?: string;
    skip_bad_lines?: boolean;
  };
  threshold?: number | { policy: string; value?: number; target?: number; cost_fp?: number; cost_fn?: number };
  random_seed?: number;
  audit_profile?: string;
  profiles?: Record<string, unknown>;
  metadata?: Record<string, string | number | boolean>;
  bootstrap?: { resamples?: number; confidence?: number };
  explainer?: { enabled?: boolean; type?: string; background_samples?: number; rows?: number; cache?: boolean };
  fairness?: { enabled?: boolean; metrics?: string[]; threshold?: number; min_group_size?: number; intersections?: string[][]; reference_groups?: Record<string, string>; power_difference?: number; slice_columns?: string[]; ll144?: { sex?: string; race_ethnicity?: string; rate?: 'selection' | 'scoring' } };
  calibration?: { enabled?: boolean; bins?: number; binning?: 'equal-width' | 'equal-frequency' };
  robustness?: { enabled?: boolean; shift?: number; noise?: number[]; proxies?: Record<string, string> };
  drift?: { enabled?: boolean; psi_bins?: number; psi_minor?: number; psi_major?: number };
  recourse?: { enabled?: boolean; costs?: Record<string, number>; immutable?: string[]; monotone?: Record<string, 'increase_only' | 'decrease_only'>; adverse?: 'negative' | 'positive'; max_counterfactuals?: number; max_rows?: number; actionable?: string[]; categorical_changes?: string[] | Record<string, string[]> };
  registry?: { enabled?: boolean; database?: string; auto_submit?: boolean; metadata?: Record<string, string | number | boolean> };
  report?: { enabled?: boolean; format?: string; title?: string };
  limits?: { stage_memory_mb?: number; stage_seconds?: number };
}

/** Built-in profiles: defaults a config's own values override. */
export const PROFILES: Record<string, { description: string; config: AuditConfig }> = {
  quickstart: {
    description: 'Fast feedback: 200 simulation draws for the ECE interval, explanations on 100 background rows, no recourse or robustness.',
    config: { bootstrap: { resamples: 200 }, explainer: { enabled: true, background_samples: 100 }, calibration: { enabled: true }, fairness: { enabled: true }, robustness: { enabled: false }, recourse: { enabled: false }, drift: { enabled: true } },
  },
  full: {
    description: 'Everything on: 1,000 simulation draws for the ECE interval, explanations on 1,000 background rows.',
    config: { bootstrap: { resamples: 1000 }, explainer: { enabled: true, background_samples: 1000 }, calibration: { enabled: true }, fairness: { enabled: true }, robustness: { enabled: true }, recourse: { enabled: true }, drift: { enabled: true } },
  },
};

function merge(base: unknown, over: unknown): unknown {
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = {};
    const define = (key: string, value: unknown) => Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    for (const [key, value] of Object.entries(base as Record<string, unknown>)) define(key, value);
    for (const [key, value] of Object.entries(over as Record<string, unknown>)) define(key, merge(Object.hasOwn(out, key) ? out[key] : undefined, value));
    return out;
  }
  return over === undefined ? base : over;
}

/**
 * Reads an audit config: YAML, schema-checked (unknown keys and wrong types are errors),
 * then its profile applied underneath (the config's own values win).
 */
export function parseAuditConfig(text: string, fileName: string): AuditConfig {
  const raw = check<AuditConfig>(parseYaml(text, fileName) ?? {}, AUDIT_CONFIG_SPEC, fileName);
  refuseTwice(raw, fileName);
  const profileName = raw.audit_profile;
  if (!profileName) return raw;
  const userProfile = raw.profiles?.[profileName];
  const builtIn = PROFILES[profileName]?.config;
  if (!userProfile && !builtIn) {
    const known = [...Object.keys(PROFILES), ...Object.keys(raw.profiles ?? {})];
    throw new ConfigError(`${fileName}: audit_profile: unknown profile ${quote(profileName)}; profiles: ${known.join(', ')}.`);
  }
  if (userProfile) {
    check(userProfile, AUDIT_CONFIG_SPEC, `${fileName} (profiles.${profileName})`);
    refuseTwice(userProfile, `${fileName} (profiles.${profileName})`);
    // Profiles are one layer: a profile naming another (or holding profiles) was read nowhere.
    for (const key of ['audit_profile', 'profiles'] as const) {
      if ((userProfile as AuditConfig)[key] !== undefined) throw new ConfigError(`${fileName}: profiles.${profileName}.${key}: a profile cannot ${key === 'audit_profile' ? 'name another profile' : 'hold profiles'}; profiles are not stacked. Copy the settings it should take into profiles.${profileName}.`);
    }
  }
  const merged = merge(merge(builtIn ?? {}, userProfile ?? {}), raw) as AuditConfig;
  // A threshold is one setting, never a blend (a profile's cost keys under the config's youden).
  if (raw.threshold !== undefined) merged.threshold = raw.threshold;
  // A setting written two ways is the one the nearest layer wrote (the config, then its profile, then the built-in one), whichever way: a profile's threshold never beats the config's fairness.threshold.
  const layers: AuditConfig[] = [raw, userProfile ?? {}, (builtIn ?? {}) as AuditConfig];
  const threshold = layers.find((layer) => layer.threshold !== undefined || layer.fairness?.threshold !== undefined);
  if (threshold?.threshold === undefined) delete merged.threshold;
  if (threshold?.fairness?.threshold === undefined && merged.fairness) delete merged.fairness.threshold;
  const reference = layers.find((layer) => layer.data?.train !== undefined || layer.data?.reference !== undefined);
  if (merged.data && reference?.data?.train === undefined) delete merged.data.train;
  if (merged.data && reference?.data?.reference === undefined) delete merged.data.reference;
  return merged;
}

/** Refuses one file that says a thing twice: the reference as data.train and data.reference, the threshold as threshold and fairness.threshold. */
function refuseTwice(config: AuditConfig, fileName: string): void {
  const data = config.data ?? {};
  if (data.train !== undefined && data.reference !== undefined && data.train !== data.reference) {
    throw new ConfigError(`${fileName}: data.train (${data.train}) and data.reference (${data.reference}) both name the reference, and an audit compares with one. Keep one of them.`);
  }
  if (config.threshold !== undefined && config.fairness?.threshold !== undefined) {
    throw new ConfigError(`${fileName}: threshold and fairness.threshold are both set (${JSON.stringify(config.threshold)}, ${config.fairness.threshold}): an audit has one decision threshold. Keep threshold and remove fairness.threshold.`);
  }
}

/** The keys each threshold policy reads besides `policy`. */
const POLICY_KEYS: Record<string, string[]> = { fixed: ['value'], youden: [], selection_rate: ['target'], cost: ['cost_fp', 'cost_fn'] };

/** The threshold policy a config asks for; a refusal names `fileName` when given. */
export function thresholdPolicyOf(config: AuditConfig, fileName?: string): ThresholdPolicy {
  const refuse = (message: string) => new ConfigError(fileName ? `${fileName}: ${message}` : message);
  // threshold wins over fairness.threshold where a host set it over a file's (a flag, the app's set-up); a file with both is refused when read.
  const t = config.threshold ?? config.fairness?.threshold ?? 0.5;
  if (typeof t === 'number') return { policy: 'fixed', threshold: t };
  // A key of another policy would be read by none (fixed with a target ran at 0.5).
  const reads = POLICY_KEYS[t.policy] ?? [];
  const foreign = Object.keys(t).filter((key) => key !== 'policy' && !reads.includes(key));
  if (foreign.length > 0) {
    throw refuse(`threshold: ${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not read by policy ${t.policy}, which reads ${reads.length ? reads.join(' and ') : 'no other key'}. Remove ${foreign.length === 1 ? 'it' : 'them'}, or set the policy ${foreign.length === 1 ? 'it belongs' : 'they belong'} to.`);
  }
  switch (t.policy) {
    case 'fixed':
      return { policy: 'fixed', threshold: t.value ?? 0.5 };
    case 'youden':
      return { policy: 'youden' };
    case 'selection_rate':
      if (t.target === undefined) throw refuse('threshold.target: required for policy selection_rate (the share of rows to select, e.g. target: 0.3).');
      if (!(t.target > 0 && t.target < 1)) throw refuse(`threshold.target: ${t.target} selects ${t.target === 0 ? 'no row' : 'every row'}; a selection rate is between 0 and 1 (e.g. target: 0.3).`);
      return { policy: 'selection_rate', target: t.target };
    default:
      if (t.cost_fp === undefined || t.cost_fn === undefined) throw refuse('threshold: policy cost needs cost_fp and cost_fn (the cost of a false positive and of a false negative, e.g. cost_fp: 1, cost_fn: 5).');
      if (t.cost_fp === 0 && t.cost_fn === 0) throw refuse('threshold: policy cost with cost_fp and cost_fn both 0 makes every threshold cost nothing; give the cost of at least one kind of error (e.g. cost_fp: 1, cost_fn: 5).');
      return { policy: 'cost', cost_fp: t.cost_fp, cost_fn: t.cost_fn };
  }
}

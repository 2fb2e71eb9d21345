/**
 * What the Node API, the browser API and the CLI share about an audit before and after the
 * core runs it: the options laid over a config, the checks of what is missing, and the data
 * check. No Node and no DOM here: each host reads its files its own way.
 */
import { AuditConfigError, PlumblineError, binaryTarget, loadPdfWriter, profileTable, type AnyAuditResult, type AuditConfig, type DataProfile, type DeclaredType, type Manifest, type PolicyDecision, type Table, type ThresholdPolicy } from '../core/index.ts';

// The PDF writer (jsPDF and its font) is a chunk of its own in the core; the API renders PDFs synchronously, so it loads it once, here.
const { renderPdf } = await loadPdfWriter();

/**
 * Settings given beside (or instead of) a config file: the CLI's flags, the API's options.
 * Each wins over the config's own field.
 */
export interface AuditOverrides {
  /** The model file (ONNX, XGBoost JSON or LightGBM text). */
  model?: string;
  /** A column of the data holding the score: a score-only audit, no model. */
  score?: string;
  /** The test data (CSV, Parquet or Arrow). */
  data?: string;
  /** Reference data (usually the training file) for drift and the explainer's background. */
  reference?: string;
  /** Held-out labelled data a threshold policy is fitted on. */
  validation?: string;
  /** Reference-free drift against the distributions stored in an earlier result (JSON) or report (PDF, HTML); Node only. */
  referenceResult?: string;
  /** The column holding the true outcome. */
  target?: string;
  /** The data is a batch without outcomes: audit it without labels although a target is named (data.unlabelled). */
  noLabels?: boolean;
  /** The protected attribute columns. */
  protected?: string[];
  /** Column order of a model with one [N, F] input. */
  features?: string[];
  /** The positive outcome (default 1 for a 0/1 target). */
  positiveLabel?: string;
  /** A fixed threshold (predicted positive when p >= threshold), or a threshold policy chosen on the data. */
  threshold?: number | ThresholdPolicy;
  /** Simulation draws of the ECE interval (default 1000; 0: none). */
  bootstrap?: number;
  /** The random seed (default 0). */
  seed?: number;
  /** binary, multiclass or regression (inferred from the model and the target when absent). */
  task?: 'binary' | 'multiclass' | 'regression';
  /** A multiclass model's class names in output order, for a file that names none. */
  classLabels?: string[];
  /** A regression's decision: positive when the prediction is above or below the threshold. */
  positiveWhen?: 'above' | 'below';
  /** The CSV delimiter (data.delimiter): , ; tab or |. */
  delimiter?: string;
  /** Cell texts read as missing, in place of the default tokens (data.missing_values); an empty cell is always missing. */
  missingValues?: string[];
  /** Column types over the inferred ones (data.dtypes). */
  dtypes?: Record<string, DeclaredType>;
  /** Skip rows with the wrong number of fields (data.skip_bad_lines). */
  skipBadLines?: boolean;
  /** The CSV files' text encoding (data.encoding), e.g. windows-1252. */
  encoding?: string;
}

/** How a host spells its options in messages: flags (`--positive-label`) in the CLI, option names (`positiveLabel`) in the API. */
export type OptionStyle = 'cli' | 'api';

/** An option as the host spells it. */
function optionName(option: keyof AuditOverrides, style: OptionStyle): string {
  return style === 'cli' ? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : `the ${option} option`;
}

/** The config key each value-setting option sets (see {@link mergeAuditConfig}). */
const OPTION_KEYS: readonly (readonly [keyof AuditOverrides, string])[] = [
  ['bootstrap', 'bootstrap.resamples'],
  ['threshold', 'threshold'],
  ['seed', 'random_seed'],
  ['positiveWhen', 'positive_when'],
  ['task', 'task'],
  ['positiveLabel', 'data.positive_label'],
  ['protected', 'data.protected_attributes'],
  ['target', 'data.target'],
  ['score', 'data.score_column'],
  ['features', 'model.features'],
  ['classLabels', 'model.class_labels'],
  ['delimiter', 'data.delimiter'],
  ['missingValues', 'data.missing_values'],
  ['encoding', 'data.encoding'],
  ['dtypes', 'data.dtypes'],
];

/**
 * An error about a config key an option set, naming the option (`--bootstrap`) where it
 * named the key and the config (`audit.yaml: bootstrap.resamples: …`): the value came from
 * the command line. Other errors come back as they are.
 */
export function namingOption(error: unknown, overrides: AuditOverrides, style: OptionStyle, source: string): unknown {
  if (!(error instanceof PlumblineError)) return error;
  for (const [option, key] of OPTION_KEYS) {
    if (overrides[option] === undefined) continue;
    const prefix = `${source}: ${key}`;
    if (!error.message.startsWith(prefix) || !/^[:.[ ]/.test(error.message.slice(prefix.length))) continue;
    const named = new (error.constructor as new (message: string) => PlumblineError)(`${style === 'cli' ? 'command line' : 'the options'}: ${optionName(option, style)} (${key})${error.message.slice(prefix.length)}`);
    return named;
  }
  return error;
}

/**
 * The config with the overrides laid over it. Paths written in the config go through
 * `fromConfig` (the Node host resolves them against the config's folder); paths given as
 * overrides are taken as they are.
 */
export function mergeAuditConfig(config: AuditConfig, overrides: AuditOverrides, fromConfig: (path: string) => string): AuditConfig {
  const inConfig = (path: string | undefined) => (path === undefined ? undefined : fromConfig(path));
  const merged: AuditConfig = {
    ...config,
    model: { ...config.model, ...(overrides.model ? { path: overrides.model } : config.model?.path ? { path: inConfig(config.model.path) } : {}), ...(overrides.features ? { features: overrides.features } : {}), ...(overrides.classLabels ? { class_labels: overrides.classLabels } : {}) },
    data: {
      ...config.data,
      ...(overrides.data ? { test: overrides.data } : config.data?.test ? { test: inConfig(config.data.test) } : {}),
      ...(overrides.reference ? { reference: overrides.reference } : config.data?.reference ? { reference: inConfig(config.data.reference) } : config.data?.train ? { train: inConfig(config.data.train) } : {}),
      ...(overrides.validation ? { validation: overrides.validation } : config.data?.validation ? { validation: inConfig(config.data.validation) } : {}),
      ...(overrides.target ? { target: overrides.target } : {}),
      ...(overrides.noLabels ? { unlabelled: true } : {}),
      ...(overrides.protected ? { protected_attributes: overrides.protected } : {}),
      ...(overrides.score ? { score_column: overrides.score } : {}),
      ...(overrides.positiveLabel !== undefined ? { positive_label: overrides.positiveLabel } : {}),
      ...(overrides.delimiter !== undefined ? { delimiter: overrides.delimiter } : {}),
      ...(overrides.missingValues !== undefined ? { missing_values: overrides.missingValues } : {}),
      ...(overrides.dtypes !== undefined ? { dtypes: { ...config.data?.dtypes, ...overrides.dtypes } } : {}),
      ...(overrides.skipBadLines !== undefined ? { skip_bad_lines: overrides.skipBadLines } : {}),
      ...(overrides.encoding !== undefined ? { encoding: overrides.encoding } : {}),
    },
    // The option takes the policy as the result writes it ({policy: fixed, threshold: 0.3}); the config writes a fixed one's value.
    ...(overrides.threshold !== undefined ? { threshold: typeof overrides.threshold === 'object' && overrides.threshold.policy === 'fixed' && 'threshold' in overrides.threshold ? { policy: 'fixed', value: overrides.threshold.threshold } : overrides.threshold } : {}),
    ...(overrides.task !== undefined ? { task: overrides.task } : {}),
    ...(overrides.positiveWhen !== undefined ? { positive_when: overrides.positiveWhen } : {}),
    ...(overrides.seed !== undefined ? { random_seed: overrides.seed } : {}),
    ...(overrides.bootstrap !== undefined ? { bootstrap: { ...config.bootstrap, resamples: overrides.bootstrap } } : {}),
  };
  if (overrides.score) delete merged.model;
  // A threshold flag replaces the config's threshold, fairness.threshold included (flags win).
  if (overrides.threshold !== undefined && merged.fairness?.threshold !== undefined) {
    const { threshold: _replaced, ...fairness } = merged.fairness;
    merged.fairness = fairness;
  }
  // A reference given as an override (a file, or stored distributions) replaces the config's, whichever key named it.
  if (overrides.reference && merged.data) delete merged.data.train;
  if (overrides.referenceResult && !overrides.reference && merged.data) {
    delete merged.data.train;
    delete merged.data.reference;
  }
  return merged;
}

/**
 * Refuses overrides that contradict one another, and an audit that misses its data, target,
 * protected attributes or model, naming the option as the host spells it. `usage` makes the
 * host's error (a UsageError in the CLI, an AuditConfigError in the API).
 */
export function checkAuditInputs(merged: AuditConfig, overrides: AuditOverrides, style: OptionStyle, hasConfig: boolean, usage: (message: string) => Error): void {
  const name = (option: keyof AuditOverrides) => optionName(option, style);
  const help = style === 'cli' ? ' Run plumbline audit --help for usage.' : '';
  if (overrides.model && overrides.score) throw usage(`give either ${name('model')} or ${name('score')}, not both.`);
  // A score column has no model to read features or class names: they would be ignored.
  const modelOnly = (['features', 'classLabels'] as const).filter((option) => overrides[option] !== undefined);
  if ((overrides.score || (!overrides.model && merged.data?.score_column)) && modelOnly.length) throw usage(`${modelOnly.map(name).join(' and ')} ${modelOnly.length === 1 ? 'applies' : 'apply'} to a model file, and a score-column audit has none. Remove ${modelOnly.length === 1 ? 'it' : 'them'}.`);
  // The config's random_seed range: a larger seed wrapped around (4294967297 gave seed 1's numbers).
  if (overrides.seed !== undefined && (!Number.isInteger(overrides.seed) || overrides.seed < 0 || overrides.seed > 4294967295)) throw usage(`${name('seed')} must be a whole number from 0 to 4294967295, got ${overrides.seed}.`);
  if (overrides.referenceResult && overrides.reference) {
    throw usage(`give either ${name('referenceResult')} or ${name('reference')}, not both: drift is measured against one.`);
  }
  if (!merged.model?.path && !merged.data?.score_column) throw usage(`missing ${name('model')} (or ${name('score')}${style === 'cli' ? ' COLUMN' : ''} for a score-only audit).${help}`);
  const required = [
    [merged.data?.test, name('data')],
    [merged.data?.protected_attributes?.length, name('protected')],
  ] as const;
  for (const [value, option] of required) if (!value) throw usage(`missing ${option}${hasConfig ? ` (or its config field)` : ''}.${help}`);
}

/** An error in the options an API caller gave (a missing or contradictory option). */
export function apiUsageError(message: string): Error {
  return new AuditConfigError(message.charAt(0).toUpperCase() + message.slice(1));
}

/** What the data check looks at: the table, the target and the protected attributes. */
export interface DataCheckRequest {
  table: Table;
  target: string;
  protectedAttributes: string[];
  positiveLabel?: string;
}

/**
 * The data checks of an audit without a model: the profile the audit's `data` section holds
 * (missing shares, class imbalance, duplicates, proxies of the protected attributes,
 * leakage), from the same functions the audit calls.
 */
export function profileData(request: DataCheckRequest): DataProfile {
  const target = binaryTarget(request.table, request.target, request.positiveLabel);
  return profileTable(request.table, request.target, target.labels, request.protectedAttributes);
}

/** An audit's outputs, as the CLI writes them and the API returns them. */
export interface AuditRun {
  /** The audit result, with its policy decision as a field when a policy was given (the `<base>.json` file). */
  result: AnyAuditResult;
  /** The policy decision (`policy_decision.json`), or null without a policy. */
  decision: PolicyDecision | null;
  /** The reproducibility manifest (`<base>.manifest.json`). */
  manifest: Manifest;
  /** Every output file by name: the result, manifest and decision, and with a PDF output the reports, model card and evidence pack. */
  files: Record<string, Uint8Array>;
  /** The reports' title (the config's report.title). */
  title?: string;
}

/** What {@link reportPdf} reads: an {@link AuditRun}, or a result with what else is known of it. */
export interface PdfInput {
  result: AnyAuditResult;
  manifest?: Manifest | null;
  decision?: PolicyDecision | null;
  title?: string;
  /** The date printed on the cover and written as the PDF's creation date; default the manifest's `created`, else now. */
  createdAt?: string;
}

/**
 * The PDF report of an audit, made by the function the CLI's `--output report.pdf` uses:
 * for a run the API returned, the same bytes as its `<base>.pdf` file.
 */
export function reportPdf(input: PdfInput): Uint8Array {
  const { result, manifest, decision, title } = input;
  return renderPdf({
    result,
    createdAt: input.createdAt ?? manifest?.created ?? new Date().toISOString(),
    ...(decision ? { decision } : {}),
    ...(manifest ? { manifest } : {}),
    ...(title ? { title } : {}),
  });
}

/**
 * The recourse search's settings: its defaults, the config's `recourse` keys, the options the
 * audit passes, and which side of the threshold a person wants to reach.
 */
import type { DataProfile } from '../../profile/profile';
import type { RecourseRunner } from './jobs';

/** Defaults of the recourse search, shared by the audit and its stage budget. */
export const RECOURSE_DEFAULTS = {
  /** Adverse rows searched; more are sampled (seeded). 1,000 rows give the feasible share an interval of about ±3 points. */
  maxRows: 1000,
  /** Counterfactuals per row. */
  perRow: 3,
  /** Model evaluations per row. */
  evaluations: 2000,
  /** Candidate rows scored in one model call, at least (rows are searched side by side, so a call costs little more than its rows); the stage's memory estimate counts this many. */
  callRows: 8192,
  /**
   * Candidate rows one call takes when the stage's memory allows ({@link recourseCallRows}):
   * large tables go to a host's thread pool (RUNNER_MIN_TREE_ROWS). The search finds the same
   * counterfactuals whatever the size: a candidate's score does not depend on its call.
   */
  poolCallRows: 65536,
  /** Quantiles a numeric column may move between. */
  low: 0.05,
  high: 0.95,
};

/** Recourse settings of an audit request (the config's `recourse` keys). */
export interface RecourseSettings {
  adverse?: 'negative' | 'positive';
  /** Columns that may never change (`recourse.immutable`); this wins over every other setting. */
  immutable?: string[];
  monotone?: Record<string, 'increase_only' | 'decrease_only'>;
  /** Weight of a column's change (default 1): multiplies its percentile move, or the 1 a category change costs. */
  costs?: Record<string, number>;
  maxRows?: number;
  perRow?: number;
  /** The only columns that may change (`recourse.actionable`); by default numeric inputs that are not protected, a proxy or age-like. */
  actionable?: string[];
  /** Categorical columns that may change: a list (any observed category), or column → the categories a person may move to. */
  categoricalChanges?: string[] | Record<string, string[]>;
}

/** A column that stands in for a protected attribute: declared in `robustness.proxies`, or detected at error level by the data profile. */
export interface ProxyFlag {
  column: string;
  attribute: string;
  source: 'declared' | 'detected';
  /** The association measure and value, for a detected proxy. */
  measure?: string;
  value?: number;
}

/** Settings of the recourse search. */
export interface RecourseOptions {
  threshold: number;
  /** Which decision a person wants to leave: a score below the threshold (`negative`, e.g. a denied loan) or at/above it. */
  adverse: 'negative' | 'positive';
  /** The adverse decision in the conventions' words, where the score is not the model's p (a regression's: "prediction > 40"); default "p < threshold". */
  adverseText?: string;
  /** recourse.adverse was not set: the negative decision is taken as adverse (said in the conventions). */
  adverseDefault?: true;
  /** Columns that may not change (`recourse.immutable`). */
  immutable: string[];
  /** Protected attributes: never changed, and never allowed to be made actionable. */
  protectedAttributes?: string[];
  /** Proxies of protected attributes: not changed unless the config names them actionable. */
  proxies?: ProxyFlag[];
  /** The only columns that may change; see {@link RecourseSettings.actionable}. */
  actionable?: string[];
  /** Categorical columns that may change, and to what; see {@link RecourseSettings.categoricalChanges}. */
  categoricalChanges?: string[] | Record<string, string[]>;
  monotone: Record<string, 'increase_only' | 'decrease_only'>;
  /** Per-column weight of a change (default 1). */
  costs?: Record<string, number>;
  /** Counterfactuals per row (default 3). */
  perRow?: number;
  /** Most adverse rows searched (default 1,000); more are sampled with the seed. */
  maxRows?: number;
  /** Most model evaluations per row (default 2,000). */
  maxEvaluations?: number;
  /** Confidence of the feasible share's Wilson interval (default 0.95). */
  confidence?: number;
  seed: number;
  features?: string[];
  signal?: AbortSignal;
  /** Candidate rows per model call (default {@link RECOURSE_DEFAULTS.callRows}; see {@link recourseCallRows}). */
  callRows?: number;
  /** Where the rows are searched when the model can be opened again on a host's threads (./jobs); this thread by default. */
  runner?: RecourseRunner;
}

/**
 * Candidate rows per model call: {@link RECOURSE_DEFAULTS.poolCallRows}, halved while
 * `fits(callRows)` (the stage's memory budget for calls of that size) says no, and never
 * fewer than {@link RECOURSE_DEFAULTS.callRows} (what the stage's memory check counts).
 */
export function recourseCallRows(fits: (callRows: number) => boolean): number {
  let callRows = RECOURSE_DEFAULTS.poolCallRows;
  while (callRows > RECOURSE_DEFAULTS.callRows && !fits(callRows)) callRows /= 2;
  return Math.max(callRows, RECOURSE_DEFAULTS.callRows);
}

/** Whether a score is on the side a person wants (`favourable`), and its progress toward that side (`gain`: higher is better). */
export function decisionSides(options: Pick<RecourseOptions, 'adverse' | 'threshold'>): { favourable: (p: number) => boolean; gain: (p: number) => number } {
  const favourable = (p: number) => (options.adverse === 'negative' ? p >= options.threshold : p < options.threshold);
  const gain = (p: number) => (options.adverse === 'negative' ? p : -p);
  return { favourable, gain };
}

/**
 * The proxies of protected attributes the search leaves unchanged by default: those declared
 * for the flip test (robustness.proxies) and those the data profile flags at error level.
 */
export function recourseProxies(declared: Record<string, string> | undefined, profile: Pick<DataProfile, 'proxies'>): ProxyFlag[] {
  return [
    ...Object.entries(declared ?? {}).map(([attribute, column]): ProxyFlag => ({ column, attribute, source: 'declared' })),
    ...profile.proxies.filter((p) => p.flag === 'error').map((p): ProxyFlag => ({ column: p.feature, attribute: p.attribute, source: 'detected', measure: p.measure, value: p.value })),
  ];
}

/** The search's options: the config's recourse settings with their defaults, and what the audit knows (threshold, protected attributes, proxies, seed). */
export function recourseOptions(
  settings: RecourseSettings,
  audit: { threshold: number; adverseText?: string; protectedAttributes: string[]; proxies: ProxyFlag[]; confidence: number; seed: number; features?: string[]; signal?: AbortSignal; callRows?: number; runner?: RecourseRunner },
): RecourseOptions {
  return {
    threshold: audit.threshold,
    adverse: settings.adverse ?? 'negative',
    immutable: settings.immutable ?? [],
    protectedAttributes: audit.protectedAttributes,
    proxies: audit.proxies,
    actionable: settings.actionable,
    categoricalChanges: settings.categoricalChanges,
    monotone: settings.monotone ?? {},
    costs: settings.costs,
    maxRows: settings.maxRows ?? RECOURSE_DEFAULTS.maxRows,
    perRow: settings.perRow ?? RECOURSE_DEFAULTS.perRow,
    confidence: audit.confidence,
    seed: audit.seed,
    features: audit.features,
    signal: audit.signal,
    maxEvaluations: RECOURSE_DEFAULTS.evaluations,
    callRows: audit.callRows ?? RECOURSE_DEFAULTS.callRows,
    ...(audit.runner ? { runner: audit.runner } : {}),
    ...(audit.adverseText ? { adverseText: audit.adverseText } : {}),
    ...(settings.adverse === undefined ? { adverseDefault: true as const } : {}),
  };
}

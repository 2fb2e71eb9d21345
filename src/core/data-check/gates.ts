/**
 * The data checks' metrics as policy gates: the same policy files and decision as an
 * audit's (PASS / REVIEW / FAIL, waivers, terms), with the data-check metric ids.
 */
import { AuditConfigError, closeMatches, quote } from '../base/errors';
import { evaluatePolicy, parsePolicy, RELATIVE_COMPARISONS, type MetricLookup, type Policy, type PolicyDecision } from '../config/policy';
import type { DataCheckReport } from './check';

/** A gateable data-check metric. */
export interface DataCheckMetric {
  id: string;
  label: string;
  direction: 'higher_is_better' | 'lower_is_better' | 'neutral';
  definition: string;
}

/** Every metric a data policy can gate. */
export const DATA_CHECK_METRICS: readonly DataCheckMetric[] = [
  { id: 'n_rows', label: 'Rows', direction: 'higher_is_better', definition: 'Rows in the file.' },
  { id: 'n_columns', label: 'Columns', direction: 'neutral', definition: 'Columns in the file.' },
  { id: 'max_missing_share', label: 'Largest missing share', direction: 'lower_is_better', definition: 'Largest share of missing cells over the columns.' },
  { id: 'n_high_missing_columns', label: 'Columns often missing', direction: 'lower_is_better', definition: 'Columns whose missing share is at least the warning threshold (--missing-warn, default 5%).' },
  { id: 'duplicate_rows', label: 'Duplicate rows', direction: 'lower_is_better', definition: 'Rows equal in every cell to an earlier row.' },
  { id: 'duplicate_share', label: 'Duplicate share', direction: 'lower_is_better', definition: 'Duplicate rows over all rows.' },
  { id: 'minority_class_share', label: 'Minority class share', direction: 'higher_is_better', definition: 'Share of the rarer target class (needs --target).' },
  { id: 'min_group_size', label: 'Smallest protected group', direction: 'higher_is_better', definition: 'Rows in the smallest group of any protected attribute (missing values a group of their own).' },
  { id: 'max_base_rate_gap', label: 'Largest base-rate gap', direction: 'lower_is_better', definition: 'Largest max − min of the groups’ positive-outcome rates over the protected attributes (needs --target).' },
  { id: 'max_proxy_strength', label: 'Strongest proxy', direction: 'lower_is_better', definition: 'Largest association (Cramér’s V, η, |r|) of a column with a protected attribute.' },
  { id: 'pii_columns', label: 'Columns with personal data', direction: 'lower_is_better', definition: 'Columns that likely hold e-mail addresses, phone numbers, national ids, card numbers or names.' },
  { id: 'data_age_days', label: 'Data age (days)', direction: 'lower_is_better', definition: 'Days from the newest date (date column, or the declared data date) to the check.' },
  { id: 'n_drifted_columns', label: 'Drifted columns', direction: 'lower_is_better', definition: 'Columns whose KS or χ² test against the reference has p < α (needs --reference).' },
  { id: 'max_psi', label: 'Largest PSI', direction: 'lower_is_better', definition: 'Largest population stability index against the reference (needs --reference).' },
  { id: 'max_abs_skewness', label: 'Largest |skewness|', direction: 'lower_is_better', definition: 'Largest absolute adjusted skewness G1 over the numeric columns.' },
  { id: 'n_skewed_columns', label: 'Skewed columns', direction: 'lower_is_better', definition: 'Numeric columns whose |skewness| is at least the flag threshold (--skew-warn, default 2).' },
];

/** The data-check metrics that are shares (0 to 1); the data's age has no bounds, the rest are counts and statistics from 0 up. */
const SHARES = ['max_missing_share', 'duplicate_share', 'minority_class_share', 'max_base_rate_gap', 'max_proxy_strength'];

/** The values a data-check metric can take. */
function rangeOf(id: string): readonly [number, number] | undefined {
  if (id === 'data_age_days') return undefined;
  return SHARES.includes(id) ? [0, 1] : [0, Number.POSITIVE_INFINITY];
}

/** Why a metric has no value, by id (the check that did not run). */
const NEEDS: Record<string, string> = {
  minority_class_share: 'no target was given (--target)',
  max_base_rate_gap: 'no target was given (--target), or fewer than two groups',
  min_group_size: 'no protected attribute was given (--protected)',
  max_proxy_strength: 'no protected attribute was given (--protected)',
  data_age_days: 'no date column was found and no data date was declared (--date-column, --data-date)',
  n_drifted_columns: 'no reference was given (--reference)',
  max_psi: 'no reference was given (--reference)',
  max_abs_skewness: 'no numeric column',
  n_skewed_columns: 'no numeric column',
};

/** The data-check metrics measured per protected attribute: a gate may pin one (`attr`). */
const PER_ATTRIBUTE = ['min_group_size', 'max_base_rate_gap', 'max_proxy_strength'];

/** A per-attribute metric of one protected attribute (the report's groups and proxies). */
function attributeValue(report: DataCheckReport, id: string, attribute: string): { value: number | null; attribute: string; reason?: string } {
  const groups = report.groups[attribute];
  if (!groups) throw new AuditConfigError(`metric ${quote(id)}: the check has no protected attribute ${quote(attribute)} (attributes: ${Object.keys(report.groups).join(', ') || 'none'}; give it with --protected).`);
  const members = Object.values(groups);
  if (id === 'min_group_size') return { value: members.length ? Math.min(...members.map((g) => g.n)) : null, attribute };
  if (id === 'max_base_rate_gap') {
    const rates = members.flatMap((g) => (g.base_rate === null ? [] : [g.base_rate]));
    return rates.length >= 2 ? { value: Math.max(...rates) - Math.min(...rates), attribute } : { value: null, attribute, reason: report.settings.target ? `${attribute} has fewer than two groups with a base rate` : NEEDS.max_base_rate_gap };
  }
  const proxies = report.proxies.filter((p) => p.attribute === attribute);
  return proxies.length ? { value: Math.max(...proxies.map((p) => p.value)), attribute } : { value: null, attribute, reason: `no column was measured against ${attribute}` };
}

/** The data-check metrics as gates see them. */
export function dataCheckLookup(report: DataCheckReport | null): MetricLookup {
  const ids = DATA_CHECK_METRICS.map((m) => m.id);
  return {
    perAttribute: PER_ATTRIBUTE,
    range: rangeOf,
    check(id) {
      if (ids.includes(id)) return;
      const close = closeMatches(id, ids);
      throw new AuditConfigError(`unknown data-check metric: ${quote(id)}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}. Valid ids: ${ids.join(', ')}.`);
    },
    value(id, attribute) {
      if (attribute !== undefined && report) return attributeValue(report, id, attribute);
      const value = report?.metrics[id] ?? null;
      return value === null ? { value: null, reason: report?.not_computed?.[id] ?? NEEDS[id] ?? `${id} has no value` } : { value };
    },
  };
}

/** Reads a data policy: the policy format, with the data-check metric ids. */
export function parseDataPolicy(text: string, fileName: string): Policy {
  const policy = parsePolicy(text, fileName, dataCheckLookup(null));
  policy.gates.forEach((gate, i) => {
    if (RELATIVE_COMPARISONS.includes(gate.comparison)) {
      throw new AuditConfigError(`${fileName}: gates[${i}] (${quote(gate.name)}): ${gate.comparison} compares an audit with a baseline audit; a data check has none. Gate the data-check metric itself (less_equal, greater_equal, …).`);
    }
  });
  return policy;
}

/** The decision of a data policy on a data-check report (judged on the report's date). */
export function evaluateDataPolicy(policy: Policy, policySha256: string, report: DataCheckReport, options: { force?: boolean; strict?: boolean } = {}): PolicyDecision {
  // Reproducibility requirements (seed, strict mode, manifest, git commit) are an audit's: a
  // data check has no seed or manifest to judge, so they are left out and the decision says so.
  const { reproducibility, ...gatesOnly } = policy;
  const decision = evaluatePolicy(
    gatesOnly as Policy,
    policySha256,
    { performance: {}, calibration: {}, fairness: {} },
    { seedGiven: true, strict: options.strict ?? false, manifestWritten: true, gitCommit: null, today: report.settings.today, modelId: report.file, force: options.force ?? false },
    dataCheckLookup(report),
  );
  const required = Object.entries(reproducibility ?? {}).filter(([, on]) => on).map(([key]) => key);
  if (required.length) decision.notices.push(`The policy's reproducibility requirements (${required.join(', ')}) apply to audits and were not judged for this data check.`);
  return decision;
}

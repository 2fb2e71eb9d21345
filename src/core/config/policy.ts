import { AuditConfigError, closeMatches, ConfigError, quote } from '../base/errors';
import { METRIC_CATALOG, catalogMetric, metricValue, type MetricReading, type MetricSource } from '../metrics/catalog';
import type { BaselineComparison } from '../comparison/baseline';
import { checkPolicyTerms, findWaiver, modelMatches, policyTerms, termNotices, type PolicyTerms, type Waiver, type WaiverStatus } from './policy-terms';
import { check, type Spec } from './schema';
import { parseYaml } from './yaml';
import { checkInRange, checkNotPercent, RELATIVE_COMPARISONS } from './gate-ranges';

/**
 * How a gate compares the metric with its threshold. The relative ones compare the change
 * against a baseline result (`--baseline`): `max_drop` fails when the metric fell by more
 * than the threshold, `max_increase` when it rose by more (both in the metric's units).
 */
export const COMPARISONS = ['greater_than', 'greater_equal', 'less_than', 'less_equal', 'max_drop', 'max_increase'] as const;

/** The comparisons that read the change against a baseline. */
export { RELATIVE_COMPARISONS };

/** The policy schema (policy-as-code, as risk teams already write it). */
export const POLICY_SPEC: Spec = {
  type: 'object',
  description: 'Plumbline policy gates.',
  required: ['policy_name', 'gates'],
  properties: {
    policy_name: { type: 'string' },
    version: { type: 'oneOf', options: [{ type: 'string' }, { type: 'number' }] },
    effective_date: { type: 'string' },
    // An empty list applied the policy to no model: every decision NOT_APPLIED, exit 0.
    applies_to: { type: 'array', items: { type: 'string' }, minItems: 1 },
    citation: { type: 'string' },
    // The keys a review cycle is written with; only next_review is read (a misspelt next_review was accepted and dropped the overdue notice).
    review_cycle: {
      type: 'object',
      properties: {
        next_review: { type: 'oneOf', options: [{ type: 'string' }, { type: 'number' }], description: 'Date (YYYY-MM-DD) the policy is due for review: past it, every output carries a notice.' },
        frequency: { type: 'string', description: 'How often the policy is reviewed (recorded, not read).' },
        owner: { type: 'string', description: 'Who reviews it (recorded, not read).' },
      },
    },
    waivers: {
      type: 'array',
      description: 'Time-limited exceptions: a failing gate with a valid waiver is WAIVED and the decision REVIEW.',
      items: {
        type: 'object',
        required: ['gate', 'model', 'reason', 'approved_by', 'expires'],
        properties: {
          gate: { type: 'string', description: 'The gate name.' },
          model: { type: 'string', description: 'Glob over metadata.model_id (else the model file name).' },
          reason: { type: 'string' },
          approved_by: { type: 'string' },
          expires: { type: 'string', description: 'Last day the waiver holds, YYYY-MM-DD.' },
        },
      },
    },
    gates: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'metric', 'threshold', 'comparison', 'severity'],
        properties: {
          name: { type: 'string' },
          metric: { type: 'string', description: 'A metric id (plumbline list metrics).' },
          attr: { type: 'string', description: 'Pin a protected attribute; without it, the worst attribute counts.' },
          threshold: { type: 'number' },
          comparison: { type: 'string', enum: COMPARISONS },
          severity: { type: 'string', enum: ['error', 'warning'] },
          clause: { type: 'string' },
          rationale: { type: 'string' },
        },
      },
    },
    reproducibility: {
      type: 'object',
      properties: { seed_required: { type: 'boolean' }, strict_mode_required: { type: 'boolean' }, manifest_required: { type: 'boolean' }, git_commit_required: { type: 'boolean' } },
    },
  },
};

/** One gate of a policy. */
export interface Gate {
  name: string;
  metric: string;
  attr?: string;
  threshold: number;
  comparison: (typeof COMPARISONS)[number];
  severity: 'error' | 'warning';
  clause?: string;
  rationale?: string;
}

/** A validated policy. */
export interface Policy {
  policy_name: string;
  version?: string | number;
  gates: Gate[];
  reproducibility?: { seed_required?: boolean; strict_mode_required?: boolean; manifest_required?: boolean; git_commit_required?: boolean };
  effective_date?: string;
  applies_to?: string[];
  citation?: string;
  review_cycle?: Record<string, string | number>;
  waivers?: Waiver[];
  [key: string]: unknown;
}

/**
 * Where gates find their metrics when they are not an audit result's: the data checks'
 * metrics (`plumbline check-data`). `check` throws an error naming the valid ids.
 */
export interface MetricLookup {
  check(id: string): void;
  /** The ids measured per protected attribute (a gate may pin one with `attr`). */
  perAttribute: readonly string[];
  value(id: string, attribute?: string): { value: number | null; attribute?: string; reason?: string };
  /** The values a metric can take (lowest, highest), where it has bounds. */
  range(id: string): readonly [number, number] | undefined;
}

/** Reads a policy file: YAML, schema-checked, every metric id known (to the audit's catalog, or to `lookup`). */
export function parsePolicy(text: string, fileName: string, lookup?: MetricLookup): Policy {
  const policy = check<Policy>(parseYaml(text, fileName), POLICY_SPEC, fileName);
  checkPolicyTerms(policy, fileName);
  policy.gates.forEach((gate, i) => {
    if (RELATIVE_COMPARISONS.includes(gate.comparison) && gate.threshold < 0) {
      throw new ConfigError(`${fileName}: gates[${i}] (${quote(gate.name)}): a ${gate.comparison} threshold is the largest change allowed, in the metric's units, and cannot be negative (got ${gate.threshold}).`);
    }
    if (lookup || !METRIC_CATALOG.has(gate.metric)) {
      try {
        if (lookup) lookup.check(gate.metric);
        else catalogMetric(gate.metric);
      } catch (error) {
        throw new ConfigError(`${fileName}: gates[${i}] (${quote(gate.name)}): ${(error as Error).message}`);
      }
    }
    checkInRange(gate, i, fileName, lookup ? lookup.range(gate.metric) : catalogMetric(gate.metric).range);
    checkNotPercent(gate, i, fileName);
    // A drop of a lower-is-better metric is an improvement: such a gate fails a better model.
    const direction = lookup ? null : catalogMetric(gate.metric).direction;
    const backwards = (gate.comparison === 'max_drop' && direction === 'lower_is_better') || (gate.comparison === 'max_increase' && direction === 'higher_is_better');
    if (backwards) {
      const other = gate.comparison === 'max_drop' ? 'max_increase' : 'max_drop';
      throw new ConfigError(`${fileName}: gates[${i}] (${quote(gate.name)}): ${gate.comparison} on ${gate.metric}, where ${direction === 'lower_is_better' ? 'lower' : 'higher'} is better, bounds how much it may improve and fails a better model. Use ${other} to bound how much it may worsen.`);
    }
    // attr pins a protected attribute: only a metric measured per attribute has one to pin.
    if (gate.attr !== undefined) {
      const perAttribute = lookup ? lookup.perAttribute : [...METRIC_CATALOG.values()].filter((m) => m.section === 'fairness').map((m) => m.id);
      if (!perAttribute.includes(gate.metric)) {
        throw new ConfigError(
          `${fileName}: gates[${i}] (${quote(gate.name)}): attr ${quote(gate.attr)} pins a protected attribute, but ${gate.metric} is not measured per attribute (${lookup ? 'the data-check metrics that are' : 'the fairness metrics are'}: ${perAttribute.slice(0, 8).join(', ')}${perAttribute.length > 8 ? ', …' : ''}). Remove attr, or gate a metric measured per attribute.`,
        );
      }
    }
    // Waivers and the decision name gates by name: two gates of one name would share a waiver.
    const first = policy.gates.findIndex((other) => other.name === gate.name);
    if (first < i) throw new ConfigError(`${fileName}: gates[${i}] is named ${quote(gate.name)}, as gates[${first}] is: waivers and the decision name gates by name. Give each gate a name of its own.`);
  });
  return policy;
}

/** What a gate that fails through small groups ({@link GateResult.small_groups}) says. */
function smallGroupNotice(g: GateResult, minGroupSize: number | undefined): string {
  const { groups, value_without: without } = g.small_groups!;
  const named = groups.map((s) => `${s.name} (${s.n} row${s.n === 1 ? '' : 's'})`).join(', ');
  const under = minGroupSize === undefined ? 'under fairness.min_group_size' : `of fewer than ${minGroupSize} rows (fairness.min_group_size)`;
  const others = without === null ? 'the other groups do not have it in two groups' : `over the other groups it is ${Number(without.toPrecision(4))}`;
  return `Gate ${quote(g.name)} (${g.metric} ${Number(g.value!.toPrecision(4))} on ${g.attribute}) turns on groups ${under}${named ? `: ${g.attribute} = ${named}` : ''}, whose rates are too uncertain to judge on their own; ${others}.`;
}

/** Outcome of one gate. */
export type GateOutcome = 'PASS' | 'FAIL' | 'WARN' | 'WAIVED' | 'NOT_EVALUATED';

/** One gate's evaluation, as written to policy_decision.json. */
export interface GateResult {
  name: string;
  metric: string;
  attribute: string | null;
  value: number | null;
  threshold: number;
  comparison: Gate['comparison'];
  severity: Gate['severity'];
  outcome: GateOutcome;
  clause: string | null;
  rationale: string | null;
  /** Why a gate was not evaluated. */
  reason?: string;
  /** A relative gate: the metric in the baseline and in this audit (`value` is the change). */
  baseline_value?: number | null;
  current_value?: number | null;
  /** The waiver that turned a failure into WAIVED. */
  waiver?: { reason: string; approved_by: string; expires: string };
  /** A waiver for this gate and model that expired, and so did nothing. */
  waiver_expired?: string;
  /** A disparity that turns on groups under fairness.min_group_size: those groups, and the value over the others (null: fewer than two have the rate). */
  small_groups?: { groups: { name: string; n: number }[]; value_without: number | null };
}

/** The policy decision. */
export interface PolicyDecision {
  policy_name: string;
  policy_version: string | null;
  policy_sha256: string;
  /**
   * FAIL: an error gate failed (or a reproducibility requirement is unmet); REVIEW: a
   * warning gate failed or a waiver is in use; NOT_APPLIED: the policy is not yet in effect
   * or does not apply to the model (and was not forced); else PASS.
   */
  decision: 'PASS' | 'REVIEW' | 'FAIL' | 'NOT_APPLIED';
  gates: GateResult[];
  reproducibility: { requirement: string; met: boolean; detail: string }[];
  /** The policy's terms (effective date, scope, citation, next review) as applied. */
  terms: PolicyTerms;
  /** Every waiver of the policy and what it did. */
  waivers: WaiverStatus[];
  /** What every output prints with the decision: terms not met, review overdue, waivers used or expired. */
  notices: string[];
}

/** Whether a value meets a gate's threshold (a relative gate's value is the change; an allowance met to 12 significant digits is met). */
export function compare(value: number, threshold: number, comparison: Gate['comparison']): boolean {
  switch (comparison) {
    case 'greater_than':
      return value > threshold;
    case 'greater_equal':
      return value >= threshold;
    case 'less_than':
      return value < threshold;
    case 'less_equal':
      return value <= threshold;
    // A change is a difference of two rounded numbers (0.80 − 0.81 = −0.010000000000000009):
    // an allowance met to 12 significant digits is met.
    case 'max_drop':
      return -value <= threshold + 1e-12 * Math.max(1, Math.abs(threshold));
    case 'max_increase':
      return value <= threshold + 1e-12 * Math.max(1, Math.abs(threshold));
  }
}

/** What the run did about reproducibility, for the policy's requirements. */
export interface RunFacts {
  seedGiven: boolean;
  strict: boolean;
  manifestWritten: boolean;
  gitCommit: string | null;
  /** The audit's date (YYYY-MM-DD): effective dates, reviews and waiver expiries are judged on it. */
  today: string;
  /** The audited model's id (metadata.model_id, else the model file's name); null when unknown. */
  modelId: string | null;
  /** Apply the policy although it is not in effect or not for this model. */
  force?: boolean;
}

/** The change of a metric against the baseline, worst across attributes unless one is pinned. */
function relativeValue(comparison: BaselineComparison | undefined, gate: Gate): { value: number | null; attribute?: string; baseline?: number | null; current?: number | null; reason?: string } {
  if (!comparison) return { value: null, reason: `a relative gate (${gate.comparison}) needs a baseline result: audit with --baseline RESULT` };
  if (comparison.different_outcome) return { value: null, reason: comparison.different_outcome };
  const matching = comparison.metrics.filter((m) => m.id === gate.metric && (gate.attr === undefined || m.attribute === gate.attr));
  const name = (m: { id: string; attribute: string | null }) => `${m.id}${m.attribute ? `[${m.attribute}]` : ''}`;
  // A side without the value (a challenger audited without an attribute the baseline has): the worst change is not known.
  const oneSided = matching.find((m) => (m.baseline === null) !== (m.current === null));
  const changes = matching.filter((m) => m.change !== null);
  const worst = changes.length ? changes.reduce((a, b) => (gate.comparison === 'max_drop' ? (b.change! < a.change! ? b : a) : b.change! > a.change! ? b : a)) : null;
  const found = worst && { value: worst.change, ...(worst.attribute !== null ? { attribute: worst.attribute } : {}), baseline: worst.baseline, current: worst.current };
  // A change already past the allowance fails whatever the missing side holds.
  if (found && (!oneSided || !compare(found.value!, gate.threshold, gate.comparison))) return found;
  if (oneSided) {
    const [has, lacks] = oneSided.baseline !== null ? ['the baseline', 'this audit'] : ['this audit', 'the baseline'];
    return { value: null, reason: `${name(oneSided)} has a value in ${has} and none in ${lacks}, so ${gate.attr === undefined && oneSided.attribute ? 'the worst change across the attributes' : 'its change'} is not known: audit both with the same protected attributes and sections${gate.attr === undefined && oneSided.attribute ? ', or pin the gate to one (attr)' : ''}` };
  }
  return { value: null, reason: `${gate.metric}${gate.attr ? `[${gate.attr}]` : ''} has no value in this audit or in the baseline` };
}

/**
 * Evaluates every gate against a result. A metric that was not computed makes the gate
 * NOT_EVALUATED (with the reason); in strict mode an unevaluated error gate fails. A
 * relative gate reads the change against the baseline (`result.comparison`). A failing
 * gate with a waiver valid on the audit's date for this model is WAIVED; an expired one
 * does nothing and says so. Decision: FAIL if an unwaived error gate failed (or a required
 * reproducibility condition is unmet), else REVIEW if a warning gate failed, a waiver is in
 * use or an error gate could not be evaluated, else PASS — and NOT_APPLIED when the policy is not in effect or not for this
 * model (unless forced).
 */
export function evaluatePolicy(policy: Policy, policySha256: string, result: MetricSource & { missing_sections?: Record<string, string>; comparison?: BaselineComparison }, facts: RunFacts, lookup?: MetricLookup): PolicyDecision {
  const waivers = policy.waivers ?? [];
  const used = new Set<Waiver>();
  // A gate pinned to an attribute the audit does not have is a typo, not an unevaluated gate (it made the decision REVIEW).
  const attributes = Object.keys(result.fairness ?? {});
  for (const gate of policy.gates) {
    if (gate.attr === undefined || lookup || attributes.includes(gate.attr) || catalogMetric(gate.metric).section !== 'fairness') continue;
    const close = closeMatches(gate.attr, attributes);
    throw new AuditConfigError(`policy ${quote(policy.policy_name)}, gate ${quote(gate.name)}: attr ${quote(gate.attr)} is not a protected attribute of this audit (${attributes.length ? `attributes: ${attributes.join(', ')}` : 'it has none'})${close.length ? `; did you mean ${close.join(', ')}?` : ''} Name one of them, or leave attr out to gate the worst attribute.`);
  }
  const gates: GateResult[] = policy.gates.map((gate) => {
    const base = { name: gate.name, metric: gate.metric, threshold: gate.threshold, comparison: gate.comparison, severity: gate.severity, clause: gate.clause ?? null, rationale: gate.rationale ?? null };
    const section = lookup ? null : catalogMetric(gate.metric).section;
    const relative = RELATIVE_COMPARISONS.includes(gate.comparison);
    let value: MetricReading & { baseline?: number | null; current?: number | null };
    try {
      value = relative ? relativeValue(result.comparison, gate) : lookup ? lookup.value(gate.metric, gate.attr) : metricValue(result, gate.metric, gate.attr);
    } catch (error) {
      return { ...base, attribute: gate.attr ?? null, value: null, outcome: 'NOT_EVALUATED', reason: (error as Error).message };
    }
    const extra = relative && value.baseline !== undefined ? { baseline_value: value.baseline, current_value: value.current ?? null } : {};
    if (value.value === null) {
      const reason = (relative || section === null ? value.reason : result.missing_sections?.[section]) ?? value.reason ?? `${gate.metric} has no value in this audit`;
      const outcome: GateOutcome = facts.strict && gate.severity === 'error' ? 'FAIL' : 'NOT_EVALUATED';
      return { ...base, attribute: value.attribute ?? gate.attr ?? null, value: null, outcome, reason: facts.strict && outcome === 'FAIL' ? `${reason} (strict mode: an unevaluated error gate fails)` : reason };
    }
    const passed = compare(value.value, gate.threshold, gate.comparison);
    const outcome: GateOutcome = passed ? 'PASS' : gate.severity === 'error' ? 'FAIL' : 'WARN';
    // A disparity that fails only through groups too small to judge says so (a pass is a pass over every group).
    // Only where the other groups alone pass it (or cannot be compared): a gate the large groups fail too turns on them.
    const turnsOnSmall = !passed && value.small && (value.small.without === null || compare(value.small.without, gate.threshold, gate.comparison));
    const small = turnsOnSmall ? { small_groups: { groups: value.small!.groups, value_without: value.small!.without } } : {};
    const gateResult: GateResult = { ...base, attribute: value.attribute ?? null, value: value.value, ...extra, outcome, ...small };
    if (outcome === 'PASS') return gateResult;
    const { valid, expired } = findWaiver(waivers, gate.name, facts.modelId, facts.today);
    if (valid) {
      used.add(valid);
      return { ...gateResult, outcome: 'WAIVED', waiver: { reason: valid.reason, approved_by: valid.approved_by, expires: valid.expires } };
    }
    if (expired.length) return { ...gateResult, waiver_expired: `waiver approved by ${expired[0].approved_by} expired on ${expired[0].expires}` };
    return gateResult;
  });
  const requirements = policy.reproducibility ?? {};
  const reproducibility = [
    requirements.seed_required ? { requirement: 'seed_required', met: facts.seedGiven, detail: facts.seedGiven ? 'an explicit random seed was given' : 'no explicit random seed (random_seed / --seed)' } : null,
    requirements.strict_mode_required ? { requirement: 'strict_mode_required', met: facts.strict, detail: facts.strict ? 'run with --strict' : 'not run with --strict' } : null,
    requirements.manifest_required ? { requirement: 'manifest_required', met: facts.manifestWritten, detail: facts.manifestWritten ? 'manifest written' : 'no manifest written' } : null,
    requirements.git_commit_required ? { requirement: 'git_commit_required', met: facts.gitCommit !== null, detail: facts.gitCommit ? `git commit ${facts.gitCommit}` : 'no git commit recorded (set GIT_COMMIT or run inside a git checkout)' } : null,
  ].filter((r): r is { requirement: string; met: boolean; detail: string } => r !== null);
  const terms = policyTerms(policy, facts.today, facts.modelId, facts.force ?? false);
  const applied = (terms.in_effect && terms.applies) || terms.forced;
  const failed = gates.some((g) => g.outcome === 'FAIL') || reproducibility.some((r) => !r.met);
  // An error gate that could not be evaluated (no labels, a section that did not run) is not a pass: a person looks.
  const review = gates.some((g) => g.outcome === 'WARN' || g.outcome === 'WAIVED' || (g.outcome === 'NOT_EVALUATED' && g.severity === 'error'));
  const waiverStatus: WaiverStatus[] = waivers.map((w) => {
    const forModel = facts.modelId !== null && modelMatches(w.model, facts.modelId);
    const status: WaiverStatus['status'] = used.has(w) ? 'in_use' : !forModel ? 'other_model' : w.expires < facts.today ? 'expired' : 'not_needed';
    return { ...w, status };
  });
  const notices = [
    ...termNotices(policy.policy_name, terms, facts.today),
    ...gates.filter((g) => g.waiver).map((g) => `Gate ${quote(g.name)} failed and is waived: ${g.waiver!.reason} (approved by ${g.waiver!.approved_by}, expires ${g.waiver!.expires}).`),
    ...gates.filter((g) => g.waiver_expired).map((g) => `Gate ${quote(g.name)} failed; its ${g.waiver_expired}, so it no longer applies.`),
    ...gates.filter((g) => g.small_groups).map((g) => smallGroupNotice(g, (result as { settings?: { min_group_size?: number } }).settings?.min_group_size)),
    // The one gateable metric whose unit changes with the task: said where a reader would take it for a binary audit's.
    ...(result.task === 'regression' ? gates.filter((g) => g.metric === 'max_shift_degradation' && g.value !== null).map((g) => `Gate ${quote(g.name)}: max_shift_degradation of a regression is the relative rise of its MAE or RMSE under the demographic shift (${g.value! >= 0 ? `${Number((g.value! * 100).toPrecision(3))}% worse` : 'no rise'}), not a drop of a share as in a binary audit.`) : []),
    // Every output shows the notices: a FAIL whose gates all passed said nothing of why.
    ...(applied ? reproducibility.filter((r) => !r.met).map((r) => `Reproducibility requirement ${r.requirement} of the policy is not met: ${r.detail}. The decision is FAIL whatever the gates.`) : []),
  ];
  return {
    policy_name: policy.policy_name,
    policy_version: policy.version === undefined ? null : String(policy.version),
    policy_sha256: policySha256,
    decision: !applied ? 'NOT_APPLIED' : failed ? 'FAIL' : review ? 'REVIEW' : 'PASS',
    gates,
    reproducibility,
    terms,
    waivers: waiverStatus,
    notices,
  };
}

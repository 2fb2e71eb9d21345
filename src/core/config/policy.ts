import { ConfigError, quote } from '../errors';
import { METRIC_CATALOG, catalogMetric, metricValue, type MetricSource } from '../metrics/catalog';
import { check, type Spec } from './schema';
import { parseYaml } from './yaml';

/** How a gate compares the metric with its threshold. */
export const COMPARISONS = ['greater_than', 'greater_equal', 'less_than', 'less_equal'] as const;

/** The policy schema (policy-as-code, as risk teams already write it). */
export const POLICY_SPEC: Spec = {
  type: 'object',
  description: 'Plumbline policy gates.',
  required: ['policy_name', 'gates'],
  properties: {
    policy_name: { type: 'string' },
    version: { type: 'oneOf', options: [{ type: 'string' }, { type: 'number' }] },
    effective_date: { type: 'string' },
    applies_to: { type: 'array', items: { type: 'string' } },
    citation: { type: 'string' },
    review_cycle: { type: 'object', properties: {}, values: { type: 'oneOf', options: [{ type: 'string' }, { type: 'number' }] } },
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
  [key: string]: unknown;
}

/** Reads a policy file: YAML, schema-checked, every metric id known. */
export function parsePolicy(text: string, fileName: string): Policy {
  const policy = check<Policy>(parseYaml(text, fileName), POLICY_SPEC, fileName);
  policy.gates.forEach((gate, i) => {
    if (!METRIC_CATALOG.has(gate.metric)) {
      try {
        catalogMetric(gate.metric);
      } catch (error) {
        throw new ConfigError(`${fileName}: gates[${i}] (${quote(gate.name)}): ${(error as Error).message}`);
      }
    }
  });
  return policy;
}

/** Outcome of one gate. */
export type GateOutcome = 'PASS' | 'FAIL' | 'WARN' | 'NOT_EVALUATED';

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
}

/** The policy decision. */
export interface PolicyDecision {
  policy_name: string;
  policy_version: string | null;
  policy_sha256: string;
  decision: 'PASS' | 'WARN' | 'FAIL';
  gates: GateResult[];
  reproducibility: { requirement: string; met: boolean; detail: string }[];
}

function compare(value: number, threshold: number, comparison: Gate['comparison']): boolean {
  switch (comparison) {
    case 'greater_than':
      return value > threshold;
    case 'greater_equal':
      return value >= threshold;
    case 'less_than':
      return value < threshold;
    case 'less_equal':
      return value <= threshold;
  }
}

/** What the run did about reproducibility, for the policy's requirements. */
export interface RunFacts {
  seedGiven: boolean;
  strict: boolean;
  manifestWritten: boolean;
  gitCommit: string | null;
}

/**
 * Evaluates every gate against a result. A metric that was not computed makes the gate
 * NOT_EVALUATED (with the reason); in strict mode an unevaluated error gate fails.
 * Decision: FAIL if an error gate failed (or a required reproducibility condition is
 * unmet), else WARN if a warning gate failed, else PASS.
 */
export function evaluatePolicy(policy: Policy, policySha256: string, result: MetricSource & { missing_sections?: Record<string, string> }, facts: RunFacts): PolicyDecision {
  const gates: GateResult[] = policy.gates.map((gate) => {
    const base = { name: gate.name, metric: gate.metric, threshold: gate.threshold, comparison: gate.comparison, severity: gate.severity, clause: gate.clause ?? null, rationale: gate.rationale ?? null };
    const metric = catalogMetric(gate.metric);
    let value: { value: number | null; attribute?: string; reason?: string };
    try {
      value = metricValue(result, gate.metric, gate.attr);
    } catch (error) {
      return { ...base, attribute: gate.attr ?? null, value: null, outcome: 'NOT_EVALUATED', reason: (error as Error).message };
    }
    if (value.value === null) {
      const reason = result.missing_sections?.[metric.section] ?? value.reason ?? `${gate.metric} has no value in this audit`;
      const outcome: GateOutcome = facts.strict && gate.severity === 'error' ? 'FAIL' : 'NOT_EVALUATED';
      return { ...base, attribute: value.attribute ?? gate.attr ?? null, value: null, outcome, reason: facts.strict && outcome === 'FAIL' ? `${reason} (strict mode: an unevaluated error gate fails)` : reason };
    }
    const passed = compare(value.value, gate.threshold, gate.comparison);
    return { ...base, attribute: value.attribute ?? null, value: value.value, outcome: passed ? 'PASS' : gate.severity === 'error' ? 'FAIL' : 'WARN' };
  });
  const requirements = policy.reproducibility ?? {};
  const reproducibility = [
    requirements.seed_required ? { requirement: 'seed_required', met: facts.seedGiven, detail: facts.seedGiven ? 'an explicit random seed was given' : 'no explicit random seed (random_seed / --seed)' } : null,
    requirements.strict_mode_required ? { requirement: 'strict_mode_required', met: facts.strict, detail: facts.strict ? 'run with --strict' : 'not run with --strict' } : null,
    requirements.manifest_required ? { requirement: 'manifest_required', met: facts.manifestWritten, detail: facts.manifestWritten ? 'manifest written' : 'no manifest written' } : null,
    requirements.git_commit_required ? { requirement: 'git_commit_required', met: facts.gitCommit !== null, detail: facts.gitCommit ? `git commit ${facts.gitCommit}` : 'no git commit recorded (set GIT_COMMIT or run inside a git checkout)' } : null,
  ].filter((r): r is { requirement: string; met: boolean; detail: string } => r !== null);
  const failed = gates.some((g) => g.outcome === 'FAIL') || reproducibility.some((r) => !r.met);
  const warned = gates.some((g) => g.outcome === 'WARN');
  return {
    policy_name: policy.policy_name,
    policy_version: policy.version === undefined ? null : String(policy.version),
    policy_sha256: policySha256,
    decision: failed ? 'FAIL' : warned ? 'WARN' : 'PASS',
    gates,
    reproducibility,
  };
}

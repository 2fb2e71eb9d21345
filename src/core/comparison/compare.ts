/**
 * What changed between two audit results: inputs, every gate-able metric, and each gate's
 * outcome. The CLI's `diff` prints it; the app's Compare tab shows it.
 */
import type { PolicyDecision } from '../config/policy';
import { METRIC_CATALOG } from '../metrics/catalog';

/** The parts of a result a comparison reads (results of older versions may lack some). */
export interface ComparableResult {
  inputs?: { model?: { file?: string; sha256?: string; column?: string }; data?: { file?: string; sha256?: string; rows?: number } };
  performance?: object;
  calibration?: object;
  fairness?: Record<string, object>;
  policy_decision?: PolicyDecision;
}

/** One difference between two results. */
export interface ResultComparison {
  inputs: { input: 'model' | 'data'; before: string | null; after: string | null }[];
  /** Every gate-able metric present in either result (`id` or `id[attribute]`), changed or not. */
  metrics: { id: string; before: number | null; after: number | null; delta: number | null; changed: boolean }[];
  gates: { name: string; before: string | null; after: string | null; changed: boolean }[];
  decision: { before: string; after: string } | null;
  /** Whether any gate's outcome differs (the CLI exits 1 then). */
  gateChanged: boolean;
}

/** Every gate-able metric value of a result, as `id` or `id[attribute]`. */
export function flatMetrics(result: ComparableResult): Map<string, number | null> {
  const values = new Map<string, number | null>();
  for (const metric of METRIC_CATALOG.values()) {
    if (metric.section === 'performance' || metric.section === 'calibration') {
      const value = (result[metric.section] as Record<string, unknown> | undefined)?.[metric.id];
      if (value !== undefined) values.set(metric.id, typeof value === 'number' ? value : null);
    } else if (metric.section === 'fairness') {
      for (const [attribute, fairness] of Object.entries(result.fairness ?? {})) {
        const value = (fairness as Record<string, unknown>)[metric.id];
        if (value !== undefined) values.set(`${metric.id}[${attribute}]`, typeof value === 'number' ? value : null);
      }
    }
  }
  return values;
}

/** Compares result `a` (before) with `b` (after); decisions default to the ones the results carry. */
export function compareResults(a: ComparableResult, b: ComparableResult, decisions: { a?: PolicyDecision; b?: PolicyDecision } = {}): ResultComparison {
  const inputs: ResultComparison['inputs'] = [];
  for (const input of ['model', 'data'] as const) {
    if (a.inputs?.[input]?.sha256 !== b.inputs?.[input]?.sha256) inputs.push({ input, before: a.inputs?.[input]?.file ?? null, after: b.inputs?.[input]?.file ?? null });
  }
  const before = flatMetrics(a);
  const after = flatMetrics(b);
  const metrics = [...new Set([...before.keys(), ...after.keys()])].map((id) => {
    const x = before.get(id) ?? null;
    const y = after.get(id) ?? null;
    return { id, before: x, after: y, delta: x !== null && y !== null ? y - x : null, changed: x !== y };
  });
  const decisionA = decisions.a ?? a.policy_decision;
  const decisionB = decisions.b ?? b.policy_decision;
  const gates: ResultComparison['gates'] = [];
  if (decisionA || decisionB) {
    const outcomesA = new Map((decisionA?.gates ?? []).map((g) => [g.name, g.outcome]));
    const outcomesB = new Map((decisionB?.gates ?? []).map((g) => [g.name, g.outcome]));
    for (const name of new Set([...outcomesA.keys(), ...outcomesB.keys()])) {
      const x = outcomesA.get(name) ?? null;
      const y = outcomesB.get(name) ?? null;
      gates.push({ name, before: x, after: y, changed: x !== y });
    }
  }
  // A gate only one side evaluated is a change only when both sides had a policy.
  const gateChanged = Boolean(decisionA && decisionB) && gates.some((g) => g.changed);
  return { inputs, metrics, gates, decision: decisionA && decisionB ? { before: decisionA.decision, after: decisionB.decision } : null, gateChanged };
}

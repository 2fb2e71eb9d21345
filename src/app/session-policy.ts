/**
 * Policies in the app: the decision of the shown result (the outputs bundle's, a dropped
 * policy's, or the one stored in the result), reading a dropped policy (of the audit's or of
 * data-check metrics) and what the data check is run and dated with.
 */
import { auditedModelId, dateOf, evaluatePolicy, parseDataPolicy, parsePolicy, sha256Hex, type AnyAuditResult, type DataCheckOptions, type Policy, type PolicyDecision } from '../core';
import type { AuditSession } from './audit-session.svelte';
import { epochSeconds } from './page-params';

/** The policy decision of the shown result: the loaded policy's, else the one stored in the result. */
export function shownDecision(session: Pick<AuditSession, 'result' | 'outputs' | 'policy' | 'config' | 'forcePolicy'>): PolicyDecision | null {
  if (!session.result) return null;
  // An audit run here: the decision the outputs bundle made (the CLI's, for the same files).
  if (session.outputs) return session.outputs.decision;
  // A result opened from a file or the registry, gated by a policy dropped here: whether
  // its seed was explicit is not known from the result, so that requirement is unmet.
  // Dates (effective date, review, waiver expiry) are judged on the page's date (?source_date_epoch=, as the CLI's
  // SOURCE_DATE_EPOCH); the model id is the one the result was gated under, else the config's, else the model file's.
  if (session.policy) {
    const stored = (session.result as AnyAuditResult & { policy_decision?: PolicyDecision }).policy_decision?.terms?.model_id;
    return evaluatePolicy(session.policy.policy, session.policy.sha256, session.result, { seedGiven: false, strict: false, manifestWritten: true, gitCommit: null, today: dateOf(epochSeconds()), modelId: stored ?? auditedModelId(session.result, session.config?.metadata), force: session.forcePolicy });
  }
  return (session.result as AnyAuditResult & { policy_decision?: PolicyDecision }).policy_decision ?? null;
}

/** The data check's options from the set-up: its target, positive label and protected attributes, dated today, with its flags. */
export function dataCheckOptionsOf(session: Pick<AuditSession, 'target' | 'positiveLabel' | 'protectedAttributes' | 'dataCheckFlags'>): Omit<DataCheckOptions, 'reference'> {
  return {
    ...(session.target ? { target: session.target } : {}),
    ...(session.positiveLabel.trim() ? { positiveLabel: session.positiveLabel.trim() } : {}),
    protectedAttributes: [...session.protectedAttributes],
    today: dateOf(epochSeconds()),
    ...session.dataCheckFlags,
  };
}

/**
 * A policy's text, checked (a bad one throws a ConfigError naming line and column): a policy
 * of the audit's metrics, else one whose gates are data-check metrics.
 */
export function readPolicy(name: string, text: string): { kind: 'audit'; policy: { name: string; sha256: string; policy: Policy; text: string } } | { kind: 'data'; policy: { name: string; sha256: string; policy: Policy } } {
  const sha256 = sha256Hex(new TextEncoder().encode(text));
  try {
    return { kind: 'audit', policy: { name, sha256, policy: parsePolicy(text, name), text } };
  } catch (error) {
    let data: Policy;
    try {
      data = parseDataPolicy(text, name);
    } catch {
      throw error;
    }
    return { kind: 'data', policy: { name, sha256, policy: data } };
  }
}

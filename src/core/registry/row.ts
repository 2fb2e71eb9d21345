/**
 * An entry as the registry's views list it (without its stored result and files): the row
 * type, the status its decision shows as, and reading a row back from the list query's
 * columns (JSON columns a file edited outside Plumbline no longer holds read as empty).
 */
import type { SqlValue } from './sql';

/** A gate that did not pass, as kept in an entry (WAIVED: it failed under a waiver). */
export interface FailedGate {
  name: string;
  /** NOT_EVALUATED: an error gate the audit could not evaluate (why the decision is REVIEW), with its reason. */
  outcome: 'FAIL' | 'WARN' | 'WAIVED' | 'NOT_EVALUATED';
  metric: string;
  attribute: string | null;
  value: number | null;
  threshold: number;
  /** How the value meets the threshold (less_equal, greater_equal, …); absent in entries appended before it was kept. */
  comparison?: string;
  /** Why a NOT_EVALUATED gate has no value. */
  reason?: string;
  /** The waiver of a WAIVED gate: who approved it and until when. */
  waiver?: { approved_by: string; expires: string; reason: string };
}

/**
 * An entry's status as the registry's views show it: BLOCKED (the decision was FAIL),
 * REVIEW (a warning gate failed or a waiver is in use; older entries wrote WARN), PASS, or
 * NONE (no policy applied).
 */
export function auditStatus(decision: RegistryRow['decision']): 'PASS' | 'REVIEW' | 'BLOCKED' | 'NONE' {
  if (decision === 'FAIL') return 'BLOCKED';
  if (decision === 'REVIEW' || decision === 'WARN') return 'REVIEW';
  return decision === 'PASS' ? 'PASS' : 'NONE';
}

/** One entry as listed (without the stored result and files). */
export interface RegistryRow {
  seq: number;
  created: string;
  model_id: string;
  model_version: string | null;
  team: string | null;
  owner: string | null;
  /** The policy decision as stored (WARN: REVIEW as versions before waivers wrote it); null without a policy. */
  decision: 'PASS' | 'REVIEW' | 'WARN' | 'FAIL' | 'NOT_APPLIED' | null;
  failed_gates: FailedGate[];
  metrics: Record<string, number | null>;
  data_sha256: string;
  model_sha256: string | null;
  result_sha256: string;
  entry_hash: string;
  blobs: string[];
}

/**
 * A JSON column read back, or the fallback when it is not what was written (a file edited
 * outside Plumbline): the list still shows the entry, and verify reports it as altered.
 */
export function jsonColumn<T>(value: SqlValue, fallback: T, isValid: (parsed: unknown) => boolean): T {
  try {
    const parsed: unknown = JSON.parse(String(value));
    return isValid(parsed) ? (parsed as T) : fallback;
  } catch {
    return fallback;
  }
}
/** Whether a parsed JSON value is an object (not an array, not null). */
export const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A listed row from the values of the list query's columns (`seq` … `entry_hash`, kept file names joined by newlines). */
export function registryRow(values: SqlValue[]): RegistryRow {
  const [seq, created, model_id, model_version, team, owner, decision, failed, metrics, data_sha256, model_sha256, result_sha256, entry_hash, blobs] = values;
  return {
    seq: Number(seq),
    created: String(created),
    model_id: String(model_id),
    model_version: model_version === null ? null : String(model_version),
    team: team === null ? null : String(team),
    owner: owner === null ? null : String(owner),
    decision: decision === null ? null : (String(decision) as RegistryRow['decision']),
    failed_gates: jsonColumn<FailedGate[]>(failed, [], (v) => Array.isArray(v) && v.every(isObject)),
    metrics: jsonColumn<Record<string, number | null>>(metrics, {}, isObject),
    data_sha256: String(data_sha256),
    model_sha256: model_sha256 === null ? null : String(model_sha256),
    result_sha256: String(result_sha256),
    entry_hash: String(entry_hash),
    blobs: blobs ? String(blobs).split('\n') : [],
  };
}

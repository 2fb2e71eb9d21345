/**
 * Reading a registry: its entries listed in append order (filtered by model, time, failed
 * gates), the full result stored with an entry, and the files kept with it.
 */
import { gunzipSync } from 'fflate';
import type { AuditResult } from '../audit';
import type { PolicyDecision } from '../config/policy';
import { RegistryError, quote } from '../base/errors';
import { registryRow, type RegistryRow } from './row';
import { scalar, type SqlDatabase, type SqlValue } from './sql';

/** Which entries to list. */
export interface RegistryFilter {
  model?: string;
  /** ISO date or date-time: entries created at or after it. */
  since?: string;
  /** ISO date or date-time: entries created before it. */
  until?: string;
  /** Only entries that failed, or with a failed, warned or waived gate ({@link hasFailedGates}). */
  failedGates?: boolean;
}

/** Whether an entry failed or has a failed, warned or waived gate (`--failed-gates`): a gate not evaluated is no failure. Read from the parsed gates, not the stored JSON's text. */
export function hasFailedGates(row: Pick<RegistryRow, 'decision' | 'failed_gates'>): boolean {
  return row.decision === 'FAIL' || row.failed_gates.some((g) => g.outcome === 'FAIL' || g.outcome === 'WARN' || g.outcome === 'WAIVED');
}

/** Checks a `--since`-style date and returns it as an ISO string. */
export function parseRegistryDate(text: string, option: string): string {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
  const date = new Date(dateOnly ? `${text}T00:00:00Z` : text);
  const valid = (dateOnly || dateTime) && !Number.isNaN(date.getTime()) && (!dateOnly || date.toISOString().startsWith(text));
  if (!valid) throw new RegistryError(`${option} ${quote(text)} is not a date: use YYYY-MM-DD or an ISO date-time with a zone (e.g. 2026-11-01 or 2026-11-01T09:30:00Z).`);
  return date.toISOString();
}

const LIST_COLUMNS = "seq, created, model_id, model_version, team, owner, decision, failed_gates, metrics, data_sha256, model_sha256, result_sha256, entry_hash, (SELECT group_concat(name, char(10)) FROM (SELECT name FROM blobs WHERE blobs.seq = entries.seq ORDER BY name))";

/** Entries in append order, filtered. */
export function listEntries(db: SqlDatabase, filter: RegistryFilter = {}): RegistryRow[] {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.model !== undefined) {
    where.push('model_id = ?');
    params.push(filter.model);
  }
  // `created` is an ISO string in UTC, so string order is time order.
  if (filter.since !== undefined) {
    where.push('created >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    where.push('created < ?');
    params.push(filter.until);
  }
  const statement = db.prepare(`SELECT ${LIST_COLUMNS} FROM entries${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`);
  try {
    statement.bind(params);
    const rows: RegistryRow[] = [];
    while (statement.step()) rows.push(registryRow(statement.get()));
    return filter.failedGates ? rows.filter(hasFailedGates) : rows;
  } finally {
    statement.free();
  }
}

/** The full result JSON kept with an entry. */
export function entryResult(db: SqlDatabase, fileName: string, seq: number): AuditResult & { policy_decision?: PolicyDecision } {
  const gz = scalar(db, 'SELECT result_gz FROM results WHERE seq = ?', [seq]);
  if (!(gz instanceof Uint8Array)) throw new RegistryError(`${fileName} has no entry ${seq} (see plumbline registry list ${fileName}).`);
  return JSON.parse(new TextDecoder().decode(gunzipSync(gz)));
}

/** A file kept with an entry (report, evidence pack). */
export function entryBlob(db: SqlDatabase, fileName: string, seq: number, name: string): Uint8Array {
  const bytes = scalar(db, 'SELECT bytes FROM blobs WHERE seq = ? AND name = ?', [seq, name]);
  if (!(bytes instanceof Uint8Array)) {
    const names = (db.exec('SELECT name FROM blobs WHERE seq = ? ORDER BY name', [seq])[0]?.values ?? []).map((r) => String(r[0]));
    throw new RegistryError(`${fileName} entry ${seq} keeps no file ${quote(name)} (it keeps: ${names.join(', ') || 'none'}).`);
  }
  return bytes;
}

/**
 * A registry entry and its hash. Each entry's hash is SHA-256 over the canonical JSON of
 * its hashed columns (BLOB columns as the hex SHA-256 of their bytes) including `prev_hash`,
 * the hash of the entry before it; the first entry's `prev_hash` is 64 zeros. This module
 * makes an entry from an audit (`prepareEntry`, with the key metrics it keeps in columns of
 * their own), hashes it, and moves a stored entry onto another chain (`rechainEntry`):
 * every host stores exactly these values.
 */
import { gzipSync } from 'fflate';
import type { AnyAuditResult } from '../audit/run';
import type { PolicyDecision } from '../config/policy';
import { RegistryError, quote } from '../base/errors';
import { sha256Hex } from '../base/hash';
import { canonicalJson, resultDigest, type Manifest } from '../outputs/manifest';
import { metricValue } from '../metrics/catalog';
import { isObject, jsonColumn, registryRow, type FailedGate, type RegistryRow } from './row';
import type { Sha256, SqlValue } from './sql';

/** The metrics kept in a column of every entry, for lists, trends and SQL queries. */
export const KEY_METRICS = ['roc_auc', 'accuracy', 'brier_score', 'expected_calibration_error', 'demographic_parity_ratio', 'equalized_odds_difference'] as const;

/** The key metrics a multiclass or regression entry records besides {@link KEY_METRICS}. */
export const TASK_KEY_METRICS = {
  multiclass: ['balanced_accuracy', 'roc_auc_ovr', 'f1_macro', 'log_loss', 'max_classwise_ece', 'max_class_selection_rate_difference'],
  regression: ['mae', 'rmse', 'r2', 'mean_prediction_difference', 'mae_difference', 'bounded_group_loss'],
} as const;

/** The kind of audit an entry's key metrics are of: a multiclass or regression entry records its own ({@link TASK_KEY_METRICS}). */
export function taskOfMetrics(metrics: Record<string, unknown>): 'binary' | keyof typeof TASK_KEY_METRICS {
  for (const task of ['multiclass', 'regression'] as const) if (TASK_KEY_METRICS[task].some((id) => id in metrics)) return task;
  return 'binary';
}

/** The key metric columns of a list of entries: {@link KEY_METRICS}, then each task's own where an entry of that task is among them. */
export function keyMetricColumns(rows: readonly { metrics: Record<string, unknown> }[]): string[] {
  const tasks = new Set(rows.map((r) => taskOfMetrics(r.metrics)));
  return [...KEY_METRICS, ...(['multiclass', 'regression'] as const).flatMap((task) => (tasks.has(task) ? TASK_KEY_METRICS[task] : []))];
}

/** The key metrics of a result (fairness ones are the worst across attributes). */
export function keyMetrics(result: AnyAuditResult): Record<string, number | null> {
  const task = 'task' in result ? result.task : undefined;
  // A multiclass or regression entry keeps the binary columns (null where the task has no such metric) and adds its own.
  const ids = [...KEY_METRICS, ...(task ? TASK_KEY_METRICS[task] : [])];
  return Object.fromEntries(ids.map((id) => [id, metricValue(result, id).value]));
}

/** Where each hashed column lives (`e`: entries, `r`: results), for queries that read them all. */
export const columnSource = (column: string) => (column === 'result_gz' ? 'r.result_gz' : `e.${column}`);

/** The columns an entry's hash covers, in this order (`result_gz` by its SHA-256). */
export const HASHED = ['created', 'model_id', 'model_version', 'team', 'owner', 'data_sha256', 'model_sha256', 'decision', 'failed_gates', 'metrics', 'manifest', 'result_gz', 'result_sha256', 'blob_hashes', 'prev_hash'] as const;
/** One of the columns an entry's hash covers. */
export type HashedColumn = (typeof HASHED)[number];
/** An entry's hashed columns (`result_gz` as its bytes, or as their hash once verify read it). */
export type EntryColumns = Record<HashedColumn, SqlValue>;

const ENTRY_FORMAT = 'plumbline-registry-entry/1';

/** What goes into one registry entry. */
export interface RegistryAppend {
  /** The audit result (with `policy_decision` when a policy was evaluated). */
  result: AnyAuditResult & { policy_decision?: PolicyDecision };
  manifest: Manifest;
  /** Config metadata: `model_id`, `model_version`, `team`, `owner` are used. */
  metadata?: Record<string, string | number | boolean>;
  /** Files kept with the entry (report PDF, evidence pack), by name. */
  blobs?: Record<string, Uint8Array>;
}

const label = (value: unknown) => (value === undefined || value === null || value === '' ? null : String(value));

function entryColumns(input: RegistryAppend, prevHash: string, blobHashes: Record<string, string>): EntryColumns {
  const { result, manifest } = input;
  const metadata = input.metadata ?? {};
  const model = result.inputs.model;
  const fileStem = 'file' in model ? model.file.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '') : `score column ${model.column}`;
  const decision = result.policy_decision;
  // Every gate that did not pass, with why: an error gate not evaluated is what made the decision REVIEW.
  const failed: FailedGate[] = (decision?.gates ?? [])
    .filter((g) => g.outcome === 'FAIL' || g.outcome === 'WARN' || g.outcome === 'WAIVED' || (g.outcome === 'NOT_EVALUATED' && g.severity === 'error'))
    .map((g) => ({
      name: g.name,
      outcome: g.outcome as FailedGate['outcome'],
      metric: g.metric,
      attribute: g.attribute,
      value: g.value,
      threshold: g.threshold,
      comparison: g.comparison,
      ...(g.outcome === 'NOT_EVALUATED' && g.reason ? { reason: g.reason } : {}),
      ...(g.waiver ? { waiver: { approved_by: g.waiver.approved_by, expires: g.waiver.expires, reason: g.waiver.reason } } : {}),
    }));
  return {
    created: manifest.created,
    model_id: label(metadata.model_id) ?? fileStem,
    model_version: label(metadata.model_version),
    team: label(metadata.team),
    owner: label(metadata.owner),
    data_sha256: result.inputs.data.sha256,
    model_sha256: 'sha256' in model ? model.sha256 : null,
    decision: decision?.decision ?? null,
    failed_gates: JSON.stringify(failed),
    metrics: JSON.stringify(keyMetrics(result)),
    manifest: JSON.stringify(manifest),
    result_gz: gzipSync(new TextEncoder().encode(JSON.stringify(result)), { level: 6, mtime: 0 }),
    result_sha256: resultDigest(result),
    blob_hashes: canonicalJson(blobHashes),
    prev_hash: prevHash,
  };
}

/** The hash of an entry's columns (see this module's comment for the definition). */
export function entryHash(columns: EntryColumns, sha256: Sha256 = sha256Hex): string {
  return sha256(encoder.encode(entryJson(columns, sha256)));
}

const encoder = new TextEncoder();
/** The keys of an entry's hashed content in canonical (sorted) order. */
const ENTRY_KEYS = [...HASHED, 'format'].sort() as (HashedColumn | 'format')[];

/**
 * The canonical JSON of an entry's hashed content: `canonicalJson` of
 * `{ format, ...columns }` with BLOB columns as their hex SHA-256. The content is flat
 * (strings, numbers, nulls), so it is written key by key in sorted order, which gives the
 * same text without walking it through a replacer (a test checks the two agree).
 */
export function entryJson(columns: EntryColumns, sha256: Sha256 = sha256Hex): string {
  let json = '{';
  for (const key of ENTRY_KEYS) {
    const value = key === 'format' ? ENTRY_FORMAT : columns[key];
    if (value === undefined) continue; // as JSON.stringify leaves out an undefined property
    json += `${json.length > 1 ? ',' : ''}"${key}":${JSON.stringify(value instanceof Uint8Array ? sha256(value) : value)}`;
  }
  return `${json}}`;
}

/** A file kept with an entry, as stored. */
export interface KeptBlob {
  name: string;
  sha256: string;
  bytes: Uint8Array;
}

/**
 * An entry ready to be stored at the end of a chain: its hashed columns (`result_gz` as
 * bytes), its hash, and its kept files sorted by name. Every host (SQLite, PostgreSQL)
 * stores exactly these values, so the chain and its Merkle root are the same everywhere.
 */
export interface PreparedEntry {
  columns: EntryColumns;
  hash: string;
  blobs: KeptBlob[];
}

/** The entry an audit becomes when appended after the entry whose hash is `prevHash`. */
export function prepareEntry(input: RegistryAppend, prevHash: string, sha256: Sha256 = sha256Hex): PreparedEntry {
  const blobs = Object.entries(input.blobs ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, bytes]) => ({ name, sha256: sha256(bytes), bytes }));
  const columns = entryColumns(input, prevHash, Object.fromEntries(blobs.map((b) => [b.name, b.sha256])));
  return { columns, hash: entryHash(columns, sha256), blobs };
}

/** The listed row of an entry just stored as entry `seq`. */
export function appendedRow(seq: number, { columns, hash, blobs }: PreparedEntry): RegistryRow {
  return registryRow([seq, columns.created, columns.model_id, columns.model_version, columns.team, columns.owner, columns.decision, columns.failed_gates, columns.metrics, columns.data_sha256, columns.model_sha256, columns.result_sha256, hash, blobs.map((b) => b.name).join('\n')]);
}

/** An entry as another registry holds it (to copy it between a file and a database). */
export interface StoredEntry extends PreparedEntry {
  seq: number;
}

/**
 * Entry `entry` moved to follow `prevHash`: the same audit, its `prev_hash` and hash made
 * anew (unchanged when `prevHash` is the one it was appended after). Refuses an entry
 * whose content or kept files do not match its recorded hashes: copies are verified.
 */
export function rechainEntry(registryName: string, entry: StoredEntry, prevHash: string, sha256: Sha256 = sha256Hex): PreparedEntry {
  const where = `entry ${entry.seq} (${entry.columns.model_id}, ${entry.columns.created}) of ${registryName}`;
  if (entryHash(entry.columns, sha256) !== entry.hash) throw new RegistryError(`${where} does not match its hash: it was altered. Nothing was copied; run plumbline registry verify on it.`);
  const listed = jsonColumn<Record<string, string>>(entry.columns.blob_hashes, {}, isObject);
  for (const blob of entry.blobs) {
    if (sha256(blob.bytes) !== blob.sha256 || listed[blob.name] !== blob.sha256) throw new RegistryError(`${where}: its kept file ${quote(blob.name)} does not match its hash. Nothing was copied; run plumbline registry verify on it.`);
  }
  if (Object.keys(listed).length !== entry.blobs.length) throw new RegistryError(`${where}: a kept file was removed. Nothing was copied; run plumbline registry verify on it.`);
  if (entry.columns.prev_hash === prevHash) return { columns: entry.columns, hash: entry.hash, blobs: entry.blobs };
  const columns = { ...entry.columns, prev_hash: prevHash };
  return { columns, hash: entryHash(columns, sha256), blobs: entry.blobs };
}

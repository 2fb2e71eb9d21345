/**
 * The audit registry: one SQLite file holding every audit a team ran, hash-chained so an
 * edited, removed or reordered entry is found. The core works on any database object with
 * sql.js's `exec`/`run`/`prepare` (the CLI and the worker open the file with sql.js, so
 * the bytes are the same SQLite format everywhere and any SQLite tool can query them).
 *
 * Each entry's hash is SHA-256 over the canonical JSON of its hashed columns (BLOB columns
 * as the hex SHA-256 of their bytes) including `prev_hash`, the hash of the entry before
 * it; the first entry's `prev_hash` is 64 zeros. A Merkle root (RFC 6962 tree hash) over
 * the entry hashes in order summarises the whole file: record it elsewhere (a CI log) and
 * `verify --root` proves nothing was rewritten since.
 */
import { gunzipSync, gzipSync } from 'fflate';
import type { AuditResult } from '../audit';
import type { PolicyDecision } from '../config/policy';
import { RegistryError, quote } from '../errors';
import { sha256Hex } from '../hash';
import { canonicalJson, resultDigest, type Manifest } from '../manifest';
import { metricValue } from '../metrics/catalog';
import { toCsv } from '../data/csv-export';
import { TOOL_VERSION } from '../version';

/** A value SQLite hands back or takes. */
export type SqlValue = number | string | Uint8Array | null;

/** A prepared statement (sql.js's `Statement`). */
export interface SqlStatement {
  bind(params?: SqlValue[]): boolean;
  step(): boolean;
  get(): SqlValue[];
  /**
   * The current row like `get()`, but BLOB values may be views into the database's own
   * memory, valid only until the next `step()` or `free()` (read them at once). Hosts that
   * can hand out such views without a copy implement it; verify hashes 470 MB of stored
   * results through it on a 10,000-audit registry.
   */
  getTransient?(): SqlValue[];
  free(): boolean;
}

/** The part of a sql.js `Database` the registry uses. */
export interface SqlDatabase {
  exec(sql: string, params?: SqlValue[]): { columns: string[]; values: SqlValue[][] }[];
  run(sql: string, params?: SqlValue[]): unknown;
  prepare(sql: string): SqlStatement;
}

/** Hex SHA-256 of bytes. Hosts may pass a faster one (node:crypto) than the default. */
export type Sha256 = (bytes: Uint8Array) => string;

/**
 * Hex SHA-256 of bytes, answered later (the CLI hashes on a worker thread). It must take
 * its copy of `bytes` before it returns: they may be a view into SQLite's memory, valid
 * only until the next row is read.
 */
export type Sha256Async = (bytes: Uint8Array) => Promise<string>;

/** `PRAGMA application_id` of a Plumbline registry: "PLMB". */
export const REGISTRY_APPLICATION_ID = 0x504c4d42;

/** The schema version this code writes (`PRAGMA user_version`). */
export const REGISTRY_SCHEMA_VERSION = 3;

/** `prev_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The metrics kept in a column of every entry, for lists, trends and SQL queries. */
export const KEY_METRICS = ['roc_auc', 'accuracy', 'brier_score', 'expected_calibration_error', 'demographic_parity_ratio', 'equalized_odds_difference'] as const;

/** Schema migrations, applied in order, each in its own transaction. */
const MIGRATIONS: { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: 'hash-chained audit entries and the chain head',
    sql: `CREATE TABLE entries (
  seq INTEGER PRIMARY KEY,
  created TEXT NOT NULL,
  model_id TEXT NOT NULL,
  model_version TEXT,
  team TEXT,
  owner TEXT,
  data_sha256 TEXT NOT NULL,
  model_sha256 TEXT,
  decision TEXT,
  failed_gates TEXT NOT NULL,
  metrics TEXT NOT NULL,
  manifest TEXT NOT NULL,
  result_gz BLOB NOT NULL,
  result_sha256 TEXT NOT NULL,
  blob_hashes TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  entry_hash TEXT NOT NULL UNIQUE
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('entries', '0'), ('head_hash', '${GENESIS_HASH}');`,
  },
  {
    version: 2,
    description: 'stored reports and evidence packs; entries indexed by model and time',
    sql: `CREATE TABLE blobs (
  seq INTEGER NOT NULL REFERENCES entries(seq),
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (seq, name)
);
CREATE INDEX entries_by_model ON entries (model_id, created);`,
  },
  {
    version: 3,
    description: 'the full results move to their own table, so listing reads only the small entry rows',
    sql: `CREATE TABLE results (
  seq INTEGER PRIMARY KEY REFERENCES entries(seq),
  result_gz BLOB NOT NULL
);
INSERT INTO results (seq, result_gz) SELECT seq, result_gz FROM entries;
ALTER TABLE entries DROP COLUMN result_gz;`,
  },
];

/** Where each hashed column lives (`e`: entries, `r`: results), for queries that read them all. */
const columnSource = (column: string) => (column === 'result_gz' ? 'r.result_gz' : `e.${column}`);

/** The columns an entry's hash covers, in this order (`result_gz` by its SHA-256). */
const HASHED = ['created', 'model_id', 'model_version', 'team', 'owner', 'data_sha256', 'model_sha256', 'decision', 'failed_gates', 'metrics', 'manifest', 'result_gz', 'result_sha256', 'blob_hashes', 'prev_hash'] as const;
type HashedColumn = (typeof HASHED)[number];
type EntryColumns = Record<HashedColumn, SqlValue>;

const ENTRY_FORMAT = 'plumbline-registry-entry/1';

function scalar(db: SqlDatabase, sql: string, params?: SqlValue[]): SqlValue {
  return db.exec(sql, params)[0]?.values[0]?.[0] ?? null;
}

function transaction<T>(db: SqlDatabase, body: () => T): T {
  db.run('BEGIN IMMEDIATE');
  try {
    const value = body();
    db.run('COMMIT');
    return value;
  } catch (error) {
    db.run('ROLLBACK');
    throw error;
  }
}

/**
 * Runs registry work on a file, turning SQLite's own errors (a damaged or truncated file)
 * into a RegistryError that names the file and what to do.
 */
export function guardRegistry<T>(fileName: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw asRegistryError(fileName, error);
  }
}

/** `guardRegistry` for work that answers later. */
export async function guardRegistryAsync<T>(fileName: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asRegistryError(fileName, error);
  }
}

function asRegistryError(fileName: string, error: unknown): unknown {
  // SQLite's errors are plain Errors in sql.js, SQLite3Errors in the official WASM build (a
  // WASM abort a RuntimeError); a damaged JSON column
  // fails to parse. Anything else is a bug and stays as it is.
  const damaged = error instanceof Error && (error.constructor === Error || error.name === 'RuntimeError' || error.name === 'SQLite3Error' || error instanceof SyntaxError);
  return damaged ? damagedRegistry(fileName, error.message) : error;
}

function damagedRegistry(fileName: string, message: string): RegistryError {
  return new RegistryError(`${fileName} is damaged: SQLite reports ${quote(message)}. Open an intact copy of the registry (plumbline registry verify names what changed in it).`);
}

/** What a registry file holds. */
export interface RegistryInfo {
  schema_version: number;
  entries: number;
  head_hash: string;
  /** Migrations applied while opening, e.g. `[2]` for a version-1 file. */
  migrated: number[];
}

/**
 * Checks that `db` is a Plumbline registry and brings its schema up to date. With
 * `create`, an empty database becomes a new registry. Anything else (another SQLite
 * database, a file that is not SQLite, a newer schema) is refused with what to do.
 */
export function openRegistry(db: SqlDatabase, fileName: string, options: { create?: boolean } = {}): RegistryInfo {
  let applicationId: number;
  let version: number;
  let tables: number;
  try {
    applicationId = Number(scalar(db, 'PRAGMA application_id'));
    version = Number(scalar(db, 'PRAGMA user_version'));
    tables = Number(scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"));
  } catch (error) {
    const message = (error as Error).message;
    // SQLite's own header is there but the pages are not: a damaged (often truncated) file.
    if (/malformed|corrupt/i.test(message)) throw damagedRegistry(fileName, message);
    throw new RegistryError(`${fileName} is not an SQLite database (${message}). Create a registry with: plumbline registry init FILE.`);
  }
  if (applicationId !== REGISTRY_APPLICATION_ID) {
    if (tables > 0 || applicationId !== 0) {
      throw new RegistryError(`${fileName} is an SQLite database but not a Plumbline registry (application_id ${applicationId}, a registry has ${REGISTRY_APPLICATION_ID}). Create a registry in a new file with: plumbline registry init FILE.`);
    }
    if (!options.create) throw new RegistryError(`${fileName} is empty, not a Plumbline registry. Create one with: plumbline registry init ${fileName}.`);
    // 16 KB pages: a stored result (~50 KB gzipped) is a few page reads, not a dozen, with little slack.
    db.run('PRAGMA page_size = 16384');
    db.run(`PRAGMA application_id = ${REGISTRY_APPLICATION_ID}`);
  }
  if (version > REGISTRY_SCHEMA_VERSION) {
    throw new RegistryError(`${fileName} has registry schema version ${version}; this Plumbline (${TOOL_VERSION}) reads versions up to ${REGISTRY_SCHEMA_VERSION}. Open it with a newer Plumbline.`);
  }
  const migrated: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= version) continue;
    transaction(db, () => {
      db.exec(migration.sql);
      db.run(`PRAGMA user_version = ${migration.version}`);
    });
    migrated.push(migration.version);
  }
  return { ...registryHead(db), schema_version: REGISTRY_SCHEMA_VERSION, migrated };
}

/** Brings a database up to one schema version only (tests use it to make old files). */
export function createRegistryAtVersion(db: SqlDatabase, version: number): void {
  db.run(`PRAGMA application_id = ${REGISTRY_APPLICATION_ID}`);
  for (const migration of MIGRATIONS.filter((m) => m.version <= version)) {
    transaction(db, () => {
      db.exec(migration.sql);
      db.run(`PRAGMA user_version = ${migration.version}`);
    });
  }
}

function registryHead(db: SqlDatabase): { entries: number; head_hash: string } {
  const meta = new Map((db.exec('SELECT key, value FROM meta')[0]?.values ?? []).map(([k, v]) => [String(k), String(v)]));
  return { entries: Number(meta.get('entries') ?? 0), head_hash: meta.get('head_hash') ?? GENESIS_HASH };
}

/** What goes into one registry entry. */
export interface RegistryAppend {
  /** The audit result (with `policy_decision` when a policy was evaluated). */
  result: AuditResult & { policy_decision?: PolicyDecision };
  manifest: Manifest;
  /** Config metadata: `model_id`, `model_version`, `team`, `owner` are used. */
  metadata?: Record<string, string | number | boolean>;
  /** Files kept with the entry (report PDF, evidence pack), by name. */
  blobs?: Record<string, Uint8Array>;
}

/** A gate that did not pass, as kept in an entry. */
export interface FailedGate {
  name: string;
  outcome: 'FAIL' | 'WARN';
  metric: string;
  attribute: string | null;
  value: number | null;
  threshold: number;
}

/** One entry as listed (without the stored result and files). */
export interface RegistryRow {
  seq: number;
  created: string;
  model_id: string;
  model_version: string | null;
  team: string | null;
  owner: string | null;
  decision: 'PASS' | 'WARN' | 'FAIL' | null;
  failed_gates: FailedGate[];
  metrics: Record<string, number | null>;
  data_sha256: string;
  model_sha256: string | null;
  result_sha256: string;
  entry_hash: string;
  blobs: string[];
}

const label = (value: unknown) => (value === undefined || value === null || value === '' ? null : String(value));

/** The key metrics of a result (fairness ones are the worst across attributes). */
export function keyMetrics(result: AuditResult): Record<string, number | null> {
  return Object.fromEntries(KEY_METRICS.map((id) => [id, metricValue(result, id).value]));
}

function entryColumns(input: RegistryAppend, prevHash: string, blobHashes: Record<string, string>): EntryColumns {
  const { result, manifest } = input;
  const metadata = input.metadata ?? {};
  const model = result.inputs.model;
  const fileStem = 'file' in model ? model.file.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '') : `score column ${model.column}`;
  const decision = result.policy_decision;
  const failed: FailedGate[] = (decision?.gates ?? [])
    .filter((g) => g.outcome === 'FAIL' || g.outcome === 'WARN')
    .map((g) => ({ name: g.name, outcome: g.outcome as 'FAIL' | 'WARN', metric: g.metric, attribute: g.attribute, value: g.value, threshold: g.threshold }));
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

/** The hash of an entry's columns (see the module comment for the definition). */
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

/**
 * Appends an audit at the end of the chain, in one transaction. Refuses when the chain
 * head recorded in the file does not match its last entry (the file was changed outside
 * Plumbline): verify it first.
 */
export function appendEntry(db: SqlDatabase, fileName: string, input: RegistryAppend, sha256: Sha256 = sha256Hex): RegistryRow {
  return transaction(db, () => {
    const last = db.exec('SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1')[0]?.values[0];
    const head = registryHead(db);
    const lastHash = last ? String(last[1]) : GENESIS_HASH;
    const count = Number(scalar(db, 'SELECT count(*) FROM entries'));
    if (head.head_hash !== lastHash || head.entries !== count) {
      throw new RegistryError(`${fileName} was changed outside Plumbline: it records ${head.entries} entries ending in ${head.head_hash.slice(0, 12)}…, but holds ${count} ending in ${lastHash.slice(0, 12)}…. Nothing was appended; run plumbline registry verify ${fileName} to see what changed.`);
    }
    const seq = last ? Number(last[0]) + 1 : 1;
    const blobs = Object.entries(input.blobs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const blobHashes = Object.fromEntries(blobs.map(([name, bytes]) => [name, sha256(bytes)]));
    const columns = entryColumns(input, lastHash, blobHashes);
    const hash = entryHash(columns, sha256);
    const stored = HASHED.filter((c) => c !== 'result_gz');
    db.run(`INSERT INTO entries (seq, ${stored.join(', ')}, entry_hash) VALUES (${Array(stored.length + 2).fill('?').join(', ')})`, [seq, ...stored.map((c) => columns[c]), hash]);
    db.run('INSERT INTO results (seq, result_gz) VALUES (?, ?)', [seq, columns.result_gz]);
    for (const [name, bytes] of blobs) db.run('INSERT INTO blobs (seq, name, sha256, bytes) VALUES (?, ?, ?, ?)', [seq, name, blobHashes[name], bytes]);
    db.run("UPDATE meta SET value = ? WHERE key = 'entries'", [String(count + 1)]);
    db.run("UPDATE meta SET value = ? WHERE key = 'head_hash'", [hash]);
    return rowOf([seq, columns.created, columns.model_id, columns.model_version, columns.team, columns.owner, columns.decision, columns.failed_gates, columns.metrics, columns.data_sha256, columns.model_sha256, columns.result_sha256, hash, blobs.map(([n]) => n).join('\n')]);
  });
}

/** Which entries to list. */
export interface RegistryFilter {
  model?: string;
  /** ISO date or date-time: entries created at or after it. */
  since?: string;
  /** ISO date or date-time: entries created before it. */
  until?: string;
  /** Only entries with a failed or warning gate. */
  failedGates?: boolean;
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

/**
 * A JSON column read back, or the fallback when it is not what was written (a file edited
 * outside Plumbline): the list still shows the entry, and verify reports it as altered.
 */
function jsonColumn<T>(value: SqlValue, fallback: T, isValid: (parsed: unknown) => boolean): T {
  try {
    const parsed: unknown = JSON.parse(String(value));
    return isValid(parsed) ? (parsed as T) : fallback;
  } catch {
    return fallback;
  }
}
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

function rowOf(values: SqlValue[]): RegistryRow {
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
  if (filter.failedGates) where.push("(decision = 'FAIL' OR failed_gates <> '[]')");
  const statement = db.prepare(`SELECT ${LIST_COLUMNS} FROM entries${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`);
  try {
    statement.bind(params);
    const rows: RegistryRow[] = [];
    while (statement.step()) rows.push(rowOf(statement.get()));
    return rows;
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

/** One thing `verify` found wrong. */
export interface RegistryProblem {
  /** The first entry affected (its position in the chain). */
  seq: number;
  kind: 'altered' | 'removed' | 'reordered';
  message: string;
}

/** What `verify` reports. */
export interface VerifyReport {
  ok: boolean;
  entries: number;
  schema_version: number;
  head_hash: string;
  /** RFC 6962 Merkle tree hash over the entry hashes in order. */
  merkle_root: string;
  /** Problems in chain order; the first is the first entry that was altered, removed or reordered. */
  problems: RegistryProblem[];
}

function hexDigit(code: number): number {
  return code <= 57 ? code - 48 : (code | 32) - 87;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
  return out;
}

/** RFC 6962 Merkle tree hash of hex leaves: leaf H(0x00‖d), node H(0x01‖l‖r), empty H(""). */
export function merkleRoot(leaves: readonly string[], sha256: Sha256 = sha256Hex): string {
  const node = (prefix: number, ...parts: Uint8Array[]) => {
    const bytes = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
    bytes[0] = prefix;
    let at = 1;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    return hexBytes(sha256(bytes));
  };
  const tree = (from: number, to: number): Uint8Array => {
    if (to - from === 1) return node(0, hexBytes(leaves[from]));
    let split = 1;
    while (split * 2 < to - from) split *= 2;
    return node(1, tree(from, from + split), tree(from + split, to));
  };
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  return Array.from(tree(0, leaves.length), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** What a `result_gz` that is not a BLOB hashes as: never a recorded hash. */
const NOT_A_BLOB = 'not a BLOB';

/** An entry as verify reads it: its hashed columns, BLOBs already replaced by their hashes. */
interface ReadEntry {
  seq: number;
  columns: EntryColumns;
  recorded: string;
}

/**
 * Reads every entry with its stored result (one pass over the file), handing each BLOB to
 * `hash` while the row is current; `hash` may answer later (verify's async form).
 */
function readEntries<H extends string | Promise<string>>(db: SqlDatabase, hash: (bytes: Uint8Array) => H, each: (entry: ReadEntry, resultHash: H | string | null) => void | Promise<void>): void | Promise<void> {
  const statement = db.prepare(`SELECT e.seq, ${HASHED.map(columnSource).join(', ')}, e.entry_hash FROM entries e LEFT JOIN results r ON r.seq = e.seq ORDER BY e.seq`);
  const resultAt = HASHED.indexOf('result_gz') + 1;
  const finish = () => void statement.free();
  const loop = (): void | Promise<void> => {
    while (statement.step()) {
      // Stored results are hashed where SQLite holds them (no copy) when the host allows it.
      const values = statement.getTransient?.() ?? statement.get();
      const stored = values[resultAt];
      const resultHash = stored instanceof Uint8Array ? hash(stored) : stored === null ? null : NOT_A_BLOB;
      values[resultAt] = null;
      const columns = Object.fromEntries(HASHED.map((c, k) => [c, values[k + 1]])) as EntryColumns;
      const waiting = each({ seq: Number(values[0]), columns, recorded: String(values[HASHED.length + 1]) }, resultHash);
      if (waiting) return waiting.then(loop);
    }
  };
  try {
    const out = loop();
    if (out) return out.finally(finish);
  } catch (error) {
    finish();
    throw error;
  }
  finish();
}

/**
 * Recomputes every entry's hash and walks the chain. Names the first entry that was
 * altered (its content or a kept file no longer matches its hash), removed (a gap in the
 * chain, or entries missing from the end) or reordered (it follows a different entry than
 * the one it was appended after).
 */
export function verifyRegistry(db: SqlDatabase, sha256: Sha256 = sha256Hex): VerifyReport {
  const entries: ReadEntry[] = [];
  readEntries(db, sha256, (entry, resultHash) => {
    entry.columns.result_gz = resultHash;
    entries.push(entry);
  });
  return checkEntries(db, entries, sha256);
}

/**
 * `verifyRegistry` with the stored results (all but a few KB per entry) hashed by `digest`
 * off this thread while SQLite reads the next ones; at most `inFlight` wait at a time.
 * The same report, byte for byte.
 */
export async function verifyRegistryAsync(db: SqlDatabase, sha256: Sha256, digest: Sha256Async, inFlight = 64): Promise<VerifyReport> {
  const entries: ReadEntry[] = [];
  const waiting: Promise<void>[] = [];
  await readEntries(db, digest, (entry, resultHash) => {
    entries.push(entry);
    if (typeof resultHash === 'string' || resultHash === null) entry.columns.result_gz = resultHash;
    else waiting.push(resultHash.then((hex) => void (entry.columns.result_gz = hex)));
    if (waiting.length >= inFlight) return Promise.all(waiting.splice(0, inFlight / 2)).then(() => undefined);
  });
  await Promise.all(waiting);
  return checkEntries(db, entries, sha256);
}

/** The checks of verify, over entries read with their results' hashes. */
function checkEntries(db: SqlDatabase, entries: readonly ReadEntry[], sha256: Sha256): VerifyReport {
  const problems: RegistryProblem[] = [];
  const seqOfHash = new Map(entries.map((e) => [e.recorded, e.seq]));
  const blobsBySeq = new Map<number, { name: string; recorded: string; actual: string }[]>();
  const blobRows = db.prepare('SELECT seq, name, sha256, bytes FROM blobs ORDER BY seq, name');
  try {
    while (blobRows.step()) {
      const [seq, name, recorded, bytes] = blobRows.getTransient?.() ?? blobRows.get();
      const list = blobsBySeq.get(Number(seq)) ?? [];
      list.push({ name: String(name), recorded: String(recorded), actual: bytes instanceof Uint8Array ? sha256(bytes) : NOT_A_BLOB });
      blobsBySeq.set(Number(seq), list);
    }
  } finally {
    blobRows.free();
  }

  let previous: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };
  for (const { seq, columns, recorded } of entries) {
    const where = `entry ${seq} (${columns.model_id}, ${columns.created})`;
    const actual = entryHash(columns, sha256);
    if (actual !== recorded) {
      problems.push({ seq, kind: 'altered', message: `${where} was altered: its content hashes to ${actual.slice(0, 12)}…, not the ${recorded.slice(0, 12)}… recorded when it was appended.` });
    }
    const kept = blobsBySeq.get(seq) ?? [];
    const listed = jsonColumn<Record<string, string>>(columns.blob_hashes, {}, isObject);
    for (const blob of kept) {
      if (blob.actual !== blob.recorded || listed[blob.name] !== blob.actual) problems.push({ seq, kind: 'altered', message: `${where}: the kept file ${quote(blob.name)} was altered (its bytes hash to ${blob.actual.slice(0, 12)}…, the entry recorded ${String(listed[blob.name] ?? 'no such file').slice(0, 12)}…).` });
    }
    for (const name of Object.keys(listed)) {
      if (!kept.some((b) => b.name === name)) problems.push({ seq, kind: 'removed', message: `${where}: the kept file ${quote(name)} was removed.` });
    }
    if (seq !== previous.seq + 1) {
      problems.push({ seq, kind: 'removed', message: `entr${seq - previous.seq - 1 === 1 ? `y ${previous.seq + 1} was` : `ies ${previous.seq + 1}–${seq - 1} were`} removed: the chain goes from entry ${previous.seq} to entry ${seq}.` });
    } else if (columns.prev_hash !== previous.hash) {
      const appendedAfter = seqOfHash.get(String(columns.prev_hash));
      if (appendedAfter !== undefined) {
        problems.push({ seq, kind: 'reordered', message: `${where} is out of order: it was appended after entry ${appendedAfter}, but now follows entry ${previous.seq}.` });
      } else if (previous.seq > 0 && !problems.some((p) => p.seq === previous.seq)) {
        problems.push({ seq: previous.seq, kind: 'altered', message: `entry ${previous.seq} was altered or replaced: its hash is not the one entry ${seq} recorded for the entry before it.` });
      } else if (previous.seq === 0) {
        problems.push({ seq, kind: 'removed', message: `${where} is not the first entry it was appended as: the entries before it were removed.` });
      }
    }
    previous = { seq, hash: recorded };
  }
  const head = registryHead(db);
  const count = entries.length;
  if (head.entries > count || (head.entries === count && head.head_hash !== previous.hash)) {
    const missing = head.entries - count;
    problems.push({ seq: previous.seq + 1, kind: 'removed', message: missing > 0 ? `the last ${missing === 1 ? 'entry was' : `${missing} entries were`} removed: the registry recorded ${head.entries} entries, it holds ${count}.` : `the last entry was replaced: the registry recorded a chain ending in ${head.head_hash.slice(0, 12)}…, it ends in ${previous.hash.slice(0, 12)}….` });
  } else if (head.entries < count) {
    problems.push({ seq: head.entries + 1, kind: 'altered', message: `entries after ${head.entries} were added outside Plumbline: the registry recorded ${head.entries} entries, it holds ${count}.` });
  }
  problems.sort((a, b) => a.seq - b.seq);
  const hashes = entries.map((e) => e.recorded);
  return {
    ok: problems.length === 0,
    entries: entries.length,
    schema_version: Number(scalar(db, 'PRAGMA user_version')),
    head_hash: hashes.at(-1) ?? GENESIS_HASH,
    merkle_root: merkleRoot(hashes, sha256),
    problems,
  };
}

const fmt = (v: number | null | undefined, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '');

/** Entries as CSV (formula-looking cells neutralised), one row per audit. */
export function registryCsv(rows: readonly RegistryRow[]): string {
  const header = ['seq', 'created', 'model_id', 'model_version', 'team', 'owner', 'decision', 'failed_gates', ...KEY_METRICS, 'data_sha256', 'model_sha256', 'result_sha256', 'entry_hash'];
  return toCsv(
    header,
    rows.map((r) => [r.seq, r.created, r.model_id, r.model_version, r.team, r.owner, r.decision, r.failed_gates.map((g) => `${g.name} (${g.outcome})`).join('; '), ...KEY_METRICS.map((m) => r.metrics[m] ?? null), r.data_sha256, r.model_sha256, r.result_sha256, r.entry_hash]),
  );
}

/** One model in the portfolio. */
export interface PortfolioModel {
  model_id: string;
  team: string | null;
  owner: string | null;
  audits: number;
  latest: RegistryRow;
  /** Key metrics of each audit of the model, oldest first. */
  trend: { seq: number; created: string; decision: RegistryRow['decision']; metrics: Record<string, number | null> }[];
}

/** The portfolio: status of every model's latest audit, most-failed gates, trends. */
export interface Portfolio {
  audits: number;
  /** Latest decision of each model (`NONE`: audited without a policy). */
  status: Record<'PASS' | 'WARN' | 'FAIL' | 'NONE', number>;
  /** Gates by how many audits failed (or warned on) them, most first. */
  most_failed_gates: { gate: string; fail: number; warn: number; models: string[] }[];
  models: PortfolioModel[];
}

/** Summarises entries (in append order) for the portfolio view and the monthly summary. */
export function portfolio(rows: readonly RegistryRow[]): Portfolio {
  const models = new Map<string, PortfolioModel>();
  const gates = new Map<string, { fail: number; warn: number; models: Set<string> }>();
  for (const row of rows) {
    const model = models.get(row.model_id) ?? { model_id: row.model_id, team: row.team, owner: row.owner, audits: 0, latest: row, trend: [] };
    model.audits++;
    model.latest = row;
    model.team = row.team ?? model.team;
    model.owner = row.owner ?? model.owner;
    model.trend.push({ seq: row.seq, created: row.created, decision: row.decision, metrics: row.metrics });
    models.set(row.model_id, model);
    for (const gate of row.failed_gates) {
      const g = gates.get(gate.name) ?? { fail: 0, warn: 0, models: new Set<string>() };
      if (gate.outcome === 'FAIL') g.fail++;
      else g.warn++;
      g.models.add(row.model_id);
      gates.set(gate.name, g);
    }
  }
  const status = { PASS: 0, WARN: 0, FAIL: 0, NONE: 0 };
  for (const m of models.values()) status[m.latest.decision ?? 'NONE']++;
  return {
    audits: rows.length,
    status,
    most_failed_gates: [...gates]
      .map(([gate, g]) => ({ gate, fail: g.fail, warn: g.warn, models: [...g.models].sort() }))
      .sort((a, b) => b.fail + b.warn - (a.fail + a.warn) || b.fail - a.fail || (a.gate < b.gate ? -1 : 1)),
    models: [...models.values()].sort((a, b) => (a.model_id < b.model_id ? -1 : a.model_id > b.model_id ? 1 : 0)),
  };
}

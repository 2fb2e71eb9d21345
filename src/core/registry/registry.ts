/**
 * The audit registry: one SQLite file holding every audit a team ran, hash-chained so an
 * edited, removed or reordered entry is found. The core works on any database object with
 * sql.js's `exec`/`run`/`prepare` (the CLI and the worker open the file with sql.js, so
 * the bytes are the same SQLite format everywhere and any SQLite tool can query them).
 *
 * Each entry's hash is SHA-256 over the canonical JSON of its hashed columns (BLOB columns
 * as the hex SHA-256 of their bytes) including `prev_hash`, the hash of the entry before
 * it; the first entry's `prev_hash` is 64 zeros. A Merkle root (RFC 6962 tree hash) over
 * the entry hashes in order summarises the whole file; a checkpoint `N:ROOT` (the root over
 * the first N entries, printed on every append) recorded elsewhere (a CI log) lets
 * `verify --root N:ROOT` prove that entries 1–N were neither rewritten nor removed since.
 *
 * Without such an outside record, the file guards itself as far as a file can: triggers
 * make its tables append-only for every SQLite client (removing entries and fixing the
 * recorded head with SQL is refused), and verify checks that those triggers are the ones
 * Plumbline made. Someone who takes the guard off, rewrites the file and puts the guard
 * back as it was, or who puts back an older copy of the whole file, leaves a file that is
 * as consistent as an honest one: only a checkpoint recorded elsewhere finds that (see the
 * README's registry section).
 */
import { gunzipSync, gzipSync } from 'fflate';
import type { AuditResult } from '../audit';
import type { AnyAuditResult } from '../run';
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
export const REGISTRY_SCHEMA_VERSION = 4;

/** `prev_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The metrics kept in a column of every entry, for lists, trends and SQL queries. */
export const KEY_METRICS = ['roc_auc', 'accuracy', 'brier_score', 'expected_calibration_error', 'demographic_parity_ratio', 'equalized_odds_difference'] as const;

/** The key metrics a multiclass or regression entry records besides {@link KEY_METRICS}. */
export const TASK_KEY_METRICS = {
  multiclass: ['balanced_accuracy', 'roc_auc_ovr', 'f1_macro', 'log_loss', 'max_classwise_ece', 'max_class_selection_rate_difference'],
  regression: ['mae', 'rmse', 'r2', 'mean_prediction_difference', 'mae_difference', 'bounded_group_loss'],
} as const;

/** What an append-only trigger answers to a change it refuses (any SQLite client sees it). */
const APPEND_ONLY = 'this is a Plumbline audit registry: it is append-only, its entries, stored results, kept files and chain head cannot be changed or deleted (plumbline registry verify would report the file as tampered)';
const AT_THE_END = 'this is a Plumbline audit registry: an entry can only be added at the end of the chain, by plumbline audit --registry';

/**
 * The append-only guard: triggers on every table, so that no SQLite client (the sqlite3
 * shell, a dashboard, a script) can change or remove what was appended, nor set the chain
 * head to anything but the last entry. Appends (`appendEntry`) pass them unchanged.
 */
const GUARD = `CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER entries_at_end BEFORE INSERT ON entries WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM entries) BEGIN SELECT RAISE(ABORT, '${AT_THE_END}'); END;
CREATE TRIGGER results_no_update BEFORE UPDATE ON results BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER results_no_delete BEFORE DELETE ON results BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER results_no_replace BEFORE INSERT ON results WHEN EXISTS (SELECT 1 FROM results WHERE seq = NEW.seq) BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER blobs_no_update BEFORE UPDATE ON blobs BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER blobs_no_delete BEFORE DELETE ON blobs BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER blobs_no_replace BEFORE INSERT ON blobs WHEN EXISTS (SELECT 1 FROM blobs WHERE seq = NEW.seq AND name = NEW.name) BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER meta_no_delete BEFORE DELETE ON meta BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER meta_no_replace BEFORE INSERT ON meta WHEN EXISTS (SELECT 1 FROM meta WHERE key = NEW.key) BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER meta_head_follows_chain BEFORE UPDATE ON meta WHEN NOT (
  (OLD.key = 'entries' AND NEW.key = 'entries' AND NEW.value IS CAST((SELECT count(*) FROM entries) AS TEXT))
  OR (OLD.key = 'head_hash' AND NEW.key = 'head_hash' AND NEW.value IS coalesce((SELECT entry_hash FROM entries ORDER BY seq DESC LIMIT 1), '${'0'.repeat(64)}'))
) BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;`;

/** The guard's triggers by name, with the SQL SQLite keeps for each (`sqlite_master.sql`). */
const GUARD_TRIGGERS = new Map(GUARD.split(/;\n(?=CREATE TRIGGER)/).map((sql) => sql.replace(/;$/, '')).map((sql) => [/^CREATE TRIGGER (\w+)/.exec(sql)![1], sql]));

/** Schema migrations, applied in order, in one transaction. */
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
  {
    version: 4,
    description: 'the append-only guard: no SQLite client can change or remove appended entries',
    sql: GUARD,
  },
];

/** Where each hashed column lives (`e`: entries, `r`: results), for queries that read them all. */
const columnSource = (column: string) => (column === 'result_gz' ? 'r.result_gz' : `e.${column}`);

/** The columns an entry's hash covers, in this order (`result_gz` by its SHA-256). */
export const HASHED = ['created', 'model_id', 'model_version', 'team', 'owner', 'data_sha256', 'model_sha256', 'decision', 'failed_gates', 'metrics', 'manifest', 'result_gz', 'result_sha256', 'blob_hashes', 'prev_hash'] as const;
/** One of the columns an entry's hash covers. */
export type HashedColumn = (typeof HASHED)[number];
/** An entry's hashed columns (`result_gz` as its bytes, or as their hash once verify read it). */
export type EntryColumns = Record<HashedColumn, SqlValue>;

const ENTRY_FORMAT = 'plumbline-registry-entry/1';

function scalar(db: SqlDatabase, sql: string, params?: SqlValue[]): SqlValue {
  return db.exec(sql, params)[0]?.values[0]?.[0] ?? null;
}

/**
 * Runs `body` as one write transaction. `BEGIN IMMEDIATE` takes SQLite's write lock before
 * anything is read, so what the body reads (the chain head) cannot change under it: every
 * SQLite client on the file waits for the lock (the CLI's file access uses SQLite's own
 * locks, see src/cli/sqlite-file.ts).
 */
function transaction<T>(db: SqlDatabase, body: () => T): T {
  db.run('BEGIN IMMEDIATE');
  try {
    const value = body();
    db.run('COMMIT');
    return value;
  } catch (error) {
    // A failed COMMIT (a full disk) may have rolled back already; the first error is the one to report.
    try {
      db.run('ROLLBACK');
    } catch {
      // No transaction left to roll back.
    }
    throw error;
  }
}

/**
 * Runs `body` as one read transaction: every query in it sees the same state of the file
 * (verify reads entries, kept files and the chain head in separate queries, and an append
 * landing between them would look like tampering). Other clients may read meanwhile;
 * a writer commits once it is done.
 */
export async function readTransaction<T>(db: SqlDatabase, body: () => T | Promise<T>): Promise<T> {
  db.run('BEGIN');
  try {
    return await body();
  } finally {
    db.run('COMMIT');
  }
}

/**
 * Runs registry work on a file, turning SQLite's own errors (a damaged file, a full disk, a
 * lock held too long) into a RegistryError that names the file and what to do.
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

/** What a host's SQLite error says, by its result code where the host gives one (better-sqlite3), else by SQLite's words (sql.js). */
function sqliteProblem(error: Error): 'full' | 'busy' | 'io' | 'readonly' | 'damaged' | null {
  const code = String((error as { code?: unknown }).code ?? '');
  const message = error.message;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || /database or disk is full/i.test(message)) return 'full';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || /database is locked/i.test(message)) return 'busy';
  if (code.startsWith('SQLITE_IOERR') || /disk I\/O error/i.test(message)) return 'io';
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || /readonly database/i.test(message)) return 'readonly';
  // SQLite's errors are plain Errors in sql.js, SqliteErrors in better-sqlite3 (a WASM
  // abort a RuntimeError); a damaged JSON column fails to parse. Anything else is a bug.
  if (error.constructor === Error || error.name === 'RuntimeError' || error.name === 'SqliteError' || error instanceof SyntaxError) return 'damaged';
  return null;
}

function asRegistryError(fileName: string, error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof RegistryError) return error;
  switch (sqliteProblem(error)) {
    case 'full':
      return new RegistryError(`cannot write ${fileName}: the disk is full: free space and run again. The registry is as it was (SQLite rolled the unfinished write back).`);
    case 'busy':
      return new RegistryError(`${fileName} stayed locked by another SQLite client (another plumbline audit or verify, or a SQLite tool in the middle of a transaction) for ${REGISTRY_BUSY_SECONDS} s. Nothing was changed; run again when it is done.`);
    case 'io':
      return new RegistryError(`cannot read or write ${fileName}: SQLite reports ${quote(error.message)}. The drive or the network share failed (the registry file itself was not found damaged); check it and run again.`);
    case 'readonly':
      return new RegistryError(`cannot write ${fileName}: SQLite reports ${quote(error.message)}. Check the permissions of the file and of its folder (SQLite writes a journal file beside it).`);
    case 'damaged':
      return damagedRegistry(fileName, error.message);
    default:
      return error;
  }
}

/** How long a CLI command waits for another client's lock on the registry before it gives up. */
export const REGISTRY_BUSY_SECONDS = 60;

function damagedRegistry(fileName: string, message: string): RegistryError {
  return new RegistryError(`${fileName} is damaged: SQLite reports ${quote(message)}. Open an intact copy of the registry (plumbline registry verify names what changed in it).`);
}

/** What a registry file holds. */
export interface RegistryInfo {
  schema_version: number;
  entries: number;
  head_hash: string;
  /** Migrations applied while opening, e.g. `[2, 3, 4]` for a version-1 file. */
  migrated: number[];
}

/** The header fields that say what a database is. */
function fileKind(db: SqlDatabase, fileName: string): { applicationId: number; version: number; tables: number } {
  try {
    return {
      applicationId: Number(scalar(db, 'PRAGMA application_id')),
      version: Number(scalar(db, 'PRAGMA user_version')),
      tables: Number(scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'")),
    };
  } catch (error) {
    const message = (error as Error).message;
    // SQLite's own header is there but the pages are not: a damaged (often truncated) file.
    if (/malformed|corrupt/i.test(message)) throw damagedRegistry(fileName, message);
    if (sqliteProblem(error as Error) !== 'damaged') throw asRegistryError(fileName, error);
    throw new RegistryError(`${fileName} is not an SQLite database (${message}). Create a registry with: plumbline registry init FILE.`);
  }
}

/** Refuses a database that is not a registry this code can open (`create`: an empty one becomes one). */
function checkKind(kind: { applicationId: number; version: number; tables: number }, fileName: string, create: boolean): void {
  if (kind.applicationId !== REGISTRY_APPLICATION_ID) {
    if (kind.tables > 0 || kind.applicationId !== 0) {
      throw new RegistryError(`${fileName} is an SQLite database but not a Plumbline registry (application_id ${kind.applicationId}, a registry has ${REGISTRY_APPLICATION_ID}). Create a registry in a new file with: plumbline registry init FILE.`);
    }
    if (!create) throw new RegistryError(`${fileName} is empty, not a Plumbline registry. Create one with: plumbline registry init ${fileName}.`);
  }
  if (kind.version > REGISTRY_SCHEMA_VERSION) {
    throw new RegistryError(`${fileName} has registry schema version ${kind.version}; this Plumbline (${TOOL_VERSION}) reads versions up to ${REGISTRY_SCHEMA_VERSION}. Open it with a newer Plumbline.`);
  }
}

/**
 * Checks that `db` is a Plumbline registry and brings its schema up to date. With
 * `create`, an empty database becomes a new registry. Anything else (another SQLite
 * database, a file that is not SQLite, a newer schema) is refused with what to do. With
 * `migrate: false` nothing is written: an older schema is reported as it is (the CLI checks
 * a registry that way before a long audit, and upgrades it when it appends).
 *
 * Creating and upgrading happen in one write transaction that reads the header again
 * under the lock, so two processes opening the same old (or new) file at once upgrade it once.
 */
export function openRegistry(db: SqlDatabase, fileName: string, options: { create?: boolean; migrate?: boolean } = {}): RegistryInfo {
  const kind = fileKind(db, fileName);
  checkKind(kind, fileName, options.create === true);
  const migrated: number[] = [];
  let version = kind.version;
  if (kind.version < REGISTRY_SCHEMA_VERSION && options.migrate !== false) {
    // 16 KB pages: a stored result (~50 KB gzipped) is a few page reads, not a dozen, with
    // little slack. SQLite takes the page size only before the first page is written, and
    // not inside a transaction; on a file that already has pages it changes nothing.
    if (kind.applicationId !== REGISTRY_APPLICATION_ID) db.run('PRAGMA page_size = 16384');
    transaction(db, () => {
      const now = fileKind(db, fileName);
      checkKind(now, fileName, options.create === true);
      version = now.version;
      if (now.applicationId !== REGISTRY_APPLICATION_ID) db.run(`PRAGMA application_id = ${REGISTRY_APPLICATION_ID}`);
      for (const migration of MIGRATIONS) {
        if (migration.version <= now.version) continue;
        db.exec(migration.sql);
        db.run(`PRAGMA user_version = ${migration.version}`);
        migrated.push(migration.version);
        version = migration.version;
      }
    });
  }
  return { ...registryHead(db), schema_version: version, migrated };
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
  result: AnyAuditResult & { policy_decision?: PolicyDecision };
  manifest: Manifest;
  /** Config metadata: `model_id`, `model_version`, `team`, `owner` are used. */
  metadata?: Record<string, string | number | boolean>;
  /** Files kept with the entry (report PDF, evidence pack), by name. */
  blobs?: Record<string, Uint8Array>;
}

/** A gate that did not pass, as kept in an entry (WAIVED: it failed under a waiver). */
export interface FailedGate {
  name: string;
  outcome: 'FAIL' | 'WARN' | 'WAIVED';
  metric: string;
  attribute: string | null;
  value: number | null;
  threshold: number;
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

const label = (value: unknown) => (value === undefined || value === null || value === '' ? null : String(value));

/** The key metrics of a result (fairness ones are the worst across attributes). */
export function keyMetrics(result: AnyAuditResult): Record<string, number | null> {
  const task = 'task' in result ? result.task : undefined;
  // A multiclass or regression entry keeps the binary columns (null where the task has no such metric) and adds its own.
  const ids = [...KEY_METRICS, ...(task ? TASK_KEY_METRICS[task] : [])];
  return Object.fromEntries(ids.map((id) => [id, metricValue(result, id).value]));
}

function entryColumns(input: RegistryAppend, prevHash: string, blobHashes: Record<string, string>): EntryColumns {
  const { result, manifest } = input;
  const metadata = input.metadata ?? {};
  const model = result.inputs.model;
  const fileStem = 'file' in model ? model.file.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '') : `score column ${model.column}`;
  const decision = result.policy_decision;
  const failed: FailedGate[] = (decision?.gates ?? [])
    .filter((g) => g.outcome === 'FAIL' || g.outcome === 'WARN' || g.outcome === 'WAIVED')
    .map((g) => ({
      name: g.name,
      outcome: g.outcome as FailedGate['outcome'],
      metric: g.metric,
      attribute: g.attribute,
      value: g.value,
      threshold: g.threshold,
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
    const { seq, hash: lastHash, count } = checkedHead(db, fileName);
    const entry = prepareEntry(input, lastHash, sha256);
    insertEntry(db, seq, entry);
    db.run("UPDATE meta SET value = ? WHERE key = 'entries'", [String(count + 1)]);
    db.run("UPDATE meta SET value = ? WHERE key = 'head_hash'", [entry.hash]);
    return appendedRow(seq, entry);
  });
}

/** The chain head of a file, refused when the recorded head does not match its last entry. */
function checkedHead(db: SqlDatabase, fileName: string): { seq: number; hash: string; count: number } {
  const last = db.exec('SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1')[0]?.values[0];
  const head = registryHead(db);
  const lastHash = last ? String(last[1]) : GENESIS_HASH;
  const count = Number(scalar(db, 'SELECT count(*) FROM entries'));
  if (head.head_hash !== lastHash || head.entries !== count) throw changedOutside(fileName, head, count, lastHash);
  return { seq: last ? Number(last[0]) + 1 : 1, hash: lastHash, count };
}

/** The refusal of an append to a registry whose recorded head does not match its entries. */
export function changedOutside(registryName: string, head: { entries: number; head_hash: string }, count: number, lastHash: string): RegistryError {
  return new RegistryError(`${registryName} was changed outside Plumbline: it records ${head.entries} entries ending in ${head.head_hash.slice(0, 12)}…, but holds ${count} ending in ${lastHash.slice(0, 12)}…. Nothing was appended; run plumbline registry verify ${registryName} to see what changed.`);
}

function insertEntry(db: SqlDatabase, seq: number, entry: PreparedEntry): void {
  const stored = HASHED.filter((c) => c !== 'result_gz');
  db.run(`INSERT INTO entries (seq, ${stored.join(', ')}, entry_hash) VALUES (${Array(stored.length + 2).fill('?').join(', ')})`, [seq, ...stored.map((c) => entry.columns[c]), entry.hash]);
  db.run('INSERT INTO results (seq, result_gz) VALUES (?, ?)', [seq, entry.columns.result_gz]);
  for (const blob of entry.blobs) db.run('INSERT INTO blobs (seq, name, sha256, bytes) VALUES (?, ?, ?, ?)', [seq, blob.name, blob.sha256, blob.bytes]);
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

/** Up to `limit` entries after entry `after`, with their stored results and kept files. */
export function readStoredEntries(db: SqlDatabase, after: number, limit: number): StoredEntry[] {
  const statement = db.prepare(`SELECT e.seq, ${HASHED.map(columnSource).join(', ')}, e.entry_hash FROM entries e LEFT JOIN results r ON r.seq = e.seq WHERE e.seq > ? ORDER BY e.seq LIMIT ?`);
  const entries: StoredEntry[] = [];
  try {
    statement.bind([after, limit]);
    while (statement.step()) {
      const values = statement.get();
      const columns = Object.fromEntries(HASHED.map((c, k) => [c, values[k + 1]])) as EntryColumns;
      entries.push({ seq: Number(values[0]), columns, hash: String(values[HASHED.length + 1]), blobs: [] });
    }
  } finally {
    statement.free();
  }
  if (!entries.length) return entries;
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const blobs = db.exec('SELECT seq, name, sha256, bytes FROM blobs WHERE seq >= ? AND seq <= ? ORDER BY seq, name', [entries[0].seq, entries.at(-1)!.seq])[0]?.values ?? [];
  for (const [seq, name, sha, bytes] of blobs) bySeq.get(Number(seq))?.blobs.push({ name: String(name), sha256: String(sha), bytes: bytes as Uint8Array });
  return entries;
}

/**
 * Appends entries copied from another registry (`readStoredEntries`, or a PostgreSQL
 * registry's) at the end of the chain in one write transaction, each re-chained onto the
 * head (`rechainEntry`: verified first). Entries whose hash is already at the same place
 * in this chain (a copy imported before) are skipped. All or nothing.
 */
export function appendStoredEntries(db: SqlDatabase, fileName: string, sourceName: string, entries: readonly StoredEntry[], sha256: Sha256 = sha256Hex): { appended: number; skipped: number } {
  return transaction(db, () => {
    let { seq, hash, count } = checkedHead(db, fileName);
    let skipped = 0;
    let appended = 0;
    for (const entry of entries) {
      if (entry.seq <= count && scalar(db, 'SELECT entry_hash FROM entries WHERE seq = ?', [entry.seq]) === entry.hash && appended === 0) {
        skipped++;
        continue;
      }
      const moved = rechainEntry(sourceName, entry, hash, sha256);
      insertEntry(db, seq, moved);
      seq++;
      hash = moved.hash;
      appended++;
    }
    count += appended;
    db.run("UPDATE meta SET value = ? WHERE key = 'entries'", [String(count)]);
    db.run("UPDATE meta SET value = ? WHERE key = 'head_hash'", [hash]);
    return { appended, skipped };
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
    while (statement.step()) rows.push(registryRow(statement.get()));
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

/**
 * One thing `verify` found wrong. Kinds: `altered` (that entry's content, a kept file, or
 * the hash the next entry recorded for it), `reordered` (it follows another entry than the
 * one it was appended after), `removed` (entries missing from the chain; the entries left
 * are intact), `added` (entries from `seq` on were added without their chain head),
 * `unguarded` (the append-only guard or the schema was changed: any entry may have been
 * removed or rewritten with the chain head fixed), `rewritten` (a recorded checkpoint
 * does not hold: entries up to it were rewritten).
 */
export interface RegistryProblem {
  /** The first entry affected (its position in the chain); 0 for the file as a whole. */
  seq: number;
  kind: 'altered' | 'removed' | 'reordered' | 'added' | 'unguarded' | 'rewritten';
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
  /** `entries:merkle_root`, the checkpoint to record elsewhere (see `RegistryCheckpoint`). */
  checkpoint: string;
  /** Problems in chain order (file-wide ones first); the first is the first thing that was altered, removed or reordered. */
  problems: RegistryProblem[];
}

/**
 * A Merkle root over the first `entries` entries, written `N:ROOT`. Printed on every
 * append; recorded outside the registry (a CI log), it is the anchor the file cannot give
 * itself: `verify --root N:ROOT` proves entries 1–N are still those, which no edit inside
 * the file (a removed tail with the head fixed, a rehashed chain, an older copy put back)
 * can fake.
 */
export interface RegistryCheckpoint {
  entries: number;
  merkle_root: string;
}

/** Parses `N:ROOT` (or a bare ROOT: the root over every entry, as older versions printed it). */
export function parseCheckpoint(text: string, option: string): { entries: number | null; merkle_root: string } {
  const match = /^(?:([1-9]\d{0,9}):)?([0-9a-f]{64})$/.exec(text);
  if (!match) throw new RegistryError(`${option} must be a checkpoint N:ROOT as plumbline audit --registry prints it (the entry count, a colon, 64 lowercase hex digits), or a bare ROOT for the whole registry; got ${quote(text)}.`);
  return { entries: match[1] === undefined ? null : Number(match[1]), merkle_root: match[2] };
}

/** `N:ROOT`. */
export function formatCheckpoint(checkpoint: RegistryCheckpoint): string {
  return `${checkpoint.entries}:${checkpoint.merkle_root}`;
}

/** The checkpoint over entries 1–`entries` (every entry when omitted). */
export function registryCheckpoint(db: SqlDatabase, entries?: number, sha256: Sha256 = sha256Hex): RegistryCheckpoint {
  // Without WHERE or ORDER BY, SQLite reads the hashes from the small index on entry_hash
  // (with each row's seq) rather than every entry row: 5 ms instead of ~100 ms on 10,000 audits.
  const rows = (db.exec('SELECT seq, entry_hash FROM entries')[0]?.values ?? []).map(([seq, hash]) => [Number(seq), String(hash)] as const);
  const hashes = rows
    .filter(([seq]) => entries === undefined || seq <= entries)
    .sort((a, b) => a[0] - b[0])
    .map(([, hash]) => hash);
  return { entries: hashes.length, merkle_root: merkleRoot(hashes, sha256) };
}

/**
 * The problem that makes entry `seq` untrustworthy, if any: one that names it as altered
 * or reordered, entries added outside Plumbline from it on, or a file-wide one (the guard
 * changed, a checkpoint that does not hold), after which no entry can be vouched for.
 * Removed entries leave the others intact.
 */
export function entryProblem(report: VerifyReport, seq: number): RegistryProblem | null {
  return (
    report.problems.find(
      (p) => p.kind === 'unguarded' || p.kind === 'rewritten' || (p.kind === 'added' && seq >= p.seq) || ((p.kind === 'altered' || p.kind === 'reordered') && p.seq === seq),
    ) ?? null
  );
}

/**
 * Refuses entry `seq` of a registry that failed verification: its stored result, report and
 * evidence pack would come out as a clean, self-consistent audit. Returns nothing for an
 * entry that verifies.
 */
export function refuseUntrustedEntry(fileName: string, report: VerifyReport, seq: number): void {
  const problem = entryProblem(report, seq);
  if (problem) throw new RegistryError(`${fileName} entry ${seq} failed verification, so it is not opened or exported as an audit: TAMPERED: ${problem.message}`);
}

/**
 * Refuses a whole-registry export (CSV, monthly summary) of a registry that failed
 * verification: it would count forged or missing audits as real.
 */
export function refuseTamperedRegistry(fileName: string, report: VerifyReport, what: string): void {
  if (!report.ok) throw new RegistryError(`${fileName} failed verification, so no ${what} is made from it: TAMPERED: ${report.problems[0].message}${report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem${report.problems.length > 2 ? 's' : ''}: plumbline registry verify ${fileName} lists them)` : ''}`);
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
export const NOT_A_BLOB = 'not a BLOB';

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
export function verifyRegistry(db: SqlDatabase, sha256: Sha256 = sha256Hex, options: VerifyOptions = {}): VerifyReport {
  const entries: ReadEntry[] = [];
  readEntries(db, sha256, (entry, resultHash) => {
    entry.columns.result_gz = resultHash;
    entries.push(entry);
  });
  return checkEntries(db, entries, sha256, options);
}

/** What verify checks besides the file itself. */
export interface VerifyOptions {
  /** A checkpoint recorded outside the registry (`parseCheckpoint`; `entries: null` for every entry). */
  checkpoint?: { entries: number | null; merkle_root: string };
}

/**
 * `verifyRegistry` with the stored results (all but a few KB per entry) hashed by `digest`
 * off this thread while SQLite reads the next ones; at most `inFlight` wait at a time.
 * The same report, byte for byte.
 */
export async function verifyRegistryAsync(db: SqlDatabase, sha256: Sha256, digest: Sha256Async, options: VerifyOptions & { inFlight?: number } = {}): Promise<VerifyReport> {
  const inFlight = options.inFlight ?? 64;
  const entries: ReadEntry[] = [];
  const waiting: Promise<void>[] = [];
  await readEntries(db, digest, (entry, resultHash) => {
    entries.push(entry);
    if (typeof resultHash === 'string' || resultHash === null) entry.columns.result_gz = resultHash;
    else waiting.push(resultHash.then((hex) => void (entry.columns.result_gz = hex)));
    if (waiting.length >= inFlight) return Promise.all(waiting.splice(0, inFlight / 2)).then(() => undefined);
  });
  await Promise.all(waiting);
  return checkEntries(db, entries, sha256, options);
}

/** The checks of verify, over entries read with their results' hashes. */
function checkEntries(db: SqlDatabase, entries: readonly ReadEntry[], sha256: Sha256, options: VerifyOptions): VerifyReport {
  const keptFiles = new Map<number, KeptFileCheck[]>();
  const blobRows = db.prepare('SELECT seq, name, sha256, bytes FROM blobs ORDER BY seq, name');
  try {
    while (blobRows.step()) {
      const [seq, name, recorded, bytes] = blobRows.getTransient?.() ?? blobRows.get();
      const list = keptFiles.get(Number(seq)) ?? [];
      list.push({ name: String(name), recorded: String(recorded), actual: bytes instanceof Uint8Array ? sha256(bytes) : NOT_A_BLOB });
      keptFiles.set(Number(seq), list);
    }
  } finally {
    blobRows.free();
  }
  return checkChain({ entries, keptFiles, head: registryHead(db), schemaVersion: Number(scalar(db, 'PRAGMA user_version')), guard: guardProblems(db) }, sha256, options);
}

/** An entry as verify reads it: its hashed columns (`result_gz` as the hash of its bytes, null when missing) and its recorded hash. */
export interface ReadEntry {
  seq: number;
  columns: EntryColumns;
  recorded: string;
}

/** A kept file as verify reads it: the hash recorded beside it and the hash of its bytes. */
export interface KeptFileCheck {
  name: string;
  recorded: string;
  actual: string;
}

/** Everything verify reads from a registry, whichever database holds it. */
export interface ChainState {
  /** Every entry in `seq` order. */
  entries: readonly ReadEntry[];
  /** Kept files by entry. */
  keptFiles: ReadonlyMap<number, readonly KeptFileCheck[]>;
  /** The chain head the registry recorded. */
  head: { entries: number; head_hash: string };
  schemaVersion: number;
  /** The host's check of its append-only guard (`unguarded` problems). */
  guard: RegistryProblem[];
}

/**
 * The checks of verify (every entry's hash, the chain, the recorded head, a checkpoint),
 * over what a host read: the same report for a SQLite file and a PostgreSQL database.
 */
export function checkChain({ entries, keptFiles, head, schemaVersion, guard }: ChainState, sha256: Sha256, options: VerifyOptions): VerifyReport {
  const problems: RegistryProblem[] = [...guard];
  const seqOfHash = new Map(entries.map((e) => [e.recorded, e.seq]));
  const blobsBySeq = keptFiles;
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
  const count = entries.length;
  if (head.entries > count) {
    const missing = head.entries - count;
    problems.push({ seq: previous.seq + 1, kind: 'removed', message: `the last ${missing === 1 ? 'entry was' : `${missing} entries were`} removed: the registry recorded ${head.entries} entries, it holds ${count}.` });
  } else if (head.entries === count && head.head_hash !== previous.hash) {
    if (!problems.some((p) => p.seq === previous.seq && p.kind === 'altered')) problems.push({ seq: previous.seq, kind: 'altered', message: `the last entry was replaced: the registry recorded a chain ending in ${head.head_hash.slice(0, 12)}…, it ends in ${previous.hash.slice(0, 12)}….` });
  } else if (head.entries < count) {
    problems.push({ seq: head.entries + 1, kind: 'added', message: `entries after ${head.entries} were added outside Plumbline: the registry recorded ${head.entries} entries, it holds ${count}.` });
  }
  const hashes = entries.map((e) => e.recorded);
  const merkle_root = merkleRoot(hashes, sha256);
  if (options.checkpoint) problems.push(...checkpointProblems(options.checkpoint, hashes, merkle_root, sha256));
  problems.sort((a, b) => a.seq - b.seq);
  return {
    ok: problems.length === 0,
    entries: entries.length,
    schema_version: schemaVersion,
    head_hash: hashes.at(-1) ?? GENESIS_HASH,
    merkle_root,
    checkpoint: formatCheckpoint({ entries: hashes.length, merkle_root }),
    problems,
  };
}

/**
 * The append-only guard as Plumbline made it: every trigger there with its own SQL, and no
 * other trigger. (SQLite's schema cookie would also show a trigger dropped and created
 * again, but copying a file with SQLite's backup API, as sql.js saves the app's registry and
 * the sqlite3 shell's .backup copies one, resets it: it cannot tell a forger from a copy.)
 */
function guardProblems(db: SqlDatabase): RegistryProblem[] {
  if (Number(scalar(db, 'PRAGMA user_version')) < 4) return [];
  const found = new Map((db.exec("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")[0]?.values ?? []).map(([name, sql]) => [String(name), String(sql)]));
  const changed = [
    ...[...GUARD_TRIGGERS].filter(([name]) => !found.has(name)).map(([name]) => `trigger ${name} was dropped`),
    ...[...GUARD_TRIGGERS].filter(([name, sql]) => found.has(name) && found.get(name) !== sql).map(([name]) => `trigger ${name} was changed`),
    ...[...found.keys()].filter((name) => !GUARD_TRIGGERS.has(name)).map((name) => `trigger ${name} was added`),
  ];
  if (!changed.length) return [];
  return [{ seq: 0, kind: 'unguarded', message: `the registry's append-only guard was taken off (${changed.join(', ')}): entries may have been removed or rewritten with the chain head fixed. Check the file against a checkpoint recorded elsewhere (plumbline registry verify FILE --root N:ROOT), or open an intact copy.` }];
}

/** Whether the entries still hold what a checkpoint recorded elsewhere. */
function checkpointProblems(expected: { entries: number | null; merkle_root: string }, hashes: readonly string[], wholeRoot: string, sha256: Sha256): RegistryProblem[] {
  const n = expected.entries ?? hashes.length;
  const recorded = `${expected.entries === null ? '' : `${n}:`}${expected.merkle_root.slice(0, 12)}…`;
  if (n > hashes.length) {
    return [{ seq: hashes.length + 1, kind: 'removed', message: `the checkpoint ${recorded} recorded ${n} entries, the registry holds ${hashes.length}: entr${n - hashes.length === 1 ? `y ${n} was` : `ies ${hashes.length + 1}–${n} were`} removed, or an older copy of the file was put back.` }];
  }
  const root = n === hashes.length ? wholeRoot : merkleRoot(hashes.slice(0, n), sha256);
  if (root === expected.merkle_root) return [];
  return [{ seq: 0, kind: 'rewritten', message: `the Merkle root of entries 1–${n} is ${root.slice(0, 12)}…, not the ${recorded} recorded in the checkpoint: the registry was rewritten since the checkpoint was recorded, or it is another file.` }];
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
  /** Latest decision of each model (REVIEW: a warning or a waiver; `NONE`: no policy applied). */
  status: Record<'PASS' | 'REVIEW' | 'FAIL' | 'NONE', number>;
  /** Gates by how many audits failed (or warned on) them, most first. */
  most_failed_gates: { gate: string; fail: number; warn: number; models: string[] }[];
  models: PortfolioModel[];
}

/** The portfolio's count a decision goes to. */
export function decisionKey(decision: RegistryRow['decision']): 'PASS' | 'REVIEW' | 'FAIL' | 'NONE' {
  const status = auditStatus(decision);
  return status === 'BLOCKED' ? 'FAIL' : status;
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
      // A waived gate failed all the same.
      if (gate.outcome === 'WARN') g.warn++;
      else g.fail++;
      g.models.add(row.model_id);
      gates.set(gate.name, g);
    }
  }
  const status = { PASS: 0, REVIEW: 0, FAIL: 0, NONE: 0 };
  for (const m of models.values()) status[decisionKey(m.latest.decision)]++;
  return {
    audits: rows.length,
    status,
    most_failed_gates: [...gates]
      .map(([gate, g]) => ({ gate, fail: g.fail, warn: g.warn, models: [...g.models].sort() }))
      .sort((a, b) => b.fail + b.warn - (a.fail + a.warn) || b.fail - a.fail || (a.gate < b.gate ? -1 : 1)),
    models: [...models.values()].sort((a, b) => (a.model_id < b.model_id ? -1 : a.model_id > b.model_id ? 1 : 0)),
  };
}

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
 *
 * The code lives beside this file, one job each: sql (the database interface and
 * transactions), sqlite-errors, schema (guard, migrations, opening), entry (an entry and its
 * hash), append, row (a listed entry), query, verify-report, checkpoint (Merkle roots),
 * chain (verify's checks), verify, export-csv, portfolio. This file only re-exports them,
 * so importers keep one path.
 */
export { readTransaction, type Sha256, type Sha256Async, type SqlDatabase, type SqlStatement, type SqlValue } from './sql';
export { guardRegistry, guardRegistryAsync, REGISTRY_BUSY_SECONDS } from './sqlite-errors';
export { createRegistryAtVersion, GENESIS_HASH, openRegistry, REGISTRY_APPLICATION_ID, REGISTRY_SCHEMA_VERSION, type RegistryInfo } from './schema';
export {
  appendedRow,
  entryHash,
  entryJson,
  HASHED,
  KEY_METRICS,
  keyMetrics,
  prepareEntry,
  rechainEntry,
  TASK_KEY_METRICS,
  type EntryColumns,
  type HashedColumn,
  type KeptBlob,
  type PreparedEntry,
  type RegistryAppend,
  type StoredEntry,
} from './entry';
export { appendEntry, appendStoredEntries, AUDIT_IDENTITY, changedOutside, HeldAudits, readStoredEntries } from './append';
export { auditStatus, registryRow, type FailedGate, type RegistryRow } from './row';
export { entryBlob, entryResult, hasFailedGates, listEntries, parseRegistryDate, type RegistryFilter } from './query';
export { entryProblem, refuseTamperedRegistry, refuseUntrustedEntry, type RegistryProblem, type VerifyOptions, type VerifyReport } from './verify-report';
export { formatCheckpoint, merkleRoot, parseCheckpoint, registryCheckpoint, type RegistryCheckpoint } from './checkpoint';
export { checkChain, type ChainState, type KeptFileCheck, type ReadEntry } from './chain';
export { NOT_A_BLOB, verifyRegistry, verifyRegistryAsync } from './verify';
export { registryCsv } from './export-csv';
export { decisionKey, portfolio, type Portfolio, type PortfolioModel } from './portfolio';

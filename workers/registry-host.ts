/**
 * The registry inside the worker: one open sql.js database (the same SQLite file format
 * the CLI writes), loaded only when the portfolio is used. sql.js's .wasm is served by
 * the app itself.
 */
import { createSHA256 } from 'hash-wasm';
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import sqlWasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';
import { appendEntry, entryResult, guardRegistry, listEntries, loadRegistrySummary, merkleRoot, openRegistry, portfolio, registryCsv, RegistryError, verifyRegistry, type AuditResult, type Manifest, type Portfolio, type RegistryInfo, type RegistryRow, type Sha256, type SqlDatabase, type VerifyReport } from '../src/core';

let sql: Promise<SqlJsStatic> | undefined;
/** hash-wasm's SHA-256 (several times the pure-JS default's speed; opening verifies every stored result). */
let wasmSha256: Promise<Sha256> | undefined;
/** The open registry, with what opening it found (its schema and the check of every hash). */
let open: { db: Database; name: string; info: RegistryInfo; verify: VerifyReport } | undefined;

/** What the portfolio page shows of the open registry. */
export interface RegistryView {
  name: string;
  info: RegistryInfo;
  rows: RegistryRow[];
  verify: VerifyReport;
  portfolio: Portfolio;
}

function current(): NonNullable<typeof open> {
  if (!open) throw new RegistryError('No registry is open: open a registry file or start a new one on the Portfolio page.');
  return open;
}

function view({ db, name, info, verify }: NonNullable<typeof open>): RegistryView {
  return guardRegistry(name, () => {
    const rows = listEntries(db as unknown as SqlDatabase);
    return { name, info, rows, verify, portfolio: portfolio(rows) };
  });
}

/** Opens registry bytes (a file, or what was kept in browser storage); null starts an empty one. */
export async function openRegistryBytes(bytes: Uint8Array | null, name: string): Promise<RegistryView> {
  const SQL = await (sql ??= initSqlJs({ locateFile: () => sqlWasmUrl }));
  const sha256 = await (wasmSha256 ??= createSHA256().then((hasher): Sha256 => (bytes) => hasher.init().update(bytes).digest('hex')));
  const db = new SQL.Database(bytes ?? undefined);
  try {
    // Read it whole (every hash checked) before it replaces the open registry: a damaged file is refused here.
    const opened = guardRegistry(name, () => {
      const sqlDb = db as unknown as SqlDatabase;
      const info = openRegistry(sqlDb, name, { create: bytes === null || bytes.length === 0 });
      return { db, name, info, verify: verifyRegistry(sqlDb, sha256) };
    });
    const shown = view(opened);
    open?.db.close();
    open = opened;
    return shown;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Appends an audit done in the app. The append is refused unless the chain head matches,
 * so what opening the registry found still stands and the chain grows by one entry: the
 * check is extended rather than every hash recomputed.
 */
export function appendAudit(result: AuditResult, manifest: Manifest, metadata: Record<string, string>): RegistryView {
  const state = current();
  const row = guardRegistry(state.name, () => appendEntry(state.db as unknown as SqlDatabase, state.name, { result, manifest, metadata }));
  const shown = view(state);
  const merkle_root = merkleRoot(shown.rows.map((r) => r.entry_hash));
  state.info = { ...state.info, entries: shown.rows.length, head_hash: row.entry_hash };
  state.verify = { ...state.verify, entries: shown.rows.length, head_hash: row.entry_hash, merkle_root };
  return { ...shown, info: state.info, verify: state.verify };
}

/** The stored result of entry `seq`. */
export function storedResult(seq: number): AuditResult {
  const { db, name } = current();
  return guardRegistry(name, () => entryResult(db as unknown as SqlDatabase, name, seq));
}

/** The registry file's bytes (to save in browser storage or download). */
export function registryBytes(): Uint8Array {
  return current().db.export();
}

/** Entries as CSV. */
export function registryCsvText(): string {
  return registryCsv(listEntries(current().db as unknown as SqlDatabase));
}

/** The monthly summary of the open registry, as Markdown or PDF bytes. */
export async function registrySummary(month: string, format: 'md' | 'pdf', createdAt: string): Promise<string | Uint8Array> {
  const { db, name } = current();
  const rows = listEntries(db as unknown as SqlDatabase);
  const summary = await loadRegistrySummary();
  return format === 'md' ? summary.monthlySummaryMarkdown(rows, month, name) : summary.monthlySummaryPdf(rows, month, name, createdAt);
}

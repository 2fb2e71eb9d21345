/**
 * The registry inside the worker: one open sql.js database (the same SQLite file format
 * the CLI writes), loaded only when the portfolio is used. sql.js's .wasm is served by
 * the app itself.
 */
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import sqlWasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';
import type { AuditResult } from '../src/core/audit';
import type { Manifest } from '../src/core/manifest';
import { RegistryError } from '../src/core/errors';
import { appendEntry, entryResult, guardRegistry, listEntries, openRegistry, portfolio, registryCsv, verifyRegistry, type Portfolio, type RegistryInfo, type RegistryRow, type SqlDatabase, type VerifyReport } from '../src/core/registry/registry';

let sql: Promise<SqlJsStatic> | undefined;
let open: { db: Database; name: string } | undefined;

/** What the portfolio page shows of the open registry. */
export interface RegistryView {
  name: string;
  info: RegistryInfo;
  rows: RegistryRow[];
  verify: VerifyReport;
  portfolio: Portfolio;
}

function current(): { db: Database; name: string } {
  if (!open) throw new RegistryError('No registry is open: open a registry file or start a new one on the Portfolio page.');
  return open;
}

function view({ db, name } = current()): RegistryView {
  const sqlDb = db as unknown as SqlDatabase;
  return guardRegistry(name, () => {
    const rows = listEntries(sqlDb);
    return { name, info: openRegistry(sqlDb, name), rows, verify: verifyRegistry(sqlDb), portfolio: portfolio(rows) };
  });
}

/** Opens registry bytes (a file, or what was kept in browser storage); null starts an empty one. */
export async function openRegistryBytes(bytes: Uint8Array | null, name: string): Promise<RegistryView> {
  const SQL = await (sql ??= initSqlJs({ locateFile: () => sqlWasmUrl }));
  const db = new SQL.Database(bytes ?? undefined);
  try {
    guardRegistry(name, () => openRegistry(db as unknown as SqlDatabase, name, { create: bytes === null || bytes.length === 0 }));
    // Read it whole before it replaces the open registry: a damaged file is refused here.
    const shown = view({ db, name });
    open?.db.close();
    open = { db, name };
    return shown;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Appends an audit done in the app. */
export function appendAudit(result: AuditResult, manifest: Manifest, metadata: Record<string, string>): RegistryView {
  const { db, name } = current();
  guardRegistry(name, () => appendEntry(db as unknown as SqlDatabase, name, { result, manifest, metadata }));
  return view();
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
  const summary = await import('../src/core/registry/summary');
  return format === 'md' ? summary.monthlySummaryMarkdown(rows, month, name) : summary.monthlySummaryPdf(rows, month, name, createdAt);
}

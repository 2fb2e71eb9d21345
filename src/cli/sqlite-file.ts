/**
 * SQLite on a real file for the CLI: better-sqlite3, SQLite itself compiled natively, with
 * its own unix VFS. That VFS takes SQLite's POSIX advisory locks (fcntl, on the byte
 * ranges every SQLite build uses), so a Plumbline append, the sqlite3 shell, a dashboard or
 * a Python script on the same file all see one another's locks: no client mistakes a
 * running append's journal for a crash leftover and rolls it back, and appends queue up
 * behind one another. The file format is SQLite's own, the same the app reads with sql.js.
 *
 * (The official SQLite WASM build with a VFS over node:fs read pages in place as well, but
 * Node has no fcntl, so that VFS could take none of SQLite's locks: with another client
 * reading, appends that had said "appended" were rolled back.)
 */
import Database from 'better-sqlite3';
import { REGISTRY_BUSY_SECONDS, type SqlDatabase, type SqlStatement, type SqlValue } from '../core/index.ts';

/** An open SQLite file with the interface the registry core uses (sql.js's shape). */
export interface SqliteFile extends SqlDatabase {
  close(): void;
}

type Bindable = number | string | bigint | Buffer | null;

/** Parameters as better-sqlite3 binds them (BLOBs as Buffers over the same bytes). */
function bindable(params?: SqlValue[]): Bindable[] {
  return (params ?? []).map((v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
}

/**
 * Opens (or, with `create`, creates) a SQLite file on disk. A lock held by another client
 * is waited for up to `REGISTRY_BUSY_SECONDS` (SQLite's busy handler) before SQLITE_BUSY.
 * Commits are durable when they return: `synchronous = EXTRA` also syncs the folder after
 * the rollback journal is deleted, which is the commit point (FULL, the default, leaves a
 * committed append to be rolled back if power fails just after it).
 */
export function openSqliteFile(path: string, options: { create?: boolean; readonly?: boolean } = {}): SqliteFile {
  const db = new Database(path, { readonly: options.readonly === true, fileMustExist: !options.create, timeout: REGISTRY_BUSY_SECONDS * 1000 });
  try {
    if (!options.readonly) db.pragma('synchronous = EXTRA');
    // As sql.js and the sqlite3 shell do (better-sqlite3 turns them on): the core's SQL is the same on every host.
    db.pragma('foreign_keys = OFF');
  } catch (error) {
    db.close();
    throw error;
  }
  const prepare = (sql: string) => db.prepare(sql);
  return {
    exec(sql, params) {
      let statement: Database.Statement;
      try {
        statement = prepare(sql);
      } catch (error) {
        // A script of several statements (a migration) returns nothing.
        if (error instanceof RangeError && !params?.length) {
          db.exec(sql);
          return [];
        }
        throw error;
      }
      if (!statement.reader) {
        statement.run(...bindable(params));
        return [];
      }
      const values = statement.raw(true).all(...bindable(params)) as SqlValue[][];
      return values.length ? [{ columns: statement.columns().map((c) => c.name), values }] : [];
    },
    run(sql, params) {
      this.exec(sql, params);
    },
    prepare(sql): SqlStatement {
      const statement = prepare(sql);
      let params: Bindable[] = [];
      let rows: IterableIterator<unknown[]> | undefined;
      let row: SqlValue[] = [];
      const stop = () => {
        rows?.return?.();
        rows = undefined;
      };
      return {
        bind(values) {
          stop();
          params = bindable(values);
          return true;
        },
        step() {
          if (!statement.reader) {
            statement.run(...params);
            return false;
          }
          // An open iterator keeps the connection busy: read to the end (or free) before the next query.
          rows ??= statement.raw(true).iterate(...params) as IterableIterator<unknown[]>;
          const next = rows.next();
          if (next.done) {
            rows = undefined;
            return false;
          }
          row = next.value as SqlValue[];
          return true;
        },
        get: () => row,
        free: () => (stop(), true),
      };
    },
    close: () => db.close(),
  };
}

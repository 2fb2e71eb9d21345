/**
 * The database the registry works on: the part of sql.js's API it uses (any host's SQLite
 * answers it: sql.js in the worker, SQLite itself in the CLI), the hash functions hosts
 * pass in, and the read and write transactions every registry operation runs in.
 */
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

/** The first value of a query's first row, or null when it gives none. */
export function scalar(db: SqlDatabase, sql: string, params?: SqlValue[]): SqlValue {
  return db.exec(sql, params)[0]?.values[0]?.[0] ?? null;
}

/**
 * Runs `body` as one write transaction. `BEGIN IMMEDIATE` takes SQLite's write lock before
 * anything is read, so what the body reads (the chain head) cannot change under it: every
 * SQLite client on the file waits for the lock (the CLI's file access uses SQLite's own
 * locks, see src/cli/sqlite-file.ts).
 */
export function transaction<T>(db: SqlDatabase, body: () => T): T {
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

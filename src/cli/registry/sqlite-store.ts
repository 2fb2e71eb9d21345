/**
 * A registry file opened in place with SQLite (better-sqlite3, loaded only when a file is
 * opened): checking its path, opening and upgrading it, verifying it in one read
 * transaction, and the store interface a PostgreSQL registry shares.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { appendEntry, appendStoredEntries, entryBlob, entryResult, guardRegistry, guardRegistryAsync, listEntries, openRegistry, readStoredEntries, readTransaction, registryCheckpoint, RegistryError, verifyRegistryAsync, type Appended, type RegistryAppend, type RegistryFilter, type RegistryInfo, type RegistryReader, type RegistryRow, type RegistryStore, type StoredEntry, type VerifyOptions, type VerifyReport } from '../../core/index.ts';
import type { SqliteFile } from '../sqlite-file.ts';
import { UsageError } from '../shared.ts';
import { nodeSha256, threadSha256 } from './hash.ts';

/**
 * better-sqlite3 (an optional dependency), loaded when a registry file is opened: a team
 * whose registry is a PostgreSQL database needs no SQLite driver installed.
 */
export async function openSqliteFile(...args: Parameters<typeof import('../sqlite-file.ts').openSqliteFile>): Promise<SqliteFile> {
  let driver: typeof import('../sqlite-file.ts');
  try {
    driver = await import('../sqlite-file.ts');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /better-sqlite3|bindings/.test(message)) {
      throw new UsageError('a registry file needs better-sqlite3, an optional dependency that is not installed here (its install downloads a prebuilt SQLite binary, or compiles one with Python and a C compiler). Run npm install better-sqlite3 where that works, or use a PostgreSQL registry (--registry postgresql://…).');
    }
    throw error;
  }
  return driver.openSqliteFile(...args);
}

/**
 * Verifies a registry opened in place, in one read transaction. The stored results (all but
 * a few KB of the file) are hashed on a second thread while SQLite reads the next ones,
 * then the chain, the guard and the checkpoint if given are checked.
 */
export async function verifyRegistryFile(db: SqliteFile, fileName: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  return readVerified(db, fileName, options, (report) => report);
}

/**
 * Verifies the registry and runs `body` with the report, in one read transaction: what
 * `body` reads (an entry to show, the rows to export) is what was verified.
 */
async function readVerified<T>(db: SqliteFile, fileName: string, options: VerifyOptions, body: (report: VerifyReport) => T | Promise<T>): Promise<T> {
  const hasher = threadSha256();
  try {
    return await guardRegistryAsync(fileName, () => readTransaction(db, async () => body(await verifyRegistryAsync(db, nodeSha256, hasher.digest, options))));
  } finally {
    await hasher.close();
  }
}

/** The registry file's own problems (missing, a folder) before SQLite opens it. */
export async function checkPath(path: string, create: boolean): Promise<void> {
  try {
    if ((await stat(path)).isDirectory()) throw new UsageError(`cannot read the registry ${path}: it is a folder.`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UsageError(`cannot read the registry ${path}: ${(error as Error).message}.`);
    if (!create) throw new RegistryError(`${path} does not exist. Create it with: plumbline registry init ${path}.`);
    const folder = dirname(path);
    if (!(await stat(folder).then((s) => s.isDirectory(), () => false))) throw new UsageError(`cannot create the registry ${path}: the folder ${folder} does not exist.`);
  }
}

/**
 * Opens a registry file in place (creating it when `create` and it is missing) and brings
 * its schema up to date, under SQLite's write lock when there is anything to write.
 */
export async function openRegistryFile(path: string, options: { create?: boolean } = {}): Promise<{ db: SqliteFile; info: RegistryInfo }> {
  await checkPath(path, options.create === true);
  const db = await guardRegistryAsync(basename(path), () => openSqliteFile(path, { create: options.create }));
  try {
    return { db, info: guardRegistry(basename(path), () => openRegistry(db, basename(path), options)) };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A registry file opened in place with SQLite, behind the interface a database shares. */
export class SqliteRegistry implements RegistryStore {
  constructor(
    readonly db: SqliteFile,
    readonly name: string,
    readonly info: RegistryInfo,
  ) {}

  async list(filter?: RegistryFilter): Promise<RegistryRow[]> {
    return guardRegistry(this.name, () => listEntries(this.db, filter));
  }

  readVerified<T>(options: VerifyOptions, body: (report: VerifyReport, reader: RegistryReader) => T | Promise<T>): Promise<T> {
    const { db, name } = this;
    const reader: RegistryReader = {
      list: async (filter) => listEntries(db, filter),
      entryResult: async (seq) => entryResult(db, name, seq),
      entryBlob: async (seq, file) => entryBlob(db, name, seq, file),
      async *storedEntries() {
        for (let batch = readStoredEntries(db, 0, 200); batch.length; batch = readStoredEntries(db, batch.at(-1)!.seq, 200)) yield batch;
      },
    };
    return readVerified(db, name, options, (report) => body(report, reader));
  }

  async append(input: RegistryAppend): Promise<Appended> {
    const entry = guardRegistry(this.name, () => appendEntry(this.db, this.name, input, nodeSha256));
    const checkpoint = guardRegistry(this.name, () => registryCheckpoint(this.db, entry.seq, nodeSha256));
    return { entry, checkpoint };
  }

  async appendStored(sourceName: string, entries: readonly StoredEntry[]) {
    const done = guardRegistry(this.name, () => appendStoredEntries(this.db, this.name, sourceName, entries, nodeSha256));
    return { ...done, checkpoint: guardRegistry(this.name, () => registryCheckpoint(this.db, undefined, nodeSha256)) };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

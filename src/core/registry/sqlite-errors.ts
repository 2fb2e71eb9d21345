/**
 * SQLite's own errors (a damaged file, a full disk, a lock held too long, a read-only
 * folder) turned into RegistryErrors that name the registry file and what to do.
 */
import { RegistryError, quote } from '../base/errors';

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
export function sqliteProblem(error: Error): 'full' | 'busy' | 'io' | 'readonly' | 'not-sqlite' | 'damaged' | null {
  const code = String((error as { code?: unknown }).code ?? '');
  const message = error.message;
  // A file that does not start with SQLite's header (a text file, an image): not a damaged registry, another file.
  if (code === 'SQLITE_NOTADB' || /file is not a database/i.test(message)) return 'not-sqlite';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || /database or disk is full/i.test(message)) return 'full';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || /database is locked/i.test(message)) return 'busy';
  if (code.startsWith('SQLITE_IOERR') || /disk I\/O error/i.test(message)) return 'io';
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || /readonly database/i.test(message)) return 'readonly';
  // SQLite's errors are plain Errors in sql.js, SqliteErrors in better-sqlite3 (a WASM
  // abort a RuntimeError); a damaged JSON column fails to parse. Anything else is a bug.
  if (error.constructor === Error || error.name === 'RuntimeError' || error.name === 'SqliteError' || error instanceof SyntaxError) return 'damaged';
  return null;
}

/** SQLite's error as a RegistryError naming the file and what to do (other errors as they are). */
export function asRegistryError(fileName: string, error: unknown): unknown {
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
    case 'not-sqlite':
      return notSqlite(fileName, error.message);
    case 'damaged':
      return damagedRegistry(fileName, error.message);
    default:
      return error;
  }
}

/** How long a CLI command waits for another client's lock on the registry before it gives up. */
export const REGISTRY_BUSY_SECONDS = 60;

/** The refusal of a file SQLite reports as damaged. */
export function damagedRegistry(fileName: string, message: string): RegistryError {
  return new RegistryError(`${fileName} is damaged: SQLite reports ${quote(message)}. Open an intact copy of the registry (plumbline registry verify names what changed in it).`);
}

/** The refusal of a file that is not an SQLite database at all. */
export function notSqlite(fileName: string, message: string): RegistryError {
  return new RegistryError(`${fileName} is not an SQLite database (${message}): not a registry, or one whose first bytes were overwritten (then open an intact copy). Give a registry's path, or create one at a new path with: plumbline registry init FILE.`);
}

/** Pieces the CLI commands share: exit codes, usage errors, reading files. */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { totalmem } from 'node:os';
import { basename } from 'node:path';
import { loadTableStream, type IncrementalHash, type LoadedTable, type LoadOptions, type LoadProgress } from '../core/data/read.ts';

/** Exit codes of the command, as CI pipelines read them. */
export const EXIT = { ok: 0, gateFailed: 1, cannotAudit: 2 } as const;

/** A problem with the command line itself. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Reads an input file, turning file-system errors into one-line messages. */
export async function readInput(path: string, role: string): Promise<{ fileName: string; bytes: Uint8Array }> {
  try {
    return { fileName: basename(path), bytes: new Uint8Array(await readFile(path)) };
  } catch (error) {
    throw fileError(error, path, role);
  }
}

function fileError(error: unknown, path: string, role: string): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
  return new UsageError(`cannot read the ${role} file ${path}: ${why}.`);
}

/** Share of the machine's memory a table may take before the load is refused (the estimate runs after 1,000 rows). */
const TABLE_MEMORY_SHARE = 0.75;

/**
 * Reads a data file (CSV, Arrow, Parquet) as a stream, 1 MB at a time: the file's bytes are
 * never held whole (a file over 2 GiB cannot even be read into one Node buffer), its
 * SHA-256 is computed on the way by node:crypto, and a table that would not fit in this
 * machine's memory is refused after its first rows, saying how large it would be.
 */
export async function loadTableFile(path: string, role: string, options: LoadOptions, onProgress?: (progress: LoadProgress) => void): Promise<{ fileName: string; loaded: LoadedTable }> {
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
    size = info.size;
  } catch (error) {
    throw fileError(error, path, role);
  }
  const open = () => createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    const loaded = await loadTableStream(basename(path), open(), { ...options, totalBytes: size, memoryLimit: totalmem() * TABLE_MEMORY_SHARE, hash: nodeIncrementalSha256, reopen: open, onProgress });
    return { fileName: basename(path), loaded };
  } catch (error) {
    // Read errors (permissions, a file removed while read) come from the stream; the loader's own are typed.
    if (typeof (error as NodeJS.ErrnoException).code === 'string') throw fileError(error, path, role);
    throw error;
  }
}

/** Reads a text file (config, policy, result). */
export async function readText(path: string, role: string): Promise<string> {
  return new TextDecoder().decode((await readInput(path, role)).bytes);
}

/** Node's native SHA-256 for the core's readers (several times faster than the pure-JavaScript default). */
export function nodeIncrementalSha256(): IncrementalHash {
  const hash = createHash('sha256');
  return { update: (bytes) => void hash.update(bytes), digestHex: () => hash.digest('hex') };
}

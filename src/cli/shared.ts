/** Pieces the CLI commands share: exit codes, usage errors, reading files. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

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
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
    throw new UsageError(`cannot read the ${role} file ${path}: ${why}.`);
  }
}

/** Reads a text file (config, policy, result). */
export async function readText(path: string, role: string): Promise<string> {
  return new TextDecoder().decode((await readInput(path, role)).bytes);
}

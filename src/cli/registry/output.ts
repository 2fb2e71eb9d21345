/** Writing a command's output file (CSV, summary, kept file) whole or not at all. */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../shared.ts';

/**
 * Writes an output file whole or not at all: to a temporary name beside it, synced, then
 * renamed over it, so a full disk or a crash never leaves half a CSV, summary or report.
 */
export async function writeOutputFile(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new UsageError(`cannot write ${path}: the disk is full: free space and run again (nothing was written to ${path}).`);
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}.`);
  }
}

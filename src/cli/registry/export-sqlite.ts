/** Copying a verified registry's entries out: every stored entry, and `registry export --sqlite`. */
import { rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { refuseTamperedRegistry, type RegistryReader, type RegistryStore, type StoredEntry, type VerifyOptions } from '../../core/index.ts';
import { UsageError } from '../shared.ts';
import { openRegistryStore } from './open-store.ts';

/** Every entry of a verified registry, with its stored result and kept files. */
export async function allStoredEntries(reader: RegistryReader): Promise<StoredEntry[]> {
  const entries: StoredEntry[] = [];
  for await (const batch of reader.storedEntries()) entries.push(...batch);
  return entries;
}

/**
 * `registry export --sqlite OUT`: a new registry file with the entries of a verified
 * registry, hashes and Merkle root unchanged. Written beside OUT under a temporary name
 * and renamed once complete, so OUT is never half a registry.
 */
export async function exportSqlite(store: RegistryStore, checkpoint: VerifyOptions['checkpoint'], output: string): Promise<{ entries: number; merkle_root: string }> {
  if (await stat(output).then(() => true, () => false)) throw new UsageError(`cannot export to ${output}: it exists. Give a new file name (export never overwrites a registry).`);
  const entries = await store.readVerified({ checkpoint }, (report, reader) => {
    refuseTamperedRegistry(store.name, report, 'SQLite export');
    return allStoredEntries(reader);
  });
  const temporary = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  let file: RegistryStore | undefined;
  try {
    file = await openRegistryStore(temporary, { create: true });
    const copied = await file.appendStored(store.name, entries);
    await file.close();
    file = undefined;
    await rename(temporary, output);
    return copied.checkpoint;
  } catch (error) {
    await file?.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

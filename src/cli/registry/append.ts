/**
 * What the audit command and the Node API ask of a registry: checking it before a long
 * audit, appending one audit, the message an append prints, and one verified entry's
 * result as the baseline of a champion-vs-challenger audit.
 */
import { basename } from 'node:path';
import { formatCheckpoint, guardRegistry, guardRegistryAsync, openRegistry, refuseUntrustedEntry, RegistryError, type Appended, type BaselineResult, type RegistryAppend, type RegistryInfo } from '../../core/index.ts';
import { registryLabel, withRegistry } from './open-store.ts';
import { openPostgresRegistry } from './postgres/open.ts';
import { isPostgresUrl } from './postgres/url.ts';
import { checkPath, openSqliteFile } from './sqlite-store.ts';

/**
 * Checks, writing nothing, that a file is a registry this Plumbline can append to (the
 * audit command does this before a long audit; an old schema is upgraded when it appends).
 * A PostgreSQL URL is checked by connecting: an unreachable server or a database without a
 * registry fails now, not after the audit.
 */
export async function checkRegistryFile(target: string): Promise<RegistryInfo> {
  if (isPostgresUrl(target)) {
    const store = await openPostgresRegistry(target);
    await store.close();
    return store.info;
  }
  await checkPath(target, false);
  const db = await guardRegistryAsync(basename(target), () => openSqliteFile(target));
  try {
    return guardRegistry(basename(target), () => openRegistry(db, basename(target), { migrate: false }));
  } finally {
    db.close();
  }
}

export type { Appended } from '../../core/index.ts';

/**
 * Appends one audit to a registry (used by `plumbline audit --registry`). Returns once the
 * entry is committed (on disk, or in the database), with the checkpoint `N:ROOT` over
 * entries 1–N (it stays true whatever is appended later).
 */
export async function appendToRegistry(target: string, input: RegistryAppend): Promise<Appended> {
  return withRegistry(target, (store) => store.append(input));
}

/**
 * One verified entry's audit result, as the baseline of a champion-vs-challenger audit
 * (`plumbline audit --baseline REGISTRY#SEQ`): its label is `REGISTRY#SEQ` and its digest
 * the entry's stored result SHA-256.
 */
export async function registryBaseline(target: string, seq: number): Promise<{ result: BaselineResult; file: string; sha256: string }> {
  return withRegistry(target, (store) =>
    store.readVerified({}, async (report, reader) => {
      refuseUntrustedEntry(store.name, report, seq);
      const result = await reader.entryResult(seq);
      const row = (await reader.list()).find((r) => r.seq === seq);
      if (!row) throw new RegistryError(`${store.name} has no entry ${seq} (see plumbline registry list ${registryLabel(target)}).`);
      return { result: result as unknown as BaselineResult, file: `${registryLabel(target)}#${seq}`, sha256: row.result_sha256 };
    }),
  );
}

/** The lines `plumbline audit --registry` prints once the append is committed. */
export function appendedMessage(target: string, { entry, checkpoint }: Appended): string {
  const text = formatCheckpoint(checkpoint);
  const shown = registryLabel(target);
  return `plumbline: appended entry ${entry.seq} (${entry.model_id}, ${entry.decision ?? 'no policy'}) to the registry ${shown}
plumbline: registry checkpoint ${text}: record it outside the registry (a CI log); plumbline registry verify ${shown} --root ${text} then proves entries 1–${entry.seq} were neither changed nor removed.
`;
}

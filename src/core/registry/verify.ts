/**
 * Verifying a SQLite registry: reads every entry, its stored result and its kept files in
 * one pass (hashing results on this thread or off it), checks the append-only guard is the
 * one Plumbline made, and runs the chain's checks over what it read.
 */
import { sha256Hex } from '../base/hash';
import { checkChain, type KeptFileCheck, type ReadEntry } from './chain';
import { columnSource, HASHED, type EntryColumns } from './entry';
import { GUARD_TRIGGERS, registryHead } from './schema';
import { scalar, type Sha256, type Sha256Async, type SqlDatabase } from './sql';
import type { RegistryProblem, VerifyOptions, VerifyReport } from './verify-report';

/** What a `result_gz` that is not a BLOB hashes as: never a recorded hash. */
export const NOT_A_BLOB = 'not a BLOB';

/**
 * Reads every entry with its stored result (one pass over the file), handing each BLOB to
 * `hash` while the row is current; `hash` may answer later (verify's async form).
 */
function readEntries<H extends string | Promise<string>>(db: SqlDatabase, hash: (bytes: Uint8Array) => H, each: (entry: ReadEntry, resultHash: H | string | null) => void | Promise<void>): void | Promise<void> {
  const statement = db.prepare(`SELECT e.seq, ${HASHED.map(columnSource).join(', ')}, e.entry_hash FROM entries e LEFT JOIN results r ON r.seq = e.seq ORDER BY e.seq`);
  const resultAt = HASHED.indexOf('result_gz') + 1;
  const finish = () => void statement.free();
  const loop = (): void | Promise<void> => {
    while (statement.step()) {
      // Stored results are hashed where SQLite holds them (no copy) when the host allows it.
      const values = statement.getTransient?.() ?? statement.get();
      const stored = values[resultAt];
      const resultHash = stored instanceof Uint8Array ? hash(stored) : stored === null ? null : NOT_A_BLOB;
      values[resultAt] = null;
      const columns = Object.fromEntries(HASHED.map((c, k) => [c, values[k + 1]])) as EntryColumns;
      const waiting = each({ seq: Number(values[0]), columns, recorded: String(values[HASHED.length + 1]) }, resultHash);
      if (waiting) return waiting.then(loop);
    }
  };
  try {
    const out = loop();
    if (out) return out.finally(finish);
  } catch (error) {
    finish();
    throw error;
  }
  finish();
}

/**
 * Recomputes every entry's hash and walks the chain. Names the first entry that was
 * altered (its content or a kept file no longer matches its hash), removed (a gap in the
 * chain, or entries missing from the end) or reordered (it follows a different entry than
 * the one it was appended after).
 */
export function verifyRegistry(db: SqlDatabase, sha256: Sha256 = sha256Hex, options: VerifyOptions = {}): VerifyReport {
  const entries: ReadEntry[] = [];
  readEntries(db, sha256, (entry, resultHash) => {
    entry.columns.result_gz = resultHash;
    entries.push(entry);
  });
  return checkEntries(db, entries, sha256, options);
}

/**
 * `verifyRegistry` with the stored results (all but a few KB per entry) hashed by `digest`
 * off this thread while SQLite reads the next ones; at most `inFlight` wait at a time.
 * The same report, byte for byte.
 */
export async function verifyRegistryAsync(db: SqlDatabase, sha256: Sha256, digest: Sha256Async, options: VerifyOptions & { inFlight?: number } = {}): Promise<VerifyReport> {
  const inFlight = options.inFlight ?? 64;
  const entries: ReadEntry[] = [];
  const waiting: Promise<void>[] = [];
  await readEntries(db, digest, (entry, resultHash) => {
    entries.push(entry);
    if (typeof resultHash === 'string' || resultHash === null) entry.columns.result_gz = resultHash;
    else waiting.push(resultHash.then((hex) => void (entry.columns.result_gz = hex)));
    if (waiting.length >= inFlight) return Promise.all(waiting.splice(0, inFlight / 2)).then(() => undefined);
  });
  await Promise.all(waiting);
  return checkEntries(db, entries, sha256, options);
}

/** The checks of verify, over entries read with their results' hashes. */
function checkEntries(db: SqlDatabase, entries: readonly ReadEntry[], sha256: Sha256, options: VerifyOptions): VerifyReport {
  const keptFiles = new Map<number, KeptFileCheck[]>();
  const blobRows = db.prepare('SELECT seq, name, sha256, bytes FROM blobs ORDER BY seq, name');
  try {
    while (blobRows.step()) {
      const [seq, name, recorded, bytes] = blobRows.getTransient?.() ?? blobRows.get();
      const list = keptFiles.get(Number(seq)) ?? [];
      list.push({ name: String(name), recorded: String(recorded), actual: bytes instanceof Uint8Array ? sha256(bytes) : NOT_A_BLOB });
      keptFiles.set(Number(seq), list);
    }
  } finally {
    blobRows.free();
  }
  return checkChain({ entries, keptFiles, head: registryHead(db), schemaVersion: Number(scalar(db, 'PRAGMA user_version')), guard: guardProblems(db) }, sha256, options);
}

/**
 * The append-only guard as Plumbline made it: every trigger there with its own SQL, and no
 * other trigger. (SQLite's schema cookie would also show a trigger dropped and created
 * again, but copying a file with SQLite's backup API, as sql.js saves the app's registry and
 * the sqlite3 shell's .backup copies one, resets it: it cannot tell a forger from a copy.)
 */
function guardProblems(db: SqlDatabase): RegistryProblem[] {
  if (Number(scalar(db, 'PRAGMA user_version')) < 4) return [];
  const found = new Map((db.exec("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")[0]?.values ?? []).map(([name, sql]) => [String(name), String(sql)]));
  const changed = [
    ...[...GUARD_TRIGGERS].filter(([name]) => !found.has(name)).map(([name]) => `trigger ${name} was dropped`),
    ...[...GUARD_TRIGGERS].filter(([name, sql]) => found.has(name) && found.get(name) !== sql).map(([name]) => `trigger ${name} was changed`),
    ...[...found.keys()].filter((name) => !GUARD_TRIGGERS.has(name)).map((name) => `trigger ${name} was added`),
  ];
  if (!changed.length) return [];
  return [{ seq: 0, kind: 'unguarded', message: `the registry's append-only guard was taken off (${changed.join(', ')}): entries may have been removed or rewritten with the chain head fixed. Check the file against a checkpoint recorded elsewhere (plumbline registry verify FILE --root N:ROOT), or open an intact copy.` }];
}

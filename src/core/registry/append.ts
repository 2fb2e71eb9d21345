/**
 * Appending to a SQLite registry: an audit at the end of the chain, or entries copied from
 * another registry re-chained onto it, each in one write transaction that first checks the
 * recorded chain head; and reading entries whole to copy them elsewhere.
 */
import { RegistryError } from '../base/errors';
import { sha256Hex } from '../base/hash';
import { appendedRow, columnSource, HASHED, prepareEntry, rechainEntry, type EntryColumns, type PreparedEntry, type RegistryAppend, type StoredEntry } from './entry';
import type { RegistryRow } from './row';
import { GENESIS_HASH, registryHead } from './schema';
import { scalar, transaction, type Sha256, type SqlDatabase } from './sql';

/**
 * Appends an audit at the end of the chain, in one transaction. Refuses when the chain
 * head recorded in the file does not match its last entry (the file was changed outside
 * Plumbline): verify it first.
 */
export function appendEntry(db: SqlDatabase, fileName: string, input: RegistryAppend, sha256: Sha256 = sha256Hex): RegistryRow {
  return transaction(db, () => {
    const { seq, hash: lastHash, count } = checkedHead(db, fileName);
    const entry = prepareEntry(input, lastHash, sha256);
    insertEntry(db, seq, entry);
    db.run("UPDATE meta SET value = ? WHERE key = 'entries'", [String(count + 1)]);
    db.run("UPDATE meta SET value = ? WHERE key = 'head_hash'", [entry.hash]);
    return appendedRow(seq, entry);
  });
}

/** The chain head of a file, refused when the recorded head does not match its last entry. */
function checkedHead(db: SqlDatabase, fileName: string): { seq: number; hash: string; count: number } {
  const last = db.exec('SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1')[0]?.values[0];
  const head = registryHead(db);
  const lastHash = last ? String(last[1]) : GENESIS_HASH;
  const count = Number(scalar(db, 'SELECT count(*) FROM entries'));
  if (head.head_hash !== lastHash || head.entries !== count) throw changedOutside(fileName, head, count, lastHash);
  return { seq: last ? Number(last[0]) + 1 : 1, hash: lastHash, count };
}

/** The refusal of an append to a registry whose recorded head does not match its entries. */
export function changedOutside(registryName: string, head: { entries: number; head_hash: string }, count: number, lastHash: string): RegistryError {
  return new RegistryError(`${registryName} was changed outside Plumbline: it records ${head.entries} entries ending in ${head.head_hash.slice(0, 12)}…, but holds ${count} ending in ${lastHash.slice(0, 12)}…. Nothing was appended; run plumbline registry verify ${registryName} to see what changed.`);
}

/** Stores an entry (its row, its result, its kept files) as entry `seq`. */
function insertEntry(db: SqlDatabase, seq: number, entry: PreparedEntry): void {
  const stored = HASHED.filter((c) => c !== 'result_gz');
  db.run(`INSERT INTO entries (seq, ${stored.join(', ')}, entry_hash) VALUES (${Array(stored.length + 2).fill('?').join(', ')})`, [seq, ...stored.map((c) => entry.columns[c]), entry.hash]);
  db.run('INSERT INTO results (seq, result_gz) VALUES (?, ?)', [seq, entry.columns.result_gz]);
  for (const blob of entry.blobs) db.run('INSERT INTO blobs (seq, name, sha256, bytes) VALUES (?, ?, ?, ?)', [seq, blob.name, blob.sha256, blob.bytes]);
}

/** Up to `limit` entries after entry `after`, with their stored results and kept files. */
export function readStoredEntries(db: SqlDatabase, after: number, limit: number): StoredEntry[] {
  const statement = db.prepare(`SELECT e.seq, ${HASHED.map(columnSource).join(', ')}, e.entry_hash FROM entries e LEFT JOIN results r ON r.seq = e.seq WHERE e.seq > ? ORDER BY e.seq LIMIT ?`);
  const entries: StoredEntry[] = [];
  try {
    statement.bind([after, limit]);
    while (statement.step()) {
      const values = statement.get();
      const columns = Object.fromEntries(HASHED.map((c, k) => [c, values[k + 1]])) as EntryColumns;
      entries.push({ seq: Number(values[0]), columns, hash: String(values[HASHED.length + 1]), blobs: [] });
    }
  } finally {
    statement.free();
  }
  if (!entries.length) return entries;
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const blobs = db.exec('SELECT seq, name, sha256, bytes FROM blobs WHERE seq >= ? AND seq <= ? ORDER BY seq, name', [entries[0].seq, entries.at(-1)!.seq])[0]?.values ?? [];
  for (const [seq, name, sha, bytes] of blobs) bySeq.get(Number(seq))?.blobs.push({ name: String(name), sha256: String(sha), bytes: bytes as Uint8Array });
  return entries;
}

/**
 * The columns that say which audit an entry records, wherever it sits in a chain (its hash
 * changes when re-chained): every hashed column but the link (the result by its SHA-256). An
 * entry of the same result under another version, team, owner, decision or kept files is
 * another record (with created, model and result alone, importing it dropped it as held).
 */
export const AUDIT_IDENTITY = ['created', 'model_id', 'model_version', 'team', 'owner', 'data_sha256', 'model_sha256', 'decision', 'failed_gates', 'metrics', 'manifest', 'result_sha256', 'blob_hashes'] as const;

/** An audit's identity from those columns' values, in {@link AUDIT_IDENTITY}'s order. */
export function auditIdentity(values: readonly unknown[]): string {
  return values.map((v) => String(v ?? '')).join('\n');
}

/**
 * The audits a registry already holds, as many times as it holds each: an import skips an
 * entry of which a copy is here (imported before, at whatever place), once per copy.
 */
export class HeldAudits {
  private readonly counts = new Map<string, number>();

  constructor(rows: Iterable<readonly unknown[]>) {
    for (const row of rows) {
      const key = auditIdentity(row);
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }

  /** Whether a copy of the entry is here (and, if so, counts that copy as matched). */
  take(columns: Pick<EntryColumns, (typeof AUDIT_IDENTITY)[number]>): boolean {
    const key = auditIdentity(AUDIT_IDENTITY.map((c) => columns[c]));
    const held = this.counts.get(key) ?? 0;
    if (held === 0) return false;
    this.counts.set(key, held - 1);
    return true;
  }
}

/**
 * Appends entries copied from another registry (`readStoredEntries`, or a PostgreSQL
 * registry's) at the end of the chain in one write transaction, each re-chained onto the
 * head (`rechainEntry`: verified first). Entries of which this registry already holds a copy
 * (the same audit: {@link AUDIT_IDENTITY}, imported before at whatever place) are skipped,
 * so importing the same registry again adds nothing. All or nothing.
 */
export function appendStoredEntries(db: SqlDatabase, fileName: string, sourceName: string, entries: readonly StoredEntry[], sha256: Sha256 = sha256Hex): { appended: number; skipped: number } {
  return transaction(db, () => {
    let { seq, hash, count } = checkedHead(db, fileName);
    let skipped = 0;
    let appended = 0;
    const held = new HeldAudits(db.exec(`SELECT ${AUDIT_IDENTITY.join(', ')} FROM entries`)[0]?.values ?? []);
    for (const entry of entries) {
      if (held.take(entry.columns)) {
        skipped++;
        continue;
      }
      const moved = rechainEntry(sourceName, entry, hash, sha256);
      insertEntry(db, seq, moved);
      seq++;
      hash = moved.hash;
      appended++;
    }
    count += appended;
    db.run("UPDATE meta SET value = ? WHERE key = 'entries'", [String(count)]);
    db.run("UPDATE meta SET value = ? WHERE key = 'head_hash'", [hash]);
    return { appended, skipped };
  });
}

/**
 * The checks of verify over what a host read from a registry (every entry's hash, the chain
 * of `prev_hash`es, the kept files, the recorded head, a checkpoint): the same report for
 * a SQLite file and a PostgreSQL database.
 */
import { quote } from '../base/errors';
import { formatCheckpoint, merkleRoot } from './checkpoint';
import { entryHash, type EntryColumns } from './entry';
import { isObject, jsonColumn } from './row';
import { GENESIS_HASH } from './schema';
import type { Sha256 } from './sql';
import type { RegistryProblem, VerifyOptions, VerifyReport } from './verify-report';

/** An entry as verify reads it: its hashed columns (`result_gz` as the hash of its bytes, null when missing) and its recorded hash. */
export interface ReadEntry {
  seq: number;
  columns: EntryColumns;
  recorded: string;
}

/** A kept file as verify reads it: the hash recorded beside it and the hash of its bytes. */
export interface KeptFileCheck {
  name: string;
  recorded: string;
  actual: string;
}

/** Everything verify reads from a registry, whichever database holds it. */
export interface ChainState {
  /** Every entry in `seq` order. */
  entries: readonly ReadEntry[];
  /** Kept files by entry. */
  keptFiles: ReadonlyMap<number, readonly KeptFileCheck[]>;
  /** The chain head the registry recorded. */
  head: { entries: number; head_hash: string };
  schemaVersion: number;
  /** The host's check of its append-only guard (`unguarded` problems). */
  guard: RegistryProblem[];
}

/**
 * The checks of verify (every entry's hash, the chain, the recorded head, a checkpoint),
 * over what a host read: the same report for a SQLite file and a PostgreSQL database.
 */
export function checkChain({ entries, keptFiles, head, schemaVersion, guard }: ChainState, sha256: Sha256, options: VerifyOptions): VerifyReport {
  const problems: RegistryProblem[] = [...guard];
  const seqOfHash = new Map(entries.map((e) => [e.recorded, e.seq]));
  const blobsBySeq = keptFiles;
  let previous: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };
  for (const { seq, columns, recorded } of entries) {
    const where = `entry ${seq} (${columns.model_id}, ${columns.created})`;
    const actual = entryHash(columns, sha256);
    if (actual !== recorded) {
      problems.push({ seq, kind: 'altered', message: `${where} was altered: its content hashes to ${actual.slice(0, 12)}…, not the ${recorded.slice(0, 12)}… recorded when it was appended.` });
    }
    const kept = blobsBySeq.get(seq) ?? [];
    const listed = jsonColumn<Record<string, string>>(columns.blob_hashes, {}, isObject);
    for (const blob of kept) {
      if (blob.actual !== blob.recorded || listed[blob.name] !== blob.actual) problems.push({ seq, kind: 'altered', message: `${where}: the kept file ${quote(blob.name)} was altered (its bytes hash to ${blob.actual.slice(0, 12)}…, the entry recorded ${String(listed[blob.name] ?? 'no such file').slice(0, 12)}…).` });
    }
    for (const name of Object.keys(listed)) {
      if (!kept.some((b) => b.name === name)) problems.push({ seq, kind: 'removed', message: `${where}: the kept file ${quote(name)} was removed.` });
    }
    if (seq !== previous.seq + 1) {
      problems.push({ seq, kind: 'removed', message: `entr${seq - previous.seq - 1 === 1 ? `y ${previous.seq + 1} was` : `ies ${previous.seq + 1}–${seq - 1} were`} removed: the chain goes from entry ${previous.seq} to entry ${seq}.` });
    } else if (columns.prev_hash !== previous.hash) {
      const appendedAfter = seqOfHash.get(String(columns.prev_hash));
      if (appendedAfter !== undefined) {
        problems.push({ seq, kind: 'reordered', message: `${where} is out of order: it was appended after entry ${appendedAfter}, but now follows entry ${previous.seq}.` });
      } else if (previous.seq > 0 && !problems.some((p) => p.seq === previous.seq)) {
        problems.push({ seq: previous.seq, kind: 'altered', message: `entry ${previous.seq} was altered or replaced: its hash is not the one entry ${seq} recorded for the entry before it.` });
      } else if (previous.seq === 0) {
        problems.push({ seq, kind: 'removed', message: `${where} is not the first entry it was appended as: the entries before it were removed.` });
      }
    }
    previous = { seq, hash: recorded };
  }
  const count = entries.length;
  if (head.entries > count) {
    const missing = head.entries - count;
    problems.push({ seq: previous.seq + 1, kind: 'removed', message: `the last ${missing === 1 ? 'entry was' : `${missing} entries were`} removed: the registry recorded ${head.entries} entries, it holds ${count}.` });
  } else if (head.entries === count && head.head_hash !== previous.hash) {
    if (!problems.some((p) => p.seq === previous.seq && p.kind === 'altered')) problems.push({ seq: previous.seq, kind: 'altered', message: `the last entry was replaced: the registry recorded a chain ending in ${head.head_hash.slice(0, 12)}…, it ends in ${previous.hash.slice(0, 12)}….` });
  } else if (head.entries < count) {
    problems.push({ seq: head.entries + 1, kind: 'added', message: `entries after ${head.entries} were added outside Plumbline: the registry recorded ${head.entries} entries, it holds ${count}.` });
  }
  const hashes = entries.map((e) => e.recorded);
  const merkle_root = merkleRoot(hashes, sha256);
  if (options.checkpoint) problems.push(...checkpointProblems(options.checkpoint, hashes, merkle_root, sha256));
  problems.sort((a, b) => a.seq - b.seq);
  return {
    ok: problems.length === 0,
    entries: entries.length,
    schema_version: schemaVersion,
    head_hash: hashes.at(-1) ?? GENESIS_HASH,
    merkle_root,
    checkpoint: formatCheckpoint({ entries: hashes.length, merkle_root }),
    problems,
  };
}

/** Whether the entries still hold what a checkpoint recorded elsewhere. */
function checkpointProblems(expected: { entries: number | null; merkle_root: string }, hashes: readonly string[], wholeRoot: string, sha256: Sha256): RegistryProblem[] {
  const n = expected.entries ?? hashes.length;
  const recorded = `${expected.entries === null ? '' : `${n}:`}${expected.merkle_root.slice(0, 12)}…`;
  if (n > hashes.length) {
    return [{ seq: hashes.length + 1, kind: 'removed', message: `the checkpoint ${recorded} recorded ${n} entries, the registry holds ${hashes.length}: entr${n - hashes.length === 1 ? `y ${n} was` : `ies ${hashes.length + 1}–${n} were`} removed, or an older copy of the file was put back.` }];
  }
  const root = n === hashes.length ? wholeRoot : merkleRoot(hashes.slice(0, n), sha256);
  if (root === expected.merkle_root) return [];
  return [{ seq: 0, kind: 'rewritten', message: `the Merkle root of entries 1–${n} is ${root.slice(0, 12)}…, not the ${recorded} recorded in the checkpoint: the registry was rewritten since the checkpoint was recorded, or it is another file.` }];
}

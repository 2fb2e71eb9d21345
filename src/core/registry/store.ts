/**
 * One interface over the places a registry lives: a SQLite file (the CLI opens it in place
 * with SQLite itself) or a PostgreSQL database shared by a team. Both store the same
 * entries, hashed the same way (`prepareEntry`, `entryHash`), and verify with the same
 * checks (`checkChain`), so an entry, the chain and its Merkle root do not depend on which
 * one holds them. Hosts implement it; the CLI's commands use only this.
 */
import type { AuditResult } from '../audit';
import type { PolicyDecision } from '../config/policy';
import type { RegistryAppend, RegistryCheckpoint, RegistryFilter, RegistryInfo, RegistryRow, StoredEntry, VerifyOptions, VerifyReport } from './index';

/** What an append left: the entry, and the checkpoint over it and every entry before it. */
export interface Appended {
  entry: RegistryRow;
  checkpoint: RegistryCheckpoint;
}

/** Reads from one consistent state of a registry (what verify checked). */
export interface RegistryReader {
  /** Entries in append order, filtered. */
  list(filter?: RegistryFilter): Promise<RegistryRow[]>;
  /** The full result JSON kept with entry `seq`. */
  entryResult(seq: number): Promise<AuditResult & { policy_decision?: PolicyDecision }>;
  /** A file kept with entry `seq`. */
  entryBlob(seq: number, name: string): Promise<Uint8Array>;
  /** Every entry with its stored result and kept files, in batches in append order. */
  storedEntries(): AsyncIterable<StoredEntry[]>;
}

/** An open registry. */
export interface RegistryStore {
  /** What messages call it: the file's name, or the database URL without its password. */
  readonly name: string;
  /** What opening it found. */
  readonly info: RegistryInfo;
  /** Entries in append order, filtered (one consistent read). */
  list(filter?: RegistryFilter): Promise<RegistryRow[]>;
  /**
   * Verifies every entry, then runs `body` on the same state: what it reads (an entry to
   * show, the rows to export) is what was verified, whatever is appended meanwhile.
   */
  readVerified<T>(options: VerifyOptions, body: (report: VerifyReport, reader: RegistryReader) => T | Promise<T>): Promise<T>;
  /**
   * Appends one audit at the end of the chain, in one transaction that holds the chain
   * head: concurrent appends wait for one another, and one that dies leaves nothing.
   * Returns once the entry is committed, with its checkpoint.
   */
  append(input: RegistryAppend): Promise<Appended>;
  /**
   * Appends another registry's entries (verified by the caller and again one by one,
   * `rechainEntry`) after this one's head, in one transaction: all or none. Entries whose
   * hash is already at the same place here (copied before) are skipped.
   */
  appendStored(sourceName: string, entries: readonly StoredEntry[]): Promise<{ appended: number; skipped: number; checkpoint: RegistryCheckpoint }>;
  close(): Promise<void>;
}

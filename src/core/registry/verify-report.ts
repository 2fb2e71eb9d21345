/**
 * What verify reports (the problems it found, the chain head, the Merkle root) and what a
 * failed verification forbids: opening an untrusted entry, exporting a tampered registry.
 */
import { RegistryError } from '../base/errors';

/**
 * One thing `verify` found wrong. Kinds: `altered` (that entry's content, a kept file, or
 * the hash the next entry recorded for it), `reordered` (it follows another entry than the
 * one it was appended after), `removed` (entries missing from the chain; the entries left
 * are intact), `added` (entries from `seq` on were added without their chain head),
 * `unguarded` (the append-only guard or the schema was changed: any entry may have been
 * removed or rewritten with the chain head fixed), `rewritten` (a recorded checkpoint
 * does not hold: entries up to it were rewritten).
 */
export interface RegistryProblem {
  /** The first entry affected (its position in the chain); 0 for the file as a whole. */
  seq: number;
  kind: 'altered' | 'removed' | 'reordered' | 'added' | 'unguarded' | 'rewritten';
  message: string;
}

/** What `verify` reports. */
export interface VerifyReport {
  ok: boolean;
  entries: number;
  schema_version: number;
  head_hash: string;
  /** RFC 6962 Merkle tree hash over the entry hashes in order. */
  merkle_root: string;
  /** `entries:merkle_root`, the checkpoint to record elsewhere (see `RegistryCheckpoint`). */
  checkpoint: string;
  /** Problems in chain order (file-wide ones first); the first is the first thing that was altered, removed or reordered. */
  problems: RegistryProblem[];
}

/** What verify checks besides the file itself. */
export interface VerifyOptions {
  /** A checkpoint recorded outside the registry (`parseCheckpoint`; `entries: null` for every entry). */
  checkpoint?: { entries: number | null; merkle_root: string };
}

/**
 * The problem that makes entry `seq` untrustworthy, if any: one that names it as altered
 * or reordered, entries added outside Plumbline from it on, or a file-wide one (the guard
 * changed, a checkpoint that does not hold), after which no entry can be vouched for.
 * Removed entries leave the others intact.
 */
export function entryProblem(report: VerifyReport, seq: number): RegistryProblem | null {
  return (
    report.problems.find(
      (p) => p.kind === 'unguarded' || p.kind === 'rewritten' || (p.kind === 'added' && seq >= p.seq) || ((p.kind === 'altered' || p.kind === 'reordered') && p.seq === seq),
    ) ?? null
  );
}

/**
 * Refuses entry `seq` of a registry that failed verification: its stored result, report and
 * evidence pack would come out as a clean, self-consistent audit. Returns nothing for an
 * entry that verifies.
 */
export function refuseUntrustedEntry(fileName: string, report: VerifyReport, seq: number): void {
  const problem = entryProblem(report, seq);
  if (problem) throw new RegistryError(`${fileName} entry ${seq} failed verification, so it is not opened or exported as an audit: TAMPERED: ${problem.message}`);
}

/**
 * Refuses a whole-registry export (CSV, monthly summary) of a registry that failed
 * verification: it would count forged or missing audits as real.
 */
export function refuseTamperedRegistry(fileName: string, report: VerifyReport, what: string): void {
  if (!report.ok) throw new RegistryError(`${fileName} failed verification, so no ${what} is made from it: TAMPERED: ${report.problems[0].message}${report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem${report.problems.length > 2 ? 's' : ''}: plumbline registry verify ${fileName} lists them)` : ''}`);
}

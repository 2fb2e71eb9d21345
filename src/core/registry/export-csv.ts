/**
 * A registry's entries as CSV, one row per audit, with the key metrics in columns.
 */
import { toCsv } from '../data/csv-export';
import { KEY_METRICS } from './entry';
import type { RegistryRow } from './row';

/** Entries as CSV (formula-looking cells neutralised), one row per audit. */
export function registryCsv(rows: readonly RegistryRow[]): string {
  const header = ['seq', 'created', 'model_id', 'model_version', 'team', 'owner', 'decision', 'failed_gates', ...KEY_METRICS, 'data_sha256', 'model_sha256', 'result_sha256', 'entry_hash'];
  return toCsv(
    header,
    rows.map((r) => [r.seq, r.created, r.model_id, r.model_version, r.team, r.owner, r.decision, r.failed_gates.map((g) => `${g.name} (${g.outcome})`).join('; '), ...KEY_METRICS.map((m) => r.metrics[m] ?? null), r.data_sha256, r.model_sha256, r.result_sha256, r.entry_hash]),
  );
}

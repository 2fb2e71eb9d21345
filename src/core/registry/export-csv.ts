/**
 * A registry's entries as CSV, one row per audit, with the key metrics in columns (a
 * multiclass or regression audit's own besides the binary ones, when the registry holds one).
 */
import { toCsv } from '../data/csv-export';
import { keyMetricColumns } from './entry';
import type { RegistryRow } from './row';

/** Entries as CSV (formula-looking cells neutralised), one row per audit. */
export function registryCsv(rows: readonly RegistryRow[]): string {
  // A multiclass or regression entry's own key metrics in columns of their own (they were left out: its row read blank).
  const metrics = keyMetricColumns(rows);
  const header = ['seq', 'created', 'model_id', 'model_version', 'team', 'owner', 'decision', 'failed_gates', ...metrics, 'data_sha256', 'model_sha256', 'result_sha256', 'entry_hash'];
  return toCsv(
    header,
    rows.map((r) => [r.seq, r.created, r.model_id, r.model_version, r.team, r.owner, r.decision, r.failed_gates.map((g) => `${g.name} (${g.outcome})`).join('; '), ...metrics.map((m) => r.metrics[m] ?? null), r.data_sha256, r.model_sha256, r.result_sha256, r.entry_hash]),
  );
}

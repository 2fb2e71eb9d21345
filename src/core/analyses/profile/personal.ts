/**
 * A profile keeps no value of a column that likely holds personal data (e-mail addresses,
 * phone numbers, national IDs, card numbers, names: {@link personalColumns}): its most
 * frequent values, its numbers' quartiles and its stored distribution are left out, and a
 * finding names the column, the kind and the share of its values — never a value. The
 * result, the reports, the evidence pack and the registry then hold none.
 */
import { personalColumns, personalDataMessage } from '../../data/pii';
import type { Table } from '../../data/table';
import type { DataProfile } from './profile';

/** `profile` without the values of `table`'s columns that likely hold personal data, with a finding for each. */
export function withoutPersonalValues(table: Table, profile: DataProfile): DataProfile {
  // A column named like one but holding no such value (a blank `telephone`) keeps nothing personal: it is profiled as any other.
  const personal = personalColumns(table.columns).filter((p) => p.rows > 0);
  if (personal.length === 0) return profile;
  const names = new Set(personal.map((p) => p.column));
  const columns = profile.columns.map((column) => {
    if (!names.has(column.name)) return column;
    const { top: _top, summary: _summary, date_range: _range, ...kept } = column;
    return kept;
  });
  const distributions = Object.fromEntries(Object.entries(profile.distributions).filter(([name]) => !names.has(name)));
  const findings = [...profile.findings, ...personal.map((p) => ({ check: 'personal_data' as const, severity: 'error' as const, column: p.column, message: `${personalDataMessage(p)} Its values are left out of the result (profile, stored distributions, drift, explained rows) and recourse does not change it.` }))];
  return { ...profile, columns, distributions, findings };
}

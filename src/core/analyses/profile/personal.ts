/**
 * A profile keeps no value of a column that likely holds personal data (e-mail addresses,
 * phone numbers, national IDs, card numbers, names: {@link personalColumns}): its most
 * frequent values, its numbers' quartiles and its stored distribution are left out, and a
 * finding names the column, the kind and the share of its values — never a value. The
 * result, the reports, the evidence pack and the registry then hold none.
 */
import { kindText, personalDataMessage, personalValuesOf } from '../../data/pii';
import type { Table } from '../../data/table';
import type { DataProfile } from './profile';

/** `profile` without the values of `table`'s columns that likely hold personal data, with a finding for each. */
export function withoutPersonalValues(table: Table, profile: DataProfile): DataProfile {
  // A column named like one but holding no such value (a blank `telephone`) keeps nothing personal: it is profiled as any other.
  const personal = personalValuesOf(table);
  if (personal.length === 0) return profile;
  const names = new Set(personal.map((p) => p.column));
  const columns = profile.columns.map((column) => {
    if (!names.has(column.name)) return column;
    const { top: _top, summary: _summary, date_range: _range, ...kept } = column;
    return kept;
  });
  const distributions = Object.fromEntries(Object.entries(profile.distributions).filter(([name]) => !names.has(name)));
  const kept = ' Its values are left out of the result (profile, stored distributions, drift, explained rows, reason codes) and recourse does not change it.';
  // A finding about such a column that quotes its cells (numbers with a few texts, a date's format) goes too; those that count do not.
  const findings = profile.findings.filter((f) => !(f.column && names.has(f.column) && !COUNTING_CHECKS.has(f.check)));
  for (const p of personal) {
    const found = p.where === undefined ? personalDataMessage(p) : `${p.column} holds personal data in ${p.where} (${kindText(p.kind)} in ${p.rows} rows there; by its ${p.evidence}), and so likely here too.`;
    findings.push({ check: 'personal_data', severity: 'error', column: p.column, message: `${found}${kept}` });
  }
  return { ...profile, columns, distributions, findings };
}

/** Findings that count a column's cells without quoting them. */
const COUNTING_CHECKS: ReadonlySet<string> = new Set(['constant_column', 'high_missing', 'id_like', 'personal_data']);

/**
 * `plumbline check-data`: every number against pandas / scipy (tests/statistics/
 * build_data_checks.py), personal data in a CSV made here, and the exit codes and messages
 * of a data policy.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import { loadArrow, tableToArrow } from '../../src/core/data/arrow';
import { parseCsv } from '../../src/core/data/csv';
import { checkDataTable, DATA_CHECK_DEFAULTS, type DataCheckOptions } from '../../src/core/data-check/check';
import { detectPii, inheritPersonal, markPersonalFromReference, personalValueColumns, piiHintOf, piiKindOf } from '../../src/core/data/pii';
import { fixture, projectRoot } from '../support/fixtures';

const want = JSON.parse(readFileSync(join(projectRoot, 'tests', 'statistics', 'data_checks.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'plumbline-check-data-'));
const table = (path: string) => parseCsv(readFileSync(path, 'utf8'), { fileName: path.replace(/^.*\//, '') });
const base = (extra: Partial<DataCheckOptions>): DataCheckOptions => ({ protectedAttributes: [], today: '2026-12-04', ...DATA_CHECK_DEFAULTS, ...extra });

/** `plumbline check-data` in this process, dated 2026-12-04. */
function plumbline(args: string[]) {
  return runCli(['check-data', ...args], { cwd: work, env: { SOURCE_DATE_EPOCH: '1796342400' } });
}

const cases = [
  { name: 'german_credit', data: 'german_credit/test.csv', reference: 'german_credit/train.csv', target: 'good_credit', protected: ['gender', 'age_group'] },
  // A tenth of its numbers blanked, against train.csv without blanks: the same values, a shifted missing share.
  { name: 'german_credit_missing', data: 'german_credit/test_missing.csv', reference: 'german_credit/train.csv', target: 'good_credit', protected: ['gender'] },
  { name: 'compas', data: 'compas/test.csv', reference: 'compas/train.csv', target: 'two_year_recid', protected: ['race', 'sex'] },
  { name: 'adult', data: 'adult/test.csv', reference: 'adult/train.csv', target: 'high_income', protected: ['race', 'sex'] },
  // compas/test.csv's rows aged 35 or more (written by the script): a file that has drifted.
  { name: 'compas_older', data: './compas_older.csv', reference: 'compas/train.csv', target: 'two_year_recid', protected: ['race', 'sex'] },
];
/** A case's file: a fixture, or one the script wrote beside it. */
const dataPath = (path: string) => (path.startsWith('./') ? join(projectRoot, 'tests', 'statistics', path.slice(2)) : fixture(path));

describe('data checks against pandas and scipy', () => {
  for (const c of cases) {
    it(c.name, () => {
      const ref = want[c.name];
      const options = { target: c.target, protectedAttributes: c.protected, ...(c.reference ? { reference: table(fixture(c.reference)) } : {}) };
      const report = checkDataTable(table(dataPath(c.data)), 'sha', base(options));
      expect(report.metrics.n_rows).toBe(ref.n_rows);
      expect(report.metrics.n_columns).toBe(ref.n_columns);
      expect(report.columns.map((x) => [x.name, x.missing_share])).toEqual(Object.entries(ref.missing_share));
      expect(report.metrics.max_missing_share).toBe(Math.max(...(Object.values(ref.missing_share) as number[])));
      expect(report.metrics.duplicate_rows).toBe(ref.duplicate_rows);
      expect(report.class_balance).toEqual({ '1': ref.class_counts.positive, 'not 1': ref.class_counts.negative });
      expect(report.metrics.minority_class_share).toBeCloseTo(Math.min(ref.class_counts.positive, ref.class_counts.negative) / ref.n_rows, 15);
      for (const attribute of c.protected) {
        const groups = Object.entries(report.groups[attribute]).map(([g, x]) => [g, x.n, x.base_rate]);
        const expected = Object.entries(ref.groups[attribute] as Record<string, { n: number; base_rate: number }>).map(([g, x]) => [g, x.n, x.base_rate]);
        expect(groups.length).toBe(expected.length);
        for (const [g, n, rate] of expected) {
          const got = groups.find((x) => x[0] === g)!;
          expect(got[1]).toBe(n);
          expect(Math.abs((got[2] as number) - (rate as number))).toBeLessThan(1e-12);
        }
      }
      expect(report.metrics.min_group_size).toBe(ref.min_group_size);
      expect(Math.abs(report.metrics.max_base_rate_gap! - ref.max_base_rate_gap)).toBeLessThan(1e-12);
      const skews = Object.fromEntries(report.columns.filter((x) => x.skewness !== null).map((x) => [x.name, x.skewness]));
      expect(Object.keys(skews).sort()).toEqual(Object.keys(ref.skewness).sort());
      for (const [column, value] of Object.entries(ref.skewness as Record<string, number>)) expect(Math.abs(skews[column]! - value), column).toBeLessThan(1e-9);
      expect(Math.abs(report.metrics.max_abs_skewness! - Math.max(...Object.values(ref.skewness as Record<string, number>).map(Math.abs)))).toBeLessThan(1e-9);
      if (ref.max_proxy_strength !== undefined) expect(Math.abs(report.metrics.max_proxy_strength! - ref.max_proxy_strength)).toBeLessThan(1e-9);
      if (ref.drift) {
        expect(report.drift!.map((d) => d.column).sort()).toEqual(Object.keys(ref.drift).sort());
        for (const d of report.drift!) {
          const r = ref.drift[d.column];
          expect(d.test, d.column).toBe(r.test);
          expect(Math.abs(d.statistic! - r.statistic), d.column).toBeLessThan(1e-9);
          expect(Math.abs(d.p_value! - r.p_value), d.column).toBeLessThan(1e-6);
          // KS reads present values: a shift of the missing share is its own χ² (it was "not drifted" at PSI 1.47).
          expect(d.missing === undefined, d.column).toBe(r.missing === undefined);
          if (r.missing) {
            expect(Math.abs(d.missing!.statistic - r.missing.statistic), d.column).toBeLessThan(1e-9);
            expect(Math.abs(d.missing!.p_value - r.missing.p_value), d.column).toBeLessThan(1e-12 + 1e-6 * r.missing.p_value);
          }
        }
        expect(report.metrics.n_drifted_columns).toBe(ref.n_drifted_columns);
        // scipy's own ks_2samp p-value (exact or asymptotic as scipy picks) is within 0.01 (0.02 for
        // german_credit_missing's 270-row samples at p ≈ 0.64: exact against asymptotic) and flags the same columns at α.
        for (const d of report.drift!.filter((x) => x.test === 'ks')) {
          const scipy = ref.drift[d.column].scipy_p_value as number;
          expect(Math.abs(d.p_value! - scipy), d.column).toBeLessThan(c.name === 'german_credit_missing' ? 0.02 : 0.01);
          expect(d.drifted, d.column).toBe(scipy < DATA_CHECK_DEFAULTS.alpha || (ref.drift[d.column].missing?.p_value ?? 1) < DATA_CHECK_DEFAULTS.alpha);
        }
      }
      // The statistical flags' findings name the columns pandas / scipy put past the default thresholds.
      const flagged = (check: string) => report.findings.filter((f) => f.check === check).map((f) => f.column);
      expect(flagged('missing')).toEqual(Object.keys(ref.missing_share).filter((k) => ref.missing_share[k] >= 0.05));
      expect(flagged('skewness')).toEqual(Object.keys(ref.skewness).filter((k) => Math.abs(ref.skewness[k]) >= 2));
      expect(flagged('drift').sort()).toEqual(Object.keys(ref.drift ?? {}).filter((k) => ref.drift[k].p_value < 0.05 || (ref.drift[k].missing?.p_value ?? 1) < 0.05).sort());
      expect(report.findings.every((f) => f.severity === 'warning' || f.severity === 'error')).toBe(true);
      expect(report.metrics.n_high_missing_columns).toBe(ref.n_high_missing_columns_at['0.05']);
      expect(report.metrics.n_skewed_columns).toBe(ref.n_skewed_columns_at['2']);
      // The flags' thresholds are the caller's: α, the missing share and |skewness| they start from.
      const strict = checkDataTable(table(dataPath(c.data)), 'sha', { ...base(options), alpha: 0.01, missingWarn: 0.1, skewWarn: 1 });
      expect(strict.metrics.n_high_missing_columns).toBe(ref.n_high_missing_columns_at['0.1']);
      expect(strict.metrics.n_skewed_columns).toBe(ref.n_skewed_columns_at['1']);
      if (ref.drift) expect(strict.metrics.n_drifted_columns).toBe(ref.n_drifted_columns_at['0.01']);
      expect(strict.findings.filter((f) => f.check === 'missing').map((f) => f.column)).toEqual(Object.keys(ref.missing_share).filter((k) => ref.missing_share[k] >= 0.1));
      // No fixture column holds personal data.
      expect(report.pii).toEqual([]);
    });
  }
});

/** A CSV with personal data in four columns, and none in the others. */
function piiCsv(): string {
  const first = ['Maria', 'John', 'Aisha', 'Wei', 'Carlos', 'Anna', 'Omar', 'Lena', 'Pierre', 'Sofia'];
  const last = ['Garcia', 'Smith', 'Khan', 'Zhang', 'Silva', 'Novak', 'Haddad', 'Berg', 'Dubois', 'Rossi'];
  const lines = ['customer,contact,phone_number,ssn,income,segment,approved'];
  for (let i = 0; i < 40; i++) {
    const name = `${first[i % 10]} ${last[Math.floor(i / 10)]}`;
    lines.push(`${name},${first[i % 10].toLowerCase()}.${last[Math.floor(i / 10)].toLowerCase()}${i}@example.org,+1 (555) 01${String(i).padStart(2, '0')}-${1000 + i},${String(100 + i).padStart(3, '0')}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i * 7).padStart(4, '0')},${30000 + i * 750},${['A', 'B', 'C'][i % 3]},${i % 2}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('personal data', () => {
  it('recognises e-mails, phones, national ids, card numbers and names, and not ordinary values', async () => {
    expect(['ana@example.org', '+44 20 7946 0958', '(555) 010-2000', '078-05-1120', 'AB 12 34 56 C', '4111 1111 1111 1111', 'Maria Garcia'].map(piiKindOf)).toEqual(['email', 'phone', 'phone', 'national_id', 'national_id', 'payment_card', 'name']);
    expect(['5943', '2026-11-01', 'Private', 'HS-grad', '4111 1111 1111 1112', '1234567', 'United-States', 'yes'].map(piiKindOf)).toEqual([null, null, null, null, null, null, null, null]);
  });

  it('flags the four personal columns of a CSV by their values, naming no value', async () => {
    const path = join(work, 'customers.csv');
    writeFileSync(path, piiCsv());
    const report = checkDataTable(table(path), 'sha', base({ target: 'approved' }));
    expect(report.pii).toEqual([
      { column: 'customer', kind: 'name', share: 1, rows: 40, evidence: 'values' },
      { column: 'contact', kind: 'email', share: 1, rows: 40, evidence: 'values' },
      { column: 'phone_number', kind: 'phone', share: 1, rows: 40, evidence: 'values and column name' },
      { column: 'ssn', kind: 'national_id', share: 1, rows: 40, evidence: 'values and column name' },
    ]);
    expect(report.metrics.pii_columns).toBe(4);
    const messages = report.findings.filter((f) => f.check === 'personal_data').map((f) => f.message);
    expect(messages[1]).toBe('contact likely holds personal data (email in 40 rows, 100.0% of its values; by its values): remove or pseudonymise it before the file is shared or used for training. Its values are left out of the result (profile, stored distributions, drift, explained rows, reason codes) and recourse does not change it.');
    for (const message of messages) expect(message).not.toMatch(/@|555|Garcia/);
    // A range or a ZIP+4 code is not a phone number, nor is a cell count (they were: an income band column dropped from drift and refused as a slice).
    expect(['25000-49999', '100000-149999', '12345-6789', '1000 - 2000'].map(piiKindOf)).toEqual([null, null, null, null]);
    expect(['555-867-5309', '+1 555 867 5309', '(555) 867-5309'].map(piiKindOf)).toEqual(['phone', 'phone', 'phone']);
    expect(['cell_count', 'mobile_user', 'telemetry_score'].map(piiHintOf)).toEqual([null, null, null]);
    expect(['cell', 'mobile_number', 'contact_tel_no', 'cellphone'].map(piiHintOf)).toEqual(['phone', 'phone', 'phone', 'phone']);
    // Its groups would be keyed by each person's value: refused as an audit refuses it (573 addresses were written).
    expect(() => checkDataTable(table(path), 'sha', base({ target: 'approved', protectedAttributes: ['contact'] }))).toThrow('--protected: "contact" likely holds personal data (email, by its values), and its values would name the groups of every table in the result. Group by a coarser column (a region for a phone number, none for a name), or pseudonymise it first.');
    // A file whose column is too mixed to tell alone takes the reference's reading, and a sample its file's.
    const mixed = { source: 'test.csv', columns: [{ kind: 'categorical' as const, name: 'contact', dictionary: ['a@x.org', 'b@x.org', 'none'], codes: Int32Array.from({ length: 10 }, (_, i) => (i < 3 ? i % 2 : 2)), missing: 0 }] };
    const emails = { source: 'ref.csv', columns: [{ ...mixed.columns[0], codes: Int32Array.from({ length: 10 }, (_, i) => i % 2) }] };
    expect(personalValueColumns([mixed])).toEqual(new Set());
    markPersonalFromReference(mixed, emails);
    expect(personalValueColumns([mixed])).toEqual(new Set(['contact']));
    const sample = { columns: [{ ...mixed.columns[0] }] };
    inheritPersonal(sample, mixed);
    expect(personalValueColumns([sample])).toEqual(new Set(['contact']));
    // First names alone count in a column named for them, not in one named for products.
    const words = ['Maria', 'John', 'Aisha', 'Wei', 'Carlos', 'Anna', 'Omar', 'Lena', 'Pierre', 'Sofia', 'Ines', 'Tomas'];
    const column = (name: string) => ({ kind: 'categorical' as const, name, dictionary: words, codes: Int32Array.from({ length: 60 }, (_, i) => (i % 15 < 12 ? i % 15 : -1)), missing: 12 });
    expect(detectPii(column('first_name'))).toEqual({ column: 'first_name', kind: 'name', share: 1, rows: 48, evidence: 'values and column name' });
    expect(detectPii(column('product_name'))).toBeNull();
    expect(detectPii({ ...column('surname'), dictionary: words.slice(0, 9), codes: Int32Array.from({ length: 60 }, (_, i) => i % 9) })).toBeNull();
    // A numeric column named like a phone number is flagged when its values have a phone number's digits.
    expect(detectPii({ kind: 'numeric', name: 'mobile', values: Float64Array.of(5550100, 5550101, NaN, 12), missing: 1 })).toEqual({ column: 'mobile', kind: 'phone', share: 2 / 3, rows: 2, evidence: 'values and column name' });
    for (const name of ['mobile_user', 'cell_count', 'timespan', 'emails_sent']) expect(detectPii({ kind: 'numeric', name, values: Float64Array.of(0, 1, 3, 1, 0), missing: 0 }), name).toBeNull();
    expect(piiHintOf('timespan')).toBeNull();
    expect(detectPii({ kind: 'categorical', name: 'email', codes: Int32Array.of(-1, -1), dictionary: [], missing: 2 })).toEqual({ column: 'email', kind: 'email', share: 0, rows: 0, evidence: 'column name' });
  });
});

describe('plumbline check-data', () => {
  const policy = (gates: string) => `policy_name: Data policy\ngates:\n${gates}`;
  writeFileSync(join(work, 'customers.csv'), piiCsv());
  writeFileSync(join(work, 'data-policy.yaml'), policy('  - {name: No personal data, metric: pii_columns, threshold: 0, comparison: less_equal, severity: error}\n  - {name: Enough rows, metric: n_rows, threshold: 100, comparison: greater_equal, severity: warning}\n'));
  writeFileSync(join(work, 'fresh.yaml'), policy('  - {name: Fresh data, metric: data_age_days, threshold: 30, comparison: less_equal, severity: error}\n  - {name: Stable, metric: n_drifted_columns, threshold: 0, comparison: less_equal, severity: error}\n'));

  it('exits 1 when an error gate fails (personal data), with the gate and decision on stderr', async () => {
    const run = (await plumbline(['--data', 'customers.csv', '--policy-gates', 'data-policy.yaml', '--output', 'out/check.html']));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('FAIL          No personal data: pii_columns = 4, needs less equal 0\nWARN          Enough rows: n_rows = 40, needs greater equal 100\ndecision: FAIL\n');
    expect(run.stdout).toMatch(/^ {2}pii_columns +4$/m);
    const saved = JSON.parse(readFileSync(join(work, 'out', 'check.json'), 'utf8'));
    expect(saved.policy_decision.decision).toBe('FAIL');
    expect(readFileSync(join(work, 'out', 'check.html'), 'utf8')).toContain('<h1 id="s1">Metrics</h1>');
  });

  it('exits 0 on a fixture that passes, and gates freshness and drift', async () => {
    const run = (await plumbline(['--data', fixture('compas/test.csv'), '--reference', fixture('compas/train.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--data-date', '2026-11-20', '--policy-gates', 'fresh.yaml', '--json']));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('decision: PASS\n');
    const report = JSON.parse(run.stdout);
    expect(report.metrics.data_age_days).toBe(14);
    expect(report.metrics.n_drifted_columns).toBe(want.compas.n_drifted_columns);
    const stale = (await plumbline(['--data', fixture('compas/test.csv'), '--data-date', '2026-09-01', '--policy-gates', 'fresh.yaml']));
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe('FAIL          Fresh data: data_age_days = 94, needs less equal 30\nNOT_EVALUATED Stable: not evaluated: no reference was given (--reference)\ndecision: FAIL\n');
  });

  it('exits 0 with REVIEW when only a warning gate fails', async () => {
    writeFileSync(join(work, 'warn.yaml'), policy('  - {name: Enough rows, metric: n_rows, threshold: 100, comparison: greater_equal, severity: warning}\n'));
    const run = await plumbline(['--data', 'customers.csv', '--policy-gates', 'warn.yaml']);
    expect(run).toMatchObject({ code: 0, stderr: 'WARN          Enough rows: n_rows = 40, needs greater equal 100\ndecision: REVIEW\n' });
    // An error gate whose check could not run (no reference) is not a pass either.
    writeFileSync(join(work, 'stable.yaml'), policy('  - {name: Stable, metric: n_drifted_columns, threshold: 0, comparison: less_equal, severity: error}\n'));
    expect(await plumbline(['--data', 'customers.csv', '--policy-gates', 'stable.yaml'])).toMatchObject({ code: 0, stderr: 'NOT_EVALUATED Stable: not evaluated: no reference was given (--reference)\ndecision: REVIEW\n' });
  });

  it('dates the data by the newest date of a date column, or the only one', async () => {
    const days = ['2026-10-02', '2026-11-20', '', '2026-07-15', '2026-11-19'];
    writeFileSync(join(work, 'applications.csv'), `id,application_date,amount\n${days.map((d, i) => `${i},${d},${100 + i * 10}`).join('\n')}\n`);
    // Days from the newest date to the check's date (SOURCE_DATE_EPOCH 1796342400 s), by Date.UTC.
    const age = (1796342400 * 1000 - Date.UTC(2026, 10, 20)) / 86_400_000;
    const named = JSON.parse((await plumbline(['--data', 'applications.csv', '--date-column', 'application_date', '--json'])).stdout);
    expect(named.freshness).toEqual({ source: 'newest application_date', newest: '2026-11-20', age_days: age });
    expect(named.metrics.data_age_days).toBe(age);
    const found = JSON.parse((await plumbline(['--data', 'applications.csv', '--json'])).stdout);
    expect(found.freshness).toEqual(named.freshness);
    expect((await plumbline(['--data', 'applications.csv', '--date-column', 'application_date', '--data-date', '2026-11-01']))).toMatchObject({ code: 2, stderr: 'plumbline: give either --date-column or --data-date, not both.\n' });
    expect((await plumbline(['--data', 'applications.csv', '--date-column', 'amount'])).stderr).toBe(
      'plumbline: applications.csv: the date column "amount" holds no dates (YYYY-MM-DD, or DD/MM/YYYY-like in one order). Write its dates as ISO 8601, or give the data\'s date with --data-date YYYY-MM-DD.\n',
    );
  });

  it('reads day-first dates, counts the rows that hold none, and refuses dates that fit both orders', async () => {
    writeFileSync(join(work, 'dayfirst.csv'), 'id,seen\n1,03/11/2026\n2,25/11/2026\n3,unknown\n4,\n5,30/12/2026\n');
    const run = await plumbline(['--data', 'dayfirst.csv', '--date-column', 'seen', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    // 30/12/2026 is after the check's date: a negative age, and said.
    expect(report.freshness).toEqual({ source: 'newest seen', newest: '2026-12-30', age_days: (1796342400 * 1000 - Date.UTC(2026, 11, 30)) / 86_400_000, unreadable_rows: 1 });
    expect(report.findings.filter((f: { check: string }) => f.check === 'freshness').map((f: { message: string }) => f.message)).toEqual([
      '1 row of seen holds no date it can read: the data\'s age is taken from the other rows.',
      "The data's newest date (2026-12-30) is after the check's date (2026-12-04): check the dates, or the clock (SOURCE_DATE_EPOCH).",
    ]);
    // A marker read as missing moves the missing share as a blank does (40% "?" was "not drifted" beside PSI 3.6).
    writeFileSync(join(work, 'ref_x.csv'), `x,g\n${Array.from({ length: 200 }, (_, i) => `${i % 50},${i % 2}`).join('\n')}\n`);
    writeFileSync(join(work, 'cur_x.csv'), `x,g\n${Array.from({ length: 200 }, (_, i) => `${i % 5 < 2 ? '?' : String(i % 50)},${i % 2}`).join('\n')}\n`);
    const marked = JSON.parse((await plumbline(['--data', 'cur_x.csv', '--reference', 'ref_x.csv', '--json'])).stdout);
    expect(marked.drift[0]).toMatchObject({ column: 'x', drifted: true, missing: { reference_share: 0, share: 0.4 } });
    // A negative age would pass any age gate: the metric is not computed, and its gate not evaluated.
    expect(report.metrics.data_age_days).toBeNull();
    expect(report.not_computed.data_age_days).toBe("the data's newest date (2026-12-30) is after the check's date (2026-12-04)");
    expect((await plumbline(['--data', 'dayfirst.csv', '--date-column', 'seen', '--policy-gates', 'fresh.yaml'])).stderr).toContain("NOT_EVALUATED Fresh data: not evaluated: the data's newest date (2026-12-30) is after the check's date (2026-12-04)\n");
    expect(await plumbline(['--data', 'dayfirst.csv', '--data-date', '2026-12-30'])).toMatchObject({
      code: 2,
      stderr: "plumbline: --data-date 2026-12-30 is after the check's date (2026-12-04): give the date of the data's newest row, or set the clock (SOURCE_DATE_EPOCH).\n",
    });
    writeFileSync(join(work, 'either.csv'), 'id,seen\n1,03/11/2026\n2,05/10/2026\n');
    expect(await plumbline(['--data', 'either.csv', '--date-column', 'seen'])).toMatchObject({
      code: 2,
      stderr: 'plumbline: either.csv: the date column "seen" holds dates that fit both DD/MM/YYYY and MM/DD/YYYY, so its newest date is not known. Write its dates as ISO 8601 (YYYY-MM-DD), or give the data\'s date with --data-date YYYY-MM-DD.\n',
    });
  });

  it('--out DIR writes the JSON, the HTML report and the decision; two runs write the same bytes', async () => {
    const args = ['--data', join(projectRoot, 'tests', 'statistics', 'compas_older.csv'), '--reference', fixture('compas/train.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--alpha', '0.01', '--policy-gates', 'fresh.yaml', '--data-date', '2026-11-20'];
    const first = await plumbline([...args, '--out', 'run1']);
    const second = await plumbline([...args, '--out', 'run2']);
    expect(first.code).toBe(1);
    expect(first.stderr).toBe(`FAIL          Stable: n_drifted_columns = ${want.compas_older.n_drifted_columns_at['0.01']}, needs less equal 0\ndecision: FAIL\n`);
    for (const file of ['data-check.json', 'data-check.html', 'policy_decision.json']) expect(readFileSync(join(work, 'run2', file), 'utf8'), file).toBe(readFileSync(join(work, 'run1', file), 'utf8'));
    const saved = JSON.parse(readFileSync(join(work, 'run1', 'data-check.json'), 'utf8'));
    expect(saved.settings.alpha).toBe(0.01);
    expect(saved.metrics.n_drifted_columns).toBe(want.compas_older.n_drifted_columns_at['0.01']);
    expect(saved.drift.filter((d: { drifted: boolean }) => d.drifted).map((d: { column: string }) => d.column).sort()).toEqual(
      Object.entries(want.compas_older.drift as Record<string, { p_value: number }>).filter(([, d]) => d.p_value < 0.01).map(([c]) => c).sort(),
    );
    expect(first.stdout).toBe(second.stdout);
    for (const file of ['data-check.json', 'data-check.html', 'policy_decision.json']) expect(readFileSync(join(work, 'run1', file), 'utf8'), file).not.toMatch(/undefined|NaN|\[object /);
    expect(first.stdout).not.toMatch(/undefined|NaN|\[object /);
  });

  it('reads Arrow as it reads CSV: the same numbers for the same rows', async () => {
    await loadArrow();
    writeFileSync(join(work, 'german.arrow'), tableToArrow(table(fixture('german_credit/test_missing.csv'))));
    const run = await plumbline(['--data', 'german.arrow', '--target', 'good_credit', '--protected', 'gender', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    const ref = want.german_credit_missing;
    expect(report.metrics).toMatchObject({ n_rows: ref.n_rows, duplicate_rows: ref.duplicate_rows, min_group_size: ref.min_group_size, n_high_missing_columns: ref.n_high_missing_columns_at['0.05'] });
    expect(report.columns.map((x: { name: string; missing_share: number }) => [x.name, x.missing_share])).toEqual(Object.entries(ref.missing_share));
  });

  it('reads a CSV as the flags say: missing values, types, delimiter, encoding (the config keys of an audit)', async () => {
    // adult-style "?" for missing, a ;-file in Windows-1252 (Excel's "CSV (Comma delimited)" in a European locale).
    const text = 'age;workclass;region;y\n39;Private;Süd;1\n;?;Nord;0\n50;?;Süd;1\n41;Self;Nörd;0\n';
    writeFileSync(join(work, 'excel.csv'), Uint8Array.from(text, (char) => ({ ü: 0xfc, ö: 0xf6 })[char] ?? char.charCodeAt(0)));
    const refused = await plumbline(['--data', 'excel.csv', '--target', 'y']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^plumbline: excel\.csv: not UTF-8 text: row 1, column "region" reads "S\uFFFDd", where .* Say the file's encoding with data\.encoding \(--encoding\)/);
    const run = await plumbline(['--data', 'excel.csv', '--target', 'y', '--protected', 'region', '--encoding', 'windows-1252', '--delimiter', ';', '--missing-values', '?', '--dtypes', 'age:categorical', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    // pandas: read_csv(sep=';', encoding='cp1252', na_values=['?'], dtype={'age': str}): workclass 2 of 4 missing, age 1.
    expect(report.columns.map((x: { name: string; missing_share: number }) => [x.name, x.missing_share])).toEqual([['age', 0.25], ['workclass', 0.5], ['region', 0], ['y', 0]]);
    expect(Object.fromEntries(Object.entries(report.groups.region as Record<string, { n: number }>).map(([group, g]) => [group, g.n]))).toEqual({ Süd: 2, Nord: 1, Nörd: 1 });
    expect((await plumbline(['--data', 'excel.csv', '--encoding', 'shift_jis'])).stderr).toMatch(/^plumbline: --encoding "shift_jis" is not one a CSV file can be read in here: utf-8, or a single-byte encoding \(windows-1252, /);
    expect((await plumbline(['--data', 'excel.csv', '--dtypes', 'age'])).stderr).toBe('plumbline: --dtypes "age": give COLUMN:TYPE, TYPE one of numeric, categorical, boolean, date (e.g. --dtypes zip:categorical).\n');
    expect((await plumbline(['--data', 'excel.csv', '--delimiter', ':'])).stderr).toBe('plumbline: --delimiter ":" is not one of: , ; | tab.\n');
  });

  it('gates a per-attribute metric on the attribute attr pins (it gated the worst of all: race\'s 2-row group failed a gate on sex)', async () => {
    const ref = want.compas.groups as Record<string, Record<string, { n: number; base_rate: number }>>;
    const smallest = (attribute: string) => Math.min(...Object.values(ref[attribute]).map((g) => g.n));
    const gap = (attribute: string) => Math.max(...Object.values(ref[attribute]).map((g) => g.base_rate)) - Math.min(...Object.values(ref[attribute]).map((g) => g.base_rate));
    writeFileSync(
      join(work, 'by-sex.yaml'),
      policy('  - {name: sex-size, metric: min_group_size, attr: sex, threshold: 100, comparison: greater_equal, severity: error}\n  - {name: sex-gap, metric: max_base_rate_gap, attr: sex, threshold: 1, comparison: less_equal, severity: error}\n  - {name: race-size, metric: min_group_size, attr: race, threshold: 100, comparison: greater_equal, severity: warning}\n'),
    );
    const run = await plumbline(['--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--policy-gates', 'by-sex.yaml', '--out', 'by-sex']);
    const decision = JSON.parse(readFileSync(join(work, 'by-sex', 'policy_decision.json'), 'utf8'));
    // pandas value_counts and groupby means (tests/statistics/build_data_checks.py).
    expect(decision.gates.map((g: { name: string; attribute: string; value: number; outcome: string }) => [g.name, g.attribute, g.value, g.outcome])).toEqual([
      ['sex-size', 'sex', smallest('sex'), 'PASS'],
      ['sex-gap', 'sex', gap('sex'), 'PASS'],
      ['race-size', 'race', smallest('race'), 'WARN'],
    ]);
    expect(run.code, run.stderr).toBe(0);
    writeFileSync(join(work, 'attr-rows.yaml'), policy('  - {name: rows, metric: n_rows, attr: sex, threshold: 1, comparison: greater_equal, severity: error}\n'));
    expect((await plumbline(['--data', fixture('compas/test.csv'), '--policy-gates', 'attr-rows.yaml'])).stderr).toBe(
      'plumbline: attr-rows.yaml: gates[0] ("rows"): attr "sex" pins a protected attribute, but n_rows is not measured per attribute (the data-check metrics that are: min_group_size, max_base_rate_gap, max_proxy_strength). Remove attr, or gate a metric measured per attribute.\n',
    );
  });

  it('lists a reference column the file lacks (renamed), with a finding, instead of leaving it out without a word', async () => {
    const [header, ...rows] = readFileSync(fixture('compas/test.csv'), 'utf8').trim().split('\n');
    writeFileSync(join(work, 'renamed.csv'), [header.replace('c_charge_degree', 'charge_degree'), ...rows].join('\n') + '\n');
    const run = await plumbline(['--data', 'renamed.csv', '--reference', fixture('compas/train.csv'), '--target', 'two_year_recid', '--json']);
    const report = JSON.parse(run.stdout);
    const test = fixture('compas/test.csv');
    const same = JSON.parse((await plumbline(['--data', test, '--reference', fixture('compas/train.csv'), '--target', 'two_year_recid', '--json'])).stdout);
    // The renamed column is compared under neither name: n_drifted_columns counts the tests run.
    expect(report.metrics.n_drifted_columns).toBe(same.metrics.n_drifted_columns - (same.drift.find((d: { column: string; drifted: boolean }) => d.column === 'c_charge_degree')?.drifted ? 1 : 0));
    expect(report.drift.find((d: { column: string }) => d.column === 'c_charge_degree')).toEqual({ column: 'c_charge_degree', test: 'none', statistic: null, p_value: null, psi: null, drifted: false, note: 'no column "c_charge_degree" in renamed.csv (renamed or dropped?), which train.csv has' });
    expect(report.findings.map((f: { message: string }) => f.message)).toContain('No column "c_charge_degree" in renamed.csv (renamed or dropped?), which train.csv has: not compared.');
  });

  it('exits 2 naming the value and the fix', async () => {
    expect((await plumbline([]))).toMatchObject({ code: 2, stderr: 'plumbline: check-data needs --data FILE. Run plumbline check-data --help for usage.\n' });
    expect((await plumbline(['--data', 'customers.csv', '--protected', 'gender']))).toMatchObject({
      code: 2,
      stderr: 'plumbline: customers.csv: no protected attribute column "gender". Give columns of the file with --protected A,B (its columns: customer, contact, phone_number, ssn, income, segment, approved).\n',
    });
    expect((await plumbline(['--data', 'customers.csv', '--target', 'aproved']))).toMatchObject({
      code: 2,
      stderr: 'plumbline: customers.csv: no target column "aproved" (close matches: approved). Give the outcome column with --target, or leave --target out (class balance and base rates need it; the other checks do not).\n',
    });
    expect((await plumbline(['--data', 'customers.csv', '--alpha', '5%']))).toMatchObject({ code: 2, stderr: 'plumbline: --alpha must be a number between 0 and 1 (exclusive), got "5%".\n' });
    expect((await plumbline(['--data', 'customers.csv', '--out', 'customers.csv']))).toMatchObject({
      code: 2,
      stderr: `plumbline: --out: ${JSON.stringify(join(work, 'customers.csv'))} is a file, not a folder. Give a folder to write the report into (it is made when missing).\n`,
    });
    writeFileSync(join(work, 'bad.yaml'), policy('  - {name: Rows, metric: n_row, threshold: 1, comparison: greater_equal, severity: error}\n'));
    expect((await plumbline(['--data', 'customers.csv', '--policy-gates', 'bad.yaml'])).stderr).toBe(
      'plumbline: bad.yaml: gates[0] ("Rows"): unknown data-check metric: "n_row" (did you mean n_rows?). Valid ids: n_rows, n_columns, max_missing_share, n_high_missing_columns, duplicate_rows, duplicate_share, minority_class_share, min_group_size, max_base_rate_gap, max_proxy_strength, pii_columns, data_age_days, n_drifted_columns, max_psi, max_abs_skewness, n_skewed_columns.\n',
    );
    expect((await plumbline(['--data', 'customers.csv', '--data-date', '2026-13-01'])).stderr).toBe('plumbline: --data-date "2026-13-01" is not a date: write it YYYY-MM-DD.\n');
  });
});

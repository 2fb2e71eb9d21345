import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { profileTable } from '../../src/core/analyses/profile/profile';
import { binaryTarget } from '../../src/core/metrics/labels';
import { fixture, projectRoot } from '../support/fixtures';
import { join } from 'node:path';
import { Random } from '../../src/core/base/random';

const profileOf = (csv: string, protectedAttributes: string[]) => {
  const table = parseCsv(csv, { fileName: 'p.csv' });
  return profileTable(table, 'y', binaryTarget(table, 'y').labels, protectedAttributes);
};

describe('proxies of a protected attribute written as numeric codes', () => {
  it('measure a numeric column across its groups (η), as for text codes: |r| with the codes hid a proxy of 0.98', () => {
    const want = JSON.parse(readFileSync(join(projectRoot, 'tests/statistics/proxy_codes.json'), 'utf8')) as { eta_corrected: Record<string, number>; many_groups: { eta: number; eta_corrected: number }; abs_pearson_zone: number };
    const csv = readFileSync(join(projectRoot, 'tests/statistics/proxy_codes.csv'), 'utf8');
    const coded = profileOf(csv, ['ethnicity']);
    const lettered = profileOf(csv.replace(/,([123]),([01])$/gm, (_, code, y) => `,${'ABC'[Number(code) - 1]},${y}`), ['ethnicity']);
    for (const profile of [coded, lettered]) {
      for (const [column, eta] of Object.entries(want.eta_corrected)) {
        const proxy = profile.proxies.find((p) => p.feature === column && p.attribute === 'ethnicity')!;
        expect(proxy.measure, column).toBe('correlation_ratio');
        expect(Math.abs(proxy.value - eta), column).toBeLessThan(1e-12);
      }
    }
    expect(want.abs_pearson_zone).toBeLessThan(0.01);
    // Noise across 60 groups of 10 rows: η reads ~0.29 by chance alone, the corrected value 0 (the proxy check is bias-corrected, as Cramér's V is).
    const many = profileOf(readFileSync(join(projectRoot, 'tests/statistics/proxy_many_groups.csv'), 'utf8'), ['ethnicity_many']).proxies.find((p) => p.feature === 'noise')!;
    expect(want.many_groups.eta).toBeGreaterThan(0.2);
    expect(Math.abs(many.value - want.many_groups.eta_corrected)).toBeLessThan(1e-12);
    // An attribute of many numbers (age: 48 values) is a measurement: η of noise across 48 groups of 200 rows is ~0.48, a false proxy.
    const random = new Random(5, 'noise');
    const rows = Array.from({ length: 200 }, (_, i) => `${18 + (i % 48)},${(random.next() * 100).toFixed(3)},${i % 2}`);
    const noise = profileOf(`age,income,y\n${rows.join('\n')}\n`, ['age']).proxies.find((p) => p.feature === 'income')!;
    expect(noise.measure).toBe('abs_pearson');
    expect(noise.value).toBeLessThan(0.3);
    expect(coded.findings.find((f) => f.check === 'proxy' && f.column === 'zone')?.severity).toBe('error');
  });
});

describe('groups that differ only in letter case', () => {
  it('are named in a warning (Female and female were two groups without a word)', () => {
    const csv = 'sex,x,y\nFemale,1,1\nfemale,2,0\nFemale ,3,1\nMale,4,0\nMALE,5,1\nMale,6,0\n';
    const profile = profileOf(csv, ['sex']);
    expect(profile.findings.filter((f) => f.check === 'group_spellings')).toEqual([
      { check: 'group_spellings', severity: 'warning', column: 'sex', message: 'sex holds groups that differ only in letter case ("Female", "female"): each is audited as a group of its own. If they are one group, write them alike in the data.' },
      // "Female " beside "Female": pandas reads the space as part of the text (it was merged without a word).
      { check: 'group_spellings', severity: 'warning', column: 'sex', message: 'sex holds groups that differ only in surrounding spaces ("Female", "Female "): each is audited as a group of its own, as pandas reads them and a model that reads the text is fed them. If they are one group, write them alike in the data.' },
    ]);
    expect(profileOf('sex,x,y\nFemale,1,1\nMale,2,0\n', ['sex']).findings.some((f) => f.check === 'group_spellings')).toBe(false);
  });
});

describe('a column of numbers and many "?" cells', () => {
  it('is named as numbers with a missing marker, however many the markers (12% "?" was a text column without a word)', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i % 8 === 0 ? '?' : (i * 1.5).toFixed(1)},${i % 2}`);
    const profile = profileOf(`debt,y\n${rows.join('\n')}\n`, []);
    const marks = rows.filter((row) => row.startsWith('?,')).length;
    expect(marks / rows.length).toBeGreaterThan(0.05);
    expect(profile.findings.filter((f) => f.check === 'numbers_with_text').map((f) => f.message)).toEqual([
      `debt holds numbers but ${marks} cells of text ("?"), so it is read as text: drift, proxy and leakage checks read those cells as missing. List it in data.missing_values if it marks missing values.`,
    ]);
    // Other texts in that share are categories, as before.
    expect(profileOf(`code,y\n${rows.map((row) => row.replace('?', 'A7')).join('\n')}\n`, []).findings.some((f) => f.check === 'numbers_with_text')).toBe(false);
  });
});

describe('duplicate rows', () => {
  it('counts rows equal to an earlier one (missing cells equal, -0 equal to 0), as a plain comparison of every cell does', () => {
    const random = new Random(4, 'dup-test');
    const pick = <T,>(values: T[]) => values[random.int(values.length)];
    const lines = Array.from({ length: 3000 }, () => [pick(['1', '2', '']), pick(['0', '-0', '0.5', 'NaN', '']), pick(['a', 'b', '']), pick(['0', '1'])].join(','));
    const table = parseCsv(`u,v,c,y\n${lines.join('\n')}\n`, { fileName: 'd.csv' });
    // Independent count: a key of every cell's value as the table holds it.
    const keys = new Set<string>();
    let expectedDuplicates = 0;
    for (let row = 0; row < table.rowCount; row++) {
      const key = JSON.stringify(table.columns.map((c) => (c.kind === 'numeric' ? (Number.isNaN(c.values[row]) ? 'NaN' : c.values[row] === 0 ? 0 : c.values[row]) : c.codes[row])));
      if (keys.has(key)) expectedDuplicates++;
      else keys.add(key);
    }
    expect(expectedDuplicates).toBeGreaterThan(2500);
    expect(profileTable(table, 'y', binaryTarget(table, 'y').labels, []).duplicate_rows).toBe(expectedDuplicates);
  });
});

describe('data profile and checks', () => {
  // 24 rows: id unique, const constant, gap 25% missing, proxy = copy of group, leak = y, x numeric
  const rows = Array.from({ length: 24 }, (_, i) => {
    const group = i % 3 === 0 ? 'a' : 'b';
    const y = i % 2;
    return [i + 1, 'k', i % 4 === 0 ? '' : String(i), `p${group}`, y, i % 5, group, y].join(',');
  });
  const csv = `id,const,gap,proxy,leak,x,group,y\n${rows.join('\n')}\n${rows[1]}\n`;

  it('summarises columns and finds constant, missing, id-like, duplicate, proxy and leakage problems', () => {
    const profile = profileOf(csv, ['group']);
    expect(profile.rows).toBe(25);
    const x = profile.columns.find((c) => c.name === 'x')!;
    expect(x.summary).toMatchObject({ min: 0, max: 4 });
    const checks = profile.findings.map((f) => `${f.check}:${f.column ?? ''}`);
    expect(checks).toContain('constant_column:const');
    expect(checks).toContain('high_missing:gap');
    expect(checks).toContain('duplicate_rows:');
    expect(checks).toContain('proxy:proxy');
    expect(checks).toContain('leakage:leak');
    expect(profile.duplicate_rows).toBe(1);
    expect(profile.proxies.find((p) => p.feature === 'proxy')).toMatchObject({ measure: 'cramers_v', flag: 'error' });
    expect(profile.proxies.find((p) => p.feature === 'proxy')!.value).toBeCloseTo(1, 12);
    expect(profile.leakage).toEqual([{ feature: 'leak', roc_auc: 1 }]);
  });

  it('computes Cramér’s V, bias-corrected, as worked by hand', () => {
    // 2×2: a/a 3, a/b 1, b/a 1, b/b 3 (n 8): chi² = 2, plain V = √(2/8) = 0.5; bias-corrected
    // (Bergsma 2013): φ² = 2/8 − 1/7, r̃ = c̃ = 2 − 1/7, V = √((1/4 − 1/7) / (1 − 1/7)) = √(1/8).
    const lines = ['u,v,y', ...['a,a', 'a,a', 'a,a', 'a,b', 'b,a', 'b,b', 'b,b', 'b,b'].map((r, i) => `${r},${i % 2}`)];
    const profile = profileOf(`${lines.join('\n')}\n`, ['v']);
    expect(profile.proxies.find((p) => p.feature === 'u')!.value).toBeCloseTo(Math.sqrt(1 / 8), 12);
  });

  it('profiles the COMPAS fixture: top categories, its own decile score as a race proxy, no leakage', () => {
    const table = parseCsv(readFileSync(fixture('compas/test.csv'), 'utf8'), { fileName: 'test.csv' });
    const profile = profileTable(table, 'two_year_recid', binaryTarget(table, 'two_year_recid').labels, ['race', 'sex']);
    expect(profile.rows).toBe(1852);
    expect(profile.columns.find((c) => c.name === 'race')!.top![0]).toEqual({ value: 'African-American', count: 956 });
    // decile_score is COMPAS's own risk score: associated with race (η), and not leakage.
    expect(profile.proxies.find((p) => p.feature === 'decile_score' && p.attribute === 'race')!.value).toBeGreaterThan(0.3);
    expect(profile.leakage).toEqual([]);
  });
});

describe('column types', () => {
  it('reads booleans, ISO dates, integers, decimals and text from every value', () => {
    const csv = [
      'flag,answer,when,stamp,count,amount,name,notdate,y',
      '1,Yes,2024-01-31,2024-01-31T10:00:00Z,3,1.5,ann,2024-02-30,0',
      '0,no,2023-12-01,2024-02-01 08:30,,2,bob,2024-01-01,1',
      ',YES,,2024-03-01T00:00:00.250+01:00,5,,cy,x,1',
    ].join('\n');
    const profile = profileOf(csv, []);
    const types = Object.fromEntries(profile.columns.map((c) => [c.name, c.type]));
    expect(types).toEqual({ flag: 'boolean', answer: 'boolean', when: 'date', stamp: 'date', count: 'integer', amount: 'decimal', name: 'text', notdate: 'text', y: 'boolean' });
    expect(profile.columns.find((c) => c.name === 'when')!.date_range).toEqual({ min: '2023-12-01', max: '2024-01-31' });
  });

  it('reads dates written day first, month first or year first when every value says which, and flags ones that fit both', () => {
    const csv = [
      'eu,us,ymd,both,bad,y',
      '31/01/2024,01.31.2024,2024/01/31,01/02/2024,31/31/2024,0',
      '1/2/2024,12.1.2023,2023/12/01 08:30,03/04/2024,01/02/2024,1',
      '15/12/2023 09:15,2.13.2024,2024/2/29,,x,1',
    ].join('\n');
    const profile = profileOf(csv, []);
    const column = (name: string) => profile.columns.find((c) => c.name === name)!;
    expect(profile.columns.map((c) => [c.name, c.type, c.date_format ?? null])).toEqual([
      ['eu', 'date', 'DD/MM/YYYY'],
      ['us', 'date', 'MM/DD/YYYY'],
      ['ymd', 'date', 'YYYY/MM/DD'],
      ['both', 'text', null],
      ['bad', 'text', null],
      ['y', 'boolean', null],
    ]);
    // Ranges in time order, as ISO 8601 (not the texts' order: "1/2/2024" < "15/12/2023" as text).
    expect(column('eu').date_range).toEqual({ min: '2023-12-15T09:15', max: '2024-02-01' });
    expect(column('us').date_range).toEqual({ min: '2023-12-01', max: '2024-02-13' });
    expect(column('ymd').date_range).toEqual({ min: '2023-12-01T08:30', max: '2024-02-29' });
    expect(profile.findings.filter((f) => f.check === 'date_order')).toEqual([
      { check: 'date_order', severity: 'warning', column: 'both', message: 'both holds dates whose every value fits both DD/MM/YYYY and MM/DD/YYYY (e.g. 01/02/2024): it is read as text. Write the dates as ISO 8601 (YYYY-MM-DD) to have them read as dates.' },
    ]);
  });
});

describe("Cramér's V of large tables", () => {
  it('counts only the cells that occur, with the dense count’s value', async () => {
    const { cramersV, sparseCramersV } = await import('../../src/core/analyses/profile/profile');
    const random = new (await import('../../src/core/base/random')).Random(3, 'cramers');
    const a = Int32Array.from({ length: 5000 }, () => random.int(300));
    const b = Int32Array.from(a, (v) => (random.next() < 0.3 ? v % 7 : random.int(7)));
    expect(Math.abs(sparseCramersV(a, 300, b, 7) - cramersV(a, 300, b, 7))).toBeLessThan(1e-12);
    expect(cramersV(a, 300, b, 7)).toBeGreaterThan(0.1);
  });
});

describe('a column of numbers with a few texts', () => {
  it('is measured as numbers for proxies and leakage, the texts as missing, and said so (pandas / scikit-learn)', () => {
    const want = JSON.parse(readFileSync(join(projectRoot, 'tests/data/mixed.expected.json'), 'utf8')).profile;
    const table = parseCsv(readFileSync(join(projectRoot, 'tests/data/mixed-profile.csv'), 'utf8'), { fileName: 'mixed-profile.csv' });
    const profile = profileTable(table, 'y', binaryTarget(table, 'y').labels, ['g']);
    // Before: each number a category of its own, Cramér's V 0.99 ("error") and a leakage AUC of 1.
    const proxy = profile.proxies.find((p) => p.feature === 'income')!;
    expect(proxy).toMatchObject({ measure: 'correlation_ratio', flag: 'none' });
    expect(Math.abs(proxy.value - want.income_eta_corrected)).toBeLessThan(1e-9);
    expect(want.income_leakage_strength).toBeLessThan(0.98);
    expect(profile.leakage).toEqual([]);
    expect(profile.findings.filter((f) => f.column === 'income')).toEqual([
      { check: 'numbers_with_text', severity: 'warning', column: 'income', message: 'income holds numbers but 3 cells of text ("unknown"), so it is read as text: drift, proxy and leakage checks read those cells as missing. List it in data.missing_values if it marks missing values.' },
    ]);
  });
});

describe('the leakage check on categories', () => {
  it('scores a category by its positive rate out of fold: an id-like column is no leak, a telling one is (pandas / scikit-learn)', () => {
    const want = JSON.parse(readFileSync(join(projectRoot, 'tests/data/mixed.expected.json'), 'utf8')).leakage;
    const table = parseCsv(readFileSync(join(projectRoot, 'tests/data/leak-categories.csv'), 'utf8'), { fileName: 'leak-categories.csv', dtypes: { zip: 'categorical' } });
    const profile = profileTable(table, 'y', binaryTarget(table, 'y').labels, ['sex']);
    // Before, rates from each row's own label: zip (about one row a value) scored AUC 0.99, an "error".
    expect(want.zip).toBeLessThan(0.98);
    expect(profile.leakage.map((l) => l.feature)).toEqual(['status']);
    expect(Math.abs(profile.leakage[0].roc_auc - want.status)).toBeLessThan(1e-12);
    // Cramér's V bias-corrected: the plain V of zip with sex is 0.9 however independent they are.
    const v = JSON.parse(readFileSync(join(projectRoot, 'tests/data/mixed.expected.json'), 'utf8')).cramers_v;
    for (const feature of ['zip', 'status']) {
      const proxy = profile.proxies.find((p) => p.feature === feature && p.attribute === 'sex')!;
      expect(proxy.measure).toBe('cramers_v');
      expect(Math.abs(proxy.value - v[feature]), feature).toBeLessThan(1e-12);
      expect(proxy.flag).toBe('none');
    }
  });
});

describe('a column of one repeated value', () => {
  it('is no proxy of anything: η and |r| are 0, not the rounding noise of its mean (0.7 on every row gave η 1.18, an error-level proxy)', () => {
    const rows = 2000;
    const random = new Random(5, 'constant-columns');
    const lines = ['g,age,version,rate,y'];
    for (let i = 0; i < rows; i++) lines.push(`${['a', 'b', 'c'][i % 3]},${20 + Math.floor(random.next() * 50)},0.7,0.1,${random.next() < 0.3 ? 1 : 0}`);
    const table = parseCsv(lines.join('\n'), { fileName: 'constant.csv' });
    for (const attributes of [['g'], ['age']]) {
      const profile = profileTable(table, 'y', binaryTarget(table, 'y').labels, attributes);
      for (const feature of ['version', 'rate']) {
        const proxy = profile.proxies.find((p) => p.feature === feature)!;
        expect(proxy).toMatchObject({ value: 0, flag: 'none' });
      }
      // Every association is within [0, 1].
      for (const proxy of profile.proxies) expect(proxy.value).toBeLessThanOrEqual(1);
    }
  });
});

describe('numbers of a ";"-separated file whose "." groups thousands', () => {
  it('are named in an error finding (5.943 was read as 5.943 for 5943 without a word); "," files and true decimals are not', () => {
    const amounts = [5943, 339, 5190, 1234, 870, 12500];
    const written = amounts.map((a) => (a >= 1000 ? `${Math.floor(a / 1000)}.${String(a % 1000).padStart(3, '0')}` : String(a)));
    const rows = written.map((w, i) => `${w};${i % 2};${i % 2 ? 'a' : 'b'}`);
    const found = (csv: string) => profileOf(csv, ['g']).findings.filter((f) => f.check === 'thousands_separator');
    expect(found(`amount;y;g\n${rows.join('\n')}\n`)).toEqual([
      { check: 'thousands_separator', severity: 'error', column: 'amount', message: 'amount: in a file separated by ";", as European exports are, every number written with a "." has three digits after it (5.943, 5.190, 1.234) and no whole number reaches 1,000: the "." looks like a thousands separator (5.943 for 5943), and these are read as decimals. Export the file without thousands separators; if they are decimals, this finding can be set aside.' },
    ]);
    expect(found(`amount,y,g\n${rows.map((r) => r.replaceAll(';', ',')).join('\n')}\n`)).toEqual([]);
    // Decimals of one to three places, 1 to 999 (weights, prices): judged on the texts, not on doubles that a thousand times are whole.
    expect(found(`amount;y;g\n${['71.3', '68.7', '76.4', '12.25', '99'].map((w, i) => `${w};${i % 2};${i % 2 ? 'a' : 'b'}`).join('\n')}\n`)).toEqual([]);
    expect(found(`amount;y;g\n${['12.25', '3', '7.125'].map((w, i) => `${w};${i % 2};${i % 2 ? 'a' : 'b'}`).join('\n')}\n`)).toEqual([]);
  });
});

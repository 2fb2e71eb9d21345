/**
 * The core's own guards against careless and hostile inputs, with their exact messages:
 * CSV decoding and sizes, protected attributes, intersections and slices, capped category
 * lists, power that grows with the groups (not their square), evidence-pack entries that
 * are not files, and the result digest inside a pack.
 */
import * as ort from 'onnxruntime-web';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { parseCsv } from '../../src/core/data/csv';
import { loadTableBytes } from '../../src/core/data/read';
import type { Table } from '../../src/core/data/table';
import { categoricalDrift, OTHER_CATEGORIES } from '../../src/core/analyses/drift/drift';
import { driftFromStored, storedDistribution } from '../../src/core/analyses/drift/stored';
import { AuditConfigError, CsvError } from '../../src/core/base/errors';
import { describeContent, formatSize } from '../../src/core/base/limits';
import { resultDigest } from '../../src/core/outputs/manifest';
import { sha256Hex } from '../../src/core/base/hash';
import { disparity, DISPARITIES, extent, powerAgainstReference } from '../../src/core/metrics/fairness';
import { checkIntersection, checkProtectedAttribute, groupIndex, sliceIndex } from '../../src/core/metrics/groups';
import { buildEvidencePack, specialEntries, verifyEvidencePack } from '../../src/core/outputs/evidence';
import { fixtureBytes } from '../support/fixtures';

const encode = (text: string) => new TextEncoder().encode(text);

/** A table of one categorical column from its cells ('' is missing). */
function textTable(name: string, cells: string[]): Table {
  const codeOf = new Map<string, number>();
  const codes = Int32Array.from(cells, (cell) => {
    if (cell === '') return -1;
    if (!codeOf.has(cell)) codeOf.set(cell, codeOf.size);
    return codeOf.get(cell)!;
  });
  return { source: 't.csv', rowCount: cells.length, columns: [{ kind: 'categorical', name, codes, dictionary: [...codeOf.keys()], missing: cells.filter((c) => c === '').length }] };
}

describe('CSV text a person can act on', () => {
  const body = 'a,b,c\n1,x,2\n3,y,4\n';

  it('UTF-16 is named as such, with or without a byte-order mark (was "binary (NUL bytes)")', () => {
    const le = new Uint8Array(Buffer.from(`\ufeff${body}`, 'utf16le'));
    expect(() => loadTableBytes(le, 'le.csv')).toThrow(
      new CsvError('le.csv: the file is UTF-16 text (little-endian, byte-order mark FF FE), and Plumbline reads CSV as UTF-8. UTF-16: save the file as UTF-8 (in Excel: Save As, CSV UTF-8) and load it again.'),
    );
    const be = new Uint8Array(Buffer.from(body, 'utf16le').swap16());
    expect(() => loadTableBytes(be, 'be.csv')).toThrow(new CsvError('be.csv: the file is UTF-16 text (big-endian), and Plumbline reads CSV as UTF-8. UTF-16: save the file as UTF-8 (in Excel: Save As, CSV UTF-8) and load it again.'));
    // Read in 1-byte pieces, as a stream may deliver it.
    expect(() => loadTableBytes(new Uint8Array(Buffer.from(body, 'utf16le')), 'le.csv', {}, 1)).toThrow(/^le\.csv: the file is UTF-16 text \(little-endian\)/);
    // Other binary data keeps its own message.
    expect(() => parseCsv('PK\u0003\u0004\u0000\u0000binary', { fileName: 'f.csv' })).toThrow(new CsvError('f.csv: this is a binary file, not CSV text (it holds NUL bytes from offset 4). Choose the CSV export of the data.'));
  });

  it('mixed line endings are named as such (were blamed on quoting)', () => {
    expect(() => loadTableBytes(encode('a,b,c\r\n1,x,2\r\n3,y,4\n5,z,6\n7,w,8\r\n'), 'mixed.csv')).toThrow(
      new CsvError(
        'mixed.csv: the file mixes line endings: its first line ends with CRLF (Windows) but line 3 ends with LF alone, so such lines run together (1 row with the wrong number of fields). Save the file with one kind of line ending (re-export it, or convert it with dos2unix) and load it again.',
      ),
    );
    // An LF inside a quoted cell of a CRLF file (as Excel writes them) is part of the cell.
    expect(loadTableBytes(encode('a,b,c\r\n1,"x\ny",2\r\n3,y,4\r\n'), 'ok.csv').table.rowCount).toBe(2);
    // A CRLF file whose later lines all end in LF: refused once 16 MB run together, not after the whole file.
    expect(() => loadTableBytes(encode(`a,b,c\r\n${'1,2,3\n'.repeat(3 << 20)}`), 'lf.csv')).toThrow(
      new CsvError('lf.csv: the file mixes line endings: its first line ends with CRLF (Windows) but line 2 ends with LF alone, so such lines run together. Save the file with one kind of line ending (re-export it, or convert it with dos2unix) and load it again.'),
    );
  });

  it('a cell over 1 MB is refused naming its row and column, however the text arrives', () => {
    const message = 'big.csv, row 1, column "b": the cell holds 3.0 MB of text, more than the 1.0 MB a cell may hold. A quote opened and never closed makes one cell of many lines; otherwise keep long texts out of the data file.';
    expect(() => parseCsv(`a,b,c\n1,"${'x'.repeat(3 << 20)}",2\n3,4,5\n`, { fileName: 'big.csv' })).toThrow(new CsvError(message));
    expect(() => loadTableBytes(encode(`a,b,c\n1,${'x'.repeat(3 << 20)},2\n`), 'big.csv')).toThrow(new CsvError(message));
    // Exactly at the limit is still a cell.
    expect(loadTableBytes(encode(`a,b\n1,${'x'.repeat(2 ** 20)}\n`), 'edge.csv').table.rowCount).toBe(1);
  });

  it('more columns than 20,000 are refused with the count; 20,000 are read', () => {
    const header = (n: number) => Array.from({ length: n }, (_, j) => `c${j}`).join(',');
    expect(() => parseCsv(`${header(20_001)}\n`, { fileName: 'wide.csv' })).toThrow(
      new CsvError('wide.csv: the header has 20,001 columns, more than the 20,000 a data file may have. Keep the columns the audit needs (target, protected attributes, model inputs) and load the file again.'),
    );
    expect(parseCsv(`${header(20_000)}\n${header(20_000)}\n`, { fileName: 'wide.csv' }).columns.length).toBe(20_000);
  });
});

describe('protected attributes, intersections and slices', () => {
  it('says what a column of many values looks like', () => {
    const ids = textTable('customer', Array.from({ length: 100 }, (_, i) => `C-${i}`));
    expect(() => checkProtectedAttribute(ids, 'customer')).toThrow(
      new AuditConfigError(
        't.csv, column "customer": a protected attribute needs a few groups to compare, but this column has 100 distinct values in 100 rows (every value is different: an id or a row number?). Choose the column that holds the groups, or group its values first (e.g. zip code → region): a protected attribute may have at most 1,000 groups, and fewer distinct values than half its rows.',
      ),
    );
    const dates = textTable('born', Array.from({ length: 100 }, (_, i) => `1990-0${1 + Math.floor((i % 60) / 28)}-${String(((i % 60) % 28) + 1).padStart(2, '0')}`));
    expect(() => checkProtectedAttribute(dates, 'born')).toThrow(/\(dates: group them by year or period first\?\)/);
    const notes = textTable('note', Array.from({ length: 100 }, (_, i) => `a long free-text remark about this applicant, number ${i % 60}`));
    expect(() => checkProtectedAttribute(notes, 'note')).toThrow(/\(long texts: free text, not groups\?\)/);
    // A value and missing cells are two groups: compared, not refused; few groups in a small table likewise.
    expect(() => checkProtectedAttribute(textTable('g', ['a', '', 'a', '']), 'g')).not.toThrow();
    expect(() => checkProtectedAttribute(textTable('g', ['a', 'b', 'c', 'd', 'e', 'f']), 'g')).not.toThrow();
  });

  it('a blank column fails the audit instead of passing it', async () => {
    const csv = new TextDecoder().decode(fixtureBytes('compas/test.csv')).trim().split('\n');
    const header = csv[0].split(',');
    const race = header.indexOf('race');
    const blanked = csv.map((line, i) => (i === 0 ? line : line.split(',').map((cell, j) => (j === race ? '' : cell)).join(','))).join('\n');
    const audit = runAudit(ort, { data: { fileName: 'blank.csv', bytes: encode(blanked) }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race', 'sex'], bootstrapResamples: 0 });
    await expect(audit).rejects.toThrow(
      new AuditConfigError('blank.csv, column "race": the protected attribute holds no values (all 1,852 rows are missing), so there are no groups to compare and every fairness gate would pass unchecked. Choose the column that holds the attribute, or fill it in.'),
    );
  });

  it('refuses intersections past 100,000 cells and slice columns past 1,000 values', () => {
    const rows = 2000;
    const a = textTable('a', Array.from({ length: rows }, (_, i) => `a${i % 400}`));
    const b = textTable('b', Array.from({ length: rows }, (_, i) => `b${Math.floor(i / 5) % 300}`));
    const table: Table = { ...a, columns: [...a.columns, ...b.columns] };
    expect(() => checkIntersection(table, ['a', 'b'])).toThrow(
      new AuditConfigError('The intersection a × b has 120,000 possible groups (400 × 300), more than the 100,000 an intersection may have. List fewer or smaller attributes in fairness.intersections (or [] for none).'),
    );
    const ids = textTable('id', Array.from({ length: rows }, (_, i) => `r${i}`));
    expect(() => sliceIndex(ids, 'id')).toThrow(
      new AuditConfigError('t.csv, column "id": a slice column needs a few values to compare, but this one has 2,000 (more than 1,000). Leave it out of fairness.slice_columns, or group its values first.'),
    );
  });
});

describe('work that grows with the groups, not their square', () => {
  it('disparities and extents of 300,000 values do not overflow the call stack', () => {
    const values = Float64Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 1000 / 1000);
    expect(extent(values)).toEqual([0, 0.999]);
    const groups = Object.fromEntries(Array.from({ length: 300_000 }, (_, i) => [`g${i}`, { selection_rate: values[i] }]));
    expect(disparity(DISPARITIES[0], groups)).toBeCloseTo(0.999, 12);
  });

  it('power against the reference group: one comparison per group (2,000 groups, not two million pairs)', () => {
    const table = textTable('g', Array.from({ length: 40_000 }, (_, i) => `g${String(i % 2000).padStart(4, '0')}`));
    const index = groupIndex(table, 'g');
    const started = performance.now();
    const power = powerAgainstReference(index, 0.3, 0.05);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(power.power).toHaveLength(1999);
    expect(power.power[0].groups[1]).toBe('g0000'); // the largest group (all are 20 rows: the first)
    expect(power.statistical_power).toBeGreaterThan(0);
    const named = powerAgainstReference(index, 0.3, 0.05, 'g0999');
    expect(named.power.every((p) => p.groups[1] === 'g0999')).toBe(true);
  });
});

describe('category lists are capped, so unique text cannot make the result as large', () => {
  const ids = textTable('id', Array.from({ length: 5000 }, (_, i) => (i < 2000 ? 'common' : `id-${i}`)));

  it('a stored distribution lists the most frequent 1,000 categories and pools the rest', () => {
    const stored = storedDistribution(ids.columns[0]);
    if (stored.kind !== 'categorical') throw new Error('categorical expected');
    expect(stored.categories).toHaveLength(1000);
    expect(stored.categories).toContain('common');
    expect(stored.other).toBeCloseTo(2001 / 5000, 12);
    expect(stored.shares.reduce((a, b) => a + b, 0) + stored.other!).toBeCloseTo(1, 12);
    // A later batch is compared bin for bin: its unlisted categories join the pooled bin.
    const drift = driftFromStored({ id: stored }, ids, 'stored').columns[0];
    expect(drift.psi).toBeCloseTo(0, 12);
    expect(drift.bins.at(-1)).toEqual({ label: OTHER_CATEGORIES, reference: stored.other, current: stored.other });
    expect(drift.new_categories).toEqual([]);
  });

  it('drift between two tables pools past 1,000 categories and says how many', () => {
    const other = textTable('id', Array.from({ length: 5000 }, (_, i) => (i < 2500 ? 'common' : `new-${i}`)));
    const drift = categoricalDrift('id', ids.columns[0], other.columns[0]);
    expect(drift.bins).toHaveLength(1001);
    expect(drift.pooled_categories).toBe(3000 + 2500 + 1 - 1000);
    expect(drift.bins.reduce((sum, bin) => sum + bin.current, 0)).toBeCloseTo(1, 12);
    // Names longer than the 64 KB budget are pooled, not listed.
    const long = textTable('t', ['x'.repeat(70_000), 'y', 'y']);
    const stored = storedDistribution(long.columns[0]);
    expect(stored.kind === 'categorical' && stored.categories).toEqual(['y']);
  });
});

describe('evidence packs hold plain files only, and the result its manifest names', () => {
  const files = { 'a.txt': strToU8('hello') };
  const sums = (entries: Record<string, Uint8Array>) => strToU8(Object.entries(entries).map(([name, bytes]) => `${sha256Hex(bytes)}  ${name}\n`).join(''));

  it('refuses symbolic links, devices and FIFOs marked in the external attributes, and links in the Unix extra field', () => {
    const target = strToU8('/etc/passwd');
    const modes: [string, number][] = [
      ['link', 0o120777],
      ['tty', 0o020666],
      ['disk', 0o060660],
      ['pipe', 0o010644],
    ];
    for (const [name, mode] of modes) {
      const pack = zipSync({ ...files, [name]: [target, { os: 3, attrs: (mode << 16) >>> 0 }], SHA256SUMS: sums({ ...files, [name]: target }) });
      const kind = { link: 'a symbolic link', tty: 'a character device', disk: 'a block device', pipe: 'a FIFO (named pipe)' }[name];
      expect(verifyEvidencePack(pack)).toEqual({ ok: false, files: ['SHA256SUMS', 'a.txt', name], problems: [`the entry "${name}" is ${kind}, not a file: an evidence pack holds only plain files`] });
    }
    // PKWARE's Unix extra field (0x000d) carries a link target: a hard link in zip's terms.
    const extra = new Uint8Array(12 + target.length);
    extra.set(target, 12);
    const hard = zipSync({ ...files, copy: [strToU8('hello'), { os: 3, attrs: (0o100644 << 16) >>> 0, extra: { 13: extra } }], SHA256SUMS: sums({ ...files, copy: strToU8('hello') }) });
    expect(specialEntries(hard)).toEqual(['the entry "copy" is a link (hard or symbolic), not a file: an evidence pack holds only plain files']);
    // Plain files with Unix modes, as Info-ZIP writes them, are fine.
    const plain = zipSync({ ...files, b: [strToU8('x'), { os: 3, attrs: (0o100644 << 16) >>> 0 }], SHA256SUMS: sums({ ...files, b: strToU8('x') }) });
    expect(verifyEvidencePack(plain).ok).toBe(true);
  });

  it('checks the result against the manifest\'s result digest', () => {
    const result = { n: 3, performance: { roc_auc: 0.7 } };
    const manifest = { result_sha256: resultDigest(result) };
    const pack = (r: unknown) => buildEvidencePack({ 'audit.json': strToU8(JSON.stringify(r, null, 2)), 'audit.manifest.json': strToU8(JSON.stringify(manifest)) }, 1700000000);
    expect(verifyEvidencePack(pack(result))).toMatchObject({ ok: true, problems: [] });
    expect(verifyEvidencePack(pack({ ...result, n: 4 })).problems).toEqual([`audit.json does not match the result digest in audit.manifest.json (result_sha256 ${manifest.result_sha256.slice(0, 12)}…): the result was changed after the audit`]);
  });
});

describe('describing a file without quoting it', () => {
  it('names its kind and size only', () => {
    expect(describeContent(new Uint8Array())).toBe('empty');
    expect(describeContent(encode('root:x:0:0:root:/root:/bin/bash\n'))).toBe('text');
    expect(describeContent(encode('naïve café\n'))).toBe('text');
    expect(describeContent(encode('é').subarray(0, 1))).toBe('text'); // a character cut at the window's end
    expect(describeContent(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]))).toBe('a zip archive');
    expect(describeContent(Uint8Array.from([0xff, 0xfe, 0x61, 0]))).toBe('UTF-16 text');
    expect(describeContent(Uint8Array.from([1, 2, 3, 0, 5]))).toBe('binary');
    expect([formatSize(79), formatSize(1229), formatSize(2 ** 20), formatSize(1.9 * 2 ** 30)]).toEqual(['79 bytes', '1.2 KB', '1.0 MB', '1.9 GB']);
  });
});

import * as ort from 'onnxruntime-web';
import { readFileSync } from 'node:fs';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { looksLikeArrow, tableFromArrow, tableToArrow } from '../../src/core/data/arrow';
import { parseCsv } from '../../src/core/data/csv';
import { CsvError } from '../../src/core/base/errors';
import { expected, fixture, fixtureBytes } from '../support/fixtures';

describe('Arrow IPC', () => {
  const csv = parseCsv(readFileSync(fixture('german_credit/test_missing.csv'), 'utf8'), { fileName: 'test_missing.csv' });

  it('round-trips a table: numbers (missing as null), categories as dictionaries', () => {
    const bytes = tableToArrow(csv);
    expect(looksLikeArrow(bytes)).toBe(true);
    const back = tableFromArrow(bytes, 'test_missing.arrow');
    expect(back.rowCount).toBe(csv.rowCount);
    for (const column of csv.columns) {
      const other = back.columns.find((c) => c.name === column.name)!;
      expect(other.kind).toBe(column.kind);
      expect(other.missing).toBe(column.missing);
      if (column.kind === 'numeric' && other.kind === 'numeric') expect(Array.from(other.values)).toEqual(Array.from(column.values));
      if (column.kind === 'categorical' && other.kind === 'categorical') {
        expect(Array.from(other.codes, (c) => (c < 0 ? null : other.dictionary[c]))).toEqual(Array.from(column.codes, (c) => (c < 0 ? null : column.dictionary[c])));
      }
    }
  });

  it('audits an Arrow file like the CSV it came from', async () => {
    const want = expected('compas/rf.expected.json');
    const test = parseCsv(readFileSync(fixture('compas/test.csv'), 'utf8'), { fileName: 'test.csv' });
    const request = { model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') }, target: 'two_year_recid', protectedAttributes: ['race'], features: want.features, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } };
    const fromArrow = await runAudit(ort, { ...request, data: { fileName: 'test.arrow', bytes: tableToArrow(test) } });
    const fromCsv = await runAudit(ort, { ...request, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') } });
    expect(fromArrow.performance).toEqual(fromCsv.performance);
    expect(fromArrow.fairness).toEqual(fromCsv.fairness);
  });

  it('refuses a damaged Arrow file with a clear message', () => {
    const bytes = tableToArrow(csv);
    expect(() => tableFromArrow(bytes.subarray(0, 200), 'cut.arrow')).toThrow(
      new CsvError('cut.arrow: the Arrow file is damaged (it does not end with the ARROW1 marker: it is cut short). Write it again, or export the CSV.'),
    );
    // A record batch that claims more rows than any array can hold is refused before apache-arrow allocates for it.
    const stream = tableToIPC(tableFromIPC(bytes), 'stream');
    const rows = BigInt(csv.rowCount);
    const view = new DataView(stream.buffer, stream.byteOffset, stream.length);
    let patched = 0;
    for (let at = 0; at + 8 <= stream.length; at++) {
      if (view.getBigInt64(at, true) === rows) {
        view.setBigInt64(at, 1n << 40n, true);
        patched++;
      }
    }
    expect(patched).toBeGreaterThan(0);
    expect(() => tableFromArrow(stream, 'huge.arrows')).toThrow(new CsvError('huge.arrows: the Arrow file is damaged (a record batch declares 1099511627776 rows). Write it again, or export the CSV.'));
  });
});

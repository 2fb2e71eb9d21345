import * as ort from 'onnxruntime-web';
import { readFileSync } from 'node:fs';
import { Bool, Float32, Float64, Int64, Table as ArrowTable, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { loadArrow, tableToArrow } from '../../src/core/data/arrow';
import { parseCsv } from '../../src/core/data/csv';
import { loadTableBytes } from '../../src/core/data/read';
import { cellText, columnType, sourceText, type NumericColumn, type Table } from '../../src/core/data/table';
import { CsvError } from '../../src/core/base/errors';
import { sha256Hex } from '../../src/core/base/hash';
import { expected, fixture, fixtureBytes } from '../support/fixtures';

/** A Parquet file of an Arrow table, written by parquet-wasm (arrow-rs, as pyarrow and polars write them). */
function toParquet(arrow: ArrowTable, compression = Compression.SNAPPY): Uint8Array {
  const wasm = WasmTable.fromIPCStream(tableToIPC(arrow, 'stream'));
  return writeParquet(wasm, new WriterPropertiesBuilder().setCompression(compression).build());
}

const cells = (table: Table) => Array.from({ length: table.rowCount }, (_, row) => table.columns.map((column) => cellText(column, row)));

beforeAll(loadArrow);

describe('Parquet', () => {
  const csv = parseCsv(readFileSync(fixture('german_credit/test_missing.csv'), 'utf8'), { fileName: 'test_missing.csv' });

  it('loads into the same table as the CSV it was written from, with every compression', () => {
    const arrow = tableFromIPC(tableToArrow(csv));
    for (const compression of [Compression.UNCOMPRESSED, Compression.SNAPPY, Compression.GZIP, Compression.ZSTD, Compression.LZ4_RAW, Compression.BROTLI]) {
      const bytes = toParquet(arrow, compression);
      const loaded = loadTableBytes(bytes, 'test_missing.parquet');
      expect(loaded.format).toBe('parquet');
      expect(loaded.sha256).toBe(sha256Hex(bytes));
      expect(loaded.table.columns.map((c) => [c.name, c.kind, c.missing])).toEqual(csv.columns.map((c) => [c.name, c.kind, c.missing]));
      expect(cells(loaded.table)).toEqual(cells(csv));
    }
  });

  it('reads plain strings, 64-bit integers and booleans', () => {
    const arrow = new ArrowTable({
      name: vectorFromArray(['a', null, 'b', 'a'], new Utf8()),
      count: vectorFromArray([1n, 2n, null, 9007199254740991n], new Int64()),
      flag: vectorFromArray([true, false, null, true], new Bool()),
    });
    const { table } = loadTableBytes(toParquet(arrow), 'plain.parquet');
    expect(table.columns.map((c) => [c.name, c.kind, c.missing])).toEqual([['name', 'categorical', 1], ['count', 'numeric', 1], ['flag', 'numeric', 1]]);
    // A boolean's cells read as its CSV export writes them (a model's text input is fed "true"), its values 1/0.
    expect(cells(table)).toEqual([['a', '1', 'true'], ['', '2', 'false'], ['b', '', ''], ['a', '9007199254740991', 'true']]);
    expect(Array.from((table.columns[2] as NumericColumn).values)).toEqual([1, 0, Number.NaN, 1]);
  });

  it('gives a boolean or float32 column declared categorical the texts its own CSV export holds', () => {
    const arrow = new ArrowTable({
      flag: vectorFromArray([true, false, null, true], new Bool()),
      // Float32 values as stored: 0.1 is 0.100000001490116… as a double; 16777217 is not a float32 (→ 16777216).
      ratio: vectorFromArray([0.1, 2.5, 0.3, 16777217], new Float32()),
      wide: vectorFromArray([0.1, 2.5, null, 1 / 3], new Float64()),
    });
    const { table } = loadTableBytes(toParquet(arrow), 'typed.parquet', { dtypes: { flag: 'categorical', ratio: 'categorical', wide: 'categorical' } });
    expect(table.columns.map((c) => c.kind)).toEqual(['categorical', 'categorical', 'categorical']);
    // true/false, and each number's shortest decimal for its own width (numpy's str(np.float32(x)) and repr(x), as JavaScript writes whole numbers).
    expect(cells(table)).toEqual([['true', '0.1', '0.1'], ['false', '2.5', '2.5'], ['', '0.3', ''], ['true', '16777216', '0.3333333333333333']]);
    // Undeclared, they stay numbers (a model reads a boolean as 0/1).
    const plain = loadTableBytes(toParquet(arrow), 'typed.parquet').table;
    expect(Array.from((plain.columns[1] as NumericColumn).values)).toEqual([Math.fround(0.1), 2.5, Math.fround(0.3), 16777216]);
  });

  it('reads its columns as data.dtypes and data.missing_values say, as a CSV', () => {
    const arrow = new ArrowTable({
      zip: vectorFromArray([2139n, 10001n, null, 2139n], new Int64()),
      amount: vectorFromArray(['12.5', '007', null, 'NA'], new Utf8()),
      flag: vectorFromArray(['yes', 'No', 'y', null], new Utf8()),
      region: vectorFromArray(['NA', 'EU', ' ? ', 'EU'], new Utf8()),
    });
    const parquet = toParquet(arrow);
    // Without options: the file's own types, and only its nulls missing ("NA" is North America here).
    const plain = loadTableBytes(parquet, 'typed.parquet').table;
    expect(plain.columns.map((c) => [c.name, c.kind, c.missing])).toEqual([['zip', 'numeric', 1], ['amount', 'categorical', 1], ['flag', 'categorical', 1], ['region', 'categorical', 0]]);
    const read = loadTableBytes(parquet, 'typed.parquet', { dtypes: { zip: 'categorical', amount: 'numeric', flag: 'boolean' }, missingValues: ['NA', '?'] }).table;
    expect(read.columns.map((c) => [c.name, c.kind, c.missing, columnType(c)])).toEqual([['zip', 'categorical', 1, 'text'], ['amount', 'numeric', 2, 'decimal'], ['flag', 'categorical', 1, 'boolean'], ['region', 'categorical', 2, 'text']]);
    expect(cells(read)).toEqual([['2139', '12.5', 'yes', ''], ['10001', '7', 'No', 'EU'], ['', '', 'y', ''], ['2139', '', '', 'EU']]);
    // A token read as missing keeps its text, as a CSV's does (a model that knows "?" as a category is fed "?").
    const region = read.columns[3];
    expect([0, 1, 2, 3].map((row) => sourceText(region, row))).toEqual(['NA', 'EU', ' ? ', 'EU']);
    expect(() => loadTableBytes(parquet, 'typed.parquet', { dtypes: { region: 'numeric' } })).toThrow(new CsvError('typed.parquet, column "region": declared numeric but holds the value "NA": a missing-value marker? List it in data.missing_values (--missing-values) to read it as missing. Fix the value or declare the column categorical.'));
    expect(() => loadTableBytes(parquet, 'typed.parquet', { dtypes: { flag: 'boolean', region: 'boolean' } })).toThrow(
      new CsvError('typed.parquet, column "region": declared boolean but holds the value "NA"; a boolean is true/false, yes/no, t/f, y/n or 1/0 (any case). Fix the value or declare the column categorical.'),
    );
    expect(() => loadTableBytes(parquet, 'typed.parquet', { dtypes: { postcode: 'categorical' } })).toThrow(new CsvError('typed.parquet: data.dtypes names column "postcode", which the file does not have.'));
    // A delimiter and skipping bad lines concern the audit's CSV files (a Parquet reference beside a CSV test file): no change here.
    expect(cells(loadTableBytes(parquet, 'typed.parquet', { delimiter: ';', skipBadRows: true }).table)).toEqual(cells(plain));
  });

  it('audits a Parquet file like the CSV it came from', async () => {
    const want = expected('compas/rf.expected.json');
    const test = parseCsv(readFileSync(fixture('compas/test.csv'), 'utf8'), { fileName: 'test.csv' });
    const request = { model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') }, target: 'two_year_recid', protectedAttributes: ['race'], features: want.features, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } };
    const parquet = toParquet(tableFromIPC(tableToArrow(test)));
    const fromParquet = await runAudit(ort, { ...request, data: { fileName: 'test.parquet', bytes: parquet } });
    const fromCsv = await runAudit(ort, { ...request, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') } });
    expect(fromParquet.performance).toEqual(fromCsv.performance);
    expect(fromParquet.fairness).toEqual(fromCsv.fairness);
    expect(fromParquet.inputs.data.sha256).toBe(sha256Hex(parquet));
  });

  it('refuses a cut or damaged Parquet file in words', () => {
    const bytes = toParquet(tableFromIPC(tableToArrow(csv)));
    expect(() => loadTableBytes(bytes.subarray(0, 500), 'cut.parquet')).toThrow(
      new CsvError('cut.parquet: starts like a Parquet file but does not end with its footer ("PAR1"); the file is cut short or damaged. Copy or export it again.'),
    );
    const damaged = bytes.slice();
    damaged.fill(0xab, 8, 400);
    expect(() => loadTableBytes(damaged, 'damaged.parquet')).toThrow(CsvError);
    expect(() => loadTableBytes(damaged, 'damaged.parquet')).toThrow(/^damaged\.parquet: not a readable Parquet file \(.+\)\. Write it again with pyarrow, pandas or polars, or export the CSV\.$/s);
  });
});

describe('Parquet dates and times', () => {
  it('reads Date32 and millisecond timestamps as ISO 8601 text, which the profile types as dates', async () => {
    const { DateDay, TimestampMillisecond } = await import('apache-arrow');
    const { profileTable } = await import('../../src/core/analyses/profile/profile');
    const arrow = new ArrowTable({
      day: vectorFromArray([new Date('2024-01-02T00:00:00Z'), null, new Date('1999-12-31T00:00:00Z')], new DateDay()),
      at: vectorFromArray([new Date('2024-01-02T03:04:05.006Z'), new Date('2024-06-30T23:59:59Z'), null], new TimestampMillisecond()),
    });
    const { table } = loadTableBytes(toParquet(arrow), 'dates.parquet');
    expect(cells(table)).toEqual([['2024-01-02', '2024-01-02T03:04:05.006Z'], ['', '2024-06-30T23:59:59.000Z'], ['1999-12-31', '']]);
    const profile = profileTable(table, 'day', new Uint8Array(3), []);
    expect(profile.columns.map((c) => c.type)).toEqual(['date', 'date']);
  });
});

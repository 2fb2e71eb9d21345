import * as ort from 'onnxruntime-web';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Decimal, Field, Float64, Int64, makeData, Null, RecordBatch, Schema, Struct, Table as ArrowTable, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { decimalText, loadArrow, looksLikeArrow, tableFromArrow, tableToArrow } from '../../src/core/data/arrow';
import { parseCsv } from '../../src/core/data/csv';
import { CsvError } from '../../src/core/base/errors';
import { expected, fixture, fixtureBytes } from '../support/fixtures';

beforeAll(loadArrow);

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

  it('refuses an infinite number, naming the row and the column, and counts NaN as missing', () => {
    // pyarrow keeps float infinities (a CSV reads "inf" as text): deciles, means and drift bins have no value for them.
    const table = new ArrowTable({ id: vectorFromArray([1, 2, 3, 4], new Float64()), ratio: vectorFromArray([0.5, null, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY], new Float64()) });
    expect(() => tableFromArrow(tableToIPC(table, 'file'), 'ratios.arrow')).toThrow(
      new CsvError('ratios.arrow, row 3, column "ratio": the value -Infinity, which no statistic of the audit can use. Replace infinite values with null (missing) or a finite cap before writing the file (pandas: df.replace([np.inf, -np.inf], np.nan)).'),
    );
    // A float NaN (not null) is missing, and counted as such.
    const finite = new ArrowTable({ ratio: vectorFromArray([0.5, null, Number.MAX_VALUE, Number.NaN], new Float64()) });
    const column = tableFromArrow(tableToIPC(finite, 'file'), 'ratios.arrow').columns[0] as { values: Float64Array; missing: number };
    expect(Array.from(column.values)).toEqual([0.5, Number.NaN, Number.MAX_VALUE, Number.NaN]);
    expect(column.missing).toBe(2);
  });

  it('reads 64-bit whole numbers past 2^53 as their text (identifiers), and those a double holds as numbers', () => {
    const ids = new ArrowTable({ id: vectorFromArray([9007199254740993n, 9007199254740992n, null], new Int64()), count: vectorFromArray([1n, -9007199254740991n, null], new Int64()) });
    const table = tableFromArrow(tableToIPC(ids, 'file'), 'ids.arrow');
    expect(table.columns.map((c) => [c.name, c.kind, c.missing])).toEqual([['id', 'categorical', 1], ['count', 'numeric', 1]]);
    expect((table.columns[0] as { dictionary: string[] }).dictionary).toEqual(['9007199254740993', '9007199254740992']);
    expect(Array.from((table.columns[1] as { values: Float64Array }).values)).toEqual([1, -9007199254740991, Number.NaN]);
  });

  it('reads decimals as their value, the integer over 10^scale (12.34 is stored as 1234 with scale 2), and a column of nulls as missing', () => {
    // Little-endian 32-bit words of each two's-complement integer, as pyarrow writes decimal128.
    const decimal = (scale: number, integers: (bigint | null)[]) => {
      const type = new Decimal(scale, 38, 128);
      const words = new Uint32Array(integers.length * 4);
      const valid = new Uint8Array(Math.ceil(integers.length / 8));
      integers.forEach((integer, i) => {
        if (integer === null) return;
        valid[i >> 3] |= 1 << (i & 7);
        const unsigned = BigInt.asUintN(128, integer);
        for (let w = 0; w < 4; w++) words[i * 4 + w] = Number((unsigned >> BigInt(32 * w)) & 0xffffffffn);
      });
      const nulls = integers.filter((v) => v === null).length;
      return makeData({ type, length: integers.length, nullCount: nulls, data: words, nullBitmap: valid });
    };
    const columns = { amount: decimal(2, [1234n, -50n, null, 7n]), id: decimal(0, [9007199254740993n, 1n, 2n, null]), hundreds: decimal(-2, [5n, -3n, 0n, 1n]) };
    const schema = new Schema(Object.entries(columns).map(([name, data]) => new Field(name, data.type, true)));
    const arrow = new ArrowTable(schema, new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 4, nullCount: 0, children: Object.values(columns) })));
    const table = tableFromArrow(tableToIPC(arrow, 'file'), 'decimals.arrow');
    expect(table.columns.map((c) => [c.name, c.kind, c.missing])).toEqual([['amount', 'numeric', 1], ['id', 'categorical', 1], ['hundreds', 'numeric', 0]]);
    expect(Array.from((table.columns[0] as { values: Float64Array }).values)).toEqual([12.34, -0.5, Number.NaN, 0.07]);
    expect((table.columns[1] as { dictionary: string[] }).dictionary).toEqual(['9007199254740993', '1', '2']);
    expect(Array.from((table.columns[2] as { values: Float64Array }).values)).toEqual([500, -300, 0, 100]);
    // A column of nulls only (pyarrow's type for an all-None column) is all missing, as an empty CSV column.
    const nulls = new Schema([new Field('empty', new Null(), true)]);
    const empty = tableFromArrow(tableToIPC(new ArrowTable(nulls, new RecordBatch(nulls, makeData({ type: new Struct(nulls.fields), length: 2, nullCount: 0, children: [makeData({ type: new Null(), length: 2 })] }))), 'file'), 'empty.arrow');
    expect(empty.columns.map((c) => [c.name, c.kind, c.missing])).toEqual([['empty', 'categorical', 2]]);
    // decimal256: eight words.
    expect(decimalText(Uint32Array.of(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), 3)).toBe('-0.001');
  });

  it('refuses duplicate and empty column names, as a CSV header', () => {
    // pyarrow writes both: a table of them would make one column shadow the other.
    const named = (names: string[]) => {
      const schema = new Schema(names.map((name) => new Field(name, new Float64(), true)));
      const children = names.map((_, i) => vectorFromArray([i, i + 1], new Float64()).data[0]);
      return tableToIPC(new ArrowTable(schema, new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 2, nullCount: 0, children }))), 'file');
    };
    expect(() => tableFromArrow(named(['x', 'y', 'x']), 'dup.arrow')).toThrow(new CsvError('dup.arrow: the column name "x" appears twice (columns 1 and 3). Rename one of them.'));
    expect(() => tableFromArrow(named(['x', ' ']), 'dup.arrow')).toThrow(new CsvError('dup.arrow: column 2 has no name. Give every column a name.'));
    expect(tableFromArrow(named(['x', 'y']), 'ok.arrow').columns.map((c) => c.name)).toEqual(['x', 'y']);
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

describe('a compressed Feather file (pandas to_feather and pyarrow write LZ4 by default)', () => {
  it('is refused with the fix that works: write it uncompressed (the message said to use pyarrow.feather, which wrote it)', async () => {
    await loadArrow();
    // tests/data/lz4.feather: pyarrow 25 write_feather(pa.table({x: [1.5, 2.5, 3.5], g: [a, b, a], y: [0, 1, 0]}), compression='lz4').
    const bytes = new Uint8Array(readFileSync(join(fileURLToPath(new URL('../data', import.meta.url)), 'lz4.feather')));
    expect(() => tableFromArrow(bytes, 'lz4.feather')).toThrow(
      "lz4.feather: not a readable Arrow IPC file (Record batch is compressed but codec not found). Write it uncompressed (DataFrame.to_feather(path, compression='uncompressed'), or pyarrow.feather.write_feather(table, path, compression='uncompressed')), or choose the CSV.",
    );
  });
});

describe('apache-arrow loaded only for an Arrow or Parquet file', () => {
  // Loading apache-arrow marks its classes Symbol.isConcatSpreadable, which turns off V8's
  // fast Array.prototype.concat for the whole thread (jsPDF's report ran twice as long). A
  // fresh Node process, where V8 can say whether that fast path still holds, imports what
  // the CLI and the reports import, reads a CSV, then an Arrow file one way or the other.
  const root = new URL('../../', import.meta.url);
  const compas = parseCsv(readFileSync(fixture('compas/test.csv'), 'utf8'), { fileName: 'test.csv' });
  const script = (read: 'stream' | 'bytes') => `
    const fastConcat = new Function('return %IsConcatSpreadableProtector()');
    await import(${JSON.stringify(new URL('src/cli/main.ts', root).href)});
    await import(${JSON.stringify(new URL('src/core/outputs/pdf.ts', root).href)});
    const { loadTableStream } = await import(${JSON.stringify(new URL('src/core/data/read.ts', root).href)});
    const { loadInput } = await import(${JSON.stringify(new URL('src/core/audit/inputs.ts', root).href)});
    const { readFileSync } = await import('node:fs');
    const chunks = async function* (bytes) { yield bytes; };
    const imported = fastConcat();
    const csv = await loadTableStream('test.csv', chunks(readFileSync(process.argv[1])));
    const afterCsv = fastConcat();
    const arrowBytes = new Uint8Array(readFileSync(process.argv[2]));
    const arrow = ${read === 'stream' ? "await loadTableStream('test.arrow', chunks(arrowBytes))" : "await loadInput({ fileName: 'test.arrow', bytes: arrowBytes }, {})"};
    console.log(JSON.stringify({ imported, afterCsv, afterArrow: fastConcat(), rows: [csv.table.rowCount, arrow.table.rowCount], format: arrow.format }));`;

  for (const read of ['stream', 'bytes'] as const) {
    it(`keeps V8's fast concat until an Arrow file is read (${read === 'stream' ? 'a stream, as the CLI and the app read files' : 'bytes given to an audit'})`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'plumbline-arrow-'));
      const arrowPath = join(dir, 'test.arrow');
      writeFileSync(arrowPath, tableToArrow(compas));
      const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script(read), fixture('compas/test.csv'), arrowPath], { encoding: 'utf8', cwd: fileURLToPath(root) });
      rmSync(dir, { recursive: true, force: true });
      expect(JSON.parse(out)).toEqual({ imported: true, afterCsv: true, afterArrow: false, rows: [compas.rowCount, compas.rowCount], format: 'arrow' });
    });
  }
});

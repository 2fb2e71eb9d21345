import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CsvReader, detectDelimiter, parseCsv } from '../../src/core/data/csv';
import { columnType, findColumn, sourceText, takeRows, type CategoricalColumn, type NumericColumn } from '../../src/core/data/table';
import { CsvError } from '../../src/core/base/errors';
import { loadTableBytes } from '../../src/core/data/read';
import { duplicateRows } from '../../src/core/analyses/profile/duplicates';
import { fixture } from '../support/fixtures';

const parse = (text: string, options = {}) => parseCsv(text, { fileName: 'f.csv', ...options });
const numeric = (text: string, name: string) => findColumn(parse(text), name) as NumericColumn;
const categorical = (text: string, name: string) => findColumn(parse(text), name) as CategoricalColumn;

describe('CSV dialects', () => {
  it('detects comma, semicolon, tab and pipe', () => {
    for (const delimiter of [',', ';', '\t', '|']) {
      const text = ['a', 'b', 'c'].join(delimiter) + '\n' + ['1', '2', 'x'].join(delimiter) + '\n';
      expect(detectDelimiter(text)).toBe(delimiter);
      const table = parse(text);
      expect(table.columns.map((c) => c.name)).toEqual(['a', 'b', 'c']);
      expect(table.rowCount).toBe(1);
    }
  });

  it('reads quoted fields with delimiters, quotes and newlines, CRLF and a BOM', () => {
    const text = '\uFEFFname,note,score\r\n"Smith, J.","said ""hi""\r\non two lines",1.5\r\nLee,plain,2\r\n';
    const table = parse(text);
    expect(table.rowCount).toBe(2);
    const note = findColumn(table, 'note') as CategoricalColumn;
    expect(note.dictionary[note.codes[0]]).toBe('said "hi"\r\non two lines');
    expect(findColumn(table, 'name')!.name).toBe('name');
    expect(Array.from(numeric(text, 'score').values)).toEqual([1.5, 2]);
  });

  it('reads the missing-value spellings as missing and counts them', () => {
    const column = numeric('x,y\n1,a\n,b\nNA,c\nN/A,d\nNaN,e\nnull,f\n7,h\n', 'x');
    expect(column.kind).toBe('numeric');
    expect(column.missing).toBe(5);
    expect(Number.isNaN(column.values[1])).toBe(true);
    expect(column.values[6]).toBe(7);
  });

  it('regression (issue 20, case 3): "?" is a category, not a missing value, unless configured', () => {
    const table = parseCsv('workclass,y\nPrivate,1\n?,0\n?,1\n', { fileName: 'adult.csv' });
    const column = findColumn(table, 'workclass')!;
    expect(column.kind === 'categorical' && column.dictionary).toEqual(['Private', '?']);
    expect(column.missing).toBe(0);
    const configured = findColumn(parseCsv('workclass,y\nPrivate,1\n?,0\n', { fileName: 'adult.csv', missingValues: ['', '?'] }), 'workclass')!;
    expect(configured.missing).toBe(1);
    // The token stays known as the cell's own text.
    expect(sourceText(configured, 1)).toBe('?');
  });

  it('reads an empty cell as missing whatever data.missing_values lists (pandas users list only the extra tokens)', () => {
    // missing_values: ['?'] replaced the defaults, blank included: the column turned to text with a category "" and no missing cell.
    const text = 'age,workclass,y\n39,Private,1\n,?,0\n50,,1\nNA,Private,0\n';
    for (const read of [parseCsv(text, { fileName: 'adult.csv', missingValues: ['?'] }), loadTableBytes(new TextEncoder().encode(text), 'adult.csv', { missingValues: ['?'] }).table]) {
      const age = findColumn(read, 'age')!;
      const workclass = findColumn(read, 'workclass')!;
      // "NA" is not listed, so it is a value: age holds text.
      expect([age.kind, age.missing, workclass.kind, workclass.missing]).toEqual(['categorical', 1, 'categorical', 2]);
      expect(workclass.kind === 'categorical' && workclass.dictionary).toEqual(['Private']);
    }
    const listed = findColumn(parseCsv(text, { fileName: 'adult.csv', missingValues: ['?', 'NA'] }), 'age')!;
    expect([listed.kind, listed.missing]).toEqual(['numeric', 2]);
  });

  it('regression (issue 20, case 4): keeps the text of numbers that do not read back ("01", "2.50") and of cells with spaces', () => {
    const table = parseCsv('zip,price,name\n01,2.50, Private\n10,3,NA\n', { fileName: 'codes.csv' });
    const zip = findColumn(table, 'zip')!;
    const price = findColumn(table, 'price')!;
    const name = findColumn(table, 'name')!;
    expect(zip.kind).toBe('numeric');
    expect([sourceText(zip, 0), sourceText(zip, 1)]).toEqual(['01', '10']);
    expect([sourceText(price, 0), sourceText(price, 1)]).toEqual(['2.50', '3']);
    expect([sourceText(name, 0), sourceText(name, 1)]).toEqual([' Private', 'NA']);
    // A sample of rows keeps each row's own text.
    const taken = takeRows(table, Uint32Array.from([1, 0]));
    expect([sourceText(findColumn(taken, 'zip')!, 0), sourceText(findColumn(taken, 'zip')!, 1)]).toEqual(['10', '01']);
  });

  it('gives back every decimal text as written, trailing zeros included, in the table, a sample and a column that turns to text', () => {
    // Fixed-precision exports ("12.500") are kept as the number's toFixed(d), not as strings of their own.
    const written = ['0.0000001', '-0.00000012', '0.000001', '123456789012345', '1234567890.12345', '00', '0', '-0', '0.5', '-0.5', '12.500', '-0.10', '0.000', '-0.0', '1.0', '100.10', '007.50', '+1.50', '.50', '5.', '123456789012.500', '1234567890123.4560', '-99.990', '3', '0.05', '1e3', '2.50'];
    // Twice: in the first segment of the text (read by papaparse) and after 40,000 rows, which a
    // text arriving in pieces gives the field scanner's fast path.
    const cells = [...written, ...Array.from({ length: 40_000 }, (_, i) => String(i % 7)), ...written];
    const text = `x\n${cells.join('\n')}\n`;
    const inPieces = (csv: string, options = {}) => {
      const read = (reader: CsvReader) => {
        for (let at = 0; at < csv.length && !reader.done; at += 4096) reader.push(csv.slice(at, at + 4096));
        reader.end();
      };
      const reader = new CsvReader({ fileName: 'f.csv', ...options });
      read(reader);
      if (reader.needsBackfill) read(reader.backfillReader());
      return reader.finish();
    };
    for (const table of [parse(text), inPieces(text)]) {
      const x = findColumn(table, 'x')!;
      expect(x.kind).toBe('numeric');
      expect(cells.map((_, row) => sourceText(x, row))).toEqual(cells);
      const order = Uint32Array.from(cells.map((_, i) => cells.length - 1 - i));
      const taken = findColumn(takeRows(table, order), 'x')!;
      expect(cells.map((_, row) => sourceText(taken, row))).toEqual([...cells].reverse());
    }
    for (const read of [parse, inPieces]) {
      // The same cells in a column that holds text further down: every text as written.
      const demoted = findColumn(read(`${text}A7\n`), 'x')!;
      expect(demoted.kind).toBe('categorical');
      expect([...cells, 'A7'].map((_, row) => sourceText(demoted, row))).toEqual([...cells, 'A7']);
      // A column declared categorical keeps them too.
      const declared = findColumn(read(text, { dtypes: { x: 'categorical' } }), 'x')!;
      expect(cells.map((_, row) => sourceText(declared, row))).toEqual(cells);
    }
  });

  it('infers types from the whole column, keeping texts as written', () => {
    const rows = Array.from({ length: 500 }, (_, i) => `${i},00${i % 3}`);
    const late = 'id,code\n' + rows.join('\n') + '\nx1,A7\n';
    const table = parse(late);
    expect(findColumn(table, 'id')!.kind).toBe('categorical');
    const code = categorical(late, 'code');
    expect(code.kind).toBe('categorical');
    expect(code.dictionary).toContain('A7');
    expect(code.dictionary).toContain('000');
    expect(code.dictionary).toContain('001');
  });

  it('takes boolean and date declarations, checks every value against them, and the profile reports them', () => {
    const table = parse('flag,when,code,y\nYes,2024-01-31,1,1\nno,2024-02-29,0,0\n,2023-12-01T08:00:00Z,1,1\n', { dtypes: { flag: 'boolean', when: 'date', code: 'boolean' } });
    expect(table.columns.map((c) => [c.name, c.kind, columnType(c)])).toEqual([
      ['flag', 'categorical', 'boolean'],
      ['when', 'categorical', 'date'],
      ['code', 'numeric', 'boolean'],
      ['y', 'numeric', 'boolean'],
    ]);
    // "20240131" is not ISO 8601 (no dashes): a date column keeps its texts and is checked.
    expect(() => parse('when,y\n20240131,1\n', { dtypes: { when: 'date' } })).toThrow(
      new CsvError('f.csv, column "when": declared date but holds the value "20240131"; a date is an ISO 8601 date, 2024-01-31 or 2024-01-31T10:00:00Z. Fix the value or declare the column categorical.'),
    );
    expect(() => parse('flag,y\nyes,1\nmaybe,0\n', { dtypes: { flag: 'boolean' } })).toThrow(
      new CsvError('f.csv, column "flag": declared boolean but holds the value "maybe"; a boolean is true/false, yes/no, t/f, y/n or 1/0 (any case). Fix the value or declare the column categorical.'),
    );
    expect(() => parse('code,y\n1,1\n2,0\n', { dtypes: { code: 'boolean' } })).toThrow(
      new CsvError('f.csv, column "code": declared boolean but holds the value "2"; a boolean is true/false, yes/no, t/f, y/n or 1/0 (any case). Fix the value or declare the column categorical.'),
    );
  });

  it('reads whole numbers past 2^53 as text, so that two identifiers a double would merge stay two', () => {
    // A double holds every whole number only up to 2^53 = 9007199254740992: 9007199254740993 would read as …992.
    const text = 'id,amount,big,y\n9007199254740993,1,1e20,1\n9007199254740992,1,12345678901234567.5,1\n-12345678901234567890,2,3,0\n9007199254740991,2,4,0\n';
    const table = parse(text);
    expect(table.columns.map((c) => [c.name, c.kind])).toEqual([['id', 'categorical'], ['amount', 'numeric'], ['big', 'numeric'], ['y', 'numeric']]);
    const id = findColumn(table, 'id')!;
    expect([0, 1, 2, 3].map((row) => sourceText(id, row))).toEqual(['9007199254740993', '9007199254740992', '-12345678901234567890', '9007199254740991']);
    // Rows alike but for their identifiers are not duplicates (pandas' df.duplicated(): none).
    expect(duplicateRows(parse('id,x\n9007199254740993,1\n9007199254740992,1\n'))).toBe(0);
    // 2^53 − 1 and less are whole numbers a double holds: still numbers.
    expect(numeric('id\n9007199254740991\n-9007199254740991\n', 'id').values).toEqual(Float64Array.of(9007199254740991, -9007199254740991));
    // Declared numeric, they are read as the nearest doubles, each text kept as written.
    const declared = findColumn(parse(text, { dtypes: { id: 'numeric' } }), 'id') as NumericColumn;
    expect(Array.from(declared.values)).toEqual(['9007199254740993', '9007199254740992', '-12345678901234567890', '9007199254740991'].map(Number));
    expect([0, 1, 2, 3].map((row) => sourceText(declared, row))).toEqual(['9007199254740993', '9007199254740992', '-12345678901234567890', '9007199254740991']);
    expect(() => parse('id\n9007199254740993\nx12\n', { dtypes: { id: 'numeric' } })).toThrow(new CsvError('f.csv, column "id": declared numeric but holds the value "x12". Fix the value or declare the column categorical.'));
    // The value quoted is the one that is no number at all, not a whole number a double holds exactly (10^19).
    expect(() => parse('id,x\n1,10000000000000000000\n2,12.5\n3,n/a\n', { dtypes: { x: 'numeric' } })).toThrow(new CsvError('f.csv, column "x": declared numeric but holds the value "n/a": a missing-value marker? List it in data.missing_values (--missing-values) to read it as missing. Fix the value or declare the column categorical.'));
    // A whole number past the largest double is no number even declared so, and is said to be too large.
    const huge = `1${'0'.repeat(400)}`;
    expect(() => parse(`x\n1\n${huge}\n`, { dtypes: { x: 'numeric' } })).toThrow(
      new CsvError(`f.csv, column "x": declared numeric but holds the value ${JSON.stringify(`${huge.slice(0, 60)}…`)}: a number past the largest double (1.8e308), which the audit cannot use; leave such cells blank (missing) or cap them. Fix the value or declare the column categorical.`),
    );
  });

  it('honours dtypes overrides and refuses a text value in a column declared numeric', () => {
    const table = parse('zip,y\n02139,1\n10001,0\n', { dtypes: { zip: 'categorical' } });
    expect((findColumn(table, 'zip') as CategoricalColumn).dictionary).toEqual(['02139', '10001']);
    expect(() => parse('a,y\n1,1\nabc,0\n', { dtypes: { a: 'numeric' } })).toThrow(
      new CsvError('f.csv, column "a": declared numeric but holds the value "abc". Fix the value or declare the column categorical.'),
    );
  });

  it('loads the fixture CSVs with the right shapes and types', () => {
    const compas = parseCsv(readFileSync(fixture('compas/test.csv'), 'utf8'), { fileName: 'test.csv' });
    expect(compas.rowCount).toBe(1852);
    expect(findColumn(compas, 'age')!.kind).toBe('numeric');
    expect(findColumn(compas, 'race')!.kind).toBe('categorical');
    const missing = parseCsv(readFileSync(fixture('german_credit/test_missing.csv'), 'utf8'), { fileName: 'test_missing.csv' });
    expect(missing.rowCount).toBe(300);
    const duration = findColumn(missing, 'duration_months') as NumericColumn;
    expect(duration.kind).toBe('numeric');
    expect(duration.missing).toBeGreaterThan(0);
  });
});

describe('CSV errors', () => {
  it('names an empty file', () => {
    expect(() => parse('')).toThrow(new CsvError('f.csv: the file is empty. A CSV needs a header row and at least one data row.'));
    expect(() => parse('\n\n  \n')).toThrow(new CsvError('f.csv: the file is empty. A CSV needs a header row and at least one data row.'));
  });

  it('names a header without rows', () => {
    expect(() => parse('a,b,c\n')).toThrow(new CsvError('f.csv: the file has a header row but no data rows.'));
  });

  it('names duplicate and empty column names', () => {
    expect(() => parse('a,b,a\n1,2,3\n')).toThrow(new CsvError('f.csv: the column name "a" appears twice (columns 1 and 3). Rename one of them.'));
    expect(() => parse('a,,c\n1,2,3\n')).toThrow(new CsvError('f.csv: column 2 of the header has no name. Give every column a name.'));
  });

  it('quotes rows with the wrong number of fields by line number', () => {
    expect(() => parse('a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n')).toThrow(
      new CsvError('f.csv: 2 rows with the wrong number of fields (the header has 3): line 3 has 2 fields; line 5 has 4 fields. Quote fields that contain the delimiter ",".'),
    );
    // A tab-separated reference read with the audit's data.delimiter ";": its header is one field.
    expect(() => parse('name\tnote\nann\ta;b\nbo\tc\n', { delimiter: ';' })).toThrow(
      new CsvError('f.csv: 1 row with the wrong number of fields (the header has 1): line 2 has 2 fields. The file was read with data.delimiter ";", which applies to every CSV file of the audit: if this one uses another delimiter, export it with ";", or leave data.delimiter out to have each file\'s detected.'),
    );
  });

  it('counts physical lines after a quoted newline', () => {
    expect(() => parse('a,b\n"x\ny",1\n2\n')).toThrow(/line 4 has 1 field;|line 4 has 1 field\./);
  });

  it('refuses a binary file', () => {
    expect(() => parse('PK\u0003\u0004\u0000\u0000binary')).toThrow(new CsvError('f.csv: this is a binary file, not CSV text (it holds NUL bytes from offset 4). Choose the CSV export of the data.'));
  });
});

describe('skipping bad rows', () => {
  it('skips and counts rows with the wrong number of fields when asked, keeping later columns aligned', () => {
    const text = 'a,b,c\n1,x,3\n4,5\n6,y,8\n9,z,10,11\n12,A7,14\n';
    const table = parse(text, { skipBadRows: true });
    expect(table.rowCount).toBe(3);
    expect(table.skipped).toEqual({ rows: 2, examples: ['line 3 has 2 fields', 'line 5 has 4 fields'] });
    expect(Array.from((findColumn(table, 'c') as NumericColumn).values)).toEqual([3, 8, 14]);
    const b = findColumn(table, 'b') as CategoricalColumn;
    expect(Array.from(b.codes, (code) => b.dictionary[code])).toEqual(['x', 'y', 'A7']);
  });

  it('backfills a demoted column across skipped rows', () => {
    // b looks numeric until its last row; a bad row sits before the demotion.
    const table = parse('a,b\n1,007\n2\n3,008\n4,X9\n', { skipBadRows: true });
    const b = findColumn(table, 'b') as CategoricalColumn;
    expect(Array.from(b.codes, (code) => b.dictionary[code])).toEqual(['007', '008', 'X9']);
  });
});

describe('why a text is not a number, in the messages that refuse it', () => {
  it('names a thousands separator beside a decimal comma, and calls no word of a column of words a missing-value marker', async () => {
    const { whyText, firstNonNumber } = await import('../../src/core/data/csv/numbers');
    expect(whyText('5,943')).toBe(': a thousands separator (5,943 for 5943), or a decimal comma? Numbers are read without thousands separators and with a decimal point (5943, 12.5): export the file so');
    expect(whyText('12,5')).toBe(': a decimal comma? Numbers are read with a decimal point (12.5): export the file so');
    // A column of numbers with one marker: the marker is named as one.
    const marked = parseCsv('x,y\n1,0\n2,1\nnone,0\n4,1\n', { fileName: 'm.csv' });
    expect(firstNonNumber(marked, marked.columns[0] as CategoricalColumn)).toBe('row 3: "none": a missing-value marker? List it in data.missing_values (--missing-values) to read it as missing');
    // A 0/1 column with two markers (few cells, two of its four texts): still numbers with a marker.
    const flags = parseCsv(`x,y\n${['1', '0', '?', '1', '0', 'unknown', '1', '0'].map((x, i) => `${x},${i % 2}`).join('\n')}\n`, { fileName: 'f.csv' });
    expect(firstNonNumber(flags, flags.columns[0] as CategoricalColumn)).toBe('row 3: "?": a missing-value marker? List it in data.missing_values (--missing-values) to read it as missing');
    // A column of words (an XGBoost categorical given its categories): "none" is one of them, and listing it as missing would turn a real category into a missing value.
    const words = parseCsv('status,y\nnone,0\nlow,1\nhigh,0\nnone,1\n', { fileName: 'w.csv' });
    expect(firstNonNumber(words, words.columns[0] as CategoricalColumn)).toBe('row 1: "none"');
    // Numbers kept as categories (declared so, or a Parquet/Arrow categorical of numbers): said as such, not as "stored as text".
    const declared = parseCsv('code,y\n10,0\n20,1\n', { fileName: 'd.csv', dtypes: { code: 'categorical' } });
    expect(firstNonNumber(declared, declared.columns[0] as CategoricalColumn)).toBe("row 1: \"10\", a number read as a category (declared categorical, or stored as text or as a categorical of numbers, pandas 'category', in the file: write the column as numbers)");
  });
});

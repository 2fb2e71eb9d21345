import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { loadTableBytes, loadTableStream, TableLoader } from '../../src/core/data/read';
import { cellText, sourceText, type Table } from '../../src/core/data/table';
import { CsvError } from '../../src/core/base/errors';
import { sha256Hex } from '../../src/core/base/hash';
import { Random } from '../../src/core/base/random';
import { fixture } from '../support/fixtures';

const encoder = new TextEncoder();

/** Feeds bytes to a loader in pieces of `size` bytes (splitting UTF-8 characters, CRLF and quoted fields anywhere). */
const loadInPieces = (bytes: Uint8Array, size: number, options = {}) => loadTableBytes(bytes, 'f.csv', options, size);

/** Every cell as text, row by row: what a table says, independent of its codes' order. */
function cells(table: Table): string[][] {
  return Array.from({ length: table.rowCount }, (_, row) => table.columns.map((column) => cellText(column, row)));
}

/** The error message of a load, or 'ok'. */
function outcome(load: () => unknown): string {
  try {
    load();
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  }
}

const CORPUS: Record<string, string> = {
  quoted: '\uFEFFname,note,score\r\n"Smith, J.","said ""hi""\r\non two lines",1.5\r\nLee,plain,2\r\n"Ng","ends in a quote """,3\r\n',
  semicolon: 'a;b;c\n1;"x;y";007\n2;z;7\n3;"multi\nline";x\n',
  tabs: 'a\tb\n1\tü é ß 日本\n2\t"𝄞 clef"\n',
  stray: 'a,b\n5" tall,1\n"quoted",2\nplain,3\n',
  demoted: 'id,zip\n1,02139\n2,10001\n3,0.50\n4,1e3\n5,-0\n6,N/A\n7,ABC\n',
  noTrailingNewline: 'a,b\n1,2\n3,4',
  badRows: 'a,b\n1,2\n3\n4,5,6\n7,8\n',
  empty: '\n\n  \n',
  headerOnly: 'a,b,c\n',
  binary: 'PK\u0003\u0004\u0000\u0000binary',
};

describe('reading CSV in pieces', () => {
  it('gives the same table (or the same error) and the same SHA-256 however the bytes are split', () => {
    for (const [name, text] of Object.entries(CORPUS)) {
      const bytes = encoder.encode(text);
      const whole = outcome(() => parseCsv(text, { fileName: 'f.csv' }));
      for (const size of [1, 2, 3, 5, 7, 13, 64, bytes.length]) {
        expect(outcome(() => loadInPieces(bytes, size)), `${name} in ${size}-byte pieces`).toBe(whole);
        if (whole !== 'ok') continue;
        const loaded = loadInPieces(bytes, size);
        expect(loaded.table, `${name} in ${size}-byte pieces`).toEqual(parseCsv(text, { fileName: 'f.csv' }));
        expect(loaded.sha256).toBe(sha256Hex(bytes));
        expect(loaded.bytes).toBe(bytes.length);
      }
    }
  });

  it('keeps the text of numbers read before a column turned out to hold text', () => {
    const table = loadInPieces(encoder.encode(CORPUS.demoted), 3).table;
    expect(cells(table).map((row) => row[1])).toEqual(['02139', '10001', '0.50', '1e3', '-0', '', 'ABC']);
    expect(table.columns[1].kind).toBe('categorical');
    expect(table.columns[1].missing).toBe(1);
  });

  it('reads the texts again from a reopened stream when a column turned to text late', async () => {
    const bytes = encoder.encode(CORPUS.demoted);
    async function* pieces() {
      for (let at = 0; at < bytes.length; at += 4) yield bytes.subarray(at, at + 4);
    }
    const { table } = await loadTableStream('f.csv', pieces(), { reopen: pieces });
    expect(cells(table).map((row) => row[1])).toEqual(['02139', '10001', '0.50', '1e3', '-0', '', 'ABC']);
  });

  it('reads every decimal as JavaScript’s Number() does (the fast path is exact), and gives back each text as written', () => {
    const rng = new Random(3, 'decimals');
    const texts: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const digits = 1 + rng.int(20);
      let text = Array.from({ length: digits }, () => String(rng.int(10))).join('');
      const point = rng.int(digits + 2);
      if (point <= digits) text = `${text.slice(0, point)}.${text.slice(point)}`;
      // Trailing zeros (fixed-precision exports), signs, exponents.
      if (text.includes('.') && rng.next() < 0.3) text += '0'.repeat(1 + rng.int(3));
      if (rng.next() < 0.3) text = `-${text}`;
      else if (rng.next() < 0.05) text = `+${text}`;
      if (rng.next() < 0.05) text = `${text}e${rng.int(40) - 20}`;
      if (text.replace(/[-.e]/g, '') === '' || /^-?\.(e|$)/.test(text) || /^-?\.$/.test(text)) continue;
      texts.push(text);
    }
    // A whole number past 2^53 is an identifier to the inference (read as text); declared numeric, it is read too.
    const wide = (text: string) => /^[+-]?\d+$/.test(text) && Math.abs(Number(text)) > Number.MAX_SAFE_INTEGER;
    expect(texts.filter(wide).length).toBeGreaterThan(100);
    for (const [kept, dtypes] of [[texts.filter((text) => !wide(text)), {}], [texts, { x: 'numeric' as const }]] as const) {
      const column = parseCsv(`x\n${kept.join('\n')}\n`, { fileName: 'f.csv', dtypes }).columns[0];
      expect(column.kind).toBe('numeric');
      if (column.kind === 'numeric') expect(Array.from(column.values)).toEqual(kept.map(Number));
      expect(kept.map((_, row) => sourceText(column, row))).toEqual(kept);
    }
  });

  it('keeps a row whose fields are all empty (all missing) and skips only blank lines', () => {
    const table = parseCsv('a,b\n1,x\n,\n\n   \n2,y\n', { fileName: 'f.csv' });
    expect(table.rowCount).toBe(3);
    expect(table.columns.map((c) => c.missing)).toEqual([1, 1]);
  });

  it('agrees with papaparse on the whole text for a large seeded file with quoted newlines across piece boundaries', () => {
    const rng = new Random(7, 'csv-stream-test');
    const random = () => rng.next();
    const lines = ['id,text,x,flag'];
    for (let i = 0; i < 30_000; i++) {
      const r = random();
      const text = r < 0.1 ? `"line ${i}\nnext, with ""quotes"""` : r < 0.2 ? `"a,b ${i}"` : `t${i % 97}`;
      lines.push(`${i},${text},${(random() * 100).toFixed(3)},${random() < 0.5 ? 'yes' : 'no'}`);
    }
    // Some lines papaparse reads its own way (stray quotes, text after a closing quote, spaces
    // before a delimiter, a lone LF): the reader hands those segments to papaparse.
    const odd = ['5" tall', '"closed" then', '"spaced"  ', 'x\ny'];
    for (let i = 0; i < 40; i++) lines[1 + Math.floor(random() * (lines.length - 1))] = `${i},${odd[i % odd.length]},1.5,yes`;
    const text = lines.join('\r\n') + '\r\n';
    const bytes = encoder.encode(text);
    const expected = Papa.parse<string[]>(text, { skipEmptyLines: 'greedy', newline: '\r\n' }).data.slice(1);
    for (const size of [65_537, 1_048_573, bytes.length]) {
      const { table } = loadInPieces(bytes, size);
      expect(table.rowCount).toBe(expected.length);
      const got = cells(table);
      // x is numeric: compare its numbers; the other columns by their exact texts.
      expect(got.map((row) => [row[0], row[1], row[3]])).toEqual(expected.map((row) => [row[0], row[1], row[3]]));
      expect(got.map((row) => Number(row[2]))).toEqual(expected.map((row) => Number(row[2])));
    }
  });

  it('counts characters that are not UTF-8 even when a piece splits them, and not a U+FFFD the file holds as such', () => {
    const bytes = new Uint8Array([...encoder.encode('a,b\n1,caf'), 0xe9, ...encoder.encode(',x\n'.slice(1)), ...encoder.encode('2,ü\n3,\uFFFD\n')]);
    for (const size of [1, 2, bytes.length]) {
      expect(() => loadInPieces(bytes, size)).toThrow(/^f\.csv: not UTF-8 text: row 1, column "b" reads "caf\uFFFDx", where U\+FFFD \(\uFFFD\) marks what UTF-8 cannot read \(1 place in the file\)\./);
    }
    // A declared type's refusal of "2\uFFFD" is said as the encoding's (it said "declared numeric but holds the value").
    const declared = new Uint8Array([...encoder.encode('x,y\n1,0\n2'), 0xb0, ...encoder.encode(',1\n')]);
    expect(() => loadInPieces(declared, declared.length, { dtypes: { x: 'numeric' } })).toThrow(/^f\.csv: not UTF-8 text: U\+FFFD \(\uFFFD\) marks what UTF-8 cannot read \(1 place in the file\)\. /);
    // Valid UTF-8 holding U+FFFD (EF BF BD) itself is read as it is.
    const valid = encoder.encode('a,b\n1,café\n2,\uFFFD\n');
    for (const size of [1, 2, valid.length]) expect(cells(loadInPieces(valid, size).table).map((row) => row[1])).toEqual(['café', '\uFFFD']);
  });

  it('reads a stream with progress in bytes and rows, and stops when cancelled', async () => {
    const bytes = readFileSync(fixture('compas/test.csv'));
    async function* pieces() {
      for (let at = 0; at < bytes.length; at += 16_384) yield bytes.subarray(at, at + 16_384);
    }
    const seen: { bytes: number; rows: number }[] = [];
    const loaded = await loadTableStream('test.csv', pieces(), { totalBytes: bytes.length, onProgress: (p) => seen.push(p) });
    expect(loaded.table).toEqual(loadTableBytes(bytes, 'test.csv').table);
    expect(seen.at(-1)!.bytes).toBe(bytes.length);
    expect(seen.map((p) => p.bytes)).toEqual([...seen.map((p) => p.bytes)].sort((a, b) => a - b));
    expect(seen.some((p) => p.rows > 0 && p.rows < loaded.table.rowCount)).toBe(true);
    const controller = new AbortController();
    controller.abort(new Error('cancelled by the user'));
    await expect(loadTableStream('test.csv', pieces(), { signal: controller.signal })).rejects.toThrow('cancelled by the user');
  });

  it('refuses, before running out of memory, a file whose table would not fit, saying how big it would be', () => {
    const lines = ['a,b,c,d'];
    for (let i = 0; i < 20_000; i++) lines.push(`${i},${i * 2},${i % 7},x${i % 3}`);
    const bytes = encoder.encode(lines.join('\n') + '\n');
    // Claim the file is 1,000 times larger than the part given: the estimate scales the rows read so far.
    const totalBytes = bytes.length * 1000;
    const loader = new TableLoader('big.csv', { totalBytes, memoryLimit: 512 * 1024 ** 2 });
    let message = '';
    try {
      for (let at = 0; at < bytes.length; at += 65_536) loader.push(bytes.subarray(at, at + 65_536));
    } catch (error) {
      message = (error as Error).message;
      expect(error).toBeInstanceOf(CsvError);
    }
    const rows = Math.round((totalBytes / loader.bytes) * loader.rows);
    expect(message).toBe(
      `big.csv: about ${rows.toLocaleString('en-US')} rows × 4 columns need about ${((rows * 4 * 8) / 1024 ** 3).toFixed(1)} GiB in memory, more than the 0.5 GiB this host allows. Audit a sample of the rows (split the file, or keep the columns the audit needs), or run the plumbline CLI on a machine with more memory.`,
    );
    // The same file within the limit loads.
    expect(loadTableBytes(bytes, 'big.csv', { memoryLimit: 2 * 1024 ** 3 }).table.rowCount).toBe(20_000);
  });
});

describe('rows with the wrong number of fields deep in a large file', () => {
  it('are quoted by their line number, read in one piece or in chunks', () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i},${i % 3},"q${i}"`);
    lines[15_000] = '1,2,3,4';
    lines[17_500] = '5';
    const text = `a,b,c\n${lines.join('\n')}\n`;
    const message = 'f.csv: 2 rows with the wrong number of fields (the header has 3): line 15002 has 4 fields; line 17502 has 1 field. Quote fields that contain the delimiter ",".';
    expect(() => parseCsv(text, { fileName: 'f.csv' })).toThrow(new CsvError(message));
    expect(() => loadInPieces(encoder.encode(text), 65_536)).toThrow(new CsvError(message));
    expect(loadInPieces(encoder.encode(text), 65_536, { skipBadRows: true }).table.skipped).toEqual({ rows: 2, examples: ['line 15002 has 4 fields', 'line 17502 has 1 field'] });
  });
});

describe('sizing columns from the estimate', () => {
  it('gives the same table when rows change length (the estimate is then not trusted) and when they do not', () => {
    const short = Array.from({ length: 5000 }, (_, i) => `${i},a`);
    const long = Array.from({ length: 30_000 }, (_, i) => `${i},${'x'.repeat(40)}${i % 7}`);
    for (const lines of [[...short, ...long], [...long, ...short], long]) {
      const text = `n,t\n${lines.join('\n')}\n`;
      const loaded = loadTableBytes(encoder.encode(text), 'f.csv').table;
      expect(loaded).toEqual(parseCsv(text, { fileName: 'f.csv' }));
      expect(loaded.columns.every((c) => (c.kind === 'numeric' ? c.values.length : c.codes.length) === lines.length)).toBe(true);
    }
  });
});

describe('extreme shapes', () => {
  it('refuses a 2 GB file whose table would not fit after its first rows, reading no further', async () => {
    const cells = Array.from({ length: 30 }, (_, j) => (j % 3 === 0 ? '123.456789' : j % 3 === 1 ? '42' : 'alpha'));
    const piece = encoder.encode(`${cells.join(',')}\n`.repeat(5000));
    const total = 2.2e9;
    let given = 0;
    async function* file() {
      yield encoder.encode(`${cells.map((_, j) => `c${j}`).join(',')}\n`);
      while (given < total) {
        given += piece.length;
        yield piece;
      }
    }
    await expect(loadTableStream('big.csv', file(), { totalBytes: total, memoryLimit: 2 * 1024 ** 3 })).rejects.toThrow(
      /^big\.csv: about [\d,]+ rows × 30 columns need about \d+\.\d GiB in memory, more than the 2\.0 GiB this host allows\. Audit a sample of the rows \(split the file, or keep the columns the audit needs\), or run the plumbline CLI on a machine with more memory\.$/,
    );
    expect(given).toBeLessThan(2 * piece.length);
  });

  it('refuses 100,000 columns and a field of 100 MB on one line, in words (they would take minutes and gigabytes)', () => {
    const columns = 100_000;
    const header = Array.from({ length: columns }, (_, j) => `c${j}`).join(',');
    expect(() => loadTableBytes(encoder.encode(`${header}\n`), 'wide.csv')).toThrow(
      'wide.csv: the header has 100,000 columns, more than the 20,000 a data file may have. Keep the columns the audit needs (target, protected attributes, model inputs) and load the file again.',
    );
    const long = 'x'.repeat(100 * 1024 * 1024);
    expect(() => loadTableBytes(encoder.encode(`id,note\n1,"${long}"\n2,short\n`), 'long.csv')).toThrow(
      'long.csv, row 1, column "note": a quote opens this cell and does not close within 16 MB (a cell may hold 1.0 MB), so the cell runs on over the lines that follow. Close the quote (a quote inside a quoted cell is written "") and load the file again.',
    );
  });

});

import Papa from 'papaparse';
import { describe, expect, it, vi } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { loadTableBytes } from '../../src/core/data/read';
import { sourceText, type Table } from '../../src/core/data/table';
import { Random } from '../../src/core/base/random';
import { FastRows } from '../../src/core/data/csv/fast';
import { concatBytes } from '../../src/core/data/csv/bytes';

// Past the file's head (64 KB, where the dialect is found) the reader reads records from the
// bytes themselves (csv/bytes.ts, csv/fast.ts), decoding only the cells it must. The oracle
// is papaparse on the text TextDecoder makes of the whole file: every cell's text as written,
// the rows it gives, and the U+FFFD in that text.

const encoder = new TextEncoder();

/** Every cell as the file wrote it, row by row. */
function written(table: Table): string[][] {
  return Array.from({ length: table.rowCount }, (_, row) => table.columns.map((column) => sourceText(column, row)));
}

/** A seeded file of ~`rows` records with every kind of cell the byte path must read as text would be. */
function nastyFile(seed: number, rows: number, crlf: boolean, unreadable = false): Uint8Array {
  const rng = new Random(seed, 'csv-bytes-test');
  const pick = <T>(items: T[]): T => items[Math.floor(rng.next() * items.length)];
  const newline = crlf ? '\r\n' : '\n';
  const parts: Uint8Array[] = [encoder.encode(`id,cat,num,code,note${newline}`)];
  const categories = ['alpha', 'beta', 'é', '日本', '𝄞 clef', '\uFEFFmarked', ' spaced ', 'n/ä', '–', 'NA', '', 'a "b"', 'ü,ö'];
  const numbers = () => pick([(rng.next() * 200 - 100).toFixed(3), '007', '1.50', '-0', '.5', '+5', '1e3', '', 'NA', ' 4.25', String(Math.floor(rng.next() * 1e6))]);
  for (let i = 0; i < rows; i++) {
    const r = rng.next();
    const cat = pick(categories);
    const quotedCat = /[",]/.test(cat) ? `"${cat.replaceAll('"', '""')}"` : cat;
    const note = r < 0.05 ? `"two${newline}lines, ""quoted"""` : r < 0.1 ? `"a,b ${i}"` : `n${i % 31}`;
    let line = `${i},${quotedCat},${numbers()},${pick(['01', '02', '10', '1'])},${note}`;
    // Unusual records, read as text (papaparse) where the fast path gives up.
    if (r > 0.9995) line = `${i},${cat},1,01,5" tall`;
    else if (r > 0.999) line = `${i},short`; // the wrong number of fields
    else if (r > 0.998) line = r > 0.9985 ? '' : '   ';
    const bytes = encoder.encode(line + newline);
    if (unreadable && r > 0.999 && r <= 0.9995 && i % 2 === 0) {
      // The wrong number of fields, and a byte that is not UTF-8 in them (counted all the same).
      parts.push(encoder.encode(`${i},sh`), new Uint8Array([0xff]), encoder.encode(`ort${newline}`));
    } else if (unreadable && r > 0.997 && r <= 0.998) {
      // A byte that is not UTF-8, and a character cut short, in the category.
      parts.push(encoder.encode(`${i},caf`), new Uint8Array([0xe9]), encoder.encode(`,1,01,x${newline}${i},`), new Uint8Array([0xe6, 0x97]), encoder.encode(`,2,02,y${newline}`));
    } else parts.push(bytes);
    // Records longer than the fast path's window and its carry.
    if (i === Math.floor(rows / 3)) parts.push(encoder.encode(`${i},long,1,01,"${'x, y'.repeat(30_000)}${newline}z"${newline}`));
    if (i === Math.floor(rows / 2)) parts.push(encoder.encode(`${i},longer,1,01,"${`é${newline}`.repeat(120_000)}"${newline}`));
  }
  return concatBytes(parts);
}

describe('reading records from the bytes', () => {
  it('gives every cell as papaparse reads the decoded text, however the bytes are split', () => {
    for (const crlf of [false, true]) {
      const bytes = nastyFile(crlf ? 2 : 1, 12_000, crlf);
      const text = new TextDecoder().decode(bytes);
      const parsed = Papa.parse<string[]>(text, { newline: crlf ? '\r\n' : '\n' }).data;
      const good = parsed.slice(1).filter((row) => row.length === 5);
      const bad = parsed.slice(1).filter((row) => row.length !== 5 && !(row.length === 1 && row[0].trim() === ''));
      const options = { missingValues: ['', 'NA', 'n/ä', '–'], skipBadRows: true };
      const oneText = parseCsv(text, { fileName: 'f.csv', ...options });
      const missing = [0, 1, 2, 3, 4].map((i) => good.filter((row) => options.missingValues.includes(row[i].trim())).length);
      const numbers = good.map((row) => (options.missingValues.includes(row[2].trim()) ? Number.NaN : Number(row[2])));
      expect(bad.length).toBeGreaterThan(0);
      for (const size of [4099, 65_536, 1 << 20, bytes.length]) {
        const label = `${crlf ? 'CRLF' : 'LF'} in ${size}-byte pieces`;
        const fast = vi.spyOn(FastRows.prototype, 'read');
        const loaded = loadTableBytes(bytes, 'f.csv', options, size);
        // Past the head, records were read from the bytes (not only from text made of them).
        const fromBytes = fast.mock.calls.filter((call) => call[3] === false).length;
        if (size < bytes.length / 4) expect(fromBytes, label).toBeGreaterThan(bytes.length / size / 2);
        fast.mockRestore();
        expect(written(loaded.table), label).toEqual(good);
        expect(loaded.table.skipped?.rows, label).toBe(bad.length);
        expect(loaded.table.columns.map((column) => column.missing), label).toEqual(missing);
        expect(loaded.table.columns[2].kind).toBe('numeric');
        expect(Array.from((loaded.table.columns[2] as { values: Float64Array }).values), label).toEqual(numbers);
        // The same table the text path makes: codes in first-met order, kept texts, bad rows' line numbers.
        expect(loaded.table, label).toEqual(oneText);
      }
    }
  });

  it('refuses bytes that are not UTF-8, counting every place TextDecoder reads as U+FFFD however the bytes are split', () => {
    for (const crlf of [false, true]) {
      const bytes = nastyFile(crlf ? 2 : 1, 12_000, crlf, true);
      const replaced = (new TextDecoder().decode(bytes).match(/\uFFFD/g) ?? []).length;
      expect(replaced).toBeGreaterThan(10);
      for (const size of [4099, 65_536, 1 << 20, bytes.length]) {
        expect(() => loadTableBytes(bytes, 'f.csv', { skipBadRows: true }, size), `${crlf ? 'CRLF' : 'LF'} in ${size}-byte pieces`).toThrow(
          new RegExp(`^f\\.csv: not UTF-8 text: row [\\d,]+, column "cat" reads "(caf\uFFFD|\uFFFD)", where U\\+FFFD \\(\uFFFD\\) marks what UTF-8 cannot read \\(${replaced} places in the file\\)\\.`),
        );
      }
    }
  });
});

/** The table, or the error's message, as text: what a load gives. */
function outcome(bytes: Uint8Array, chunk: number, options = {}): string {
  try {
    const { table } = loadTableBytes(bytes, 'f.csv', options, chunk);
    return JSON.stringify({ rows: written(table), skipped: table.skipped });
  } catch (error) {
    return (error as Error).message;
  }
}

const lines = (n: number, line: (i: number) => string, newline = '\n') => Array.from({ length: n }, (_, i) => line(i) + newline).join('');

describe('what the byte path hands to the text path', () => {
  it('counts a cell’s limit in characters, and refuses a record over the row limit that came in one chunk', () => {
    // 600,000 characters, 1.2 MB of UTF-8: under the 1 MB-character limit.
    const long = encoder.encode(`id,text\n${lines(8000, (i) => `${i},abc`)}9,${'é'.repeat(600_000)}\n10,x\n`);
    const { table } = loadTableBytes(long, 'f.csv', {}, 1 << 22);
    expect(table.rowCount).toBe(8002);
    expect(sourceText(table.columns[1], 8000)).toHaveLength(600_000);
    const wide = encoder.encode(`${Array.from({ length: 18 }, (_, i) => `c${i}`).join(',')}\n${lines(8000, () => Array(18).fill('1').join(','))}${Array(18).fill('x'.repeat(1_000_000)).join(',')}\n`);
    expect(() => loadTableBytes(wide, 'f.csv', {}, wide.length - 1)).toThrow(/row 8,001 is longer than 16 MB/);
  });

  it('gives papaparse’s reading of a quote closed before something other than the delimiter or the line end, however the chunks fall', () => {
    const cases = [
      { text: `c0\n${lines(14000, (i) => `${i}`)}"x"\ry\n${'z\n'.repeat(40)}`, newline: '\n' as const },
      { text: `c0,c1\r\n${lines(9000, (i) => `${i},a${i % 10}`, '\r\n')}1,"x"\nb,y\r\n${lines(40, (i) => `${i},z`, '\r\n')}`, newline: '\r\n' as const },
    ];
    for (const { text, newline } of cases) {
      const expected = Papa.parse<string[]>(text, { newline }).data.slice(1).filter((row) => !(row.length === 1 && row[0] === ''));
      const bytes = encoder.encode(text);
      for (const chunk of [16, 100, 997, bytes.length]) expect(written(loadTableBytes(bytes, 'f.csv', {}, chunk).table), `${chunk}-byte chunks`).toEqual(expected);
    }
  });

  it('names the same bad rows, and a CRLF file’s lone LF, however the chunks fall', () => {
    const mixed = encoder.encode(`a,b\r\n${lines(12000, (i) => `${i},2`, '\r\n')}3,4\n5\r\n${lines(200, (i) => `${i},2`, '\r\n')}7\r\n${lines(10, (i) => `${i},2`, '\r\n')}`);
    for (const chunk of [16, 997, mixed.length]) expect(outcome(mixed, chunk), `${chunk}-byte chunks`).toMatch(/mixes line endings: .* line 12,002 ends with LF alone/);
    const mark = encoder.encode(`a,b\n${lines(14000, (i) => `${i},1`)}\uFEFF"p,q",r\ns\n`);
    for (const chunk of [16, 997, mark.length]) expect(outcome(mark, chunk), `${chunk}-byte chunks`).toContain('line 14002 has 3 fields; line 14003 has 1 field');
  });
});

import Papa from 'papaparse';
import { describe, expect, it, vi } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import { loadTableBytes } from '../../src/core/data/read';
import { sourceText, type Table } from '../../src/core/data/table';
import { Random } from '../../src/core/base/random';
import { FastRows } from '../../src/core/data/csv/fast';

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
function nastyFile(seed: number, rows: number, crlf: boolean): Uint8Array {
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
    if (r > 0.999 && r <= 0.9995 && i % 2 === 0) {
      // The wrong number of fields, and a byte that is not UTF-8 in them (counted all the same).
      parts.push(encoder.encode(`${i},sh`), new Uint8Array([0xff]), encoder.encode(`ort${newline}`));
    } else if (r > 0.997 && r <= 0.998) {
      // A byte that is not UTF-8, and a character cut short, in the category.
      parts.push(encoder.encode(`${i},caf`), new Uint8Array([0xe9]), encoder.encode(`,1,01,x${newline}${i},`), new Uint8Array([0xe6, 0x97]), encoder.encode(`,2,02,y${newline}`));
    } else parts.push(bytes);
    // Records longer than the fast path's window and its carry.
    if (i === Math.floor(rows / 3)) parts.push(encoder.encode(`${i},long,1,01,"${'x, y'.repeat(30_000)}${newline}z"${newline}`));
    if (i === Math.floor(rows / 2)) parts.push(encoder.encode(`${i},longer,1,01,"${`é${newline}`.repeat(120_000)}"${newline}`));
  }
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

describe('reading records from the bytes', () => {
  it('gives every cell as papaparse reads the decoded text, however the bytes are split', () => {
    for (const crlf of [false, true]) {
      const bytes = nastyFile(crlf ? 2 : 1, 12_000, crlf);
      const text = new TextDecoder().decode(bytes);
      const parsed = Papa.parse<string[]>(text, { newline: crlf ? '\r\n' : '\n' }).data;
      const good = parsed.slice(1).filter((row) => row.length === 5);
      const bad = parsed.slice(1).filter((row) => row.length !== 5 && !(row.length === 1 && row[0].trim() === ''));
      const replaced = (text.match(/\uFFFD/g) ?? []).length;
      const options = { missingValues: ['', 'NA', 'n/ä', '–'], skipBadRows: true };
      const oneText = parseCsv(text, { fileName: 'f.csv', ...options });
      const missing = [0, 1, 2, 3, 4].map((i) => good.filter((row) => options.missingValues.includes(row[i].trim())).length);
      const numbers = good.map((row) => (options.missingValues.includes(row[2].trim()) ? Number.NaN : Number(row[2])));
      expect(bad.length).toBeGreaterThan(0);
      expect(replaced).toBeGreaterThan(0);
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
        expect(loaded.replacedCharacters, label).toBe(replaced);
        expect(loaded.table.columns.map((column) => column.missing), label).toEqual(missing);
        expect(loaded.table.columns[2].kind).toBe('numeric');
        expect(Array.from((loaded.table.columns[2] as { values: Float64Array }).values), label).toEqual(numbers);
        // The same table the text path makes: codes in first-met order, kept texts, bad rows' line numbers.
        expect(loaded.table, label).toEqual(oneText);
      }
    }
  });
});

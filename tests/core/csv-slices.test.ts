import { describe, expect, it } from 'vitest';
import { readCsvSlice, sliceTransfers } from '../../src/core/data/csv/slice';
import { loadTableStream, type LoadedTable, type LoadOptions } from '../../src/core/data/read';
import type { CsvSliceRunner } from '../../src/core/data/slices';
import { Random } from '../../src/core/base/random';
import { poolRunners, poolJobsSent } from '../../src/api/node-pool';

// A large CSV read in slices over the pool must give the table one pass gives, to the byte
// (codes, dictionaries in first-met order, kept texts, bad-row line numbers, errors), or be
// read again in one pass. The oracle is the one-pass reader, itself checked against
// papaparse and the fixtures in csv.test.ts and csv-stream.test.ts.

const encoder = new TextEncoder();

/**
 * A slice read as a pool thread reads it: the job and the result cross a structured clone
 * with their buffers moved (the bytes, and the spare buffers of appended slices' columns:
 * were the first reader's table still to hold one, moving it would empty the table's column).
 */
function inProcess(): { run: CsvSliceRunner; calls: () => number; spares: () => number } {
  let calls = 0;
  let spares = 0;
  const run: CsvSliceRunner = async (job) => {
    calls++;
    spares += job.spares?.length ?? 0;
    const sent = structuredClone(job, { transfer: [job.bytes.buffer as ArrayBuffer, ...(job.spares ?? [])] });
    const result = readCsvSlice(sent);
    return structuredClone(result, { transfer: sliceTransfers(result) });
  };
  return { run, calls: () => calls, spares: () => spares };
}

interface Load {
  loaded?: LoadedTable;
  error?: string;
  reopened: number;
}

/** Loads `bytes` from a stream of `chunk`-byte pieces, one pass or in slices of `sliceBytes`. */
async function load(bytes: Uint8Array, options: LoadOptions & { sliceBytes?: number } = {}, chunk = 997): Promise<Load> {
  let reopened = 0;
  async function* pieces() {
    for (let at = 0; at < bytes.length; at += chunk) yield bytes.slice(at, at + chunk);
  }
  try {
    const loaded = await loadTableStream('f.csv', pieces(), {
      totalBytes: bytes.length,
      ...options,
      reopen: () => {
        reopened++;
        return pieces();
      },
    });
    return { loaded, reopened };
  } catch (error) {
    return { error: (error as Error).message, reopened };
  }
}

/**
 * One pass and slices of several sizes give the same table (or error); returns, for each
 * size, the slices sent and whether the file was read again in one pass (a second pass for
 * a column's texts reopens the file in both).
 */
async function sameAsOnePass(text: string | Uint8Array, options: LoadOptions = {}): Promise<{ slices: number; readAgain: boolean }[]> {
  const bytes = typeof text === 'string' ? encoder.encode(text) : text;
  const one = await load(bytes, options);
  const loads = [];
  expect(bytes.length, 'a file larger than the first slice (256 KB)').toBeGreaterThan(300_000);
  for (const sliceBytes of [2048, 5000, 16384]) {
    const { run, calls, spares } = inProcess();
    const sliced = await load(bytes, { ...options, csvSlices: run, sliceBytes });
    // Later slices' columns are made over the buffers of those appended before them.
    if (sliced.loaded && calls() > 5 && sliced.reopened === one.reopened) expect(spares(), `slices of ${sliceBytes} bytes`).toBeGreaterThan(0);
    expect(sliced.error, `slices of ${sliceBytes} bytes`).toBe(one.error);
    if (one.loaded) {
      expect(sliced.loaded!.table, `slices of ${sliceBytes} bytes`).toEqual(one.loaded.table);
      expect(sliced.loaded!.sha256).toBe(one.loaded.sha256);
    }
    loads.push({ slices: calls(), readAgain: sliced.reopened > one.reopened });
  }
  return loads;
}

/** A seeded CSV of `rows` rows whose columns make `cell(row, random)`. */
function csv(header: string[], rows: number, cell: (row: number, column: number, random: Random) => string, newline = '\n', seed = 7): string {
  const random = new Random(seed);
  const lines = [header.join(',')];
  for (let r = 0; r < rows; r++) lines.push(header.map((_, c) => cell(r, c, random)).join(','));
  return lines.join(newline) + newline;
}

const WORDS = ['alpha', 'beta', 'gamma', '"Smith, J."', '"said ""hi"""', '"two\nlines"', '?', 'NA', '', ' NA ', 'delta'];

/** The kinds of cell a real export holds, by column. */
function mixedCell(row: number, column: number, random: Random): string {
  const u = random.next();
  switch (column) {
    case 0:
      return String(row);
    case 1: // decimals, some written to fixed places ("2.50"), some missing
      return u < 0.05 ? '' : u < 0.3 ? (random.next() * 100).toFixed(2) : String(Math.round(random.next() * 1e6) / 1e3);
    case 2: // codes that read as numbers but are not their numbers' texts
      return ['01', '02', '10', '007'][Math.floor(u * 4)];
    case 3: // categories, quoted commas and newlines, escaped quotes, missing tokens
      return WORDS[Math.floor(u * WORDS.length)];
    case 4: // numbers with spaces around, booleans as 0/1
      return u < 0.1 ? ` ${Math.floor(random.next() * 9)} ` : u < 0.55 ? '0' : '1';
    default: // text, U+FEFF at a record's start, characters of several bytes
      return u < 0.02 ? '\uFEFFx' : u < 0.5 ? 'ü é ß' : '𝄞 日本';
  }
}

describe('reading a CSV in slices over the pool', () => {
  it('gives the one-pass table for a file of every kind of cell, without reading it again', async () => {
    const text = csv(['id', 'amount', 'code', 'label', 'flag', 'note'], 12000, mixedCell);
    for (const { slices, readAgain } of await sameAsOnePass(text)) {
      expect(slices).toBeGreaterThan(5);
      expect(readAgain).toBe(false);
    }
  });

  it('gives the one-pass table for CRLF files with quoted line ends of both kinds', async () => {
    const cell = (row: number, column: number, random: Random) => (column === 1 ? ['"a\r\nb"', '"c\nd"', 'e', '""'][Math.floor(random.next() * 4)] : String(row * 3));
    const loads = await sameAsOnePass('\uFEFF' + csv(['n', 'text', 'm'], 24000, cell, '\r\n'));
    expect(loads.every(({ readAgain, slices }) => !readAgain && slices > 2)).toBe(true);
  });

  it('follows a column that turns to text in a later slice, its numbers read back', async () => {
    const cell = (row: number, column: number) => (column === 0 ? String(row) : row === 36000 ? 'late text' : String(row % 17));
    const loads = await sameAsOnePass(csv(['id', 'x'], 40000, cell));
    expect(loads.every(({ readAgain, slices }) => !readAgain && slices > 2)).toBe(true);
  });

  it('reads the file again in one pass where a column turns to text after numbers whose texts do not read back', async () => {
    // "1.50" is not String(1.5): one pass reads the first rows' texts again; slices cannot.
    const cell = (row: number, column: number) => (column === 0 ? String(row) : row === 36000 ? 'late text' : `${row % 9}.50`);
    const loads = await sameAsOnePass(csv(['id', 'x'], 40000, cell));
    expect(loads.every(({ readAgain, slices }) => readAgain && slices > 2)).toBe(true);
  });

  it('reads codes as text from the first row of a slice where the column held text before it ("01" stays "01")', async () => {
    const cell = (row: number, column: number) => (column === 0 ? String(row) : row === 3 ? 'X9' : ['01', '02', '007'][row % 3]);
    const loads = await sameAsOnePass(csv(['id', 'code'], 40000, cell));
    expect(loads.every(({ readAgain, slices }) => !readAgain && slices > 2)).toBe(true);
  });

  it('gives the same error, or the same skipped rows with their line numbers in the whole file', async () => {
    const isBad = (row: number) => row > 20_000 && row % 3001 === 7; // past the first slice
    const cell = (row: number, column: number) => (column === 2 && isBad(row) ? '1,extra' : String(row + column));
    const text = csv(['a', 'b', 'c'], 40000, cell);
    await sameAsOnePass(text);
    const loads = await sameAsOnePass(text, { skipBadRows: true });
    expect(loads.every(({ readAgain, slices }) => !readAgain && slices > 2)).toBe(true);
    const { loaded } = await load(encoder.encode(text), { skipBadRows: true, csvSlices: inProcess().run, sliceBytes: 2048 });
    // Row r is on line r + 2 (the header is line 1).
    const bad = Array.from({ length: 40000 }, (_, row) => row).filter(isBad);
    expect(loaded!.table.skipped).toEqual({ rows: bad.length, examples: bad.slice(0, 3).map((row) => `line ${row + 2} has 4 fields`) });
  });

  it('gives the same table or error for stray quotes, blank lines, an unclosed quote, a cell over the limit, invalid UTF-8', async () => {
    const stray = csv(['a', 'b'], 40000, (row, column) => (column === 0 && row % 97 === 5 ? '5" tall' : String(row)));
    await sameAsOnePass(stray);
    await sameAsOnePass(csv(['a', 'b'], 40000, (row) => String(row)).replaceAll('\n1', '\n\n  \n1'));
    // U+FEFF starting a record in segments papaparse reads (stray quotes): data, not a byte-order mark.
    await sameAsOnePass(csv(['a', 'b'], 40000, (row, column) => (column === 0 ? (row % 5 === 0 ? '\uFEFF' : '') + `k${row % 3}` : '5" x 6"')));
    await sameAsOnePass(csv(['a', 'b'], 40000, (row) => String(row)) + '1,"never closed\n2,3\n');
    await sameAsOnePass(csv(['a', 'b'], 40000, (row) => (row === 30000 ? 'x'.repeat(2 ** 20 + 1) : String(row))));
    // A CRLF file whose last lines end in LF alone.
    const crlf = csv(['a', 'b'], 40000, (row) => String(row), '\r\n');
    await sameAsOnePass(crlf.slice(0, 500_000) + crlf.slice(500_000).replaceAll('\r\n', '\n'));
    const bytes = encoder.encode(csv(['a', 'b'], 40000, (row) => (row === 30000 ? 'bad\u00ffbyte' : String(row))));
    const invalid = new Uint8Array(bytes.length + 2);
    invalid.set(bytes);
    invalid.set([0xc3, 0x0a], bytes.length); // a lead byte before the last newline
    await sameAsOnePass(invalid);
  });

  it('gives the same table with declared types and missing values', async () => {
    const text = csv(['id', 'zip', 'score', 'day'], 12000, (row, column) => [String(row), ['02139', '10001', '?'][row % 3], row % 11 === 0 ? '-' : String(row / 4), '2024-01-0' + ((row % 9) + 1)][column]);
    await sameAsOnePass(text, { dtypes: { zip: 'categorical', score: 'numeric', day: 'date' }, missingValues: ['-', '?'] });
  });

  it('gives the same table for a file in Windows-1252 (data.encoding), its accented bytes in every slice', async () => {
    const names = ['Müller', 'Mäller', 'Sécurité', 'naïve €5', 'plain'];
    const text = csv(['id', 'name', 'x'], 30000, (row, column) => [String(row), names[row % names.length], String(row / 8)][column]);
    const bytes = Uint8Array.from(text, (char) => ({ ü: 0xfc, ä: 0xe4, é: 0xe9, ï: 0xef, '€': 0x80 })[char] ?? char.charCodeAt(0));
    const loads = await sameAsOnePass(bytes, { encoding: 'windows-1252' });
    expect(loads.some((l) => l.slices > 1)).toBe(true);
    const { loaded } = await load(bytes, { encoding: 'windows-1252' });
    const name = loaded!.table.columns[1];
    expect(name.kind === 'categorical' && name.dictionary).toEqual(names);
  });

  it('gives the one-pass table on the Node pool threads', async () => {
    const text = csv(['id', 'amount', 'code', 'label', 'flag', 'note'], 12000, mixedCell, '\n', 11);
    const bytes = encoder.encode(text);
    const one = await load(bytes);
    const sent = poolJobsSent();
    const { csvSlices } = poolRunners(2);
    const sliced = await load(bytes, { csvSlices, sliceBytes: 8192 });
    expect(poolJobsSent() - sent).toBeGreaterThan(5);
    expect(sliced.reopened).toBe(one.reopened);
    expect(sliced.loaded!.table).toEqual(one.loaded!.table);
  });
});

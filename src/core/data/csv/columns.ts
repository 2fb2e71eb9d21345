/**
 * The column builder: one column of a CSV while its rows arrive, typed as it goes (numbers
 * in a Float64Array until a cell is not a decimal, then dictionary codes), with the texts
 * its stored values do not give back kept aside.
 */
import { CsvError, quote } from '../../base/errors';
import { formatSize, INPUT_LIMITS } from '../../base/limits';
import type { CategoricalColumn, Column, KeptTexts, NumericColumn } from '../table';
import type { BadRowsState } from './bad-rows';
import type { CellText } from './cell-text';
import { Categories } from './categories';
import { KeptTextsBuilder } from './kept';
import { decimalForm, parseDecimal, readDecimal, trimmed, wholeBeyondDouble } from './numbers';

/**
 * A column of a slice of the file read on a thread, sent back to the thread reading the file
 * (see slice.ts): its numbers (numeric) or codes into `dictionary`, its kept texts, and what
 * decides whether it can follow the rows before it ({@link ColumnBuilder.canAbsorb}).
 */
export interface SliceColumn {
  numeric: boolean;
  /** Row at which it turned to text (−1: never, or read as text from the first row). */
  demotedAt: number;
  /** Whether some number's text may not read back (or the column was read as text because of one). */
  inexact: boolean;
  missing: number;
  count: number;
  values: Float64Array | Int32Array;
  dictionary: string[];
  texts: KeptTexts | undefined;
}

/** Where a later slice of the file starts reading (see CsvReader.forSlice). */
export interface SliceStart {
  header: string[];
  delimiter: string;
  newline: '\n' | '\r\n';
  /** Columns that hold text before the slice: read as text from its first row. */
  categorical: number[];
}

/** What a slice's reader read (CsvReader.sliceState), as plain data. */
export interface SliceRows {
  rows: number;
  /** Newlines in the slice's text. */
  lines: number;
  bad: BadRowsState;
  columns: SliceColumn[];
}

/**
 * One column while rows arrive. Numbers go straight into a growing Float64Array as long as
 * every cell is a decimal; categorical texts are dictionary-encoded into a growing
 * Int32Array. A column that stops being numeric at row k is demoted: later rows are
 * encoded as text. The rows before k are encoded from their numbers when every one of them
 * reads back exactly (`String(n)` is the cell's text); otherwise ("007", "1.50") their
 * texts are read again in a second pass over the file's first k rows ({@link CsvReader}),
 * which only such columns pay for.
 */
export class ColumnBuilder {
  numbers = new Float64Array(16);
  codes: Int32Array | null = null;
  dictionary = new Categories();
  numeric = true;
  /** Row at which a numeric column turned out to hold text (−1: never). */
  demotedAt = -1;
  /** Whether some number read so far has a text `String(number)` does not give back. */
  inexact = false;
  /** The rows before `demotedAt` still wait for their texts (second pass). */
  awaitingTexts = false;
  missing = 0;
  count = 0;

  /** Longest missing-value token: longer cells skip the set lookup. */
  readonly longestMissing: number;
  /** First characters of the missing-value tokens (other cells skip the set lookup). */
  private readonly missingStarts: Set<number>;
  /** The same in UTF-8 bytes, for cells read from bytes: the most bytes, and the first bytes (1: a token starts with it). */
  private readonly longestMissingBytes: number;
  private readonly missingStartBytes = new Uint8Array(256);

  /**
   * @param declared the type data.dtypes declares: categorical keeps texts from the first row;
   * numeric takes a whole number past 2^53 as the nearest double (its text kept), where
   * inference reads it as text (an identifier a double would merge with its neighbour).
   */
  constructor(readonly name: string, readonly missingValues: ReadonlySet<string>, private readonly declared: 'categorical' | 'numeric' | null = null, private readonly fileName = '') {
    this.longestMissing = Math.max(0, ...[...missingValues].map((v) => v.length));
    this.missingStarts = new Set([...missingValues].filter((v) => v.length > 0).map((v) => v.charCodeAt(0)));
    const encoded = [...missingValues].map((v) => new TextEncoder().encode(v));
    this.longestMissingBytes = Math.max(0, ...encoded.map((bytes) => bytes.length));
    for (const bytes of encoded) if (bytes.length > 0) this.missingStartBytes[bytes[0]] = 1;
    // A token starting with a letter beyond ASCII starts with another byte in a single-byte encoding (data.encoding): every such byte may start one.
    if (encoded.some((bytes) => bytes[0] >= 0x80)) this.missingStartBytes.fill(1, 0x80);
    // A column declared categorical keeps its texts from the first row ("02139" stays).
    if (declared === 'categorical') this.numeric = false;
  }

  private isMissing(text: string): boolean {
    const n = text.length;
    if (n === 0) return this.missingValues.has('');
    return n <= this.longestMissing && this.missingStarts.has(text.charCodeAt(0)) && this.missingValues.has(text);
  }

  /** A cell over {@link INPUT_LIMITS.cellChars}: refused, naming its row and column. */
  private tooLong(length: number): CsvError {
    return new CsvError(
      `${this.fileName}, row ${(this.count + 1).toLocaleString('en-US')}, column ${quote(this.name)}: the cell holds ${formatSize(length)} of text, more than the ${formatSize(INPUT_LIMITS.cellChars)} a cell may hold. A quote opened and never closed makes one cell of many lines; otherwise keep long texts out of the data file.`,
    );
  }

  /** The next row's cell, as read from the file. */
  push(raw: string): void {
    if (raw.length > INPUT_LIMITS.cellChars) throw this.tooLong(raw.length);
    const text = trimmed(raw);
    const row = this.count++;
    if (this.isMissing(text)) {
      this.missing++;
      if (this.numeric) this.setNumber(row, Number.NaN);
      else this.setCode(row, -1);
      if (text.length > 0) this.keepText(row, raw);
      return;
    }
    if (this.numeric) {
      let value = parseDecimal(text);
      if (Number.isNaN(value) && this.declared === 'numeric') value = wholeBeyondDouble(text);
      if (!Number.isNaN(value)) {
        this.setNumber(row, value);
        const form = decimalForm[0];
        if (raw === text && form > 0) {
          // "12.500": the number's toFixed(3), as pushRange keeps it.
          this.inexact = true;
          this.keepCode(row, -form);
        } else if ((raw !== text || form < 0) && String(value) !== raw) {
          this.inexact ||= String(value) !== text;
          this.keepText(row, raw);
        }
        return;
      }
      this.demote(row);
    }
    this.setCode(row, this.codeOf(text));
    if (raw !== text) this.keepText(row, raw);
  }

  /** The texts of cells whose stored value does not give them back (see KeptTexts). */
  private readonly kept = new KeptTextsBuilder();

  private keepText(row: number, raw: string): void {
    this.kept.keepText(row, raw);
  }

  private keepCode(row: number, code: number): void {
    this.kept.keepCode(row, code);
  }

  /**
   * The cell `bytes[from, to)` (unquoted, or quoted without `""`), read without making a
   * string when it is a plain number or a category met before; otherwise as {@link push}.
   */
  pushRange(bytes: Uint8Array, from: number, to: number, cells: CellText): void {
    const n = to - from;
    // Surrounding spaces (the cell's own text is kept), maybe a missing-value token, or
    // maybe over the cell limit (counted in characters, by push): the slow way.
    if (n === 0 || n > INPUT_LIMITS.cellChars || bytes[from] <= 32 || bytes[to - 1] <= 32 || (n <= this.longestMissingBytes && this.missingStartBytes[bytes[from]] === 1)) {
      this.push(cells.of(bytes, from, to));
      return;
    }
    if (!this.numeric) {
      this.setCode(this.count++, this.rangeCode(bytes, from, to, cells));
      return;
    }
    const value = readDecimal(bytes, from, to);
    if (Number.isNaN(value)) {
      this.push(cells.of(bytes, from, to));
      return;
    }
    const row = this.count++;
    this.setNumber(row, value);
    const form = decimalForm[0];
    if (form > 0) {
      // "12.500": the number's toFixed(3), kept as that, not as a string of its own.
      this.inexact = true;
      this.keepCode(row, -form);
    } else if (form < 0) {
      const text = cells.of(bytes, from, to);
      if (String(value) !== text) {
        this.inexact = true;
        this.keepText(row, text);
      }
    }
  }

  /** From `row` on the column holds text; the numbers before wait for their texts when they may not read back. */
  private demote(row: number): void {
    this.kept.spellFixed(this.numbers);
    this.numeric = false;
    this.demotedAt = row;
    this.codes = new Int32Array(Math.max(16, this.numbers.length));
    if (this.inexact) this.awaitingTexts = true;
    else this.encodeNumbers(row);
  }

  /** Codes for the first `rows` rows from their numbers' texts. */
  private encodeNumbers(rows: number): void {
    for (let r = 0; r < rows; r++) {
      const value = this.numbers[r];
      this.setCode(r, Number.isNaN(value) ? -1 : this.codeOf(String(value)));
    }
    this.numbers = new Float64Array(0);
  }

  /** Second pass: the text of a row before the demotion. */
  backfill(row: number, raw: string): void {
    const text = trimmed(raw);
    this.codes![row] = this.isMissing(text) ? -1 : this.codeOf(text);
  }

  /** The second pass is over (or cannot be made: the numbers' texts stand in). */
  settle(backfilled: boolean): void {
    if (!this.awaitingTexts) return;
    this.awaitingTexts = false;
    if (backfilled) this.numbers = new Float64Array(0);
    else this.encodeNumbers(this.demotedAt);
  }

  /** This column's rows, as a slice of the file read on a thread sends them back (see slice.ts). */
  sliceState(): SliceColumn {
    const values = this.numeric ? this.numbers.subarray(0, this.count) : (this.codes ?? new Int32Array(0)).subarray(0, this.count);
    return { numeric: this.numeric, demotedAt: this.demotedAt, inexact: this.inexact, missing: this.missing, count: this.count, values, dictionary: this.numeric ? [] : [...this.dictionary.keys()], texts: this.kept.snapshot() };
  }

  /**
   * Whether a later slice's rows can follow this column's as one pass would read them: not
   * where one side read numbers and the other text and some number's text might not read
   * back ("007", "1.50": one pass would read those texts again).
   */
  canAbsorb(slice: SliceColumn): boolean {
    if (this.numeric === slice.numeric) return true;
    return this.numeric ? !this.inexact && !slice.inexact : !slice.inexact;
  }

  /** Appends a later slice's rows (see {@link canAbsorb}), as one pass reading on would have read them. */
  absorb(slice: SliceColumn): void {
    const offset = this.count;
    const end = offset + slice.count;
    if (this.numeric && !slice.numeric) {
      // One pass would have turned to text at the slice's first text, the numbers before it reading back.
      this.numeric = false;
      this.demotedAt = offset + Math.max(0, slice.demotedAt);
      this.codes = new Int32Array(Math.max(16, this.numbers.length, end));
      this.encodeNumbers(offset);
    }
    if (this.numeric) {
      if (end > this.numbers.length) this.numbers = grown(this.numbers, end);
      this.numbers.set(slice.values as Float64Array, offset);
      this.inexact ||= slice.inexact;
    } else {
      if (!this.codes) this.codes = new Int32Array(Math.max(16, end));
      if (end > this.codes.length) this.codes = grown(this.codes, end);
      const codes = this.codes;
      if (slice.numeric) {
        const values = slice.values as Float64Array;
        for (let r = 0; r < slice.count; r++) codes[offset + r] = Number.isNaN(values[r]) ? -1 : this.codeOf(String(values[r]));
      } else {
        const map = Int32Array.from(slice.dictionary, (text) => this.codeOf(text));
        const values = slice.values as Int32Array;
        // Most slices meet their categories in the order met before: their codes stand.
        if (map.every((code, i) => code === i)) codes.set(values, offset);
        else for (let r = 0; r < slice.count; r++) codes[offset + r] = values[r] < 0 ? -1 : map[values[r]];
      }
    }
    if (slice.texts) this.kept.append(slice.texts, offset);
    this.missing += slice.missing;
    this.count = end;
  }

  private setNumber(row: number, value: number): void {
    if (row >= this.numbers.length) this.numbers = grown(this.numbers, row + 1);
    this.numbers[row] = value;
  }

  private setCode(row: number, code: number): void {
    if (!this.codes) this.codes = new Int32Array(Math.max(16, row + 1));
    if (row >= this.codes.length) this.codes = grown(this.codes, row + 1);
    this.codes[row] = code;
  }

  /** Room for `rows` rows, so the arrays need not grow (and be copied) again; over `spare` buffers first, where given. */
  reserve(rows: number, spare?: SpareBuffers): void {
    if (this.numeric && rows > this.numbers.length) {
      const grown = spare ? spare.take(Float64Array, rows) : new Float64Array(rows);
      grown.set(this.numbers.subarray(0, this.count));
      this.numbers = grown;
    }
    if ((this.codes || !this.numeric) && rows > (this.codes?.length ?? 0)) {
      const grown = spare ? spare.take(Int32Array, rows) : new Int32Array(rows);
      if (this.codes) grown.set(this.codes.subarray(0, this.count));
      this.codes = grown;
    }
  }

  /** The column; the builder lets go of its arrays (the table's are the same, or trimmed copies). */
  build(forced?: 'numeric' | 'categorical'): Column {
    const kind = forced ?? (this.numeric && this.count > this.missing ? 'numeric' : 'categorical');
    if (kind === 'numeric') {
      const column: NumericColumn = { kind, name: this.name, values: fit(this.numbers, this.count), missing: this.missing };
      const texts = this.kept.take();
      if (texts) column.texts = texts;
      this.numbers = new Float64Array(0);
      return column;
    }
    // An all-missing column, or one forced categorical: encode the numbers' texts.
    if (this.numeric) {
      this.kept.spellFixed(this.numbers);
      this.encodeNumbers(this.count);
    }
    const column: CategoricalColumn = {
      kind,
      name: this.name,
      codes: fit(this.codes ?? new Int32Array(0), this.count),
      dictionary: [...this.dictionary.keys()],
      missing: this.missing,
    };
    const texts = this.kept.take();
    if (texts) column.texts = texts;
    this.codes = null;
    this.dictionary.clear();
    return column;
  }

  private codeOf(text: string): number {
    return this.dictionary.codeOf(text);
  }

  private rangeCode(bytes: Uint8Array, from: number, to: number, cells: CellText): number {
    return this.dictionary.byBytes(bytes, from, to, cells);
  }
}

/**
 * Buffers of a slice's columns that the first reader has appended, sent with a later slice
 * for its columns: a first write to fresh memory costs a page fault per 4 KB (on the 2-core
 * VM of bench/NOTES.md, 2.5 ms per MB, fifty times a copy into memory already written), and
 * arrays that come back to the thread they were made on are not garbage on the first reader.
 */
export class SpareBuffers {
  constructor(private readonly buffers: ArrayBuffer[]) {}

  /** A zeroed array of `length` over the smallest spare buffer that holds it, or a new array. */
  take<T extends Float64Array | Int32Array>(kind: { new (buffer: ArrayBuffer, offset: number, length: number): T; new (length: number): T; BYTES_PER_ELEMENT: number }, length: number): T {
    let best = -1;
    for (let i = 0; i < this.buffers.length; i++) {
      const size = this.buffers[i].byteLength;
      if (size >= length * kind.BYTES_PER_ELEMENT && (best < 0 || size < this.buffers[best].byteLength)) best = i;
    }
    if (best < 0) return new kind(length);
    const array = new kind(this.buffers.splice(best, 1)[0], 0, length);
    array.fill(0);
    return array;
  }
}

/** A copy of `array` with room for at least `rows` (twice its length, or more). */
function grown<T extends Float64Array | Int32Array>(array: T, rows: number): T {
  const copy = new (array.constructor as new (n: number) => T)(Math.max(rows, array.length * 2));
  copy.set(array);
  return copy;
}

/**
 * The first `count` values: the array itself when it has no more than 10% spare room (a
 * view, no copy: the load's peak memory stays near the table's size), else a trimmed copy.
 */
function fit<T extends Float64Array | Int32Array>(array: T, count: number): T {
  if (array.length === count) return array;
  return (array.length - count <= count / 10 ? array.subarray(0, count) : array.slice(0, count)) as T;
}

import Papa from 'papaparse';
import { CsvError, quote } from '../errors';
import { formatSize, INPUT_LIMITS } from '../limits';
import { BOOLEAN_TEXTS, isIsoDate, type CategoricalColumn, type Column, type DeclaredType, type KeptTexts, type NumericColumn, type Table } from './table';

/** Cell texts read as missing unless the caller says otherwise. */
export const DEFAULT_MISSING_VALUES: readonly string[] = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL'];

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** File name used in messages and in the table. */
  fileName: string;
  /** Field delimiter; detected among `,` `;` tab `|` when omitted. */
  delimiter?: string;
  /** Cell texts (after trimming) that mean "missing". */
  missingValues?: readonly string[];
  /** Columns forced to a type instead of the inferred one. */
  dtypes?: Record<string, DeclaredType>;
  /** Skip rows with the wrong number of fields (counted in `table.skipped`) instead of failing. */
  skipBadRows?: boolean;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_QUOTED_BAD_LINES = 3;

/** Exact powers of ten (10^0 … 10^22 are doubles without rounding). */
const POW10: number[] = [1];
for (let k = 1; k <= 22; k++) POW10.push(POW10[k - 1] * 10);

/**
 * A decimal number, or NaN. Fast path (Clinger's): a plain decimal of at most 15 digits
 * and 22 decimals is its digits as an exact integer divided by an exact power of ten,
 * one correctly rounded operation, so the same double `Number()` gives. Anything else
 * (exponents, long numbers) goes through Number() behind the strict pattern.
 */
function parseDecimal(text: string): number {
  const value = fastDecimal(text, 0, text.length);
  return Number.isNaN(value) ? slowDecimal(text) : value;
}

/** {@link parseDecimal}'s fast path over `text[from, to)`, or NaN when it does not apply (then read the text). */
function fastDecimal(text: string, from: number, to: number): number {
  let i = from;
  let c = text.charCodeAt(i);
  const negative = c === 45;
  if (negative || c === 43) i++;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < to; i++) {
    c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) decimals = 0;
    else return Number.NaN;
  }
  if (digits === 0 || digits > 15 || decimals > 22) return Number.NaN;
  const value = decimals > 0 ? mantissa / POW10[decimals] : mantissa;
  return negative ? -value : value;
}

/** Exponents and long numbers: JavaScript's own reading, for decimal text only. */
function slowDecimal(text: string): number {
  if (!DECIMAL.test(text)) return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : Number.NaN;
}

/** Trims only when needed (most cells have no surrounding spaces). */
function trimmed(raw: string): string {
  const n = raw.length;
  if (n === 0) return raw;
  const a = raw.charCodeAt(0);
  const b = raw.charCodeAt(n - 1);
  return a <= 32 || b <= 32 ? raw.trim() : raw;
}

/**
 * Whether the text of a decimal might not read back from its number (`String(n)`):
 * leading or trailing zeros, a sign, an exponent, very small or very long numbers. Only
 * such cells pay for the exact check.
 */
function mayNotRoundTrip(text: string, from = 0, to = text.length): boolean {
  const n = to - from;
  if (n > 15) return true;
  let i = from;
  let c = text.charCodeAt(i);
  if (c === 45) c = text.charCodeAt(++i); // "-": look at what follows
  else if (c === 43 || c === 46) return true; // "+5", ".5"
  if (c === 46) return true; // "-.5"
  if (c === 48 && to > i + 1) {
    // "007", "0e1", "0.05" (tiny numbers print with an exponent)
    if (text.charCodeAt(i + 1) !== 46 || (i + 2 < to && text.charCodeAt(i + 2) === 48)) return true;
  } else if (c === 48 && i === from + 1) return true; // "-0"
  const last = text.charCodeAt(to - 1);
  let point = false;
  for (let k = from; k < to; k++) {
    const d = text.charCodeAt(k);
    if (d === 46) point = true;
    else if (d === 101 || d === 69) return true; // an exponent
  }
  return point && (last === 48 || last === 46); // "1.50", "1."
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
class ColumnBuilder {
  numbers = new Float64Array(16);
  codes: Int32Array | null = null;
  dictionary = new Map<string, number>();
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

  constructor(readonly name: string, readonly missingValues: ReadonlySet<string>, categorical = false, private readonly fileName = '') {
    this.longestMissing = Math.max(0, ...[...missingValues].map((v) => v.length));
    this.missingStarts = new Set([...missingValues].filter((v) => v.length > 0).map((v) => v.charCodeAt(0)));
    // A column declared categorical keeps its texts from the first row ("02139" stays).
    if (categorical) this.numeric = false;
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
      const value = parseDecimal(text);
      if (!Number.isNaN(value)) {
        this.setNumber(row, value);
        if ((raw !== text || mayNotRoundTrip(text)) && String(value) !== raw) {
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

  // The texts of cells whose stored value does not give them back (see KeptTexts).
  private keptRows = new Int32Array(0);
  private keptCodes = new Int32Array(0);
  private keptCount = 0;
  private keptDictionary = new Map<string, number>();

  private keepText(row: number, raw: string): void {
    if (this.keptCount === this.keptRows.length) {
      const size = Math.max(16, this.keptCount * 2);
      const rows = new Int32Array(size);
      const codes = new Int32Array(size);
      rows.set(this.keptRows);
      codes.set(this.keptCodes);
      this.keptRows = rows;
      this.keptCodes = codes;
    }
    let code = this.keptDictionary.get(raw);
    if (code === undefined) {
      code = this.keptDictionary.size;
      // A flat copy: a slice of a 1 MB piece of the file would keep the whole piece alive.
      this.keptDictionary.set((' ' + raw).slice(1), code);
    }
    this.keptRows[this.keptCount] = row;
    this.keptCodes[this.keptCount++] = code;
  }

  /** The kept texts, for the built column (undefined when every value gives its text back). */
  private keptTexts(): KeptTexts | undefined {
    if (this.keptCount === 0) return undefined;
    const texts = { rows: this.keptRows.slice(0, this.keptCount), codes: this.keptCodes.slice(0, this.keptCount), dictionary: [...this.keptDictionary.keys()] };
    this.keptRows = new Int32Array(0);
    this.keptCodes = new Int32Array(0);
    this.keptDictionary.clear();
    return texts;
  }

  /**
   * The cell `text[from, to)` (unquoted, or quoted without `""`), read without making a
   * string when it is a plain number; otherwise as {@link push}.
   */
  pushRange(text: string, from: number, to: number): void {
    if (to - from > INPUT_LIMITS.cellChars) throw this.tooLong(to - from);
    if (from < to && (text.charCodeAt(from) <= 32 || text.charCodeAt(to - 1) <= 32)) {
      // Surrounding spaces: the cell's own text is kept, the slow way.
      this.push(text.slice(from, to));
      return;
    }
    const n = to - from;
    if (!this.numeric && n > 0 && !(n <= this.longestMissing && this.missingStarts.has(text.charCodeAt(from)))) {
      this.setCode(this.count++, this.rangeCode(text, from, to));
      return;
    }
    if (this.numeric && n > 0 && !(n <= this.longestMissing && this.missingStarts.has(text.charCodeAt(from)))) {
      const value = fastDecimal(text, from, to);
      if (!Number.isNaN(value)) {
        const row = this.count++;
        this.setNumber(row, value);
        if (mayNotRoundTrip(text, from, to) && String(value) !== text.slice(from, to)) {
          this.inexact = true;
          this.keepText(row, text.slice(from, to));
        }
        return;
      }
    }
    this.push(text.slice(from, to));
  }

  /** From `row` on the column holds text; the numbers before wait for their texts when they may not read back. */
  private demote(row: number): void {
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

  private setNumber(row: number, value: number): void {
    if (row >= this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    this.numbers[row] = value;
  }

  private setCode(row: number, code: number): void {
    if (!this.codes) this.codes = new Int32Array(Math.max(16, row + 1));
    if (row >= this.codes.length) {
      const grown = new Int32Array(Math.max(this.codes.length * 2, row + 1));
      grown.set(this.codes);
      this.codes = grown;
    }
    this.codes[row] = code;
  }

  /** Room for `rows` rows, so the arrays need not grow (and be copied) again. */
  reserve(rows: number): void {
    if (this.numeric && rows > this.numbers.length) {
      const grown = new Float64Array(rows);
      grown.set(this.numbers.subarray(0, this.count));
      this.numbers = grown;
    }
    if (this.codes && rows > this.codes.length) {
      const grown = new Int32Array(rows);
      grown.set(this.codes.subarray(0, this.count));
      this.codes = grown;
    }
  }

  /** The column; the builder lets go of its arrays (the table's are the same, or trimmed copies). */
  build(forced?: 'numeric' | 'categorical'): Column {
    const kind = forced ?? (this.numeric && this.count > this.missing ? 'numeric' : 'categorical');
    if (kind === 'numeric') {
      const column: NumericColumn = { kind, name: this.name, values: fit(this.numbers, this.count), missing: this.missing };
      const texts = this.keptTexts();
      if (texts) column.texts = texts;
      this.numbers = new Float64Array(0);
      return column;
    }
    // An all-missing column, or one forced categorical: encode the numbers' texts.
    if (this.numeric) this.encodeNumbers(this.count);
    const column: CategoricalColumn = {
      kind,
      name: this.name,
      codes: fit(this.codes ?? new Int32Array(0), this.count),
      dictionary: [...this.dictionary.keys()],
      missing: this.missing,
    };
    const texts = this.keptTexts();
    if (texts) column.texts = texts;
    this.codes = null;
    this.dictionary.clear();
    this.texts = [];
    this.slots = new Int32Array(0);
    this.slotHashes = new Int32Array(0);
    return column;
  }

  private codeOf(text: string): number {
    let code = this.dictionary.get(text);
    if (code === undefined) {
      code = this.dictionary.size;
      this.dictionary.set(text, code);
      this.texts.push(text);
    }
    return code;
  }

  // Codes by a cell's characters, in front of `dictionary`: open addressing on an FNV-1a
  // hash of the range, so a category is found without making its string (slicing and
  // hashing a new string per cell was a sixth of the reading time of a categorical file).
  private texts: string[] = [];
  private slots = new Int32Array(64);
  private slotHashes = new Int32Array(64);
  private slotsUsed = 0;

  private rangeCode(text: string, from: number, to: number): number {
    let hash = 0x811c9dc5;
    for (let i = from; i < to; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    const mask = this.slots.length - 1;
    let at = hash & mask;
    for (let entry = this.slots[at]; entry !== 0; entry = this.slots[at]) {
      if (this.slotHashes[at] === hash && sameText(this.texts[entry - 1], text, from, to)) return entry - 1;
      at = (at + 1) & mask;
    }
    // Not seen by this table: the dictionary may hold it (pushed as a string), else a new code.
    const code = this.codeOf(text.slice(from, to));
    this.slots[at] = code + 1;
    this.slotHashes[at] = hash;
    if (++this.slotsUsed * 2 > this.slots.length) this.growSlots();
    return code;
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const hashes = new Int32Array(slots.length);
    const mask = slots.length - 1;
    for (let i = 0; i < this.slots.length; i++) {
      if (this.slots[i] === 0) continue;
      let at = this.slotHashes[i] & mask;
      while (slots[at] !== 0) at = (at + 1) & mask;
      slots[at] = this.slots[i];
      hashes[at] = this.slotHashes[i];
    }
    this.slots = slots;
    this.slotHashes = hashes;
  }
}

/** Whether `candidate` is `text[from, to)`. */
function sameText(candidate: string, text: string, from: number, to: number): boolean {
  if (candidate.length !== to - from) return false;
  for (let i = 0; i < candidate.length; i++) if (candidate.charCodeAt(i) !== text.charCodeAt(from + i)) return false;
  return true;
}

/** The delimiter among `,` `;` tab `|` that splits the first lines most consistently. */
export function detectDelimiter(text: string): string {
  const sample = text.slice(0, 64 * 1024).split(/\r?\n/).filter((line) => line.length > 0).slice(0, 20);
  let best = ',';
  let bestScore = -1;
  for (const delimiter of [',', ';', '\t', '|']) {
    const counts = sample.map((line) => line.split(delimiter).length - 1);
    if (counts.length === 0 || counts[0] === 0) continue;
    const consistent = counts.filter((count) => count === counts[0]).length;
    const score = consistent * 1000 + counts[0];
    if (score > bestScore) {
      bestScore = score;
      best = delimiter;
    }
  }
  return best;
}

/** Bytes at the start of a file searched for NUL (a binary file). */
const NUL_WINDOW = 8192;
/** Characters at the start of a text the delimiter is detected on. */
const DETECT_WINDOW = 64 * 1024;

/**
 * Reads CSV text that arrives in pieces (split anywhere: inside a quoted field, between
 * CR and LF) into a columnar {@link Table}, holding only the unfinished last record
 * between pieces. Complete records are parsed by papaparse a segment at a time; a record
 * ends at a newline outside quotes, found by following quotes the way papaparse does (a
 * quote opens a field only at the field's start; `""` inside is an escaped quote). The
 * header row names the columns; a column is numeric when every non-missing cell in the
 * whole column is a decimal number, categorical otherwise. Rows with the wrong number of
 * fields fail the load (or are skipped and counted), quoting the first few by line number.
 */
/**
 * Text read but not yet parsed, kept as the pieces it came in. A record that spans many
 * pieces (a field of 100 MB on one line) is joined once, when it is parsed: appending to
 * one string and scanning it at every piece made V8 flatten the growing string each time,
 * and such a line took a minute instead of a second.
 */
class PendingText {
  private parts: string[] = [];
  length = 0;

  add(text: string): void {
    this.parts.push(text);
    this.length += text.length;
  }

  /** All of it, as one string. */
  text(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join('')];
    return this.parts[0] ?? '';
  }

  /** The text from offset `from` on (usually within the last piece or two). */
  tail(from: number): string {
    let i = this.parts.length;
    let covered = 0;
    const need = this.length - from;
    while (i > 0 && covered < need) covered += this.parts[--i].length;
    if (i === this.parts.length) return '';
    const head = this.parts[i].slice(covered - need);
    return i === this.parts.length - 1 ? head : head + this.parts.slice(i + 1).join('');
  }

  /** Removes and returns the first `n` characters. */
  take(n: number): string {
    const all = this.text();
    this.parts = n < all.length ? [all.slice(n)] : [];
    this.length -= n;
    return all.slice(0, n);
  }
}

export class CsvReader {
  private pending = new PendingText();
  /** Where quote-following resumes in `pending`, and whether that point is inside quotes. */
  private scanned = 0;
  private inQuotes = false;
  /** The last record end found in `pending` (−1: none yet). */
  private cut = -1;
  private started = false;
  private delimiter: string | undefined;
  private newline: '\n' | '\r\n' | undefined;
  private builders: ColumnBuilder[] | undefined;
  private readonly missingValues: ReadonlySet<string>;
  /** Newlines in the segments parsed so far (line numbers of bad rows). */
  private lineBase = 0;
  private badCount = 0;
  private readonly badLines: string[] = [];
  /** The first line of a CRLF file that ends in LF alone, once rows with the wrong field count were found (0: none). */
  private mixedLine = 0;
  /** Rows read so far (progress). */
  rows = 0;
  /** A second-pass reader stops once it has every text wanted. */
  done = false;
  private backfillTarget: CsvReader | undefined;
  private backfilled = false;
  private ended = false;

  /** Makes room for about `rows` rows in every column (from the loader's estimate). */
  reserve(rows: number): void {
    for (const builder of this.builders ?? []) builder.reserve(rows);
  }

  /** Columns of the header (0 until it is read). */
  get columns(): number {
    return this.builders?.length ?? 0;
  }

  constructor(private readonly options: CsvOptions) {
    this.delimiter = options.delimiter;
    this.missingValues = new Set(options.missingValues ?? DEFAULT_MISSING_VALUES);
  }

  /** The next piece of the text. */
  push(text: string): void {
    if (this.done) return;
    if (!this.started) {
      if (text.length === 0) return;
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pending.length < NUL_WINDOW && this.builders === undefined) {
      const head = (this.pending.text() + text.slice(0, NUL_WINDOW)).slice(0, NUL_WINDOW);
      const nul = head.indexOf('\u0000');
      if (nul >= 0) {
        const utf16 = utf16Order(head);
        if (utf16) throw utf16Error(this.options.fileName, utf16);
        throw new CsvError(`${this.options.fileName}: this is a binary file, not CSV text (it holds NUL bytes from offset ${nul}). Choose the CSV export of the data.`);
      }
    }
    this.pending.add(text);
    if (this.delimiter === undefined) {
      // The delimiter is detected on the first 64 KB, as when the whole text is at hand.
      if (this.pending.length < DETECT_WINDOW) return;
      this.settleDialect();
    }
    const cut = this.lastRecordEnd();
    // A record still open past the row limit is refused before more of it is held.
    if (cut < 0 && this.pending.length > INPUT_LIMITS.rowChars) this.refuseLongRecord();
    // Segments of 32–96 KB: large enough that a parse call's set-up does not matter, small
    // enough that their strings stay in V8's young generation (strings over ~128 KB go to
    // the large-object space and live until a full collection, which inflates peak memory).
    if (cut < 0 || (cut < 32 * 1024 && this.pending.length < 96 * 1024)) return;
    const segment = this.pending.take(cut + 1);
    this.scanned -= cut + 1;
    this.cut = -1;
    this.parseSegment(segment);
    if (this.pending.length > INPUT_LIMITS.rowChars) this.refuseLongRecord();
  }

  /**
   * The record at the start of `pending` has no end within {@link INPUT_LIMITS.rowChars}:
   * says why, naming the row and, where one cell is the cause, its column — a quote never
   * closed, a cell over the cell limit, or a CRLF file whose later lines end in LF alone
   * (they would all read as one record).
   */
  private refuseLongRecord(): never {
    const { fileName } = this.options;
    const text = this.pending.text();
    const delimiter = this.delimiter ?? ',';
    const row = this.builders ? `row ${(this.rows + 1).toLocaleString('en-US')}` : 'the header row';
    if (this.newline === '\r\n') {
      const lone = loneLineFeed(text, delimiter);
      if (lone >= 0) throw mixedLineEndings(fileName, this.lineBase + 1 + countNewlines(text, lone));
    }
    let field = 0;
    let pos = 0;
    for (;;) {
      const start = pos;
      if (text.charCodeAt(pos) === 34) {
        let q = pos + 1;
        for (;;) {
          q = text.indexOf('"', q);
          if (q < 0) break;
          if (text.charCodeAt(q + 1) === 34) q += 2;
          else break;
        }
        if (q < 0) {
          throw new CsvError(
            `${fileName}, ${row}, ${this.columnName(field)}: a quote opens this cell and does not close within ${formatSize(INPUT_LIMITS.rowChars)} (a cell may hold ${formatSize(INPUT_LIMITS.cellChars)}), so the cell runs on over the lines that follow. Close the quote (a quote inside a quoted cell is written "") and load the file again.`,
          );
        }
        pos = q + 1;
      }
      let end = text.indexOf(delimiter, pos);
      if (end < 0) end = text.length;
      if (end - start > INPUT_LIMITS.cellChars) {
        throw new CsvError(`${fileName}, ${row}, ${this.columnName(field)}: the cell holds more than ${formatSize(INPUT_LIMITS.cellChars)} of text (the most a cell may hold). Keep long texts out of the data file.`);
      }
      if (end >= text.length) break;
      pos = end + 1;
      field++;
    }
    throw new CsvError(`${fileName}: ${row} is longer than ${formatSize(INPUT_LIMITS.rowChars)} (the most a row may hold). Keep the columns the audit needs and load the file again.`);
  }

  /** A column named for messages: by the header, or by its position while the header is read. */
  private columnName(field: number): string {
    const builder = this.builders?.[field];
    return builder ? `column ${quote(builder.name)}` : `column ${field + 1}`;
  }

  /** Delimiter and line ending, from the start of the text. */
  private settleDialect(): void {
    const pending = this.pending.text();
    this.delimiter ??= detectDelimiter(pending);
    const first = pending.indexOf('\n');
    if (first >= 0) this.newline = first > 0 && pending.charCodeAt(first - 1) === 13 ? '\r\n' : '\n';
    // Quotes are followed from the start again, now that the delimiter is known.
    this.scanned = 0;
    this.inQuotes = false;
    this.cut = -1;
  }

  /**
   * The offset of the last newline in `pending` that ends a record (outside quotes), or
   * −1. Follows quotes from where the last call stopped.
   */
  private lastRecordEnd(): number {
    // Only the text not yet followed is scanned, with the one character before it.
    const start = Math.max(0, this.scanned - 1);
    const text = this.pending.tail(start);
    const delimiter = this.delimiter;
    let pos = this.scanned - start;
    let inQuotes = this.inQuotes;
    let cut = this.cut;
    for (;;) {
      const quote = text.indexOf('"', pos);
      const end = quote < 0 ? text.length : quote;
      if (!inQuotes && end > pos) {
        let newline = text.lastIndexOf('\n', end - 1);
        // In a CRLF file a lone LF is part of a field, not a record end.
        if (this.newline === '\r\n') while (newline >= pos && text.charCodeAt(newline - 1) !== 13) newline = newline > 0 ? text.lastIndexOf('\n', newline - 1) : -1;
        if (newline >= pos) cut = start + newline;
      }
      if (quote < 0) {
        pos = text.length;
        break;
      }
      if (inQuotes) {
        if (quote + 1 >= text.length) {
          pos = quote; // is it `""` or the closing quote? The next piece says.
          break;
        }
        if (text.charCodeAt(quote + 1) === 34) pos = quote + 2;
        else {
          // Like papaparse, a quote closes the field only before the delimiter or a line
          // end (spaces allowed between); elsewhere it is a stray quote inside the field.
          let next = quote + 1;
          while (text.charCodeAt(next) === 32) next++;
          if (next >= text.length) {
            pos = quote;
            break;
          }
          const after = text[next];
          if (after === delimiter || after === '\n' || after === '\r') inQuotes = false;
          pos = quote + 1;
        }
      } else {
        const before = quote === 0 ? '\n' : text[quote - 1];
        if (before === '\n' || before === '\r' || before === delimiter) inQuotes = true;
        pos = quote + 1;
      }
    }
    this.scanned = start + pos;
    this.inQuotes = inQuotes;
    this.cut = cut;
    return cut;
  }

  // Field boundaries of the segment being read by the fast path, reused between segments.
  private starts = new Int32Array(4096);
  private ends = new Int32Array(4096);
  /** 0 plain, 1 quoted, 2 quoted with `""` inside. */
  private quoted = new Uint8Array(4096);
  private rowEnds = new Int32Array(1024);

  /**
   * The fast path for well-formed segments: fields found by scanning the characters and
   * numbers read straight from the text, with no row arrays or number strings. It handles
   * the common dialect — one-character delimiter, the file's line ending, fields quoted as
   * a whole — and gives up (returning false, before changing anything) on anything else:
   * a stray quote, text after a closing quote, a lone CR. papaparse then reads the segment,
   * so unusual input is read exactly as papaparse reads it.
   */
  private fastSegment(segment: string): boolean {
    const delimiter = this.delimiter!;
    if (delimiter.length !== 1 || this.newline === undefined) return false;
    const D = delimiter.charCodeAt(0);
    const crlf = this.newline === '\r\n';
    const n = segment.length;
    let fields = 0;
    let rows = 0;
    let pos = 0;
    while (pos < n) {
      // One row: fields up to the line end.
      for (;;) {
        if (fields === this.starts.length) this.growFields();
        let c = segment.charCodeAt(pos);
        if (c === 34) {
          let q = pos + 1;
          let escaped = false;
          for (;;) {
            q = segment.indexOf('"', q);
            if (q < 0) return false;
            if (segment.charCodeAt(q + 1) === 34) {
              escaped = true;
              q += 2;
              continue;
            }
            break;
          }
          this.starts[fields] = pos + 1;
          this.ends[fields] = q;
          this.quoted[fields++] = escaped ? 2 : 1;
          pos = q + 1;
          c = segment.charCodeAt(pos);
          if (!(pos >= n || c === D || c === 10 || c === 13)) return false;
        } else {
          let end = pos;
          while (end < n) {
            c = segment.charCodeAt(end);
            if (c === D || c === 10 || c === 13 || c === 34) break;
            end++;
          }
          if (end < n && c === 34) return false;
          this.starts[fields] = pos;
          this.ends[fields] = end;
          this.quoted[fields++] = 0;
          pos = end;
        }
        if (pos >= n) break;
        if (c === D) {
          pos++;
          if (pos >= n) {
            // A delimiter ends the text: one more, empty field.
            if (fields === this.starts.length) this.growFields();
            this.starts[fields] = pos;
            this.ends[fields] = pos;
            this.quoted[fields++] = 0;
            break;
          }
          continue;
        }
        // The line end must be the file's own.
        if (c === 13) {
          if (!crlf || segment.charCodeAt(pos + 1) !== 10) return false;
          pos += 2;
        } else {
          if (crlf) return false;
          pos++;
        }
        break;
      }
      if (rows === this.rowEnds.length) {
        const grown = new Int32Array(rows * 2);
        grown.set(this.rowEnds);
        this.rowEnds = grown;
      }
      this.rowEnds[rows++] = fields;
    }
    // Every field is found: add the rows.
    const builders = this.builders!;
    const width = builders.length;
    let bad = 0;
    let first = 0;
    for (let r = 0; r < rows; r++) {
      const last = this.rowEnds[r];
      const count = last - first;
      const blank = count === 1 && isBlankRange(segment, this.starts[first], this.ends[first]);
      if (count !== width || blank) {
        if (!blank) bad++;
        first = last;
        continue;
      }
      for (let i = 0; i < width; i++) {
        const f = first + i;
        if (this.quoted[f] === 2) builders[i].push(segment.slice(this.starts[f], this.ends[f]).replaceAll('""', '"'));
        else builders[i].pushRange(segment, this.starts[f], this.ends[f]);
      }
      this.rows++;
      first = last;
    }
    if (bad > 0) this.noteBadRows(segment, bad);
    for (let i = segment.indexOf('\n'); i >= 0; i = segment.indexOf('\n', i + 1)) this.lineBase++;
    return true;
  }

  private growFields(): void {
    const size = this.starts.length * 2;
    const [starts, ends, quoted] = [new Int32Array(size), new Int32Array(size), new Uint8Array(size)];
    starts.set(this.starts);
    ends.set(this.ends);
    quoted.set(this.quoted);
    [this.starts, this.ends, this.quoted] = [starts, ends, quoted];
  }

  private parseSegment(segment: string): void {
    if (this.done) return;
    if (this.builders && !this.backfillTarget && this.fastSegment(segment)) return;
    const { fileName } = this.options;
    // Blank lines are skipped here (papaparse's own "greedy" test joins every row's fields).
    const rows = Papa.parse<string[]>(segment, { delimiter: this.delimiter, ...(this.newline ? { newline: this.newline } : {}) }).data;
    let start = 0;
    while (start < rows.length && isBlank(rows[start])) start++;
    if (!this.builders && start < rows.length) {
      this.builders = readHeader(rows[start], fileName, this.missingValues, this.options.dtypes ?? {});
      start++;
    }
    const builders = this.builders;
    if (builders) {
      const width = builders.length;
      let badInSegment = 0;
      const target = this.backfillTarget;
      for (let r = start; r < rows.length; r++) {
        const fields = rows[r];
        if (fields.length !== width || (width === 1 && isBlank(fields))) {
          if (!isBlank(fields)) badInSegment++;
          continue;
        }
        if (target) {
          if (!target.backfillRow(this.rows++, fields)) {
            this.done = true;
            return;
          }
          continue;
        }
        for (let i = 0; i < width; i++) builders[i].push(fields[i]);
        this.rows++;
      }
      if (badInSegment > 0 && !target) this.noteBadRows(segment, badInSegment);
    }
    for (let i = segment.indexOf('\n'); i >= 0; i = segment.indexOf('\n', i + 1)) this.lineBase++;
  }

  /** Whether a demoted column waits for the texts of its first rows (a second pass, {@link backfillReader}). */
  get needsBackfill(): boolean {
    return this.builders?.some((builder) => builder.awaitingTexts) ?? false;
  }

  /**
   * A reader for the second pass: give it the file's text again from the start; it reads
   * only as far as the last row whose text is still wanted (then `done` is true).
   */
  backfillReader(): CsvReader {
    this.end();
    const reader = new CsvReader(this.options);
    reader.delimiter = this.delimiter;
    reader.newline = this.newline;
    reader.backfillTarget = this;
    return reader;
  }

  /** Second pass: one row's fields; false once no later row is wanted. */
  private backfillRow(row: number, fields: string[]): boolean {
    let wanted = false;
    for (let i = 0; i < this.builders!.length; i++) {
      const builder = this.builders![i];
      if (!builder.awaitingTexts || row >= builder.demotedAt) continue;
      builder.backfill(row, fields[i]);
      if (row + 1 < builder.demotedAt) wanted = true;
    }
    if (!wanted) this.backfilled = true;
    return wanted;
  }

  /** Counts bad rows and quotes the first few by line, parsing the segment again row by row. */
  private noteBadRows(segment: string, count: number): void {
    this.badCount += count;
    if (this.mixedLine === 0 && this.newline === '\r\n') {
      // LF alone in a CRLF file: the lines run together, which is not a quoting problem.
      const lone = loneLineFeed(segment, this.delimiter ?? ',');
      if (lone >= 0) this.mixedLine = this.lineBase + 1 + countNewlines(segment, lone);
    }
    if (this.badLines.length >= MAX_QUOTED_BAD_LINES) return;
    const width = this.builders!.length;
    let header = this.lineBase === 0;
    const lineBase = this.lineBase;
    let scannedTo = 0;
    Papa.parse<string[]>(segment, {
      delimiter: this.delimiter,
      ...(this.newline ? { newline: this.newline } : {}),
      step: (results, parser) => {
        const start = scannedTo;
        scannedTo = results.meta.cursor;
        if (isBlank(results.data)) return;
        if (header) {
          header = false;
          return;
        }
        if (results.data.length === width) return;
        let first = start;
        while (segment.charCodeAt(first) === 10 || segment.charCodeAt(first) === 13) first++;
        let line = lineBase + 1;
        for (let i = segment.indexOf('\n'); i >= 0 && i < first; i = segment.indexOf('\n', i + 1)) line++;
        this.badLines.push(`line ${line} has ${results.data.length} field${results.data.length === 1 ? '' : 's'}`);
        if (this.badLines.length >= MAX_QUOTED_BAD_LINES) parser.abort();
      },
    });
  }

  /** Ends the text: parses what is left. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.delimiter === undefined) this.settleDialect();
    if (this.pending.length > 0) {
      const rest = this.pending.take(this.pending.length);
      if (rest.trim().length > 0 || !this.builders) this.parseSegment(rest);
    }
  }

  /**
   * Ends the text and returns the table. Demoted columns whose first rows' texts a second
   * pass did not supply get them from their numbers (`String(n)`).
   */
  finish(): Table {
    const { fileName } = this.options;
    this.end();
    for (const builder of this.builders ?? []) builder.settle(this.backfilled);
    const builders = this.builders;
    if (!builders) throw new CsvError(`${fileName}: the file is empty. A CSV needs a header row and at least one data row.`);
    if (this.badCount > 0 && !this.options.skipBadRows) {
      if (this.mixedLine > 0) throw mixedLineEndings(fileName, this.mixedLine, this.badCount);
      throw new CsvError(
        `${fileName}: ${this.badCount} row${this.badCount === 1 ? '' : 's'} with the wrong number of fields (the header has ${builders.length}): ${this.badLines.join('; ')}${this.badCount > this.badLines.length ? '; …' : ''}. Quote fields that contain the delimiter ${quote(this.delimiter ?? ',')}.`,
      );
    }
    if (this.rows === 0) throw new CsvError(`${fileName}: the file has a header row but no data rows.`);
    const dtypes = this.options.dtypes ?? {};
    for (const name of Object.keys(dtypes)) {
      if (!builders.some((builder) => builder.name === name)) {
        throw new CsvError(`${fileName}: data.dtypes names column ${quote(name)}, which the file does not have.`);
      }
    }
    const columns = builders.map((builder) => {
      const declared = dtypes[builder.name];
      if (declared === 'numeric' && !builder.numeric) {
        const bad = [...builder.dictionary.keys()].find((value) => Number.isNaN(parseDecimal(value))) ?? '';
        throw new CsvError(`${fileName}, column ${quote(builder.name)}: declared numeric but holds the value ${quote(bad)}. Fix the value or declare the column categorical.`);
      }
      if (declared === 'numeric' || declared === 'categorical') return builder.build(declared);
      // A date keeps its texts; a boolean keeps 0/1 numbers or its texts.
      const column = builder.build(declared === 'date' ? 'categorical' : undefined);
      if (declared === 'boolean') checkDeclared(column, fileName, 'boolean', (text) => BOOLEAN_TEXTS.has(text.toLowerCase()), 'true/false, yes/no, t/f, y/n or 1/0 (any case)');
      if (declared === 'date') checkDeclared(column, fileName, 'date', isIsoDate, 'an ISO 8601 date, 2024-01-31 or 2024-01-31T10:00:00Z');
      return declared ? ({ ...column, declared } as Column) : column;
    });
    return { source: fileName, rowCount: this.rows, columns, ...(this.badCount > 0 ? { skipped: { rows: this.badCount, examples: [...this.badLines] } } : {}) };
  }
}

/** Reads CSV text that is all in memory (see {@link CsvReader}). */
export function parseCsv(text: string, options: CsvOptions): Table {
  const reader = new CsvReader(options);
  reader.push(text);
  reader.end();
  if (reader.needsBackfill) {
    const second = reader.backfillReader();
    second.push(text);
    second.end();
  }
  return reader.finish();
}

/**
 * The first `count` values: the array itself when it has no more than 10% spare room (a
 * view, no copy: the load's peak memory stays near the table's size), else a trimmed copy.
 */
function fit<T extends Float64Array | Int32Array>(array: T, count: number): T {
  if (array.length === count) return array;
  return (array.length - count <= count / 10 ? array.subarray(0, count) : array.slice(0, count)) as T;
}

/** Throws a {@link CsvError} quoting the first value of a column that is not of its declared type. */
function checkDeclared(column: Column, fileName: string, type: string, fits: (text: string) => boolean, form: string): void {
  let bad: string | undefined;
  if (column.kind === 'numeric') {
    for (const v of column.values) if (!Number.isNaN(v) && !fits(String(v))) {
      bad = String(v);
      break;
    }
  } else {
    const used = new Uint8Array(column.dictionary.length);
    for (const code of column.codes) if (code >= 0) used[code] = 1;
    bad = column.dictionary.find((text, code) => used[code] && !fits(text));
  }
  if (bad !== undefined) {
    throw new CsvError(`${fileName}, column ${quote(column.name)}: declared ${type} but holds the value ${quote(bad)}; a ${type} is ${form}. Fix the value or declare the column categorical.`);
  }
}

/** Whether `text[from, to)` holds nothing but spaces. */
function isBlankRange(text: string, from: number, to: number): boolean {
  return text.slice(from, to).trim() === '';
}

/** A line with nothing but spaces (papaparse gives it as one field). */
function isBlank(fields: string[]): boolean {
  return fields.length === 1 && fields[0].trim() === '';
}

function readHeader(fields: string[], fileName: string, missingValues: ReadonlySet<string>, dtypes: Record<string, string>): ColumnBuilder[] {
  if (fields.length > INPUT_LIMITS.columns) {
    throw new CsvError(
      `${fileName}: the header has ${fields.length.toLocaleString('en-US')} columns, more than the ${INPUT_LIMITS.columns.toLocaleString('en-US')} a data file may have. Keep the columns the audit needs (target, protected attributes, model inputs) and load the file again.`,
    );
  }
  const seen = new Map<string, number>();
  return fields.map((raw, index) => {
    const name = raw.trim();
    if (name === '') {
      throw new CsvError(`${fileName}: column ${index + 1} of the header has no name. Give every column a name.`);
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new CsvError(`${fileName}: the column name ${quote(name)} appears twice (columns ${earlier + 1} and ${index + 1}). Rename one of them.`);
    }
    seen.set(name, index);
    if (raw.length > INPUT_LIMITS.cellChars) throw new CsvError(`${fileName}: column ${index + 1} of the header has a name of ${formatSize(raw.length)}, more than the ${formatSize(INPUT_LIMITS.cellChars)} a cell may hold. Is the first line a header row?`);
    return new ColumnBuilder(name, missingValues, dtypes[name] === 'categorical' || dtypes[name] === 'date', fileName);
  });
}

/**
 * Whether text that holds NUL characters is UTF-16 read as UTF-8: ASCII in UTF-16 puts a
 * NUL in every other position (after each character in little-endian, before it in
 * big-endian). Returns the byte order, or null for other binary data.
 */
function utf16Order(head: string): 'little-endian' | 'big-endian' | null {
  let even = 0;
  let odd = 0;
  for (let i = 0; i < head.length; i++) {
    if (head.charCodeAt(i) !== 0) continue;
    if (i % 2 === 0) even++;
    else odd++;
  }
  const half = head.length / 2;
  if (odd >= half * 0.5 && even <= half * 0.05) return 'little-endian';
  if (even >= half * 0.5 && odd <= half * 0.05) return 'big-endian';
  return null;
}

/** The message for a UTF-16 file (`bom`: the byte-order mark it starts with, when it has one). */
export function utf16Error(fileName: string, order: 'little-endian' | 'big-endian', bom = false): CsvError {
  const mark = order === 'little-endian' ? 'FF FE' : 'FE FF';
  return new CsvError(`${fileName}: the file is UTF-16 text (${order}${bom ? `, byte-order mark ${mark}` : ''}), and Plumbline reads CSV as UTF-8. UTF-16: save the file as UTF-8 (in Excel: Save As, CSV UTF-8) and load it again.`);
}

/** The message for a CRLF file with lines that end in LF alone, from `line` on. */
function mixedLineEndings(fileName: string, line: number, badRows?: number): CsvError {
  return new CsvError(
    `${fileName}: the file mixes line endings: its first line ends with CRLF (Windows) but line ${line.toLocaleString('en-US')} ends with LF alone, so such lines run together${badRows ? ` (${badRows.toLocaleString('en-US')} row${badRows === 1 ? '' : 's'} with the wrong number of fields)` : ''}. Save the file with one kind of line ending (re-export it, or convert it with dos2unix) and load it again.`,
  );
}

/**
 * Offset of the first LF outside quotes not preceded by CR, or −1, in text that starts at
 * a record's start (an LF inside a quoted cell is part of the cell: Excel writes those in
 * CRLF files). Quotes are followed as papaparse does: one opens a field only at its start.
 */
function loneLineFeed(text: string, delimiter: string): number {
  const D = delimiter.charCodeAt(0);
  let inQuotes = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inQuotes) {
      if (c === 34) {
        if (text.charCodeAt(i + 1) === 34) i++;
        else inQuotes = false;
      }
      continue;
    }
    if (c === 34 && fieldStart) inQuotes = true;
    else if (c === 10 && (i === 0 || text.charCodeAt(i - 1) !== 13)) return i;
    fieldStart = c === D || c === 10 || c === 13;
  }
  return -1;
}

/** LFs in `text` before offset `end`. */
function countNewlines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

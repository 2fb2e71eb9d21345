import type { Table as ArrowTable, Vector } from 'apache-arrow';
import { Precision, Type } from 'apache-arrow/enum';
import { ByteBuffer } from 'flatbuffers';
import { Footer } from 'apache-arrow/fb/footer';
import { Message as FbMessage } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { DictionaryBatch as FbDictionaryBatch } from 'apache-arrow/fb/dictionary-batch';
import { Schema as FbSchema } from 'apache-arrow/fb/schema';
import type { Field as FbField } from 'apache-arrow/fb/field';
import { CsvError, quote } from '../base/errors';
import type { CategoricalColumn, Column, Table } from './table';

/**
 * apache-arrow, loaded only when an Arrow or Parquet file comes ({@link loadArrow}). Loading
 * it marks its vectors, tables and batches `Symbol.isConcatSpreadable`, which turns off V8's
 * fast path for every `Array.prototype.concat` in the thread for good: jsPDF's font subset,
 * made with concat, took twice as long (the 50k-row report 0.9 s instead of 0.4 s in the CLI).
 * The structure check below reads the flatbuffers only (apache-arrow/fb, no vectors).
 */
let arrowModule: typeof import('apache-arrow') | null = null;

/** Loads apache-arrow for {@link tableFromArrow} and {@link tableToArrow} (once; hosts await it when a file's first bytes say Arrow or Parquet). */
export async function loadArrow(): Promise<void> {
  arrowModule ??= await import('apache-arrow');
}

function arrow(): typeof import('apache-arrow') {
  if (!arrowModule) throw new Error('apache-arrow is not loaded: await loadArrow() before reading or writing an Arrow table');
  return arrowModule;
}

/** Whether bytes are an Arrow IPC file ("ARROW1") or stream (continuation marker). */
export function looksLikeArrow(bytes: Uint8Array): boolean {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  return magic === 'ARROW1' || (bytes.length >= 8 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff);
}

/**
 * Reads an Arrow IPC file into the same columnar table as a CSV: number and boolean
 * columns as Float64Array (null → NaN; booleans as 0/1), strings and dictionaries as
 * codes plus a dictionary (null → −1). Other types are refused by name.
 */
export function tableFromArrow(bytes: Uint8Array, fileName: string): Table {
  checkArrowIpc(bytes, fileName);
  const { tableFromIPC } = arrow();
  let read: ArrowTable;
  try {
    read = tableFromIPC(bytes);
  } catch (error) {
    const message = (error as Error).message;
    // pandas' to_feather and pyarrow.feather compress with LZ4 by default; the reader here reads uncompressed files.
    const fix = /compress|codec/i.test(message) ? "Write it uncompressed (DataFrame.to_feather(path, compression='uncompressed'), or pyarrow.feather.write_feather(table, path, compression='uncompressed')), or choose the CSV." : 'Write it with pyarrow.feather / RecordBatchFileWriter or choose the CSV.';
    throw new CsvError(`${fileName}: not a readable Arrow IPC file (${message}). ${fix}`);
  }
  if (read.numRows === 0) throw new CsvError(`${fileName}: the Arrow table has no rows.`);
  // A damaged or hostile header can declare far more rows than the bytes can hold: refuse
  // before allocating columns for them (every row takes at least one bit per column).
  if (read.numRows > bytes.length * 8) {
    throw new CsvError(`${fileName}: the Arrow file declares ${read.numRows} rows in ${bytes.length} bytes; it is damaged. Write it again.`);
  }
  for (const batch of read.batches) {
    for (const child of batch.data.children) {
      if (child.length !== batch.numRows) throw new CsvError(`${fileName}: an Arrow column holds ${child.length} values for ${batch.numRows} rows; the file is damaged. Write it again.`);
    }
  }
  const seen = new Map<string, number>();
  read.schema.fields.forEach((field, index) => {
    // As a CSV header's: a name the audit can find one column by.
    if (field.name.trim() === '') throw new CsvError(`${fileName}: column ${index + 1} has no name. Give every column a name.`);
    const earlier = seen.get(field.name);
    if (earlier !== undefined) throw new CsvError(`${fileName}: the column name ${quote(field.name)} appears twice (columns ${earlier + 1} and ${index + 1}). Rename one of them.`);
    seen.set(field.name, index);
  });
  const columns: Column[] = read.schema.fields.map((field, index) => {
    const vector = read.getChildAt(index)!;
    const n = read.numRows;
    const typeId = field.type.typeId;
    if (typeId === Type.Decimal) return decimalColumn(field.name, vector, (field.type as { scale: number }).scale);
    if (typeId === Type.Int || typeId === Type.Float || typeId === Type.Bool) {
      const values = new Float64Array(n);
      let missing = 0;
      for (let i = 0; i < n; i++) {
        const v = vector.get(i);
        if (v === null || v === undefined) {
          values[i] = Number.NaN;
          missing++;
        } else {
          // A 64-bit whole number past 2^53 (an identifier): the column is its texts, as a CSV of them reads, so that two of them stay two.
          if (typeof v === 'bigint' && (v > SAFE_WHOLE || v < -SAFE_WHOLE)) {
            return categorical(field.name, n, (row) => {
              const cell = vector.get(row);
              return cell === null || cell === undefined ? null : String(cell);
            });
          }
          const value = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
          if (value === Number.POSITIVE_INFINITY || value === Number.NEGATIVE_INFINITY) throw infiniteValue(fileName, field.name, i, value);
          // A float NaN (not null) is missing too, and counted so.
          if (Number.isNaN(value)) missing++;
          values[i] = value;
        }
      }
      const stored = typeId === Type.Bool ? 'boolean' : typeId === Type.Float && (field.type as { precision: number }).precision === Precision.SINGLE ? 'float32' : undefined;
      return stored ? { kind: 'numeric', name: field.name, values, missing, stored } : { kind: 'numeric', name: field.name, values, missing };
    }
    // A column of nulls only (pandas writes an all-None column so): every cell missing, as an empty CSV column.
    if (typeId === Type.Null) return categorical(field.name, n, () => null);
    if (typeId === Type.Utf8 || typeId === Type.LargeUtf8 || typeId === Type.Dictionary) {
      return categorical(field.name, n, (i) => {
        const v = vector.get(i);
        return v === null || v === undefined ? null : String(v);
      });
    }
    if (typeId === Type.Date || typeId === Type.Timestamp) {
      // Dates and times become ISO 8601 text, as a CSV export writes them (and the profile reads them as dates).
      const dayOnly = typeId === Type.Date && String(field.type).includes('DAY');
      return categorical(field.name, n, (i) => {
        const v = vector.get(i);
        const ms = v === null || v === undefined ? Number.NaN : Number(v instanceof Date ? v.getTime() : v);
        if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
        const iso = new Date(ms).toISOString();
        return dayOnly ? iso.slice(0, 10) : iso;
      });
    }
    throw new CsvError(`${fileName}, column "${field.name}": the Arrow type ${field.type} is not supported (numbers, decimals, booleans, strings, dictionaries, dates, timestamps and nulls are). Convert it first.`);
  });
  return { source: fileName, rowCount: read.numRows, columns };
}

/**
 * A decimal column (decimal128/256, as databases and pandas' Decimal write them): each value
 * its integer over 10^scale, read through its decimal text so the double is the correctly
 * rounded one (12.34 stored as 1234 with scale 2 is 12.34, not 1234). Whole numbers past 2^53
 * (scale 0 or less: identifiers) are read as their text, as 64-bit integers are.
 */
function decimalColumn(name: string, vector: Vector, scale: number): Column {
  const n = vector.length;
  const texts: (string | null)[] = new Array(n);
  let wide = false;
  for (let i = 0; i < n; i++) {
    const v = vector.get(i) as Uint32Array | null | undefined;
    if (v === null || v === undefined) {
      texts[i] = null;
      continue;
    }
    const text = decimalText(new Uint32Array(v.buffer, v.byteOffset, v.byteLength / 4), scale);
    texts[i] = text;
    if (scale <= 0 && !wide && Math.abs(Number(text)) > Number.MAX_SAFE_INTEGER) wide = true;
  }
  if (wide) return categorical(name, n, (i) => texts[i]);
  const values = new Float64Array(n);
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const text = texts[i];
    values[i] = text === null ? Number.NaN : Number(text);
    if (text === null) missing++;
  }
  return { kind: 'numeric', name, values, missing };
}

/** The text of a decimal: its two's-complement integer (little-endian 32-bit words) with `scale` digits after the point (a negative scale: zeros appended). */
export function decimalText(words: Uint32Array, scale: number): string {
  let value = 0n;
  for (let w = words.length - 1; w >= 0; w--) value = (value << 32n) | BigInt(words[w]);
  if (words[words.length - 1] & 0x80000000) value -= 1n << BigInt(words.length * 32);
  const sign = value < 0n ? '-' : '';
  const digits = (value < 0n ? -value : value).toString();
  if (scale <= 0) return `${sign}${digits}${'0'.repeat(-scale)}`;
  const padded = digits.padStart(scale + 1, '0');
  return `${sign}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/** The largest whole number every smaller one of which a double holds exactly (2^53 − 1). */
const SAFE_WHOLE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The refusal of an infinite number. Deciles, means, drift bins and correlations have no
 * value for it, the CSV reader reads "inf" as text, and scikit-learn and XGBoost refuse it
 * too: the user decides what it stands for.
 */
function infiniteValue(fileName: string, column: string, row: number, value: number): CsvError {
  return new CsvError(
    `${fileName}, row ${(row + 1).toLocaleString('en-US')}, column ${quote(column)}: the value ${value}, which no statistic of the audit can use. Replace infinite values with null (missing) or a finite cap before writing the file (pandas: df.replace([np.inf, -np.inf], np.nan)).`,
  );
}

/** A categorical column of the texts `textAt` gives for rows 0…n−1 (null: missing). */
function categorical(name: string, n: number, textAt: (row: number) => string | null): CategoricalColumn {
  const codes = new Int32Array(n);
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const text = textAt(i);
    if (text === null) {
      codes[i] = -1;
      missing++;
      continue;
    }
    let code = index.get(text);
    if (code === undefined) {
      code = dictionary.length;
      index.set(text, code);
      dictionary.push(text);
    }
    codes[i] = code;
  }
  return { kind: 'categorical', name, codes, dictionary, missing };
}

/** The table as an Arrow IPC file: numbers as Float64 (missing → null), categories as dictionary-encoded strings. */
export function tableToArrow(table: Table): Uint8Array {
  const { Dictionary, Float64, Int32, Table: ArrowTable, Utf8, makeVector, tableToIPC, vectorFromArray } = arrow();
  const vectors: Record<string, Vector> = {};
  for (const column of table.columns) {
    if (column.kind === 'numeric') {
      vectors[column.name] = vectorFromArray(Array.from(column.values, (v) => (Number.isNaN(v) ? null : v)), new Float64());
    } else {
      const dictionary = vectorFromArray(column.dictionary, new Utf8());
      vectors[column.name] = makeVector({
        data: Int32Array.from(column.codes, (c) => (c < 0 ? 0 : c)),
        type: new Dictionary(new Utf8(), new Int32()),
        dictionary,
        nullBitmap: packValidity(column.codes),
        nullCount: column.missing,
      } as never);
    }
  }
  return tableToIPC(new ArrowTable(vectors), 'file');
}

function packValidity(codes: Int32Array): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(codes.length / 8));
  for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) bitmap[i >> 3] |= 1 << (i & 7);
  return bitmap;
}

/** The most rows a record batch may declare (what a typed array can index). */
const MAX_BATCH_ROWS = 2 ** 31 - 1;

/**
 * Checks the structure of an Arrow IPC file or stream before apache-arrow reads it: every
 * message, footer block, vector and buffer must lie inside the bytes, and counts must be
 * plausible for the bytes that hold them. apache-arrow trusts these numbers and allocates
 * for them, so a damaged or hostile file could otherwise exhaust memory or hang the reader.
 */
export function checkArrowIpc(bytes: Uint8Array, fileName: string): void {
  const damaged = (why: string) => new CsvError(`${fileName}: the Arrow file is damaged (${why}). Write it again, or export the CSV.`);
  const n = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  const int32 = (at: number) => (at >= 0 && at + 4 <= n ? view.getInt32(at, true) : Number.NaN);

  const checkFields = (count: number, field: (i: number) => FbField | null, room: number, depth: number): void => {
    if (depth > 64) throw damaged('its schema nests deeper than 64 levels');
    if (!(count >= 0 && count * 4 <= room)) throw damaged(`its schema declares ${count} fields in ${room} bytes`);
    for (let i = 0; i < count; i++) {
      const child = field(i);
      if (!child) throw damaged('a schema field cannot be read');
      checkFields(child.childrenLength(), (k) => child.children(k), room, depth + 1);
    }
  };

  const checkBatch = (batch: FbRecordBatch | null, body: number, room: number): void => {
    if (!batch) throw damaged('a record batch header cannot be read');
    const rows = Number(batch.length());
    if (!(rows >= 0 && rows <= MAX_BATCH_ROWS)) throw damaged(`a record batch declares ${rows} rows`);
    const nodes = batch.nodesLength();
    const buffers = batch.buffersLength();
    if (!(nodes >= 0 && nodes * 16 <= room) || !(buffers >= 0 && buffers * 16 <= room)) throw damaged(`a record batch declares ${nodes} columns and ${buffers} buffers in ${room} bytes`);
    for (let i = 0; i < nodes; i++) {
      const node = batch.nodes(i);
      const length = Number(node?.length() ?? -1);
      const nulls = Number(node?.nullCount() ?? -1);
      if (!(length >= 0 && length <= MAX_BATCH_ROWS && nulls >= 0 && nulls <= length)) throw damaged(`column ${i + 1} of a record batch declares ${length} values with ${nulls} nulls`);
    }
    for (let i = 0; i < buffers; i++) {
      const buffer = batch.buffers(i);
      const offset = Number(buffer?.offset() ?? -1);
      const length = Number(buffer?.length() ?? -1);
      if (!(offset >= 0 && length >= 0 && offset + length <= body)) throw damaged(`buffer ${i + 1} of a record batch lies outside its ${body}-byte body`);
    }
  };

  /** One message: metadata at `at` (`length` bytes) and the body after it, ending by `limit`. */
  const checkMessage = (at: number, length: number, bodyAt: number, limit: number): number => {
    if (!(length > 0 && at >= 0 && at + length <= limit)) throw damaged(`a message of ${length} bytes at offset ${at} runs past the end`);
    const message = FbMessage.getRootAsMessage(new ByteBuffer(bytes.subarray(at, at + length)));
    const body = Number(message.bodyLength());
    if (!(body >= 0 && bodyAt + body <= limit)) throw damaged(`a message body of ${body} bytes at offset ${bodyAt} runs past the end`);
    switch (message.headerType()) {
      case MessageHeader.Schema: {
        const schema = message.header(new FbSchema()) as FbSchema | null;
        if (!schema) throw damaged('the schema cannot be read');
        checkFields(schema.fieldsLength(), (i) => schema.fields(i), length, 0);
        break;
      }
      case MessageHeader.RecordBatch:
        checkBatch(message.header(new FbRecordBatch()) as FbRecordBatch | null, body, length);
        break;
      case MessageHeader.DictionaryBatch: {
        const dictionary = message.header(new FbDictionaryBatch()) as FbDictionaryBatch | null;
        checkBatch(dictionary?.data() ?? null, body, length);
        break;
      }
      default:
        throw damaged(`a message has the unknown type ${message.headerType()}`);
    }
    return body;
  };

  try {
    const isFile = n >= 6 && String.fromCharCode(...bytes.subarray(0, 6)) === 'ARROW1';
    if (isFile) {
      if (n < 18 || String.fromCharCode(...bytes.subarray(n - 6)) !== 'ARROW1') throw damaged('it does not end with the ARROW1 marker: it is cut short');
      const footerLength = int32(n - 10);
      const footerAt = n - 10 - footerLength;
      if (!(footerLength > 0 && footerAt >= 8)) throw damaged(`its footer length ${footerLength} does not fit the file`);
      const footer = Footer.getRootAsFooter(new ByteBuffer(bytes.subarray(footerAt, n - 10)));
      const schema = footer.schema();
      if (!schema) throw damaged('the footer holds no schema');
      checkFields(schema.fieldsLength(), (i) => schema.fields(i), footerLength, 0);
      const blocks = [
        ...Array.from({ length: checkCount(footer.dictionariesLength(), footerLength, damaged) }, (_, i) => footer.dictionaries(i)),
        ...Array.from({ length: checkCount(footer.recordBatchesLength(), footerLength, damaged) }, (_, i) => footer.recordBatches(i)),
      ];
      for (const block of blocks) {
        if (!block) throw damaged('a footer block cannot be read');
        const offset = Number(block.offset());
        const meta = block.metaDataLength();
        // A block's metadata starts with the continuation marker and the length (8 bytes), or the length alone.
        const prefix = int32(offset) === -1 ? 8 : 4;
        if (!(offset >= 8 && meta > prefix && offset + meta <= footerAt)) throw damaged(`a footer block at offset ${offset} with ${meta} bytes of metadata does not fit the file`);
        const length = int32(offset + prefix - 4);
        if (!(length > 0 && length <= meta - prefix)) throw damaged(`a message at offset ${offset} declares ${length} bytes of metadata`);
        const body = checkMessage(offset + prefix, length, offset + meta, footerAt);
        if (body !== Number(block.bodyLength())) throw damaged(`a footer block and its message disagree on the body length`);
      }
      return;
    }
    let at = 0;
    while (at + 4 <= n) {
      let length = int32(at);
      let prefix = 4;
      if (length === -1) {
        length = int32(at + 4);
        prefix = 8;
      }
      if (length === 0 || Number.isNaN(length)) return; // end of stream
      const body = checkMessage(at + prefix, length, at + prefix + length, n);
      at += prefix + length + body;
    }
  } catch (error) {
    if (error instanceof CsvError) throw error;
    throw damaged(error instanceof Error ? error.message : String(error));
  }
}

function checkCount(count: number, room: number, damaged: (why: string) => CsvError): number {
  // A footer block is 24 bytes.
  if (!(count >= 0 && count * 24 <= room)) throw damaged(`its footer lists ${count} blocks in ${room} bytes`);
  return count;
}

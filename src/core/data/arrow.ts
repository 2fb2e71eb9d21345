import { Dictionary, Float64, Int32, Table as ArrowTable, Type, Utf8, makeVector, tableFromIPC, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { CsvError } from '../errors';
import type { Column, Table } from './table';

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
  let arrow: ArrowTable;
  try {
    arrow = tableFromIPC(bytes);
  } catch (error) {
    throw new CsvError(`${fileName}: not a readable Arrow IPC file (${(error as Error).message}). Write it with pyarrow.feather / RecordBatchFileWriter or choose the CSV.`);
  }
  if (arrow.numRows === 0) throw new CsvError(`${fileName}: the Arrow table has no rows.`);
  // A damaged or hostile header can declare far more rows than the bytes can hold: refuse
  // before allocating columns for them (every row takes at least one bit per column).
  if (arrow.numRows > bytes.length * 8) {
    throw new CsvError(`${fileName}: the Arrow file declares ${arrow.numRows} rows in ${bytes.length} bytes; it is damaged. Write it again.`);
  }
  for (const batch of arrow.batches) {
    for (const child of batch.data.children) {
      if (child.length !== batch.numRows) throw new CsvError(`${fileName}: an Arrow column holds ${child.length} values for ${batch.numRows} rows; the file is damaged. Write it again.`);
    }
  }
  const columns: Column[] = arrow.schema.fields.map((field, index) => {
    const vector = arrow.getChildAt(index)!;
    const n = arrow.numRows;
    const typeId = field.type.typeId;
    if (typeId === Type.Int || typeId === Type.Float || typeId === Type.Bool || typeId === Type.Decimal) {
      const values = new Float64Array(n);
      let missing = 0;
      for (let i = 0; i < n; i++) {
        const v = vector.get(i);
        if (v === null || v === undefined) {
          values[i] = Number.NaN;
          missing++;
        } else values[i] = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
      }
      return { kind: 'numeric', name: field.name, values, missing };
    }
    if (typeId === Type.Utf8 || typeId === Type.LargeUtf8 || typeId === Type.Dictionary) {
      const codes = new Int32Array(n);
      const dictionary: string[] = [];
      const index = new Map<string, number>();
      let missing = 0;
      for (let i = 0; i < n; i++) {
        const v = vector.get(i);
        if (v === null || v === undefined) {
          codes[i] = -1;
          missing++;
          continue;
        }
        const text = String(v);
        let code = index.get(text);
        if (code === undefined) {
          code = dictionary.length;
          index.set(text, code);
          dictionary.push(text);
        }
        codes[i] = code;
      }
      return { kind: 'categorical', name: field.name, codes, dictionary, missing };
    }
    throw new CsvError(`${fileName}, column "${field.name}": the Arrow type ${field.type} is not supported (numbers, booleans, strings and dictionaries are). Convert it first.`);
  });
  return { source: fileName, rowCount: arrow.numRows, columns };
}

/** The table as an Arrow IPC file: numbers as Float64 (missing → null), categories as dictionary-encoded strings. */
export function tableToArrow(table: Table): Uint8Array {
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

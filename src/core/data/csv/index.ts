/**
 * Reading CSV text into a columnar table. The code lives in csv/ (numbers, column builder,
 * kept texts, dialect, pending text, quotes, field scanner, records, bad rows, header,
 * declared types, the reader, its bytes and fast path, and a later slice of a file read on a thread); this file only
 * re-exports what the rest of the project imports from here.
 */
export { CsvReader } from './reader';
export { parseCsv } from './parse';
export { DEFAULT_MISSING_VALUES, encodingName, TEXT_ENCODINGS, type CsvOptions } from './options';
export { detectDelimiter, utf16Error } from './dialect';

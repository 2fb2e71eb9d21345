/**
 * Reading CSV text into a columnar table. The code lives in csv/ (numbers, column builder,
 * dialect, pending text, field scanner, records, header, declared types, reader); this file
 * only re-exports what the rest of the project imports from here.
 */
export { CsvReader, parseCsv } from './reader';
export { DEFAULT_MISSING_VALUES, type CsvOptions } from './options';
export { detectDelimiter, utf16Error } from './dialect';

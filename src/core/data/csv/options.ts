/**
 * The options a CSV read takes ({@link CsvOptions}) and the cell texts read as missing by
 * default: shared by the reader, the header and the facade.
 */
import type { DeclaredType } from '../table';

/** Cell texts read as missing unless the caller says otherwise. */
export const DEFAULT_MISSING_VALUES: readonly string[] = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL'];

/**
 * The text encodings a CSV file may be read in (`data.encoding`), by their WHATWG names:
 * UTF-8, and the single-byte encodings, in which every byte below 0x80 is its ASCII
 * character and every other byte one character of its own, so the delimiter, quotes, line
 * ends and numbers are the same bytes as in UTF-8 (multi-byte legacy encodings such as
 * Shift_JIS are not). Any label the WHATWG Encoding standard gives one of them is taken
 * (latin1, iso-8859-1, cp1252 → windows-1252; utf8 → utf-8), in any case.
 */
export const TEXT_ENCODINGS: readonly string[] = [
  'utf-8',
  'windows-1252',
  'iso-8859-15',
  'windows-1250',
  'windows-1251',
  'windows-1253',
  'windows-1254',
  'windows-1255',
  'windows-1256',
  'windows-1257',
  'windows-1258',
  'windows-874',
  'iso-8859-2',
  'iso-8859-3',
  'iso-8859-4',
  'iso-8859-5',
  'iso-8859-6',
  'iso-8859-7',
  'iso-8859-8',
  'iso-8859-10',
  'iso-8859-13',
  'iso-8859-14',
  'iso-8859-16',
  'koi8-r',
  'koi8-u',
  'ibm866',
  'macintosh',
];

/** The WHATWG name of an encoding label a CSV file may be read in ({@link TEXT_ENCODINGS}), or null. */
export function encodingName(label: string): string | null {
  try {
    const name = new TextDecoder(label.trim()).encoding;
    return TEXT_ENCODINGS.includes(name) ? name : null;
  } catch {
    return null;
  }
}

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** File name used in messages and in the table. */
  fileName: string;
  /** Field delimiter; detected among `,` `;` tab `|` when omitted. */
  delimiter?: string;
  /** Cell texts (after trimming) that mean "missing", in place of the default tokens; an empty cell is always missing. */
  missingValues?: readonly string[];
  /** Columns forced to a type instead of the inferred one. */
  dtypes?: Record<string, DeclaredType>;
  /**
   * The file's text encoding, one of {@link TEXT_ENCODINGS} (default UTF-8). A file that is not
   * valid UTF-8 and says no other is refused: its bytes would read as U+FFFD, and two names
   * differing in one accented letter as the same name.
   */
  encoding?: string;
  /** Skip rows with the wrong number of fields (counted in `table.skipped`) instead of failing. */
  skipBadRows?: boolean;
}

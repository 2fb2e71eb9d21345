/**
 * The options a CSV read takes ({@link CsvOptions}) and the cell texts read as missing by
 * default: shared by the reader, the header and the facade.
 */
import type { DeclaredType } from '../table';

/** Cell texts read as missing unless the caller says otherwise. */
export const DEFAULT_MISSING_VALUES: readonly string[] = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL'];

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
  /** Skip rows with the wrong number of fields (counted in `table.skipped`) instead of failing. */
  skipBadRows?: boolean;
}

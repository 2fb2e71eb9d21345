/**
 * A column read as text that drift compares as numbers: numbers with a few texts (a marker
 * such as "unknown" the config does not list as missing), or no values at all.
 */
import { parseDecimal } from '../../data/csv/numbers';
import type { Column } from '../../data/table';

/** At most this many distinct texts, in at most this share of a column's cells, and the column is numbers with a few texts. */
const FEW_TEXTS = 5;
const FEW_TEXTS_SHARE = 0.05;

/** Texts exports write for a missing number ("?" in the UCI files, "NA", "-"): a column of numbers and these is numbers, however many. */
const MISSING_MARKERS: ReadonlySet<string> = new Set(['?', '-', '--', '.', 'na', 'n/a', 'nan', 'null', 'none', 'missing', 'unknown', '#n/a']);

/**
 * A column's numbers for drift: a numeric column's values; a text column's when it is
 * numbers with a few texts (a marker such as "unknown" the config does not list as missing:
 * the texts as missing, named) or has no values at all; null for a column of categories
 * (one whose every text is a number is codes, "01", compared as categories).
 */
export function numbersOf(column: Column): { values: Float64Array; texts: string[]; cells: number } | null {
  if (column.kind === 'numeric') return { values: column.values, texts: [], cells: 0 };
  const parsed = column.dictionary.map((text) => parseDecimal(text.trim()));
  const counts = new Float64Array(column.dictionary.length);
  for (const code of column.codes) if (code >= 0) counts[code]++;
  let present = 0;
  let cells = 0;
  const texts: string[] = [];
  column.dictionary.forEach((text, code) => {
    if (counts[code] === 0) return;
    present += counts[code];
    if (Number.isNaN(parsed[code])) {
      cells += counts[code];
      texts.push(text);
    }
  });
  // Markers alone may be many cells (12% "?"), as long as most cells are numbers.
  const markers = texts.every((text) => MISSING_MARKERS.has(text.trim().toLowerCase())) && cells <= present / 2;
  if (present > 0 && (texts.length === 0 || texts.length > FEW_TEXTS || (cells > present * FEW_TEXTS_SHARE && !markers))) return null;
  return { values: Float64Array.from(column.codes, (code) => (code < 0 || Number.isNaN(parsed[code]) ? Number.NaN : parsed[code])), texts, cells };
}

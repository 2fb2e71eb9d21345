/**
 * Drift of a column of numbers in one file and of numbers with many texts in the other: the
 * texts in a bin of their own, beside the numbers' bins.
 */
import { quote } from '../../base/errors';
import { parseDecimal } from '../../data/csv/numbers';
import { sortedPresent } from '../../data/sorted';
import type { Column } from '../../data/table';
import { decileEdges, sortedBinShares } from './bins';
import type { ColumnDrift } from './drift';
import { levelOf, psi } from './psi';
import { chiSquareSurvival, homogeneityChiSquare } from './statistics';

/** Whether a column of text holds a number in some cell. */
export function holdsNumbers(column: Column): boolean {
  return column.kind === 'numeric' || column.dictionary.some((text) => !Number.isNaN(parseDecimal(text.trim())));
}

/** A column's cells against numbers: each cell's number (NaN for a blank or a text), with how many cells hold text and the first few texts. */
function cellNumbers(column: Column): { values: Float64Array; texts: number; shown: string[] } {
  if (column.kind === 'numeric') return { values: column.values, texts: 0, shown: [] };
  const parsed = column.dictionary.map((text) => parseDecimal(text.trim()));
  const values = new Float64Array(column.codes.length).fill(Number.NaN);
  let texts = 0;
  const shown: string[] = [];
  column.codes.forEach((code, row) => {
    if (code < 0) return;
    if (!Number.isNaN(parsed[code])) values[row] = parsed[code];
    else if ((texts++, shown.length < 3 && !shown.includes(column.dictionary[code]))) shown.push(column.dictionary[code]);
  });
  return { values, texts, shown };
}

/**
 * Drift of a column of numbers in one file whose other file holds numbers and many texts (an
 * id or a code that became text, "n/a (closed)" notes): PSI over the reference's decile bins
 * of the numbers, the missing cells, and the cells of text in a bin of their own, with the χ²
 * test of those bins' counts (KS and Wasserstein would see only the numbers).
 */
export function textBinDrift(name: string, reference: { column: Column; source: string }, current: { column: Column; source: string }, bins?: number): ColumnDrift {
  const [ref, cur] = [cellNumbers(reference.column), cellNumbers(current.column)];
  const refPresent = sortedPresent(ref.values);
  const curPresent = sortedPresent(cur.values);
  const edges = decileEdges(refPresent, bins);
  const side = (cells: typeof ref, present: Float64Array) => {
    const n = cells.values.length;
    return [...sortedBinShares(present, n, edges), (n - present.length - cells.texts) / Math.max(1, n), cells.texts / Math.max(1, n)].map((share) => share * n);
  };
  const refCounts = side(ref, refPresent);
  const curCounts = side(cur, curPresent);
  const labels = [...Array.from({ length: edges.length + 1 }, (_, k) => `[${k === 0 ? '-inf' : edges[k - 1]}, ${k === edges.length ? 'inf' : edges[k]})`), 'missing', 'text'];
  const [n, m] = [ref.values.length, cur.values.length];
  const kept = labels.map((_, k) => k).filter((k) => refCounts[k] + curCounts[k] > 0);
  const refShares = kept.map((k) => refCounts[k] / Math.max(1, n));
  const curShares = kept.map((k) => curCounts[k] / Math.max(1, m));
  const chi2 = homogeneityChiSquare(refCounts, curCounts).statistic;
  const value = psi(refShares, curShares);
  const df = Math.max(1, kept.length - 1);
  const [texts, numbers] = ref.texts > 0 ? [reference, current] : [current, reference];
  const cells = ref.texts > 0 ? ref : cur;
  const other = ref.texts > 0 && cur.texts > 0 ? ` and ${cur.texts.toLocaleString('en-US')} in ${current.source}` : '';
  return {
    column: name,
    kind: 'numeric',
    psi: value,
    level: levelOf(value),
    chi_square: { statistic: chi2, df, p_value: chiSquareSurvival(chi2, df) },
    edges,
    bins: kept.map((k, i) => ({ label: labels[k], reference: refShares[i], current: curShares[i] })),
    note: `${cells.texts.toLocaleString('en-US')} cell${cells.texts === 1 ? '' : 's'} of text in ${texts.source} (${cells.shown.map((t) => quote(t)).join(', ')}${cells.texts > cells.shown.length ? ', …' : ''})${other} where ${numbers.source} held numbers: compared in a bin of their own, with the χ² test of the bins' counts`,
  };
}


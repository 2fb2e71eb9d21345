/**
 * One row, explained and re-scored: its values (optionally edited — the what-if), the
 * model's p(positive) and decision, its SHAP values against a background sample of the
 * data, and its adverse-action reasons. The app's row explorer calls it in the worker.
 */
import type { Classifier } from '../../model/classifier';
import { AuditConfigError, isPlumblineError, quote } from '../../base/errors';
import { findColumn, shownText, takeRows, type Column, type Table } from '../../data/table';
import { explainTable, type ExplainResult } from './explain';
import { reasonCodes, type Reason } from './outputs';

/** What to explain. */
export interface RowQuery {
  /** 0-based row index into the data. */
  row: number;
  /** New cell texts by column (what-if); an empty text is a missing value. */
  overrides?: Record<string, string>;
  threshold: number;
  /** Which decision is adverse, for reason codes. */
  adverse: 'negative' | 'positive';
  /** Columns never given as reasons (protected attributes). */
  excluded: string[];
  features?: string[];
  seed?: number;
}

/** A row, scored and explained. */
export interface RowExplanation {
  /** 1-based row number, as in the CSV after its header. */
  row: number;
  cells: { column: string; value: string; original: string; edited: boolean; model_input: boolean }[];
  score: number;
  decision: 'positive' | 'negative';
  shap: Pick<ExplainResult, 'method' | 'output' | 'expected_value' | 'columns' | 'background' | 'local_accuracy_error'> & { values: number[] } | null;
  /** Why SHAP values are missing, when they are. */
  shap_unavailable?: string;
  reasons: Reason[];
}

/** Rows whose cells contain `text` (case-insensitive), at most `limit`, 0-based. */
export function searchRows(table: Table, text: string, limit = 20): number[] {
  const needle = text.trim().toLowerCase();
  if (!needle) return [];
  const found: number[] = [];
  // Categorical columns: match the dictionary once, then scan codes.
  const matchers = table.columns.map((column) => (column.kind === 'categorical' ? new Set(column.dictionary.flatMap((v, code) => (v.toLowerCase().includes(needle) ? [code] : []))) : null));
  for (let row = 0; row < table.rowCount && found.length < limit; row++) {
    const hit = table.columns.some((column, c) => {
      const codes = matchers[c];
      if (codes) return codes.has((column as { codes: Int32Array }).codes[row]);
      return shownText(column, row).toLowerCase().includes(needle);
    });
    if (hit) found.push(row);
  }
  return found;
}

function edit(column: Column, text: string, source: string): Column {
  if (column.kind === 'numeric') {
    const trimmed = text.trim();
    const value = trimmed === '' ? Number.NaN : Number(trimmed);
    if (trimmed !== '' && !Number.isFinite(value)) throw new AuditConfigError(`${source}: column ${quote(column.name)} holds numbers; ${quote(text)} is not one. Enter a number, or leave it empty for a missing value where the model takes one.`);
    // The number as typed: "01" or "2.50" is the text a model that takes text is fed, as from a file.
    const typed = trimmed !== '' && String(value) !== trimmed ? { rows: Int32Array.of(0), codes: Int32Array.of(0), dictionary: [trimmed] } : undefined;
    return { ...column, values: Float64Array.of(value), missing: Number.isNaN(value) ? 1 : 0, texts: typed };
  }
  // The edited cell is what was typed: it keeps no text it was read with.
  if (text === '') return { ...column, codes: Int32Array.of(-1), missing: 1, texts: undefined };
  const code = column.dictionary.indexOf(text);
  // A category the data never had is kept as written; the model decides what it means.
  if (code < 0) return { ...column, dictionary: [...column.dictionary, text], codes: Int32Array.of(column.dictionary.length), missing: 0, texts: undefined };
  return { ...column, codes: Int32Array.of(code), missing: 0, texts: undefined };
}

/** Background rows for SHAP: a seeded sample (default) or the first N rows of a table. */
export interface RowBackground {
  table: Table;
  rows: number;
  selection: 'sample' | 'first';
}

/** Scores and explains one row (with any edits applied); SHAP against 100 sampled rows of the data unless `background` says otherwise. */
export async function explainRow(classifier: Classifier, modelFile: { fileName: string; bytes: Uint8Array }, table: Table, query: RowQuery, background: RowBackground = { table, rows: 100, selection: 'sample' }): Promise<RowExplanation> {
  if (!Number.isInteger(query.row) || query.row < 0 || query.row >= table.rowCount) {
    throw new AuditConfigError(`${table.source}: row ${query.row + 1} does not exist; the data has rows 1 to ${table.rowCount.toLocaleString('en')}.`);
  }
  const overrides = query.overrides ?? {};
  for (const name of Object.keys(overrides)) if (!findColumn(table, name)) throw new AuditConfigError(`${table.source}: no column ${quote(name)} to edit.`);
  // The one-row table keeps the row's place in the file: a refusal of an edit names row 9, not row 1.
  const original: Table = { ...takeRows(table, Uint32Array.of(query.row)), rowsOf: Uint32Array.of(table.rowsOf?.[query.row] ?? query.row) };
  const edited: Table = { ...original, columns: original.columns.map((column) => (column.name in overrides && overrides[column.name] !== shownText(column, 0) ? edit(column, overrides[column.name], table.source) : column)) };
  const inputs = new Set(classifier.features(table, query.features));
  const [score] = await classifier.score(edited, { features: query.features });
  const adverse = query.adverse === 'negative' ? score < query.threshold : score >= query.threshold;

  let shap: RowExplanation['shap'] = null;
  let unavailable: string | undefined;
  let reasons: Reason[] = [];
  try {
    const explained = await explainTable(classifier, modelFile, edited, background.table, { rows: 1, backgroundRows: background.rows, backgroundSelection: background.selection, seed: query.seed ?? 0, features: query.features });
    shap = { method: explained.method, output: explained.output, expected_value: explained.expected_value, columns: explained.columns, background: explained.background, local_accuracy_error: explained.local_accuracy_error, values: explained.values[0] };
    if (adverse) reasons = reasonCodes(edited, [1], explained.columns, explained.values, Float64Array.of(score), { adverse: query.adverse, threshold: query.threshold, excluded: query.excluded })[0]?.reasons ?? [];
  } catch (error) {
    if (!isPlumblineError(error)) throw error;
    unavailable = error.message;
  }
  return {
    row: query.row + 1,
    cells: edited.columns.map((column, c) => ({ column: column.name, value: shownText(column, 0), original: shownText(original.columns[c], 0), edited: column !== original.columns[c], model_input: inputs.has(column.name) })),
    score,
    decision: score >= query.threshold ? 'positive' : 'negative',
    shap,
    ...(unavailable ? { shap_unavailable: unavailable } : {}),
    reasons,
  };
}

/**
 * The row explorer's side of the audit worker: the model and table opened once per pair of
 * files, one row scored and explained (with any what-if edits), and rows found by text.
 */
import { wasmOrt } from './ort-thread';
import { AuditConfigError, explainRow, openModel, searchRows, type Classifier, type RowQuery } from '../src/core';
import { loadedTable, tables } from './table-store';
import type { DataRef, InputFile } from './worker-types';

/** The row explorer's model and table, opened once per pair of files. */
let rowState: { key: string; classifier: Classifier; dataId: string; model: InputFile } | null = null;

/** Opens the model and data once for the row explorer (kept until other files come); answers the table's row count. */
export async function prepareRows(model: InputFile, data: DataRef, open: { positiveLabel?: string; classLabels?: string[]; features?: string[]; userMissingValues?: string[] }): Promise<{ rows: number }> {
  const key = `${model.fileName}:${model.bytes.length}|${data.dataId}|${JSON.stringify(open)}`;
  const { loaded } = loadedTable(data);
  if (rowState?.key !== key) {
    await rowState?.classifier.release();
    rowState = null;
    rowState = { key, dataId: data.dataId, model, classifier: await openModel(wasmOrt, model.bytes, model.fileName, open) };
  }
  return { rows: loaded.table.rowCount };
}

/** Scores and explains one row of the prepared data, with any edits (what-if). */
export async function explainPreparedRow(query: RowQuery) {
  const table = rowState && tables.get(rowState.dataId)?.loaded.table;
  if (!rowState || !table) throw new AuditConfigError('Open the row explorer again: the model and data are no longer loaded.');
  return explainRow(rowState.classifier, rowState.model, table, query);
}

/** Rows of the prepared data whose cells contain `text` (at most 20). */
export async function searchPreparedRows(text: string) {
  const table = rowState && tables.get(rowState.dataId)?.loaded.table;
  if (!rowState || !table) throw new AuditConfigError('Open the row explorer again: the model and data are no longer loaded.');
  return searchRows(table, text, 20);
}

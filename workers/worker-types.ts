/**
 * The plain data the page and the audit worker exchange: files, references to tables the
 * worker has read, the audit request and what the set-up shows of a data file.
 */
import type { AuditRequest, LoadedTable } from '../src/core';

/** Column summary shown in the set-up step. */
export interface ColumnSummary {
  name: string;
  kind: 'numeric' | 'categorical';
  missing: number;
  /** Distinct values (categorical) or null (numeric). */
  distinct: number | null;
  /** A few values, for labels and hints. */
  sample: string[];
}

/** A file as the worker receives it. */
export interface InputFile {
  fileName: string;
  bytes: Uint8Array;
}

/** A data file the page handed over as a File (never read on the page), read here once. */
export interface DataRef {
  fileName: string;
  dataId: string;
}

/** How a CSV is read (an audit config's data.delimiter, missing_values, dtypes and skip_bad_lines), as the CLI reads it. */
export type CsvReadOptions = NonNullable<AuditRequest['csv']>;

/** The audit request as the page sends it: data files by reference to what the worker's loadData read. */
export type WorkerAuditRequest = Omit<AuditRequest, 'data' | 'reference'> & {
  data: DataRef;
  reference?: DataRef;
  /** `webgpu`: score a neural network on the GPU when it can (WASM otherwise, with the reason in the result). */
  backend?: 'wasm' | 'webgpu';
};

/** What the set-up shows of a data file once read. */
export interface DataSummary {
  rows: number;
  columns: ColumnSummary[];
  format: LoadedTable['format'];
  bytes: number;
  sha256: string;
}

/**
 * The files of an audit as the app holds them: a model file with what its graph declares,
 * and a data file read in the worker (the page keeps only the File and its summary).
 */
import type { ModelSummary } from '../core';
import type { DataSummary, DataRef } from '../../workers/audit.worker';

/** A model file the user gave, with what its graph declares. */
export interface LoadedModel {
  name: string;
  bytes: Uint8Array;
  info: ModelSummary;
}

/** A data file the user gave, read in the worker (the page keeps only the File and the summary). */
export interface LoadedData extends DataSummary {
  name: string;
  /** Where the worker keeps the table. */
  dataId: string;
  /** The file itself, to read again when a config changes how CSVs are read. */
  blob?: Blob;
  /** The CSV options it was read with (canonical JSON). */
  csv?: string;
}

/** The worker's reference to a loaded data file. */
export const dataRef = (data: LoadedData): DataRef => ({ fileName: data.name, dataId: data.dataId });

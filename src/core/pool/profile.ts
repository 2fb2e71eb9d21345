/**
 * The data profile on a thread of the pool while the audit's thread computes the metrics:
 * the table's columns, the labels and the columns' sorts kept so far are copied and moved
 * there (all that {@link profileTable} reads), and the thread profiles them as this thread
 * would have: the same profile, to the bit.
 */
import { untilAborted } from '../base/abort';
import { profileTable, type DataProfile, type ProfileRunner } from '../analyses/profile/profile';
import { keepSorted, keptSorted } from '../data/sorted';
import type { Column, Table } from '../data/table';
import type { WorkerPool } from './scheduler';

/** Below this many rows the profile is computed where it is asked for (a few tens of ms: the copy and the message would cost about as much as they free). */
export const PROFILE_AHEAD_MIN_ROWS = 50_000;

/** A profile as a thread is sent it: the request's table and labels (copies), and each column's sort where one was kept. */
export interface ProfileJob {
  table: Table;
  target: string;
  labels: Uint8Array;
  protectedAttributes: string[];
  /** Per column of `table`: its present values ascending, or null (a categorical column, or a numeric one not sorted yet). */
  sorted: (Float64Array | null)[];
}

/**
 * The profile over `size` threads of `pool`: on the thread with the fewest jobs in flight
 * (null — profile here — for one thread, a small table, or a copy over the request's memory).
 */
export function profileOverPool(pool: WorkerPool, size: number): ProfileRunner {
  return (request, signal) => {
    const { table, labels } = request;
    if (size < 2 || table.rowCount < PROFILE_AHEAD_MIN_ROWS) return null;
    const kept = table.columns.map((column) => (column.kind === 'numeric' ? (keptSorted(column.values) ?? null) : null));
    let bytes = labels.byteLength;
    table.columns.forEach((column, i) => (bytes += (column.kind === 'numeric' ? column.values.byteLength : column.codes.byteLength) + (kept[i]?.byteLength ?? 0)));
    if (bytes > request.memoryBytes) return null;
    signal?.throwIfAborted();
    // Copies of what the profile reads, moved to the thread (this thread goes on reading its own).
    const transfer: ArrayBuffer[] = [];
    const copy = <T extends Float64Array | Int32Array | Uint8Array>(array: T): T => {
      const moved = array.slice() as T;
      transfer.push(moved.buffer as ArrayBuffer);
      return moved;
    };
    const columns = table.columns.map((column): Column => (column.kind === 'numeric' ? { ...column, values: copy(column.values) } : { ...column, codes: copy(column.codes) }));
    const job: ProfileJob = {
      table: { ...table, columns },
      target: request.target,
      labels: copy(labels),
      protectedAttributes: [...request.protectedAttributes],
      sorted: kept.map((sorted) => (sorted ? copy(sorted) : null)),
    };
    const profiled = pool.run<DataProfile>(pool.quietest(size).thread, { kind: 'profile', job }, transfer);
    // A cancel ends the wait; the thread finishes the profile, which nothing reads.
    profiled.catch(() => {});
    return untilAborted(profiled, signal);
  };
}

/** Thread side: the job's kept sorts first (so its columns are not sorted again), then the profile. */
export function profileJob(job: ProfileJob): DataProfile {
  job.table.columns.forEach((column, i) => {
    const sorted = job.sorted[i];
    if (sorted && column.kind === 'numeric') keepSorted(column.values, sorted);
  });
  return profileTable(job.table, job.target, job.labels, job.protectedAttributes);
}

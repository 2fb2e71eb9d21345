/**
 * The audit's metrics on a thread of the pool while the audit's thread computes the drift,
 * the explanations and the data profile: the scores, the labels and the columns the metrics
 * group rows by are copied and moved there (all that {@link auditScores} reads, a few MB a
 * million rows), and the thread measures them as this thread would have: the same metrics,
 * to the bit (every random draw is seeded from the settings).
 */
import { untilAborted } from '../base/abort';
import { findColumn, type Column } from '../data/table';
import { auditScores, metricsColumns, type MetricsRequest, type MetricsRunner } from '../audit/metrics';
import type { AuditMetrics } from '../audit/result';
import type { WorkerPool } from './scheduler';

/** Below this many rows the metrics are computed where they are asked for (a few hundred ms at most: not worth a thread's wait). */
export const METRICS_AHEAD_MIN_ROWS = 50_000;

/**
 * The metrics over `size` threads of `pool`: on the thread with the fewest jobs in flight;
 * null — measure here — for one thread, a small table, or a column the settings name that the
 * table lacks (measured here, it is refused in the words of the full table's columns).
 */
export function metricsOverPool(pool: WorkerPool, size: number): MetricsRunner {
  return (request, signal) => {
    const { table, settings } = request;
    if (size < 2 || table.rowCount < METRICS_AHEAD_MIN_ROWS) return null;
    const read = metricsColumns(settings).map((name) => findColumn(table, name));
    if (read.some((column) => !column)) return null;
    signal?.throwIfAborted();
    // Copies of what the metrics read, moved to the thread (this thread goes on reading its own).
    const transfer: ArrayBuffer[] = [];
    const copy = <T extends Float64Array | Int32Array | Uint8Array>(array: T): T => {
      const moved = array.slice() as T;
      transfer.push(moved.buffer as ArrayBuffer);
      return moved;
    };
    const columns = [...new Set(read as Column[])].map((column): Column => (column.kind === 'numeric' ? { ...column, values: copy(column.values) } : { ...column, codes: copy(column.codes) }));
    const { fit } = request;
    const job: MetricsRequest = {
      table: { ...table, columns },
      labels: copy(request.labels),
      scores: copy(request.scores),
      settings,
      ...(fit ? { fit: { ...fit, labels: copy(fit.labels), scores: copy(fit.scores) } } : {}),
    };
    const measured = pool.run<AuditMetrics>(pool.quietest(size).thread, { kind: 'metrics', job }, transfer);
    // A cancel ends the wait; the thread finishes the metrics, which nothing reads.
    measured.catch(() => {});
    return untilAborted(measured, signal);
  };
}

/** Thread side: the metrics of a job. */
export function metricsJob(job: MetricsRequest): AuditMetrics {
  return auditScores(job.table, job.labels, job.scores, job.settings, job.fit);
}

/**
 * TreeSHAP as jobs: plain data a host can run in this thread or in workers, the ensemble cut
 * into fixed slices whose values are summed in order, so results are the same wherever they run.
 */
import type { TreeEnsemble } from '../../../model/tree';
import { interventionalTreeShap } from './interventional';
import { pathDependentTreeShap } from './path-dependent';
import { packRows, sumShap, type ShapValues } from './values';

/**
 * The ensemble's trees in `parts` contiguous slices, the base margin in the first only.
 * Shapley values, expected values and outputs are all sums over trees, so the slices can
 * be explained apart — in workers, each building only its own trees' leaf tables — and
 * added back by {@link sumShap}.
 */
export function splitEnsemble(ensemble: TreeEnsemble, parts: number): TreeEnsemble[] {
  const size = Math.max(1, Math.ceil(ensemble.trees.length / parts));
  const count = Math.max(1, Math.ceil(ensemble.trees.length / size));
  return Array.from({ length: count }, (_, p) => ({ ...ensemble, baseMargin: p === 0 ? ensemble.baseMargin : 0, trees: ensemble.trees.slice(p * size, (p + 1) * size) }));
}

/** One TreeSHAP computation, as plain data a host can run elsewhere (in workers). */
export type TreeShapJob =
  | { kind: 'path'; ensemble: TreeEnsemble; rows: Float64Array[] }
  | { kind: 'interventional'; ensemble: TreeEnsemble; rows: Float64Array[]; background: Float64Array[]; groups?: { groupOf: Int32Array; columns: string[] } };

/**
 * A job as a pool thread is sent it: without its ensemble (sent apart, once per thread) and
 * with its rows and background packed flat, row after row (one array to copy, where a
 * thousand rows as a thousand arrays cost the sending thread more than the copying).
 */
export type PackedShapWork =
  | { kind: 'path'; width: number; rows: Float64Array }
  | { kind: 'interventional'; width: number; rows: Float64Array; background: Float64Array; groups?: { groupOf: Int32Array; columns: string[] } };

/** Flat rows of `width` values as one view per row (no copy). */
export function unpackRows(flat: Float64Array, width: number): Float64Array[] {
  const count = width > 0 ? flat.length / width : 0;
  return Array.from({ length: count }, (_, r) => flat.subarray(r * width, (r + 1) * width));
}

/** A job packed for a pool thread ({@link PackedShapWork}). */
export function packShapWork(job: TreeShapJob): PackedShapWork {
  const width = job.ensemble.featureNames.length;
  if (job.kind === 'path') return { kind: 'path', width, rows: packRows(job.rows, width) };
  return { kind: 'interventional', width, rows: packRows(job.rows, width), background: packRows(job.background, width), ...(job.groups ? { groups: job.groups } : {}) };
}

/** A packed job with its ensemble again. */
export function unpackShapWork(work: PackedShapWork, ensemble: TreeEnsemble): TreeShapJob {
  const rows = unpackRows(work.rows, work.width);
  if (work.kind === 'path') return { kind: 'path', ensemble, rows };
  return { kind: 'interventional', ensemble, rows, background: unpackRows(work.background, work.width), ...(work.groups ? { groups: work.groups } : {}) };
}

/** Runs TreeSHAP jobs: in this thread by default ({@link runTreeShapJob}); the worker host spreads them over a pool. */
export type TreeShapRunner = (job: TreeShapJob, signal?: AbortSignal) => Promise<ShapValues>;

/**
 * Trees per slice. TreeSHAP of an ensemble is computed slice by slice and the slices summed
 * in order, wherever they run (this thread, or any number of workers): the additions are
 * then the same, so results are byte-identical between the CLI and every browser.
 */
export const TREES_PER_SLICE = 32;

/** A job's ensemble cut into equal slices of at most {@link TREES_PER_SLICE} trees (the base margin in the first); how it is cut depends only on the number of trees. */
export function treeShapSlices(job: TreeShapJob): TreeShapJob[] {
  return splitEnsemble(job.ensemble, Math.max(1, Math.ceil(job.ensemble.trees.length / TREES_PER_SLICE))).map((ensemble) => ({ ...job, ensemble }));
}

/**
 * Slice `slice` of a packed job over `ensemble`, as {@link treeShapSlices} cuts it: a thread
 * that keeps the ensemble cuts its own slices, of the same tree objects from job to job
 * (their leaf shapes, made once per tree, are then kept too).
 */
export function treeShapSlice(work: PackedShapWork, ensemble: TreeEnsemble, slice: number): TreeShapJob {
  return treeShapSlices(unpackShapWork(work, ensemble))[slice];
}

/** One slice's values (a job of at most {@link TREES_PER_SLICE} trees). */
export function runTreeShapSlice(job: TreeShapJob, signal?: AbortSignal): ShapValues {
  return job.kind === 'path' ? pathDependentTreeShap(job.ensemble, job.rows, signal) : interventionalTreeShap(job.ensemble, job.rows, job.background, signal, job.groups);
}

/** A TreeSHAP job, here and now: its slices one after another, summed in order. */
export function runTreeShapJob(job: TreeShapJob, signal?: AbortSignal): ShapValues {
  return sumShap(treeShapSlices(job).map((slice) => runTreeShapSlice(slice, signal)));
}

/**
 * TreeSHAP as jobs: plain data a host can run in this thread or in workers, the ensemble cut
 * into fixed slices whose values are summed in order, so results are the same wherever they run.
 */
import type { TreeEnsemble } from '../../../model/tree';
import { interventionalTreeShap } from './interventional';
import { pathDependentTreeShap } from './path-dependent';
import { sumShap, type ShapValues } from './values';

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

/** One slice's values (a job of at most {@link TREES_PER_SLICE} trees). */
export function runTreeShapSlice(job: TreeShapJob, signal?: AbortSignal): ShapValues {
  return job.kind === 'path' ? pathDependentTreeShap(job.ensemble, job.rows, signal) : interventionalTreeShap(job.ensemble, job.rows, job.background, signal, job.groups);
}

/** A TreeSHAP job, here and now: its slices one after another, summed in order. */
export function runTreeShapJob(job: TreeShapJob, signal?: AbortSignal): ShapValues {
  return sumShap(treeShapSlices(job).map((slice) => runTreeShapSlice(slice, signal)));
}

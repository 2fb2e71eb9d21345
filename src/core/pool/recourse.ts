/**
 * The recourse search over the pool: slices of the searched rows, each searched on a thread
 * with the (tree) model opened there again; a row's answers are its own, whatever rows are
 * searched beside it (analyses/recourse/search/jobs.ts).
 */
import { joinSlices, recourseSlices, type RecourseRunner } from '../analyses/recourse/search/jobs';
import type { Counterfactual } from '../analyses/recourse/search/report';
import { markSent, type WorkerPool } from './scheduler';
import { untilAborted } from '../base/abort';

/** Slices of the recourse search per thread: a thread slowed by the rest of the machine holds up the end by a small slice. */
const RECOURSE_SLICES_PER_THREAD = 2;

/** The recourse search over `size` threads of `pool`, in slices of the searched rows dealt in turn (one thread: null, searched by the caller). */
export function recourseOverPool(pool: WorkerPool, size: number): RecourseRunner {
  return async (search, signal) => {
    if (size < 2) return null;
    signal?.throwIfAborted();
    const slices = recourseSlices(search, Math.min(search.searched.length, size * RECOURSE_SLICES_PER_THREAD), size);
    const { model } = search;
    const modelId = pool.onnxModelId(model.ensemble, { reopened: true, positiveLabel: model.positiveLabel ?? null, classLabels: model.classLabels ?? null, onnxPostTransform: model.onnxPostTransform ?? null });
    // A cancel (or the stage's time budget) ends this search alone: no slice is sent after it,
    // and the pool is not stopped (it may be scoring another audit's rows).
    const searching = pool.spread(size, slices.length, ({ thread, sent }, i) => {
      signal?.throwIfAborted();
      return pool.run<Counterfactual[][]>(thread, { kind: 'recourse', modelId, ...(markSent(sent, modelId) ? { model } : {}), slice: slices[i] });
    });
    try {
      return joinSlices(await untilAborted(searching, signal));
    } finally {
      searching.catch(() => {});
    }
  };
}

/// <reference lib="webworker" />
/**
 * A worker of the audit worker's pool (pool.ts): runs TreeSHAP slices, and scores row
 * blocks with the project's tree evaluator (each ensemble sent once, then named by id).
 */
import { runTreeShapSlice, type TreeShapJob } from '../src/core/explain/treeshap';
import { serializeError } from '../src/core/errors';
import { compileEnsemble, marginsOf, type CompiledEnsemble, type TreeEnsemble } from '../src/core/model/trees';

declare const self: DedicatedWorkerGlobalScope;

/** A job of the pool, as posted to a worker. */
export type PoolJob =
  | { kind: 'shap'; job: TreeShapJob }
  | { kind: 'margins'; ensembleId: number; ensemble?: TreeEnsemble; columns: Float64Array[] };

const ensembles = new Map<number, { ensemble: TreeEnsemble; compiled: CompiledEnsemble }>();

function work(job: PoolJob): unknown {
  if (job.kind === 'shap') return runTreeShapSlice(job.job);
  if (job.ensemble) ensembles.set(job.ensembleId, { ensemble: job.ensemble, compiled: compileEnsemble(job.ensemble) });
  const known = ensembles.get(job.ensembleId);
  if (!known) throw new Error(`pool worker: ensemble ${job.ensembleId} was never sent`);
  const count = job.columns[0]?.length ?? 0;
  const out = new Float64Array(count);
  marginsOf(known.ensemble, known.compiled, job.columns, Uint32Array.from({ length: count }, (_, i) => i), out);
  return out;
}

self.onmessage = (event: MessageEvent<{ id: number; job: PoolJob }>) => {
  const { id, job } = event.data;
  try {
    const value = work(job);
    self.postMessage({ id, ok: true, value }, value instanceof Float64Array ? [value.buffer] : []);
  } catch (error) {
    self.postMessage({ id, ok: false, error: serializeError(error) });
  }
};

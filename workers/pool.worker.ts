/// <reference lib="webworker" />
/**
 * A worker of the audit worker's pool (pool.ts): runs TreeSHAP slices, scores row blocks
 * with the project's tree evaluator (each ensemble sent once, then named by id), and hashes
 * data files while the audit worker parses them.
 */
import { runTreeShapSlice, type TreeShapJob } from '../src/core/explain/treeshap';
import { createSHA256 } from 'hash-wasm';
import { serializeError } from '../src/core/errors';
import { compileEnsemble, marginsOf, type CompiledEnsemble, type TreeEnsemble } from '../src/core/model/trees';

declare const self: DedicatedWorkerGlobalScope;

/** A job of the pool, as posted to a worker. */
export type PoolJob =
  | { kind: 'shap'; job: TreeShapJob }
  | { kind: 'sha256'; blob: Blob }
  | { kind: 'margins'; ensembleId: number; ensemble?: TreeEnsemble; columns: Float64Array[] };

const ensembles = new Map<number, { ensemble: TreeEnsemble; compiled: CompiledEnsemble }>();

async function work(job: PoolJob): Promise<unknown> {
  if (job.kind === 'shap') return runTreeShapSlice(job.job);
  if (job.kind === 'sha256') {
    // The file hashed here while the audit worker parses it (hash-wasm's WASM SHA-256).
    const sha = await createSHA256();
    sha.init();
    const reader = job.blob.stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      sha.update(value);
    }
    return sha.digest('hex');
  }
  if (job.ensemble) ensembles.set(job.ensembleId, { ensemble: job.ensemble, compiled: compileEnsemble(job.ensemble) });
  const known = ensembles.get(job.ensembleId);
  if (!known) throw new Error(`pool worker: ensemble ${job.ensembleId} was never sent`);
  const count = job.columns[0]?.length ?? 0;
  const out = new Float64Array(count);
  marginsOf(known.ensemble, known.compiled, job.columns, Uint32Array.from({ length: count }, (_, i) => i), out);
  return out;
}

self.onmessage = async (event: MessageEvent<{ id: number; job: PoolJob }>) => {
  const { id, job } = event.data;
  try {
    const value = await work(job);
    self.postMessage({ id, ok: true, value }, value instanceof Float64Array ? [value.buffer] : []);
  } catch (error) {
    self.postMessage({ id, ok: false, error: serializeError(error) });
  }
};

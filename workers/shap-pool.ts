/**
 * TreeSHAP over a pool of workers, started from the audit worker. SHAP values add over
 * trees: the job is cut into the core's fixed slices of trees ({@link treeShapSlices}),
 * each worker takes the next slice when it is free (building only that slice's leaf
 * tables), and the slices are summed in order ({@link sumShap}) — the same arithmetic as
 * the CLI's, so results do not depend on the number of workers. A cancelled audit stops the
 * pool at once (its workers are ended and started again on the next use).
 */
import { runTreeShapJob, sumShap, treeShapSlices, type ShapValues, type TreeShapJob, type TreeShapRunner } from '../src/core/explain/treeshap';
import { reviveError, type SerializedError } from '../src/core/errors';

type Answer = { id: number; ok: true; value: ShapValues } | { id: number; ok: false; error: SerializedError };

/** Below this much work (rows × trees × background) the pool's start-up and copies cost more than they save. */
const MIN_WORK = 20_000;

let pool: Worker[] = [];
let nextId = 0;

function workers(size: number): Worker[] {
  while (pool.length < size) pool.push(new Worker(new URL('./shap.worker.ts', import.meta.url), { type: 'module', name: `plumbline-shap-${pool.length}` }));
  return pool.slice(0, size);
}

function stopPool(): void {
  for (const worker of pool) worker.terminate();
  pool = [];
}

function run(worker: Worker, job: TreeShapJob): Promise<ShapValues> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const done = () => {
      worker.removeEventListener('message', listen);
      worker.removeEventListener('error', fail);
    };
    const listen = (event: MessageEvent<Answer>) => {
      if (event.data.id !== id) return;
      done();
      if (event.data.ok) resolve(event.data.value);
      else reject(reviveError(event.data.error));
    };
    const fail = (event: ErrorEvent) => {
      done();
      reject(new Error(`a TreeSHAP worker failed: ${event.message}`));
    };
    worker.addEventListener('message', listen);
    worker.addEventListener('error', fail);
    worker.postMessage({ id, job });
  });
}

/** A runner over `size` workers (1: in the calling thread). */
export function treeShapPool(size: number): TreeShapRunner {
  return async (job, signal) => {
    const work = job.rows.length * job.ensemble.trees.length * (job.kind === 'interventional' ? Math.max(1, job.background.length / 10) : 1);
    const slices = treeShapSlices(job);
    const parts = Math.min(size, slices.length);
    if (parts < 2 || work < MIN_WORK) return runTreeShapJob(job, signal);
    signal?.throwIfAborted();
    const stopped = new Promise<never>((_, reject) => {
      signal?.addEventListener('abort', () => {
        stopPool();
        reject(signal.reason);
      }, { once: true });
    });
    const results: ShapValues[] = new Array(slices.length);
    let next = 0;
    // Each worker takes the next slice when it is free; results keep the slices' order.
    const drain = async (worker: Worker) => {
      while (next < slices.length) {
        const index = next++;
        results[index] = await run(worker, slices[index]);
      }
    };
    await Promise.race([Promise.all(workers(parts).map(drain)), stopped]);
    return sumShap(results);
  };
}

/// <reference lib="webworker" />
/** A TreeSHAP worker of the pool (shap-pool.ts): runs the slices of trees it is sent. */
import { runTreeShapSlice, type TreeShapJob } from '../src/core/explain/treeshap';
import { serializeError } from '../src/core/errors';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = (event: MessageEvent<{ id: number; job: TreeShapJob }>) => {
  const { id, job } = event.data;
  try {
    self.postMessage({ id, ok: true, value: runTreeShapSlice(job) });
  } catch (error) {
    self.postMessage({ id, ok: false, error: serializeError(error) });
  }
};

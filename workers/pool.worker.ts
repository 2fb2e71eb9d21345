/// <reference lib="webworker" />
/**
 * A worker of the audit worker's pool (pool.ts): runs the core's pool jobs (TreeSHAP slices,
 * tree and ONNX scoring; see src/core/pool) and hashes data files while the audit worker
 * parses them.
 */
import { answerJob, PoolThreadState, type PoolJob } from '../src/core/pool';
import { blobSha256 } from './blob';

declare const self: DedicatedWorkerGlobalScope;

// onnxruntime-web loads only in workers that are given an ONNX model.
const state = new PoolThreadState(() =>
  import('onnxruntime-web/wasm').then((ort) => {
    ort.env.wasm.numThreads = 1;
    return ort;
  }),
);

self.onmessage = (event: MessageEvent<{ id: number; job: PoolJob | { kind: 'sha256'; blob: Blob } }>) =>
  answerJob(
    event.data as { id: number; job: PoolJob },
    async (job: PoolJob | { kind: 'sha256'; blob: Blob }) => {
      // The file hashed here while the audit worker parses it.
      if (job.kind === 'sha256') return blobSha256(job.blob);
      const value = await state.work(job);
      // For tests and the benchmark: how many models this worker holds a session for, and how many it opened again for recourse.
      (self as unknown as { plumblineOnnxModels: number }).plumblineOnnxModels = state.onnxModels.size;
      (self as unknown as { plumblineRecourseModels: number }).plumblineRecourseModels = state.reopened.size;
      return value;
    },
    (answer, transfer) => self.postMessage(answer, transfer),
  );

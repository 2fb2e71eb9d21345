/**
 * A thread of the Node hosts' pool (node-pool.ts): runs the core's pool jobs — TreeSHAP
 * slices, tree scoring, ONNX scoring in its own single-threaded onnxruntime session, slices
 * of large CSV files. It
 * imports the core's pool alone, not the whole core: a thread starts in half the time.
 */
import { parentPort } from 'node:worker_threads';
import { answerJob, PoolThreadState, type PoolJob } from '../core/pool/index.ts';

// onnxruntime-web loads only in threads that are given an ONNX model.
const state = new PoolThreadState(() =>
  import('onnxruntime-web').then((ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    return ort;
  }),
);

parentPort!.on('message', (message: { id: number; job: PoolJob }) => answerJob(message, (job) => state.work(job), (answer, transfer) => parentPort!.postMessage(answer, transfer)));

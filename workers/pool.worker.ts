/// <reference lib="webworker" />
/**
 * A worker of the audit worker's pool (pool.ts): runs TreeSHAP slices, scores row blocks
 * with the project's tree evaluator (each ensemble sent once, then named by id) or with an
 * ONNX model in its own single-threaded onnxruntime session, and hashes data files while
 * the audit worker parses them.
 */
import { allRows, compileEnsemble, kernelMargins, marginsOf, openModel, runTreeShapSlice, serializeError, treeKernel, type Classifier, type OpenOptions, type Table, type TreeEnsemble, type TreeKernelModel, type TreeShapJob } from '../src/core';
import { blobSha256 } from './blob';
import { keep } from './pool-payloads';

declare const self: DedicatedWorkerGlobalScope;

/** A job of the pool, as posted to a worker. */
export type PoolJob =
  | { kind: 'shap'; job: TreeShapJob }
  | { kind: 'sha256'; blob: Blob }
  /** `block`: `width` columns of `rows` cells each, then room for the margins (returned in it). */
  | { kind: 'margins'; ensembleId: number; ensemble?: TreeEnsemble; kernelModel?: TreeKernelModel; block: ArrayBuffer; rows: number; width: number }
  | { kind: 'onnx'; modelId: number; model?: { bytes: Uint8Array; fileName: string; open: OpenOptions }; table: Table; features?: string[] };

/** Tree models sent to this worker, each ready to score rows (columns, rows, out). */
const ensembles = new Map<number, (columns: Float64Array[], rows: Uint32Array, out: Float64Array) => void>();

/** The scorer for a tree model as sent: the WebAssembly kernel's model, or the trees themselves. */
function treeScorer(job: Extract<PoolJob, { kind: 'margins' }>): (columns: Float64Array[], rows: Uint32Array, out: Float64Array) => void {
  const { kernelModel, ensemble } = job;
  if (kernelModel) {
    const kernel = treeKernel(kernelModel, job.width);
    if (!kernel) throw new Error(`pool worker: the tree kernel does not fit ${job.width} features`);
    return (columns, rows, out) => kernelMargins(kernel, columns, rows, out);
  }
  const compiled = compileEnsemble(ensemble!);
  return (columns, rows, out) => marginsOf(ensemble!, compiled, columns, rows, out);
}
/** The row numbers 0…n−1 of a block (the largest so far). */
let identity = new Uint32Array(0);
/** ONNX models sent to this worker, each opened once in its own single-threaded session. */
const onnxModels = new Map<number, Promise<Classifier>>();

async function work(job: PoolJob): Promise<unknown> {
  if (job.kind === 'shap') return runTreeShapSlice(job.job);
  if (job.kind === 'onnx') {
    if (job.model) {
      const { bytes, fileName, open } = job.model;
      // onnxruntime-web loads only in workers that are given an ONNX model.
      keep(onnxModels, job.modelId, import('onnxruntime-web/wasm').then((ort) => {
        ort.env.wasm.numThreads = 1;
        return openModel(ort, bytes, fileName, open);
      }), (old) => void old.then((classifier) => classifier.release(), () => undefined));
      // For tests and the benchmark: how many models this worker holds a session for.
      (self as unknown as { plumblineOnnxModels: number }).plumblineOnnxModels = onnxModels.size;
    }
    const classifier = await onnxModels.get(job.modelId);
    if (!classifier) throw new Error(`pool worker: model ${job.modelId} was never sent`);
    return classifier.score(job.table, { features: job.features });
  }
  if (job.kind === 'sha256') {
    // The file hashed here while the audit worker parses it.
    return blobSha256(job.blob);
  }
  if (job.kernelModel || job.ensemble) keep(ensembles, job.ensembleId, treeScorer(job));
  const score = ensembles.get(job.ensembleId);
  if (!score) throw new Error(`pool worker: ensemble ${job.ensembleId} was never sent`);
  const { block, rows: count, width } = job;
  const columns = Array.from({ length: width }, (_, j) => new Float64Array(block, j * count * 8, count));
  const out = new Float64Array(block, width * count * 8, count);
  if (identity.length < count) identity = allRows(count);
  score(columns, identity.subarray(0, count), out);
  // The margins go back in the block's own buffer, which the pool uses again.
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

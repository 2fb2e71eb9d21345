/**
 * The thread side of the pool ({@link WorkerPool}): runs TreeSHAP slices, slices of the
 * consistency check's neighbour search and of the recourse search's rows, the audit's metrics, scores row blocks with the project's tree evaluator
 * (each ensemble sent once, then named by id) or with an ONNX model in its own
 * single-threaded onnxruntime session. A host's thread entry passes each message's job here
 * and posts the answer back ({@link answerJob}).
 */
import { serializeError, type SerializedError } from '../base/errors';
import { sortPresent } from '../base/order';
import { allRows } from '../base/rows';
import type { Table } from '../data/table';
import type { Classifier, OpenOptions, ReopenableModel } from '../model/classifier-types';
import type { OrtRuntime } from '../model/onnx-scorer';
import { openModel, reopenModel } from '../model/classifier';
import type { TreeEnsemble } from '../model/tree';
import { kernelMargins, treeKernel, type TreeKernelModel } from '../model/tree/kernel';
import { compileEnsemble, marginsOf } from '../model/tree/margins';
import { runTreeShapSlice, treeShapSlice, type PackedShapWork } from '../analyses/explain/treeshap/jobs';
import { packShapValues } from '../analyses/explain/treeshap/values';
import { neighbourSearch, type NeighbourPoints, type NeighbourSearch } from '../analyses/robustness/neighbours';
import { searchSlice, type RecourseSlice } from '../analyses/recourse/search/jobs';
import { POOL_KEPT_PAYLOADS } from './scheduler';
import { readCsvSlice, sliceTransfers, type CsvSliceJob, type CsvSliceResult } from '../data/csv/slice';
import { metricsJob } from './metrics';
import type { MetricsRequest } from '../audit/metrics';

/** A job of the pool, as posted to a thread. */
export type PoolJob =
  /** Slice `slice` of a TreeSHAP job over the ensemble sent once (then named by id). */
  | { kind: 'shap'; ensembleId: number; ensemble?: TreeEnsemble; slice: number; work: PackedShapWork }
  /** `block`: `width` columns of `rows` cells each, then room for the margins (returned in it). */
  | { kind: 'margins'; ensembleId: number; ensemble?: TreeEnsemble; kernelModel?: TreeKernelModel; block: ArrayBuffer; rows: number; width: number }
  | { kind: 'onnx'; modelId: number; model?: { bytes: Uint8Array; fileName: string; open: OpenOptions }; table: Table; features?: string[] }
  /** Queries [from, to) of the consistency check's neighbour search (its points sent once a thread, then named by id). */
  | { kind: 'neighbours'; searchId: number; search?: NeighbourPoints; from: number; to: number }
  /** A neighbour search whose slices are all answered: its laid-out pool is let go. */
  | { kind: 'forget-search'; searchId: number }
  /** A column's present values, ascending (the copy sent is the thread's: sorted over itself and moved back). */
  | { kind: 'sort'; values: Float64Array }
  /** A slice of a CSV file, read as the loading thread would have read on. */
  | { kind: 'csv'; job: CsvSliceJob }
  /** A slice of the recourse search's rows, searched with the model opened here again (sent once, then named by id). */
  | { kind: 'recourse'; modelId: number; model?: ReopenableModel; slice: RecourseSlice }
  /** The audit's metrics (copies of what they read: see ./metrics). */
  | { kind: 'metrics'; job: MetricsRequest };

/** A thread's answer to job `id`. */
export type PoolAnswer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** Thread side: adds a model sent with a job and lets go (`release`) of the oldest of its kind beyond {@link POOL_KEPT_PAYLOADS}. */
export function keep<T>(models: Map<number, T>, id: number, model: T, release?: (old: T) => void): void {
  if (models.has(id)) {
    release?.(models.get(id)!);
    models.delete(id);
  }
  models.set(id, model);
  for (const [old, value] of models) {
    if (models.size <= POOL_KEPT_PAYLOADS) break;
    models.delete(old);
    release?.(value);
  }
}

type MarginJob = Extract<PoolJob, { kind: 'margins' }>;
type Scorer = (columns: Float64Array[], rows: Uint32Array, out: Float64Array) => void;

/** The scorer for a tree model as sent: the WebAssembly kernel's model, or the trees themselves. */
function treeScorer(job: MarginJob): Scorer {
  const { kernelModel, ensemble } = job;
  if (kernelModel) {
    const kernel = treeKernel(kernelModel, job.width);
    if (!kernel) throw new Error(`pool worker: the tree kernel does not fit ${job.width} features`);
    return (columns, rows, out) => kernelMargins(kernel, columns, rows, out);
  }
  const compiled = compileEnsemble(ensemble!);
  return (columns, rows, out) => marginsOf(ensemble!, compiled, columns, rows, out);
}

/** What one pool thread holds between jobs: its models, and how it loads onnxruntime (only when given an ONNX model). */
export class PoolThreadState {
  /** Tree models sent to this thread, each ready to score rows. */
  readonly ensembles = new Map<number, Scorer>();
  /** Ensembles sent to this thread for TreeSHAP (kept whole: the thread cuts its slices). */
  readonly shapEnsembles = new Map<number, TreeEnsemble>();
  /** ONNX models sent to this thread, each opened once in its own single-threaded session. */
  readonly onnxModels = new Map<number, Promise<Classifier>>();
  /** Neighbour searches sent to this thread, each with its pool laid out once for the slices that follow. */
  readonly searches = new Map<number, NeighbourSearch>();
  /** Tree models opened here again for the recourse search (see {@link reopenModel}). */
  readonly reopened = new Map<number, Classifier>();
  /** The row numbers 0…n−1 of a block (the largest so far). */
  private identity = new Uint32Array(0);

  /** `loadOrt`: onnxruntime-web with one thread per session, loaded when the first ONNX model comes. */
  constructor(private readonly loadOrt: () => Promise<OrtRuntime>) {}

  /** Runs one job; its value (margins and scores as a Float64Array, SHAP values as they are). */
  async work(job: PoolJob): Promise<unknown> {
    if (job.kind === 'shap') {
      if (job.ensemble) keep(this.shapEnsembles, job.ensembleId, job.ensemble);
      const ensemble = this.shapEnsembles.get(job.ensembleId);
      if (!ensemble) throw new Error(`pool worker: ensemble ${job.ensembleId} was never sent`);
      return packShapValues(runTreeShapSlice(treeShapSlice(job.work, ensemble, job.slice)));
    }
    if (job.kind === 'forget-search') return void this.searches.delete(job.searchId);
    if (job.kind === 'neighbours') {
      if (job.search) keep(this.searches, job.searchId, neighbourSearch(job.search));
      const search = this.searches.get(job.searchId);
      if (!search) throw new Error(`pool worker: neighbour search ${job.searchId} was never sent`);
      return search(job.from, job.to);
    }
    // The column's copy was moved here: sorted over itself and moved back.
    if (job.kind === 'sort') return sortPresent(job.values, true);
    if (job.kind === 'csv') return readCsvSlice(job.job);
    if (job.kind === 'metrics') return metricsJob(job.job);
    if (job.kind === 'onnx') return this.onnx(job);
    if (job.kind === 'recourse') {
      if (job.model) keep(this.reopened, job.modelId, reopenModel(job.model));
      const classifier = this.reopened.get(job.modelId);
      if (!classifier) throw new Error(`pool worker: model ${job.modelId} was never sent`);
      return searchSlice(job.slice, classifier);
    }
    if (job.kernelModel || job.ensemble) keep(this.ensembles, job.ensembleId, treeScorer(job));
    const score = this.ensembles.get(job.ensembleId);
    if (!score) throw new Error(`pool worker: ensemble ${job.ensembleId} was never sent`);
    const { block, rows: count, width } = job;
    const columns = Array.from({ length: width }, (_, j) => new Float64Array(block, j * count * 8, count));
    const out = new Float64Array(block, width * count * 8, count);
    if (this.identity.length < count) this.identity = allRows(count);
    score(columns, this.identity.subarray(0, count), out);
    // The margins go back in the block's own buffer, which the pool uses again.
    return out;
  }

  private async onnx(job: Extract<PoolJob, { kind: 'onnx' }>): Promise<Float64Array> {
    if (job.model) {
      const { bytes, fileName, open } = job.model;
      keep(this.onnxModels, job.modelId, this.loadOrt().then((ort) => openModel(ort, bytes, fileName, open)), (old) => void old.then((classifier) => classifier.release(), () => undefined));
    }
    const classifier = await this.onnxModels.get(job.modelId);
    if (!classifier) throw new Error(`pool worker: model ${job.modelId} was never sent`);
    return classifier.score(job.table, { features: job.features });
  }
}

/**
 * Runs a posted job (`message`: `{ id, job }`) and posts the answer with `post`: the value
 * (a Float64Array's buffer moved, not copied), or the error as data.
 */
export async function answerJob(
  message: { id: number; job: PoolJob },
  run: (job: PoolJob) => Promise<unknown>,
  post: (answer: PoolAnswer, transfer: ArrayBuffer[]) => void,
): Promise<void> {
  const { id, job } = message;
  try {
    const value = await run(job);
    post({ id, ok: true, value }, value instanceof Float64Array ? [value.buffer as ArrayBuffer] : job.kind === 'csv' ? sliceTransfers(value as CsvSliceResult) : []);
  } catch (error) {
    post({ id, ok: false, error: serializeError(error) }, []);
  }
}

/**
 * The Node hosts' thread pool: the core's scheduler (src/core/pool) over worker threads, so
 * the CLI and the API use every core for TreeSHAP and for scoring large tables — with the
 * same bytes as one thread (the core cuts the work the same way whatever the count).
 *
 * A thread runs pool-thread.js beside this file in the installed package (and the tests'
 * bundle, pool-thread.mjs); in a checkout, where this file is TypeScript run through tsx,
 * the thread registers tsx first and then loads pool-thread.ts.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { csvSlicesOverPool, neighboursOverPool, metricsOverPool, onnxScoresOverPool, recourseOverPool, sortsOverPool, treeMarginsOverPool, treeShapOverPool, WorkerPool, type CsvSliceRunner, type NeighbourRunner, type OnnxScoreRunner, type MetricsRunner, type PoolThread, type RecourseRunner, type SortRunner, type TreeMarginRunner, type TreeShapRunner } from '../core/index.ts';

/** The most threads `--threads` takes (beyond, each thread's copy of the model costs more than it buys). */
export const MAX_THREADS = 64;

/** The default thread count: the cores this process may use (`os.availableParallelism`). */
export const defaultThreads = (): number => Math.min(MAX_THREADS, availableParallelism());

/** The thread's entry beside this module: .ts (a checkout, through tsx), .js (the package) or .mjs (a bundle). */
function startThread(index: number): Worker {
  const here = import.meta.url;
  const extension = /\.(ts|mjs|js)$/.exec(new URL(here).pathname)?.[1] ?? 'js';
  const entry = new URL(`./pool-thread.${extension}`, here);
  if (extension !== 'ts') return new Worker(entry, { name: `plumbline-pool-${index}` });
  // TypeScript: the thread registers tsx (the checkout's dev dependency), then loads the entry.
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true, name: `plumbline-pool-${index}` });
}

/** A worker thread as a thread of the core's pool: it keeps the process alive only while it has jobs. */
function workerThread(index: number): PoolThread {
  const worker = startThread(index);
  worker.unref();
  let jobs = 0;
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    listen(onMessage, onError) {
      if (jobs++ === 0) worker.ref();
      worker.on('message', onMessage);
      worker.on('error', onError);
      return () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (--jobs === 0) worker.unref();
      };
    },
    terminate: () => void worker.terminate(),
  };
}

let shared: WorkerPool | undefined;

/**
 * What an audit runs on `threads` threads: TreeSHAP, tree scoring, ONNX scoring, the
 * consistency check's neighbour search, the sorts of large columns, the slices of large
 * CSV files, the recourse search's rows and the audit's metrics (nothing for one thread). The threads start now, so that they are ready by the
 * time the data is read (a thread takes a few hundred milliseconds to load its part of the core).
 */
export function poolRunners(threads: number): { treeShap?: TreeShapRunner; treeMargins?: TreeMarginRunner; onnxScores?: OnnxScoreRunner; neighbours?: NeighbourRunner; sorts?: SortRunner; csvSlices?: CsvSliceRunner; recourse?: RecourseRunner; metrics?: MetricsRunner } {
  if (threads < 2) return {};
  shared ??= new WorkerPool(workerThread);
  shared.threads(threads);
  return {
    treeShap: treeShapOverPool(shared, threads),
    treeMargins: treeMarginsOverPool(shared, threads),
    onnxScores: onnxScoresOverPool(shared, threads),
    neighbours: neighboursOverPool(shared, threads),
    sorts: sortsOverPool(shared, threads),
    csvSlices: csvSlicesOverPool(shared, threads),
    recourse: recourseOverPool(shared, threads),
    metrics: metricsOverPool(shared, threads),
  };
}

/** Jobs the pool has sent to its threads since this process started it, or those of one kind (for tests: the work did go to the threads). */
export const poolJobsSent = (kind?: string): number => (kind === undefined ? shared?.jobsSent : shared?.jobsByKind.get(kind)) ?? 0;

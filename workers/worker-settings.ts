/// <reference lib="webworker" />
/**
 * The audit worker's settings: onnxruntime-web's threads, the size of the pool, the settings
 * tests and the benchmark may change, and the runs in progress (by run id, for Cancel).
 */
import * as ort from 'onnxruntime-web/wasm';

declare const self: DedicatedWorkerGlobalScope;

/** Threads for onnxruntime-web: only with cross-origin isolation, never more than the cores. */
// One onnxruntime thread, cross-origin isolated or not: its multi-threaded kernels sum in an
// order that changes the last bits of a score, and the same files must give the same result
// digest in every host. Large tables are split over the pool of single-threaded sessions,
// which never changes a score (see bench/NOTES.md).
export const threads = 1;
ort.env.wasm.numThreads = threads;

/** Pool workers (TreeSHAP, tree scoring): one per core (at most 4), started on first use. */
export const poolWorkers = Math.max(1, Math.min(4, self.navigator.hardwareConcurrency || 1));

/** Settings tests and the benchmark may change (see the worker API's `tune`). */
export const tuning: { onnxPoolWorthMs?: number } = {};

/** The audits and data loads in progress, by run id, for Cancel. */
export const runs = new Map<number, AbortController>();

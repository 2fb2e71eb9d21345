/**
 * The thread pool every host runs the splittable parts of an audit on (TreeSHAP, tree and
 * ONNX scoring, the consistency check's neighbour search, the sorts of large columns, the
 * slices of large CSV files, the audit's metrics): the scheduler (scheduler.ts) and what a thread does with a job (work.ts).
 * A host supplies only how a thread starts and how messages travel.
 */
export { guidedBlocks, markSent, POOL_KEPT_PAYLOADS, onnxScoresOverPool, treeMarginsOverPool, treeShapOverPool, WorkerPool, type PoolHost, type PoolThread } from './scheduler';
export { csvSlicesOverPool, neighboursOverPool, sortsOverPool } from './runners';
export { answerJob, keep, PoolThreadState, type PoolAnswer, type PoolJob } from './work';
export { recourseOverPool } from './recourse';
export { metricsOverPool } from './metrics';

/**
 * A bench worker thread: builds the synthetic model and rows once, then scores its slice of
 * the rows, or explains every row with its slice of the trees (SHAP values add over trees,
 * so each worker builds only its own trees' leaf tables).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathDependentTreeShap, splitEnsemble } from '../src/core/explain/treeshap';
import { treeClassifier } from '../src/core/model/classifier';
import { syntheticAudit, syntheticEnsemble } from './synthetic';

const { rows } = workerData as { rows: number };
const ensemble = syntheticEnsemble(300, 6, 14);
const classifier = treeClassifier(ensemble, 'pool.json');
const { table } = syntheticAudit(rows, 2, 14);
const columns = ensemble.featureNames.map((n) => (table.columns.find((c) => c.name === n) as { values: Float64Array }).values);
const vectors = Array.from({ length: rows }, (_, i) => Float64Array.from(columns, (c) => c[i]));

type Job = { kind: 'score'; start: number; end: number } | { kind: 'treeshap'; part: number; parts: number };

parentPort!.on('message', async (job: Job) => {
  if (job.kind === 'score') {
    await classifier.score(table, { rows: Uint32Array.from({ length: job.end - job.start }, (_, i) => job.start + i) });
    parentPort!.postMessage(null);
    return;
  }
  const shap = pathDependentTreeShap(splitEnsemble(ensemble, job.parts)[job.part], vectors);
  parentPort!.postMessage(shap);
});
parentPort!.postMessage('ready');

/** A bench worker thread: builds the synthetic model and rows once, then scores or explains the slice it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { pathDependentTreeShap } from '../src/core/explain/treeshap';
import { treeClassifier } from '../src/core/model/classifier';
import { syntheticAudit, syntheticEnsemble } from './synthetic';

const { rows } = workerData as { rows: number };
const ensemble = syntheticEnsemble(300, 6, 14);
const classifier = treeClassifier(ensemble, 'pool.json');
const { table } = syntheticAudit(rows, 2, 14);
const columns = ensemble.featureNames.map((n) => (table.columns.find((c) => c.name === n) as { values: Float64Array }).values);

parentPort!.on('message', async (job: { kind: 'score' | 'treeshap'; start: number; end: number }) => {
  const slice = Uint32Array.from({ length: job.end - job.start }, (_, i) => job.start + i);
  if (job.kind === 'score') await classifier.score(table, { rows: slice });
  else pathDependentTreeShap(ensemble, Array.from(slice, (i) => Float64Array.from(columns, (c) => c[i])));
  parentPort!.postMessage('done');
});
parentPort!.postMessage('ready');

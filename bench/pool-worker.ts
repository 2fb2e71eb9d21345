/**
 * A bench worker thread: builds the synthetic model and rows once (the 300-tree model, or
 * compas/mlp.onnx in a single-threaded onnxruntime-web session), then scores its slice of
 * the rows, or explains every row with its slice of the trees (SHAP values add over trees,
 * so each worker builds only its own trees' leaf tables).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { pathDependentTreeShap, splitEnsemble } from '../src/core/analyses/explain/treeshap';
import { openModel, treeClassifier, type Classifier } from '../src/core/model/classifier';
import { syntheticAudit, syntheticEnsemble } from './synthetic';

/** `mlp`: the path of compas/mlp.onnx, scored on 5 synthetic columns; otherwise the 300-tree model on 14. */
const { rows, mlp } = workerData as { rows: number; mlp?: string };
const ensemble = syntheticEnsemble(300, 6, 14);
let classifier: Classifier;
let features: string[] | undefined;
if (mlp) {
  ort.env.wasm.numThreads = 1;
  classifier = await openModel(ort, new Uint8Array(readFileSync(mlp)), 'mlp.onnx');
  features = ['x0', 'x1', 'x2', 'x3', 'x4'];
} else classifier = treeClassifier(ensemble, 'pool.json');
const { table } = syntheticAudit(rows, 2, mlp ? 5 : 14);
// TreeSHAP's rows, as feature vectors (tree model only).
const columns = mlp ? [] : ensemble.featureNames.map((n) => (table.columns.find((c) => c.name === n) as { values: Float64Array }).values);
const vectors = Array.from({ length: mlp ? 0 : rows }, (_, i) => Float64Array.from(columns, (c) => c[i]));

type Job = { kind: 'score'; start: number; end: number } | { kind: 'treeshap'; part: number; parts: number };

parentPort!.on('message', async (job: Job) => {
  if (job.kind === 'score') {
    const slice = new Uint32Array(job.end - job.start);
    for (let i = 0; i < slice.length; i++) slice[i] = job.start + i;
    await classifier.score(table, { rows: slice, features });
    parentPort!.postMessage(null);
    return;
  }
  const shap = pathDependentTreeShap(splitEnsemble(ensemble, job.parts)[job.part], vectors);
  parentPort!.postMessage(shap);
});
parentPort!.postMessage('ready');

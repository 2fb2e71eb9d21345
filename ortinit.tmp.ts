import * as ort from 'onnxruntime-web';
import { toOnnx } from './src/core/model/export';
import { openModel } from './src/core/model/classifier';
import { syntheticEnsemble } from './bench/synthetic';
ort.env.wasm.numThreads = 1;
const ens = syntheticEnsemble(300, 6, 12, 7);
const bytes = toOnnx(ens as never) as Uint8Array;
const warm = process.argv[2] === 'warm';
let t = performance.now();
if (warm) { await ort.InferenceSession.create(bytes); console.log('warm', (performance.now()-t).toFixed(0)); }
t = performance.now();
const m = await openModel(ort as never, bytes, 'm.onnx', {});
console.log('openModel', (performance.now()-t).toFixed(0));
t = performance.now();
const m2 = await openModel(ort as never, bytes, 'm.onnx', {});
console.log('openModel again', (performance.now()-t).toFixed(0));

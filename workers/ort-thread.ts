/// <reference lib="webworker" />
/**
 * The onnxruntime the audit worker scores with: onnxruntime-web's WASM build on a worker of
 * its own (ort.worker.ts), started with the first session — the warm-up when a model is
 * dropped — so its start runs beside the data being read instead of ahead of it.
 */
import * as ort from 'onnxruntime-web/wasm';
import { remoteOrt, type OrtEndpoint } from '../src/core';

export const wasmOrt = remoteOrt(ort.Tensor, (): OrtEndpoint => {
  const worker = new Worker(new URL('./ort.worker.ts', import.meta.url), { type: 'module', name: 'plumbline-onnxruntime' });
  return {
    post: (message) => worker.postMessage(message),
    listen(onMessage, onError) {
      worker.addEventListener('message', (event) => onMessage(event.data));
      worker.addEventListener('error', (event) => onError(new Error(event.message || 'the worker failed to start')));
      worker.addEventListener('messageerror', () => onError(new Error('an answer could not be read')));
    },
    close: () => worker.terminate(),
  };
});

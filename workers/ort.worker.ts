/// <reference lib="webworker" />
/**
 * onnxruntime-web's thread: the audit worker's sessions are created and run here (see
 * src/core/model/onnx-remote.ts), so onnxruntime's start — its WebAssembly compiled and
 * started, over a second in Chromium — never holds the thread that reads the data files.
 */
import * as ort from 'onnxruntime-web/wasm';
import { serveOrt, type OrtAnswer, type OrtRequest } from '../src/core/model/onnx-remote';
import { threads } from './worker-settings';

declare const self: DedicatedWorkerGlobalScope;

ort.env.wasm.numThreads = threads;

const answer = serveOrt(ort, (message: OrtAnswer) => self.postMessage(message));
self.onmessage = (event: MessageEvent<OrtRequest>) => void answer(event.data);

/// <reference lib="webworker" />
/**
 * The scoring backend of an audit that asks for WebGPU: onnxruntime-web's default build on
 * the GPU for a neural network that opens there, else the WASM build, saying why.
 */
import * as ort from 'onnxruntime-web/wasm';
import { inspectModel, type OrtRuntime } from '../src/core';
import { wasmOrt } from './ort-thread';
import { threads } from './worker-settings';
import type { InputFile } from './worker-types';

declare const self: DedicatedWorkerGlobalScope;

/** onnxruntime-web's session options. */
export type OrtSessionOptions = NonNullable<Parameters<typeof ort.InferenceSession.create>[1]>;

/**
 * onnxruntime-web's default build (WebGPU through JSEP, with WASM kernels for the rest),
 * loaded only when an audit asks for WebGPU: its .wasm is 28 MB, the WASM build's 14 MB.
 */
let gpuRuntime: Promise<typeof import('onnxruntime-web')> | undefined;

/**
 * How a model will be scored when WebGPU is asked for: onnxruntime's default build with the
 * WebGPU execution provider, when the model is a neural network (no ai.onnx.ml operators,
 * which have no WebGPU kernels), the browser has a GPU adapter and a session opens on it;
 * else the WASM build, saying why. `execution` is recorded in the result.
 */
export async function chooseBackend(model: InputFile): Promise<{ runtime: OrtRuntime; sessionOptions?: OrtSessionOptions; execution: string }> {
  const wasm = (why: string) => ({ runtime: wasmOrt, execution: `wasm (WebGPU was asked for: ${why})` });
  const summary = inspectModel(model.bytes, model.fileName);
  if (summary.format !== 'onnx') return wasm(`${summary.format} models are scored by Plumbline's own tree evaluator`);
  const ml = summary.operators.filter((op) => op.startsWith('ai.onnx.ml:'));
  if (ml.length) return wasm(`the model uses ai.onnx.ml operators (${ml.map((op) => op.slice('ai.onnx.ml:'.length)).join(', ')}), which have no WebGPU kernels`);
  const gpu = (self.navigator as WorkerNavigator & { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> } }).gpu;
  if (!gpu) return wasm('this browser has no WebGPU');
  const adapter = await gpu.requestAdapter();
  if (!adapter) return wasm('no GPU adapter is available');
  const runtime = await (gpuRuntime ??= import('onnxruntime-web').then((m) => {
    m.env.wasm.numThreads = threads;
    return m;
  }));
  const sessionOptions: OrtSessionOptions = { executionProviders: ['webgpu'] };
  try {
    // A session opened and released first: a model WebGPU cannot run falls back here, not mid-audit.
    const probe = await runtime.InferenceSession.create(model.bytes, sessionOptions);
    await probe.release();
  } catch (error) {
    return wasm(`onnxruntime could not open the model on WebGPU (${String((error as Error).message ?? error).slice(0, 200)})`);
  }
  const name = [adapter.info?.vendor, adapter.info?.architecture].filter(Boolean).join(' ');
  return { runtime: runtime as unknown as OrtRuntime, sessionOptions, execution: `webgpu${name ? ` (${name})` : ''}` };
}

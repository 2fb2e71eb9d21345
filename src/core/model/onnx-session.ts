/**
 * onnxruntime's sessions, one call at a time per runtime (see {@link createSession}).
 */
import type * as OrtTypes from 'onnxruntime-web';
import type { OrtRuntime } from './onnx-scorer';

/** The last onnxruntime call asked of each runtime (settled or not). */
const turns = new WeakMap<OrtRuntime, Promise<unknown>>();

/** Runs `call` once every onnxruntime call asked of `ort` before it has settled. */
function inTurn<T>(ort: OrtRuntime, call: () => Promise<T>): Promise<T> {
  const result = (turns.get(ort) ?? Promise.resolve()).then(call, call);
  turns.set(ort, result.catch(() => undefined));
  return result;
}

/**
 * Creates a session of `ort` whose calls — and its creation — each wait for every call asked
 * of `ort` before them. onnxruntime-web's WebAssembly instance takes one at a time: two
 * creations at once read each other's refusal (or none: "ERROR_CODE: 0"), and a creation
 * beside a run can move the memory the run reads ("operation does not support unaligned
 * accesses"). One audit's calls come one after another anyway; what waits is a session still
 * being created for an audit that has ended, or two audits at once.
 */
export async function createSession(ort: OrtRuntime, bytes: Uint8Array, options: OrtTypes.InferenceSession.SessionOptions = {}): Promise<OrtTypes.InferenceSession> {
  const session = await inTurn(ort, () => ort.InferenceSession.create(bytes, options));
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: (feeds: OrtTypes.InferenceSession.FeedsType, fetches: readonly string[]) => inTurn(ort, () => session.run(feeds, fetches)),
    release: () => inTurn(ort, () => session.release()),
  } as unknown as OrtTypes.InferenceSession;
}

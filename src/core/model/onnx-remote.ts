/**
 * onnxruntime on a thread of its own. Its first session compiles and starts the WebAssembly
 * runtime, which holds the thread that starts it for over a second in Chromium; in the
 * thread that also reads the data files and runs the audit, that second is spent waiting.
 * A host that starts onnxruntime on another thread ({@link serveOrt} there) gives the audit
 * an {@link OrtRuntime} whose sessions live on that thread ({@link remoteOrt}): the same
 * onnxruntime, the same single-threaded sessions and the same inputs, so the same scores
 * to the bit — only where the start and the runs happen changes.
 *
 * What crosses: the model's bytes to create a session; each run's input tensors (copied:
 * the scorer reuses its buffers) and the outputs asked for; errors as their messages, so a
 * refused model reads the same as when it is opened here.
 */
import type * as OrtTypes from 'onnxruntime-web';
import { ModelLoadError } from '../base/errors';
import type { OrtRuntime } from './onnx-scorer';

/**
 * onnxruntime's thread failed (it did not start, or stopped): the runtime's failure, not
 * the model's, so a session refusal passes it on as it is. The next session starts the
 * thread again.
 */
export class OrtRuntimeError extends ModelLoadError {}

/** A tensor as data: what a run's inputs and outputs are across threads. */
interface TensorData {
  type: OrtTypes.Tensor['type'];
  data: OrtTypes.Tensor['data'];
  dims: readonly number[];
}

/** A request to the onnxruntime thread. */
export type OrtRequest =
  | { id: number; op: 'create'; bytes: Uint8Array; options: OrtTypes.InferenceSession.SessionOptions }
  | { id: number; op: 'run'; session: number; feeds: Record<string, TensorData>; fetches: string[] }
  | { id: number; op: 'release'; session: number };

/** The onnxruntime thread's answer to request `id`. */
export type OrtAnswer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string };

/** What a created session tells the caller: its id on the thread and its names. */
interface CreatedSession {
  session: number;
  inputNames: readonly string[];
  outputNames: readonly string[];
}

/** A message port to the onnxruntime thread, as the host has it (a Worker, a MessagePort). */
export interface OrtEndpoint {
  post(message: OrtRequest): void;
  /** Calls `onMessage` with each answer and `onError` when the thread fails (or a message cannot be read). */
  listen(onMessage: (answer: OrtAnswer) => void, onError: (error: Error) => void): void;
  /** Ends the thread (after it failed: the next session starts another). */
  close?(): void;
}

/** A request before it is numbered. */
type Unnumbered<R> = R extends unknown ? Omit<R, 'id'> : never;

const asData = (tensor: OrtTypes.Tensor): TensorData => ({ type: tensor.type, data: tensor.data, dims: tensor.dims });

/**
 * The thread side: answers each request with `ort` (the thread's own onnxruntime-web),
 * posting with `post`. Requests are taken as they come; the caller asks one call at a time
 * (model/onnx-session.ts), as onnxruntime-web's instance needs.
 */
export function serveOrt(ort: OrtRuntime, post: (answer: OrtAnswer) => void): (request: OrtRequest) => Promise<void> {
  const sessions = new Map<number, OrtTypes.InferenceSession>();
  let next = 1;
  return async (request) => {
    try {
      let value: unknown;
      if (request.op === 'create') {
        const session = await ort.InferenceSession.create(request.bytes, request.options);
        const id = next++;
        sessions.set(id, session);
        value = { session: id, inputNames: session.inputNames, outputNames: session.outputNames } satisfies CreatedSession;
      } else {
        const session = sessions.get(request.session);
        if (!session) throw new Error(`session ${request.session} is not open on onnxruntime's thread`);
        if (request.op === 'release') {
          sessions.delete(request.session);
          await session.release();
        } else {
          const feeds: Record<string, OrtTypes.Tensor> = {};
          for (const [name, tensor] of Object.entries(request.feeds)) feeds[name] = new ort.Tensor(tensor.type, tensor.data as never, tensor.dims);
          const results = await session.run(feeds, request.fetches);
          value = Object.fromEntries(request.fetches.map((name) => [name, asData(results[name])]));
        }
      }
      post({ id: request.id, ok: true, value });
    } catch (error) {
      post({ id: request.id, ok: false, message: String((error as Error)?.message ?? error) });
    }
  };
}

/**
 * The caller's side: an {@link OrtRuntime} whose sessions are created and run on the thread
 * behind `endpoint` (started by `connect` on the first session). `Tensor` is the caller's
 * own onnxruntime's class: a tensor is data until a session runs it.
 */
export function remoteOrt(Tensor: OrtRuntime['Tensor'], connect: () => OrtEndpoint): OrtRuntime {
  let endpoint: OrtEndpoint | undefined;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 1;
  const call = <T>(request: Unnumbered<OrtRequest>): Promise<T> => {
    if (!endpoint) {
      const opened = connect();
      endpoint = opened;
      opened.listen(
        (answer) => {
          const waiting = pending.get(answer.id);
          if (!waiting) return;
          pending.delete(answer.id);
          if (answer.ok) waiting.resolve(answer.value);
          else waiting.reject(new Error(answer.message));
        },
        (error) => {
          if (endpoint !== opened) return;
          // Everything asked of this thread fails; its sessions are gone with it, and the next session starts another.
          endpoint = undefined;
          opened.close?.();
          const failure = new OrtRuntimeError(`onnxruntime's worker stopped (${error.message}): its sessions are gone. Run the audit again; if this repeats, reload the page.`);
          for (const waiting of pending.values()) waiting.reject(failure);
          pending.clear();
        },
      );
    }
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        endpoint!.post({ ...request, id } as OrtRequest);
      } catch (error) {
        // A request that cannot be sent (a value that does not clone) fails alone.
        pending.delete(id);
        reject(error);
      }
    });
  };
  const session = (created: CreatedSession) => ({
    inputNames: created.inputNames,
    outputNames: created.outputNames,
    async run(feeds: Record<string, OrtTypes.Tensor>, fetches: readonly string[]) {
      const outputs = await call<Record<string, TensorData>>({ op: 'run', session: created.session, feeds: Object.fromEntries(Object.entries(feeds).map(([name, tensor]) => [name, asData(tensor)])), fetches: [...fetches] });
      return Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, new Tensor(tensor.type, tensor.data as never, tensor.dims)]));
    },
    release: () => call<void>({ op: 'release', session: created.session }),
  });
  const InferenceSession = {
    async create(bytes: Uint8Array, options: OrtTypes.InferenceSession.SessionOptions = {}) {
      return session(await call<CreatedSession>({ op: 'create', bytes, options }));
    },
  };
  return { InferenceSession: InferenceSession as unknown as OrtRuntime['InferenceSession'], Tensor };
}

/**
 * Starting onnxruntime ahead of the audit. Its first session compiles and starts the
 * WebAssembly runtime (14 MB: about 0.5 s in Node, 1 s in Chromium on this machine); a host
 * that knows an ONNX model is coming (the app, once a model file is dropped) starts it then,
 * beside the data being read, and the audit's own session opens in tens of milliseconds.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema, TensorProto_DataType } from 'onnx-buf';
import { tensorInfo } from './export';
import type { OrtRuntime } from './onnx-scorer';
import { createSession } from './onnx-session';

/** The smallest model a session opens: y = Identity(x), one float. */
function identityModel(): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: 'plumbline_warm',
    node: [create(NodeProtoSchema, { opType: 'Identity', input: ['x'], output: ['y'] })],
    input: [tensorInfo('x', TensorProto_DataType.FLOAT, [1])],
    output: [tensorInfo('y', TensorProto_DataType.FLOAT, [1])],
  });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, { irVersion: 8n, producerName: 'plumbline', graph, opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 15n })] }));
}

const warming = new WeakMap<OrtRuntime, Promise<boolean>>();

/**
 * Starts `ort`'s runtime by opening and closing a one-node session, once per runtime; true
 * when it started. A failure is not reported here: the model's own session meets it again
 * and says what went wrong. Sessions opened meanwhile wait for the same start (onnxruntime
 * shares one start-up between them), so nothing is started twice.
 */
export function warmOnnxRuntime(ort: OrtRuntime): Promise<boolean> {
  let started = warming.get(ort);
  if (!started) {
    started = createSession(ort, identityModel()).then(
      async (session) => {
        await session.release();
        return true;
      },
      () => false,
    );
    warming.set(ort, started);
  }
  return started;
}

// Small ONNX graphs built in the tests, for models that declare more than they hold or
// than memory can take (no Python needed to make them).
import { create, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema, TensorProto_DataType, TensorProtoSchema, type NodeProto, type TensorProto } from 'onnx-buf';
import { ints, tensorInfo } from '../../src/core/model/export';

/** A float tensor's name and shape. */
export const floats = (name: string, dims: (number | string)[]) => tensorInfo(name, TensorProto_DataType.FLOAT, dims);

/** A node; `axes` for the reductions. */
export const op = (opType: string, input: string[], output: string, axes?: number[], more: { name?: string; domain?: string } = {}) =>
  create(NodeProtoSchema, { opType, input, output: [output], ...more, attribute: axes ? [ints('axes', axes)] : [] });

/** A weight tensor. */
export const tensor = (init: Parameters<typeof create<typeof TensorProtoSchema>>[1]) => create(TensorProtoSchema, init);
export { TensorProto_DataType };

/** A model whose output y = sigmoid(r), shape [N, 1], from one float input; `nodes` make `r`. */
export function onnx(input: ReturnType<typeof floats>, nodes: NodeProto[], initializer: TensorProto[] = [], opsets: [string, number][] = [['', 13]]): Uint8Array {
  const graph = create(GraphProtoSchema, { name: 'hostile', node: [...nodes, op('Sigmoid', ['r'], 'y')], input: [input], output: [floats('y', ['N', 1])], initializer });
  const opsetImport = opsets.map(([domain, version]) => create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }));
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, { irVersion: 8n, producerName: 'hostile', graph, opsetImport }));
}

/** MatMul by a weight that declares 5 × 1,000,000,000 floats over 20 bytes. */
export function hugeWeightOnnx(): Uint8Array {
  const w = tensor({ name: 'W', dataType: TensorProto_DataType.FLOAT, dims: [5n, 1_000_000_000n], rawData: new Uint8Array(20) });
  return onnx(floats('x', ['N', 5]), [op('MatMul', ['x', 'W'], 'm'), op('ReduceMean', ['m'], 'r', [1])], [w]);
}

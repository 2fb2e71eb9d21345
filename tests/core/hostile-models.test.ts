// ONNX files that declare more than they hold or than memory can take: each must end in a
// ModelLoadError in words, quickly, never an allocation that takes the process down.
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { AuditConfigError, ModelLoadError } from '../../src/core/base/errors';
import { expected, fixtureBytes } from '../support/fixtures';
import { floats, hugeWeightOnnx, onnx, op, tensor, TensorProto_DataType } from '../support/hostile-onnx';

ort.env.wasm.numThreads = 1;
const features = expected('compas/rf.expected.json').features!;

async function audit(bytes: Uint8Array) {
  return runAudit(ort, { model: { fileName: 'hostile.onnx', bytes }, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race'], features, bootstrapResamples: 0 });
}

describe('ONNX models with hostile shapes', () => {
  it('refuses a weight tensor that declares billions of values over a few bytes', async () => {
    await expect(audit(hugeWeightOnnx())).rejects.toThrow(new ModelLoadError('hostile.onnx: the weight tensor "W" declares 5 × 1,000,000,000 values but holds 5. The file is damaged or was altered: export the model again.'));
    const typed = tensor({ name: 'b', dataType: TensorProto_DataType.INT64, dims: [3n], int64Data: [1n] });
    await expect(audit(onnx(floats('x', ['N', 5]), [op('ReduceMean', ['x'], 'r', [1])], [typed]))).rejects.toThrow(new ModelLoadError('hostile.onnx: the weight tensor "b" declares 3 values but holds 1. The file is damaged or was altered: export the model again.'));
  });

  it('refuses an input that declares three billion columns', async () => {
    await expect(audit(onnx(floats('x', ['N', 3_000_000_000]), [op('ReduceMean', ['x'], 'r', [1])]))).rejects.toThrow(
      new AuditConfigError(`hostile.onnx: input "x" takes 3000000000 columns, but 5 were chosen (${features.join(', ')}). Choose exactly 3000000000 columns in the order the model was trained on.`),
    );
  });

  it('names an operator onnxruntime lacks with its node, an opset from the future and a cyclic graph', async () => {
    const x = floats('x', ['N', 5]);
    await expect(audit(onnx(x, [op('FancyNewOp', ['x'], 'r', undefined, { name: 'fancy_1' })]))).rejects.toThrow(
      new ModelLoadError('hostile.onnx: node "fancy_1" uses the operator FancyNewOp of domain ai.onnx, which this onnxruntime-web does not have. Export the model with standard ONNX operators (ai.onnx, ai.onnx.ml).'),
    );
    await expect(audit(onnx(x, [op('Evil', ['x'], 'r', undefined, { domain: 'com.evil' })], [], [['', 13], ['com.evil', 1]]))).rejects.toThrow(
      new ModelLoadError('hostile.onnx: an unnamed node uses the operator Evil of domain com.evil, which this onnxruntime-web does not have. Export the model with standard ONNX operators (ai.onnx, ai.onnx.ml).'),
    );
    await expect(audit(onnx(x, [op('ReduceMean', ['x'], 'r', [1])], [], [['', 99]]))).rejects.toThrow(
      /^hostile\.onnx: the model is stamped with opset 99 of ai\.onnx; this onnxruntime-web reads opsets up to (\d+)\. Export it with an earlier opset \(e\.g\. target_opset=\1 in skl2onnx or torch\.onnx\.export\)\.$/,
    );
    await expect(audit(onnx(x, [op('ReduceMean', ['x'], 'a', [1]), op('Add', ['a', 'c'], 'r'), op('Identity', ['r'], 'c')]))).rejects.toThrow(
      new ModelLoadError("hostile.onnx: the model's graph has a cycle (a node depends on its own output), which no ONNX model may have. The file is damaged or was altered: export the model again."),
    );
  });

  it('reports a graph that asks onnxruntime for a tensor larger than memory, or a fixed batch of two billion rows', async () => {
    const shape = tensor({ name: 'shape', dataType: TensorProto_DataType.INT64, dims: [2n], int64Data: [1n, 1_000_000_000n] });
    const expand = onnx(floats('x', ['N', 5]), [op('ReduceMean', ['x'], 'r0', [1]), op('Expand', ['r0', 'shape'], 'e'), op('ReduceMean', ['e'], 'r', [1])], [shape]);
    await expect(audit(expand)).rejects.toThrow(/^hostile\.onnx: scoring rows 1–1852 failed in onnxruntime-web: .*Tensor shape is too large/);
    const w = tensor({ name: 'W', dataType: TensorProto_DataType.FLOAT, dims: [5n, 1n], rawData: new Uint8Array(20) });
    const batch = onnx(floats('x', [2_000_000_000, 5]), [op('MatMul', ['x', 'W'], 'm'), op('ReduceMean', ['m'], 'r', [1])], [w]);
    await expect(audit(batch)).rejects.toThrow(/^hostile\.onnx: scoring rows 1–1852 failed in onnxruntime-web: .*Got invalid dimensions for input: x/);
  });
});
